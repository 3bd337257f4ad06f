package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berthrun/berth/manager/internal/archive"
)

// Import makes a single-layer image from a root filesystem tar (plain or
// compressed), as `docker import` does, and names it ref (may be "").
func (s *Service) Import(ctx context.Context, r io.Reader, ref string, cfg ocispec.ImageConfig) (_ *Image, err error) {
	defer func() {
		if err != nil {
			s.discard(ctx)
		}
	}()
	unlock, err := s.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var names []string
	if ref != "" {
		named, err := Normalize(ref)
		if err != nil {
			return nil, err
		}
		names = []string{named.String()}
	}
	plain, closeFn, err := archive.Decompress(r)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	// Stored uncompressed: its digest is then also its diffID.
	layer, size, err := s.content.Ingest(plain)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	now := time.Now().UTC()
	config := ocispec.Image{
		Created:  &now,
		Platform: s.platform,
		Config:   cfg,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer}},
		History:  []ocispec.History{{Created: &now, CreatedBy: "mgr import", Comment: "Imported from tarball"}},
	}
	cfgRaw, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	cfgDigest, err := s.content.WriteBytes(cfgRaw)
	if err != nil {
		return nil, err
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfgDigest, Size: int64(len(cfgRaw))},
		Layers:    []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: layer, Size: size}},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	md, err := s.content.WriteBytes(raw)
	if err != nil {
		return nil, err
	}
	return s.register(ctx, md, names, "")
}
