package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// Layer is one layer of an image as stored.
type Layer struct {
	Digest    digest.Digest `json:"digest"`    // the blob as distributed (maybe compressed)
	DiffID    digest.Digest `json:"diffID"`    // the uncompressed tar
	MediaType string        `json:"mediaType"` //
	Size      int64         `json:"size"`      // blob size
}

// Image is an image's metadata; its ID is its config digest, as in docker.
type Image struct {
	ID          digest.Digest
	Manifest    digest.Digest
	MediaType   string
	Layers      []Layer
	Size        int64
	Created     time.Time
	Added       time.Time
	Platform    string
	RepoDigests []string
	Parent      digest.Digest // the image a build step started from ("" if none)
}

// Images reads and writes image records and the name index.
type Images struct{ db *DB }

// NewImages returns the image store over db.
func NewImages(db *DB) *Images { return &Images{db: db} }

func imagesBucket(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketRoot).Bucket(bucketImages) }
func namesBucket(tx *bolt.Tx) *bolt.Bucket  { return tx.Bucket(bucketRoot).Bucket(bucketNames) }

// Put stores img, replacing a record with the same ID.
func (s *Images) Put(ctx context.Context, img Image) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		ib := imagesBucket(tx)
		_ = ib.DeleteBucket([]byte(img.ID))
		b, err := ib.CreateBucket([]byte(img.ID))
		if err != nil {
			return err
		}
		layers, err := json.Marshal(img.Layers)
		if err != nil {
			return err
		}
		repoDigests, err := json.Marshal(img.RepoDigests)
		if err != nil {
			return err
		}
		for k, v := range map[string][]byte{
			string(fieldManifest):    []byte(img.Manifest),
			string(fieldMediaType):   []byte(img.MediaType),
			string(fieldLayers):      layers,
			string(fieldSize):        []byte(strconv.FormatInt(img.Size, 10)),
			string(fieldCreated):     []byte(img.Created.UTC().Format(time.RFC3339Nano)),
			string(fieldAdded):       []byte(img.Added.UTC().Format(time.RFC3339Nano)),
			string(fieldPlatform):    []byte(img.Platform),
			string(fieldRepoDigests): repoDigests,
			string(fieldParent):      []byte(img.Parent),
		} {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

func readImage(id []byte, b *bolt.Bucket) (Image, error) {
	img := Image{
		ID:        digest.Digest(id),
		Manifest:  digest.Digest(b.Get(fieldManifest)),
		MediaType: string(b.Get(fieldMediaType)),
		Platform:  string(b.Get(fieldPlatform)),
		Parent:    digest.Digest(b.Get(fieldParent)),
	}
	if err := json.Unmarshal(b.Get(fieldLayers), &img.Layers); err != nil {
		return img, fmt.Errorf("image %s: layers: %w", id, err)
	}
	if v := b.Get(fieldRepoDigests); v != nil {
		if err := json.Unmarshal(v, &img.RepoDigests); err != nil {
			return img, fmt.Errorf("image %s: repo digests: %w", id, err)
		}
	}
	img.Size, _ = strconv.ParseInt(string(b.Get(fieldSize)), 10, 64)
	img.Created, _ = time.Parse(time.RFC3339Nano, string(b.Get(fieldCreated)))
	img.Added, _ = time.Parse(time.RFC3339Nano, string(b.Get(fieldAdded)))
	return img, nil
}

// Get returns the image with this ID.
func (s *Images) Get(ctx context.Context, id digest.Digest) (Image, error) {
	var img Image
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		b := imagesBucket(tx).Bucket([]byte(id))
		if b == nil {
			return fmt.Errorf("image %s: %w", id, errdefs.ErrNotFound)
		}
		var err error
		img, err = readImage([]byte(id), b)
		return err
	})
	return img, err
}

// List returns every image, newest first.
func (s *Images) List(ctx context.Context) ([]Image, error) {
	var out []Image
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		return imagesBucket(tx).ForEachBucket(func(k []byte) error {
			img, err := readImage(k, imagesBucket(tx).Bucket(k))
			if err != nil {
				return err
			}
			out = append(out, img)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, err
}

// Delete removes the image record and every name pointing at it.
func (s *Images) Delete(ctx context.Context, id digest.Digest) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		if err := imagesBucket(tx).DeleteBucket([]byte(id)); err != nil {
			return fmt.Errorf("image %s: %w", id, errdefs.ErrNotFound)
		}
		nb := namesBucket(tx)
		var stale [][]byte
		_ = nb.ForEach(func(k, v []byte) error {
			if string(v) == string(id) {
				stale = append(stale, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range stale {
			if err := nb.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetName points ref at image id, moving it from any other image. It
// returns the image the name pointed at before ("" if none).
func (s *Images) SetName(ctx context.Context, ref string, id digest.Digest) (digest.Digest, error) {
	var prev digest.Digest
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		if imagesBucket(tx).Bucket([]byte(id)) == nil {
			return fmt.Errorf("image %s: %w", id, errdefs.ErrNotFound)
		}
		nb := namesBucket(tx)
		prev = digest.Digest(nb.Get([]byte(ref)))
		return nb.Put([]byte(ref), []byte(id))
	})
	return prev, err
}

// DeleteName removes a name and returns the image it pointed at.
func (s *Images) DeleteName(ctx context.Context, ref string) (digest.Digest, error) {
	var id digest.Digest
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		nb := namesBucket(tx)
		v := nb.Get([]byte(ref))
		if v == nil {
			return fmt.Errorf("image name %q: %w", ref, errdefs.ErrNotFound)
		}
		id = digest.Digest(v)
		return nb.Delete([]byte(ref))
	})
	return id, err
}

// Resolve returns the image a name points at.
func (s *Images) Resolve(ctx context.Context, ref string) (digest.Digest, error) {
	var id digest.Digest
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		v := namesBucket(tx).Get([]byte(ref))
		if v == nil {
			return fmt.Errorf("image %q: %w", ref, errdefs.ErrNotFound)
		}
		id = digest.Digest(v)
		return nil
	})
	return id, err
}

// Names returns every name → image id.
func (s *Images) Names(ctx context.Context) (map[string]digest.Digest, error) {
	out := map[string]digest.Digest{}
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		return namesBucket(tx).ForEach(func(k, v []byte) error {
			out[string(k)] = digest.Digest(v)
			return nil
		})
	})
	return out, err
}
