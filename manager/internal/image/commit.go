package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Commit makes an image from parent (an image ID, or "" for scratch) plus
// an optional layer (a plain tar; nil adds none) and config, whose RootFS
// it fills in. The image is registered without a name, as a builder's
// intermediate image is; Tag names it.
func (s *Service) Commit(ctx context.Context, parent digest.Digest, layer io.Reader, config dockerspec.DockerOCIImage) (_ *Image, err error) {
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
	var layers []ocispec.Descriptor
	var diffIDs []digest.Digest
	if parent != "" {
		p, err := s.load(ctx, parent)
		if err != nil {
			return nil, err
		}
		for _, l := range p.Layers {
			layers = append(layers, ocispec.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size})
			diffIDs = append(diffIDs, l.DiffID)
		}
	}
	if layer != nil {
		// Stored uncompressed: its digest is then also its diffID.
		d, size, err := s.content.Ingest(layer)
		if err != nil {
			return nil, fmt.Errorf("commit layer: %w", err)
		}
		layers = append(layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: size})
		diffIDs = append(diffIDs, d)
	}
	config.Platform = s.platform
	config.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}
	cfgRaw, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	cfgDigest, err := s.content.WriteBytes(cfgRaw)
	if err != nil {
		return nil, err
	}
	if layers == nil {
		layers = []ocispec.Descriptor{}
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfgDigest, Size: int64(len(cfgRaw))},
		Layers:    layers,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	md, err := s.content.WriteBytes(raw)
	if err != nil {
		return nil, err
	}
	img, err := s.register(ctx, md, nil, "")
	if err != nil || parent == "" {
		return img, err
	}
	// Remember the parent, so listings can hide a build's intermediate
	// images as docker does (an unnamed image with children).
	img.Parent = parent
	return img, s.images.Put(ctx, img.Image)
}

// LayerDirs returns the unpacked layer directories of chain, topmost
// first: what an overlay lowerdir of the image's root filesystem is.
func (s *Service) LayerDirs(ctx context.Context, chain digest.Digest) ([]string, error) {
	return s.snapshots.Lowers(ctx, chain)
}
