package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// dockerManifestEntry is one image in a docker-archive's manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

const (
	annotationContainerdName = "io.containerd.image.name"
	// docker's media types, still the most common on the wire
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// maxMetadataFile bounds the JSON files we hold in memory while loading.
const maxMetadataFile = 16 << 20

// Load reads an image archive — `docker save` output (docker-archive) or an
// OCI image layout — from r, in one pass, stores its blobs (each verified
// against its digest), unpacks the layers and records the images. It
// returns the names it loaded, or the IDs of unnamed images.
func (s *Service) Load(ctx context.Context, r io.Reader) (names []string, err error) {
	defer func() {
		if err != nil {
			s.discard(ctx)
			return
		}
		for _, n := range names {
			s.event(eventtypes.ActionLoad, n, n)
		}
	}()
	unlock, err := s.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	files := map[string]digest.Digest{} // archive path -> blob
	meta := map[string][]byte{}         // small JSON files by path
	tr := tar.NewReader(r)
	sawEntry := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read image archive: %w: %w", err, errdefs.ErrDataCorrupt)
		}
		sawEntry = true
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			continue
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		switch {
		case name == "manifest.json" || name == "index.json" || name == "oci-layout" || name == "repositories":
			if hdr.Size > maxMetadataFile {
				return nil, fmt.Errorf("image archive: %s is too large: %w", name, errdefs.ErrDataCorrupt)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("read image archive: %w", err)
			}
			meta[name] = data
		case strings.HasPrefix(name, "blobs/"):
			parts := strings.Split(name, "/")
			if len(parts) != 3 {
				continue
			}
			d := digest.NewDigestFromEncoded(digest.Algorithm(parts[1]), parts[2])
			if err := d.Validate(); err != nil {
				return nil, fmt.Errorf("image archive: blob name %s: %w", name, errdefs.ErrDataCorrupt)
			}
			if err := s.content.Write(d, hdr.Size, tr); err != nil {
				return nil, fmt.Errorf("image archive %s: %w", name, err)
			}
			files[name] = d
		default:
			// Older docker-archive: <id>/layer.tar and <id>.json, named by
			// path, not by digest: hash them as they are stored.
			d, _, err := s.content.Ingest(tr)
			if err != nil {
				return nil, fmt.Errorf("image archive %s: %w", name, err)
			}
			files[name] = d
		}
	}
	if !sawEntry {
		return nil, fmt.Errorf("image archive is empty or not a tar: %w", errdefs.ErrDataCorrupt)
	}
	switch {
	case meta["index.json"] != nil:
		return s.loadOCILayout(ctx, meta, files)
	case meta["manifest.json"] != nil:
		return s.loadDockerArchive(ctx, meta["manifest.json"], files)
	default:
		return nil, fmt.Errorf("image archive has neither manifest.json (docker save) nor index.json (OCI layout): %w", errdefs.ErrDataCorrupt)
	}
}

func (s *Service) loadDockerArchive(ctx context.Context, manifestJSON []byte, files map[string]digest.Digest) ([]string, error) {
	var entries []dockerManifestEntry
	if err := json.Unmarshal(manifestJSON, &entries); err != nil {
		return nil, fmt.Errorf("parse manifest.json: %w: %w", err, errdefs.ErrDataCorrupt)
	}
	var loaded []string
	for _, e := range entries {
		cfgDigest, ok := files[path.Clean(e.Config)]
		if !ok {
			return nil, fmt.Errorf("manifest.json names config %s, which the archive lacks: %w", e.Config, errdefs.ErrDataCorrupt)
		}
		cfgSize, _ := s.content.Has(cfgDigest)
		m := ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfgDigest, Size: cfgSize},
		}
		for _, l := range e.Layers {
			d, ok := files[path.Clean(l)]
			if !ok {
				return nil, fmt.Errorf("manifest.json names layer %s, which the archive lacks: %w", l, errdefs.ErrDataCorrupt)
			}
			size, _ := s.content.Has(d)
			mt, err := s.layerMediaType(d)
			if err != nil {
				return nil, err
			}
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: mt, Digest: d, Size: size})
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		md, err := s.content.WriteBytes(raw)
		if err != nil {
			return nil, err
		}
		names, err := normalizeAll(e.RepoTags)
		if err != nil {
			return nil, err
		}
		img, err := s.register(ctx, md, names, "")
		if err != nil {
			return nil, err
		}
		loaded = append(loaded, loadedNames(img, e.RepoTags)...)
	}
	return loaded, nil
}

// layerMediaType tells a compressed layer from a plain tar by its first bytes.
func (s *Service) layerMediaType(d digest.Digest) (string, error) {
	f, err := s.content.Open(d)
	if err != nil {
		return "", err
	}
	defer f.Close()
	magic, _ := bufio.NewReader(f).Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return ocispec.MediaTypeImageLayerGzip, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return ocispec.MediaTypeImageLayerZstd, nil
	}
	return ocispec.MediaTypeImageLayer, nil
}

func (s *Service) loadOCILayout(ctx context.Context, meta map[string][]byte, files map[string]digest.Digest) ([]string, error) {
	var index ocispec.Index
	if err := json.Unmarshal(meta["index.json"], &index); err != nil {
		return nil, fmt.Errorf("parse index.json: %w: %w", err, errdefs.ErrDataCorrupt)
	}
	// docker save (v25+) writes both formats; its manifest.json has the
	// names, keyed by config.
	tagsByConfig := map[digest.Digest][]string{}
	if raw := meta["manifest.json"]; raw != nil {
		var entries []dockerManifestEntry
		if json.Unmarshal(raw, &entries) == nil {
			for _, e := range entries {
				if d, ok := files[path.Clean(e.Config)]; ok {
					tagsByConfig[d] = append(tagsByConfig[d], e.RepoTags...)
				}
			}
		}
	}
	var loaded []string
	for _, desc := range index.Manifests {
		md, err := s.pickManifest(desc)
		if err != nil {
			return nil, err
		}
		var tags []string
		if n := desc.Annotations[annotationContainerdName]; n != "" {
			tags = append(tags, n)
		} else if n := desc.Annotations[ocispec.AnnotationRefName]; n != "" && strings.ContainsAny(n, ":/") {
			tags = append(tags, n)
		}
		raw, err := s.content.ReadAll(md)
		if err != nil {
			return nil, fmt.Errorf("OCI layout: %w", err)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("parse manifest %s: %w: %w", md, err, errdefs.ErrDataCorrupt)
		}
		tags = append(tags, tagsByConfig[m.Config.Digest]...)
		names, err := normalizeAll(tags)
		if err != nil {
			return nil, err
		}
		img, err := s.register(ctx, md, dedupe(names), "")
		if err != nil {
			return nil, err
		}
		loaded = append(loaded, loadedNames(img, tags)...)
	}
	return dedupe(loaded), nil
}

// pickManifest follows an index entry down to the manifest for our platform.
func (s *Service) pickManifest(desc ocispec.Descriptor) (digest.Digest, error) {
	for depth := 0; depth < 4; depth++ {
		switch desc.MediaType {
		case ocispec.MediaTypeImageManifest, mediaTypeDockerManifest:
			return desc.Digest, nil
		case ocispec.MediaTypeImageIndex, mediaTypeDockerList:
			raw, err := s.content.ReadAll(desc.Digest)
			if err != nil {
				return "", fmt.Errorf("image index: %w", err)
			}
			var idx ocispec.Index
			if err := json.Unmarshal(raw, &idx); err != nil {
				return "", fmt.Errorf("parse image index %s: %w: %w", desc.Digest, err, errdefs.ErrDataCorrupt)
			}
			next, ok := s.matchPlatform(idx.Manifests)
			if !ok {
				return "", fmt.Errorf("image index %s has no manifest for %s: %w", desc.Digest, platformString(s.platform), errdefs.ErrNotFound)
			}
			desc = next
		default:
			return "", fmt.Errorf("unsupported media type %q: %w", desc.MediaType, errdefs.ErrNotImplemented)
		}
	}
	return "", fmt.Errorf("image index nested too deep: %w", errdefs.ErrDataCorrupt)
}

func (s *Service) matchPlatform(descs []ocispec.Descriptor) (ocispec.Descriptor, bool) {
	for _, d := range descs {
		if d.Platform == nil || (d.Platform.OS == s.platform.OS && d.Platform.Architecture == s.platform.Architecture) {
			if _, ok := s.content.Has(d.Digest); ok {
				return d, true
			}
		}
	}
	return ocispec.Descriptor{}, false
}

func normalizeAll(refs []string) ([]string, error) {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		n, err := Normalize(r)
		if err != nil {
			return nil, err
		}
		out = append(out, n.String())
	}
	return out, nil
}

// loadedNames is what `load` prints for an image: its names, or its ID.
func loadedNames(img *Image, tags []string) []string {
	if len(tags) == 0 {
		return []string{img.ID.String()}
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		out = append(out, Familiar(t))
	}
	return out
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
