// Package engine wires the manager's services over one data root and one
// runtime-state root. The CLI runs it in-process (no daemon); `mgr daemon`
// serves the same engine over the API.
package engine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/berthrun/berth/manager/internal/auth"
	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/content"
	"github.com/berthrun/berth/manager/internal/events"
	"github.com/berthrun/berth/manager/internal/image"
	"github.com/berthrun/berth/manager/internal/network"
	"github.com/berthrun/berth/manager/internal/snapshot"
	"github.com/berthrun/berth/manager/internal/store"
	"github.com/berthrun/berth/manager/internal/volume"
	"github.com/berthrun/berth/runtime/cgroupwarm"
)

// Options locate the engine's state.
type Options struct {
	Root             string             // data root: blobs, metadata, layers (default /var/lib/mgr)
	RunRoot          string             // runtime state (default /run/mgr)
	ConfigDir        string             // client config: credentials (default ~/.mgr)
	InsecureRegistry []string           // hosts allowed plain HTTP besides loopback
	CNIConfigDir     string             // CNI conflists (default /etc/cni/net.d)
	CNIBinDirs       []string           // CNI plugins (default /opt/cni/bin)
	Shim             string             // shim binary (default: beside mgr, else $PATH)
	Runtime          string             // OCI runtime (default: rt beside mgr, else $PATH)
	Manager          []string           // how shims call back into this engine (mgr + root flags)
	CgroupWarm       *cgroupwarm.Warmer // warms the kernel's cgroup attach up before starts; nil: none
}

// Engine is the manager's services, ready to use.
type Engine struct {
	Options
	DB          *store.DB
	Images      *image.Service
	Containers  *container.Service
	Networks    *network.Manager
	Volumes     *volume.Service
	Credentials *auth.File
	Events      *events.Journal
}

// Open prepares the roots and opens the services.
func Open(o Options) (*Engine, error) {
	for _, d := range []string{o.Root, o.RunRoot} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("prepare %s: %w", d, err)
		}
	}
	db, err := store.Open(filepath.Join(o.Root, "metadata.db"))
	if err != nil {
		return nil, err
	}
	cs, err := content.Open(filepath.Join(o.Root, "content"))
	if err != nil {
		return nil, err
	}
	snaps, err := snapshot.New(filepath.Join(o.Root, "snapshots"), store.NewSnapshots(db))
	if err != nil {
		return nil, err
	}
	if o.Shim == "" {
		o.Shim = companion("shim")
	}
	if o.Runtime == "" {
		o.Runtime = companion("rt")
	}
	journal := events.Open(filepath.Join(o.Root, "events.jsonl"))
	images := image.New(cs, store.NewImages(db), snaps, filepath.Join(o.Root, "content.lock"), journal)
	if o.CNIConfigDir == "" {
		o.CNIConfigDir = "/etc/cni/net.d"
	}
	if len(o.CNIBinDirs) == 0 {
		o.CNIBinDirs = []string{"/opt/cni/bin"}
	}
	vols := volume.New(filepath.Join(o.Root, "volumes"), store.NewVolumes(db), journal)
	nets := network.New(network.Options{
		ConfDir:  o.CNIConfigDir,
		BinDirs:  o.CNIBinDirs,
		DataDir:  filepath.Join(o.Root, "cni"),
		NetnsDir: filepath.Join(o.RunRoot, "netns"),
		Events:   journal,
	})
	paths := container.Paths{Root: o.Root, RunRoot: o.RunRoot, Shim: o.Shim, Runtime: o.Runtime, Manager: o.Manager}
	if err := container.PrepareDirs(paths); err != nil {
		return nil, err
	}
	return &Engine{
		Options:     o,
		DB:          db,
		Images:      images,
		Containers:  container.New(paths, store.NewContainers(db), images, snaps, nets, vols, journal, o.CgroupWarm),
		Events:      journal,
		Networks:    nets,
		Volumes:     vols,
		Credentials: auth.New(filepath.Join(o.ConfigDir, "config.json")),
	}, nil
}

// companion finds one of berth's programs: beside this executable (an
// install or bin/ keeps them together), else on $PATH.
func companion(name string) string {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

// Registries is how the engine reaches registries: with the stored
// credentials and the configured insecure hosts.
func (e *Engine) Registries() image.Registries {
	return image.Registries{Keychain: e.Credentials, Insecure: e.InsecureRegistry}
}
