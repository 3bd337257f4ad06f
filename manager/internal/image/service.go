// Package image is the manager's image service: it turns names into
// read-only layered root filesystems. It loads, saves and imports archives,
// pulls from and pushes to registries, and keeps the metadata (store), the
// blobs (content) and the unpacked layers (snapshot) consistent.
package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berthrun/berth/manager/internal/content"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/events"
	"github.com/berthrun/berth/manager/internal/snapshot"
	"github.com/berthrun/berth/manager/internal/store"
)

// Service is the image service over one data root.
type Service struct {
	content   *content.Store
	images    *store.Images
	snapshots *snapshot.Snapshotter
	platform  ocispec.Platform
	lockPath  string // serialises garbage collection against new content
	events    *events.Journal
}

// New returns an image service; lockPath is a file it may create.
func New(cs *content.Store, images *store.Images, snaps *snapshot.Snapshotter, lockPath string, ev *events.Journal) *Service {
	return &Service{
		events:    ev,
		lockPath:  lockPath,
		content:   cs,
		images:    images,
		snapshots: snaps,
		platform:  ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
	}
}

// Image is an image with its parsed config, as callers use it.
type Image struct {
	store.Image
	Names  []string                  // full references
	Config dockerspec.DockerOCIImage // the OCI config plus docker's Healthcheck, OnBuild and Shell
	Chain  digest.Digest             // chain ID of the top layer: what a rootfs is made from
}

// register records the image whose manifest is in the content store: it
// unpacks the layers that are not yet unpacked and points names at it.
func (s *Service) register(ctx context.Context, manifestDigest digest.Digest, names []string, repoDigest string) (*Image, error) {
	raw, err := s.content.ReadAll(manifestDigest)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w: %w", manifestDigest, err, errdefs.ErrDataCorrupt)
	}
	cfgRaw, err := s.content.ReadAll(m.Config.Digest)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
		return nil, fmt.Errorf("parse image config %s: %w: %w", m.Config.Digest, err, errdefs.ErrDataCorrupt)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("image %s: %d layers but %d diff_ids in its config: %w", m.Config.Digest, len(m.Layers), len(cfg.RootFS.DiffIDs), errdefs.ErrDataCorrupt)
	}
	var chain digest.Digest
	var size int64
	layers := make([]store.Layer, len(m.Layers))
	for i, l := range m.Layers {
		chain, err = s.snapshots.Unpack(ctx, chain, cfg.RootFS.DiffIDs[i], func() (io.ReadCloser, error) { return s.content.Open(l.Digest) })
		if err != nil {
			return nil, err
		}
		layers[i] = store.Layer{Digest: l.Digest, DiffID: cfg.RootFS.DiffIDs[i], MediaType: l.MediaType, Size: l.Size}
		size += l.Size
	}
	mediaType := m.MediaType
	if mediaType == "" {
		mediaType = ocispec.MediaTypeImageManifest
	}
	rec := store.Image{
		ID:        m.Config.Digest,
		Manifest:  manifestDigest,
		MediaType: mediaType,
		Layers:    layers,
		Size:      size,
		Added:     time.Now(),
		Platform:  platformString(cfg.Platform),
	}
	if cfg.Created != nil {
		rec.Created = *cfg.Created
	}
	if old, err := s.images.Get(ctx, rec.ID); err == nil {
		rec.RepoDigests = old.RepoDigests
		rec.Added = old.Added
	}
	if repoDigest != "" && !slices.Contains(rec.RepoDigests, repoDigest) {
		rec.RepoDigests = append(rec.RepoDigests, repoDigest)
	}
	if err := s.images.Put(ctx, rec); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := s.images.SetName(ctx, n, rec.ID); err != nil {
			return nil, err
		}
	}
	return &Image{Image: rec, Names: names, Config: cfg, Chain: chain}, nil
}

func platformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Get resolves what a user typed — a name, a full or short ID, or
// name@digest — to an image.
func (s *Service) Get(ctx context.Context, ref string) (*Image, error) {
	id, err := s.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.load(ctx, id)
}

func (s *Service) load(ctx context.Context, id digest.Digest) (*Image, error) {
	rec, err := s.images.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	img := &Image{Image: rec}
	raw, err := s.content.ReadAll(id)
	if err != nil {
		return nil, fmt.Errorf("image %s config: %w", id, err)
	}
	if err := json.Unmarshal(raw, &img.Config); err != nil {
		return nil, fmt.Errorf("image %s config: %w: %w", id, err, errdefs.ErrDataCorrupt)
	}
	for _, l := range rec.Layers {
		img.Chain = snapshot.ChainID(img.Chain, l.DiffID)
	}
	names, err := s.images.Names(ctx)
	if err != nil {
		return nil, err
	}
	for n, target := range names {
		if target == id {
			img.Names = append(img.Names, n)
		}
	}
	slices.Sort(img.Names)
	return img, nil
}

func (s *Service) resolve(ctx context.Context, ref string) (digest.Digest, error) {
	if ref == "" {
		return "", fmt.Errorf("empty image reference: %w", errdefs.ErrInvalidArgument)
	}
	// A full name first: "busybox" could also be a hex prefix of an ID.
	named, err := Normalize(ref)
	if err != nil && !looksLikeID(ref) {
		return "", err
	}
	if err == nil {
		if id, err := s.images.Resolve(ctx, named.String()); err == nil {
			return id, nil
		}
		if strings.Contains(ref, "@") {
			return s.byRepoDigest(ctx, named.String())
		}
	}
	if looksLikeID(ref) {
		want := strings.TrimPrefix(ref, "sha256:")
		list, err := s.images.List(ctx)
		if err != nil {
			return "", err
		}
		var match []digest.Digest
		for _, img := range list {
			if strings.HasPrefix(img.ID.Encoded(), want) {
				match = append(match, img.ID)
			}
		}
		switch len(match) {
		case 1:
			return match[0], nil
		case 0:
		default:
			return "", fmt.Errorf("image id prefix %q is ambiguous (%d images): %w", ref, len(match), errdefs.ErrInvalidArgument)
		}
	}
	return "", fmt.Errorf("no such image: %s: %w", ref, errdefs.ErrNotFound)
}

func (s *Service) byRepoDigest(ctx context.Context, ref string) (digest.Digest, error) {
	list, err := s.images.List(ctx)
	if err != nil {
		return "", err
	}
	for _, img := range list {
		if slices.Contains(img.RepoDigests, ref) {
			return img.ID, nil
		}
	}
	return "", fmt.Errorf("no such image: %s: %w", ref, errdefs.ErrNotFound)
}

// List returns every image with its names.
func (s *Service) List(ctx context.Context) ([]*Image, error) {
	recs, err := s.images.List(ctx)
	if err != nil {
		return nil, err
	}
	names, err := s.images.Names(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[digest.Digest][]string{}
	for n, id := range names {
		byID[id] = append(byID[id], n)
	}
	out := make([]*Image, 0, len(recs))
	for _, r := range recs {
		img := &Image{Image: r, Names: byID[r.ID]}
		slices.Sort(img.Names)
		out = append(out, img)
	}
	return out, nil
}

// Tag points target at the image src resolves to.
func (s *Service) Tag(ctx context.Context, src, target string) error {
	id, err := s.resolve(ctx, src)
	if err != nil {
		return err
	}
	named, err := Normalize(target)
	if err != nil {
		return err
	}
	if strings.Contains(named.String(), "@") {
		return fmt.Errorf("refusing to create a tag with a digest reference: %w", errdefs.ErrInvalidArgument)
	}
	if _, err = s.images.SetName(ctx, named.String(), id); err != nil {
		return err
	}
	s.event(eventtypes.ActionTag, id.String(), named.String())
	return nil
}

// event records what happened to an image; name is a full reference.
func (s *Service) event(action eventtypes.Action, id, name string) {
	s.events.Record(eventtypes.ImageEventType, action, id, map[string]string{"name": Familiar(name)})
}
