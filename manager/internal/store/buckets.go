package store

// The bucket tree (keep this drawing current):
//
//	v1                                   schema root
//	├── version        = "1"             schema version (decimal)
//	├── images
//	│   └── <image id: config digest>    one bucket per image
//	│       ├── manifest   = digest      manifest blob
//	│       ├── mediatype  = string      manifest media type
//	│       ├── layers     = JSON []Layer
//	│       ├── size       = decimal     unpacked size in bytes
//	│       ├── created    = RFC3339Nano from the image config
//	│       ├── added      = RFC3339Nano when stored here
//	│       ├── platform   = "os/arch[/variant]"
//	│       ├── repodigests = JSON []string (name@manifest digest)
//	│       └── parent     = image id       the image a build step started from
//	├── names
//	│   └── <reference> = image id       "docker.io/library/busybox:latest"
//	├── snapshots
//	│   └── <chain id>                   one bucket per unpacked layer
//	│       ├── dir     = string         directory name under snapshots/
//	│       ├── parent  = chain id       "" for a base layer
//	│       ├── diffid  = digest
//	│       ├── size    = decimal
//	│       └── created = RFC3339Nano
//	├── containers
//	│   └── <container id>               one bucket per container
//	│       ├── name    = string
//	│       ├── image   = image id
//	│       ├── created = RFC3339Nano
//	│       ├── config  = JSON           everything set at create; never changes
//	│       │                            (one value: it is written once, read whole)
//	│       ├── state   = JSON           status, pid, exit code, times: changes
//	│       └── labels/<key> = value
//	├── containernames
//	│   └── <name> = container id        unique names, updated in the same tx
//	└── volumes
//	    └── <name>                       one bucket per named or anonymous volume
//	        ├── created   = RFC3339Nano
//	        ├── anonymous = "1" when made for an image VOLUME (rm -v removes it)
//	        └── labels/<key> = value
var (
	bucketRoot           = []byte("v1")
	keyVersion           = []byte("version")
	bucketImages         = []byte("images")
	bucketNames          = []byte("names")
	bucketSnapshots      = []byte("snapshots")
	bucketContainers     = []byte("containers")
	bucketContainerNames = []byte("containernames")
	bucketLabels         = []byte("labels")
	bucketVolumes        = []byte("volumes")

	fieldManifest    = []byte("manifest")
	fieldMediaType   = []byte("mediatype")
	fieldLayers      = []byte("layers")
	fieldSize        = []byte("size")
	fieldCreated     = []byte("created")
	fieldAdded       = []byte("added")
	fieldPlatform    = []byte("platform")
	fieldRepoDigests = []byte("repodigests")
	fieldDir         = []byte("dir")
	fieldParent      = []byte("parent")
	fieldDiffID      = []byte("diffid")
	fieldName        = []byte("name")
	fieldImage       = []byte("image")
	fieldConfig      = []byte("config")
	fieldState       = []byte("state")
	fieldAnonymous   = []byte("anonymous")
)
