package image

import (
	"context"
	"time"

	imagetypes "github.com/moby/moby/api/types/image"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Inspect returns docker's `image inspect` document for ref.
func (s *Service) Inspect(ctx context.Context, ref string) (*imagetypes.InspectResponse, error) {
	img, err := s.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	resp := &imagetypes.InspectResponse{
		ID:           img.ID.String(),
		RepoTags:     []string{},
		RepoDigests:  []string{},
		Architecture: img.Config.Architecture,
		Variant:      img.Config.Variant,
		Os:           img.Config.OS,
		Author:       img.Config.Author,
		Size:         img.Size,
		Config:       &img.Config.Config,
		RootFS:       imagetypes.RootFS{Type: "layers"},
		Descriptor:   &ocispec.Descriptor{MediaType: img.MediaType, Digest: img.Manifest},
	}
	if img.Config.Created != nil {
		resp.Created = img.Config.Created.UTC().Format(time.RFC3339Nano)
	}
	if size, ok := s.content.Has(img.Manifest); ok {
		resp.Descriptor.Size = size
	}
	for _, n := range img.Names {
		resp.RepoTags = append(resp.RepoTags, Familiar(n))
	}
	for _, d := range img.RepoDigests {
		resp.RepoDigests = append(resp.RepoDigests, Familiar(d))
	}
	for _, d := range img.Config.RootFS.DiffIDs {
		resp.RootFS.Layers = append(resp.RootFS.Layers, d.String())
	}
	return resp, nil
}

// History returns the image's history, newest first, as `docker history`.
func (s *Service) History(ctx context.Context, ref string) ([]imagetypes.HistoryResponseItem, error) {
	img, err := s.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	var out []imagetypes.HistoryResponseItem
	layer := 0
	for _, h := range img.Config.History {
		item := imagetypes.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: []string{}}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer && layer < len(img.Layers) {
			item.Size = img.Layers[layer].Size
			layer++
		}
		out = append(out, item)
	}
	// The newest entry stands for the image itself.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 0 {
		out[0].ID = img.ID.String()
		for _, n := range img.Names {
			out[0].Tags = append(out[0].Tags, Familiar(n))
		}
	}
	return out, nil
}
