package image

import (
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berthrun/berth/manager/internal/content"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/opencontainers/go-digest"
)

// storedImage presents an image from the content store to
// go-containerregistry, blobs as they are stored, so a push sends exactly
// the manifest (and digest) we have.
type storedImage struct {
	cs       *content.Store
	manifest []byte
	config   []byte
	media    types.MediaType
	layers   map[v1.Hash]storedLayer
}

type storedLayer struct {
	cs    *content.Store
	d     digest.Digest
	size  int64
	media types.MediaType
}

func (s *Service) remoteImage(img *Image) (v1.Image, error) {
	manifest, err := s.content.ReadAll(img.Manifest)
	if err != nil {
		return nil, err
	}
	config, err := s.content.ReadAll(img.ID)
	if err != nil {
		return nil, err
	}
	si := &storedImage{cs: s.content, manifest: manifest, config: config, media: types.MediaType(img.MediaType), layers: map[v1.Hash]storedLayer{}}
	for _, l := range img.Layers {
		h, err := v1.NewHash(l.Digest.String())
		if err != nil {
			return nil, err
		}
		si.layers[h] = storedLayer{cs: s.content, d: l.Digest, size: l.Size, media: types.MediaType(l.MediaType)}
	}
	return partial.CompressedToImage(si)
}

func (i *storedImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *storedImage) MediaType() (types.MediaType, error) { return i.media, nil }
func (i *storedImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *storedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	return nil, errdefs.ErrNotFound
}

func (l storedLayer) Digest() (v1.Hash, error)            { return v1.NewHash(l.d.String()) }
func (l storedLayer) Size() (int64, error)                { return l.size, nil }
func (l storedLayer) MediaType() (types.MediaType, error) { return l.media, nil }
func (l storedLayer) Compressed() (io.ReadCloser, error)  { return l.cs.Open(l.d) }
