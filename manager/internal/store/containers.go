package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// ContainerRecord is a container as stored: the immutable part (Config is
// opaque JSON owned by the container package) and its mutable State.
type ContainerRecord struct {
	ID      string
	Name    string
	Image   digest.Digest
	Created time.Time
	Labels  map[string]string
	Config  []byte
	State   []byte
}

// Containers reads and writes container records and the name index.
type Containers struct{ db *DB }

// NewContainers returns the container store over db.
func NewContainers(db *DB) *Containers { return &Containers{db: db} }

func containersBucket(tx *bolt.Tx) *bolt.Bucket {
	return tx.Bucket(bucketRoot).Bucket(bucketContainers)
}
func containerNamesBucket(tx *bolt.Tx) *bolt.Bucket {
	return tx.Bucket(bucketRoot).Bucket(bucketContainerNames)
}

// Create records a new container; a name already in use fails with
// ErrConflict and nothing is written.
func (s *Containers) Create(ctx context.Context, c ContainerRecord) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		names := containerNamesBucket(tx)
		if other := names.Get([]byte(c.Name)); other != nil {
			return fmt.Errorf("the container name %q is already in use by container %.12s: %w", c.Name, other, errdefs.ErrConflict)
		}
		b, err := containersBucket(tx).CreateBucket([]byte(c.ID))
		if err != nil {
			return fmt.Errorf("container %s: %w", c.ID, errdefs.ErrAlreadyExists)
		}
		for k, v := range map[string][]byte{
			string(fieldName):    []byte(c.Name),
			string(fieldImage):   []byte(c.Image),
			string(fieldCreated): []byte(c.Created.UTC().Format(time.RFC3339Nano)),
			string(fieldConfig):  c.Config,
			string(fieldState):   c.State,
		} {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		lb, err := b.CreateBucket(bucketLabels)
		if err != nil {
			return err
		}
		for k, v := range c.Labels {
			if err := lb.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return names.Put([]byte(c.Name), []byte(c.ID))
	})
}

func readContainer(id []byte, b *bolt.Bucket) ContainerRecord {
	c := ContainerRecord{
		ID:     string(id),
		Name:   string(b.Get(fieldName)),
		Image:  digest.Digest(b.Get(fieldImage)),
		Config: append([]byte(nil), b.Get(fieldConfig)...),
		State:  append([]byte(nil), b.Get(fieldState)...),
		Labels: map[string]string{},
	}
	c.Created, _ = time.Parse(time.RFC3339Nano, string(b.Get(fieldCreated)))
	if lb := b.Bucket(bucketLabels); lb != nil {
		_ = lb.ForEach(func(k, v []byte) error {
			c.Labels[string(k)] = string(v)
			return nil
		})
	}
	return c
}

// Get returns the container with this full ID.
func (s *Containers) Get(ctx context.Context, id string) (ContainerRecord, error) {
	var c ContainerRecord
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		b := containersBucket(tx).Bucket([]byte(id))
		if b == nil {
			return fmt.Errorf("no such container: %s: %w", id, errdefs.ErrNotFound)
		}
		c = readContainer([]byte(id), b)
		return nil
	})
	return c, err
}

// Resolve finds a container by name, full ID or unique ID prefix.
func (s *Containers) Resolve(ctx context.Context, ref string) (string, error) {
	var id string
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		ref := strings.TrimPrefix(ref, "/")
		if v := containerNamesBucket(tx).Get([]byte(ref)); v != nil {
			id = string(v)
			return nil
		}
		if ref == "" {
			return fmt.Errorf("no such container: %q: %w", ref, errdefs.ErrNotFound)
		}
		var matches []string
		c := containersBucket(tx).Cursor()
		for k, _ := c.Seek([]byte(ref)); k != nil && strings.HasPrefix(string(k), ref); k, _ = c.Next() {
			matches = append(matches, string(k))
		}
		switch len(matches) {
		case 0:
			return fmt.Errorf("no such container: %s: %w", ref, errdefs.ErrNotFound)
		case 1:
			id = matches[0]
			return nil
		default:
			return fmt.Errorf("container id prefix %q is ambiguous (%d containers): %w", ref, len(matches), errdefs.ErrInvalidArgument)
		}
	})
	return id, err
}

// List returns every container.
func (s *Containers) List(ctx context.Context) ([]ContainerRecord, error) {
	var out []ContainerRecord
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		cb := containersBucket(tx)
		return cb.ForEachBucket(func(k []byte) error {
			out = append(out, readContainer(k, cb.Bucket(k)))
			return nil
		})
	})
	return out, err
}

// UpdateState replaces the state of container id through fn, which gets the
// current state and returns the new one, inside one transaction.
func (s *Containers) UpdateState(ctx context.Context, id string, fn func(old []byte) ([]byte, error)) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		b := containersBucket(tx).Bucket([]byte(id))
		if b == nil {
			return fmt.Errorf("no such container: %s: %w", id, errdefs.ErrNotFound)
		}
		next, err := fn(b.Get(fieldState))
		if err != nil {
			return err
		}
		return b.Put(fieldState, next)
	})
}

// Rename changes a container's name, keeping the index unique.
func (s *Containers) Rename(ctx context.Context, id, name string) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		b := containersBucket(tx).Bucket([]byte(id))
		if b == nil {
			return fmt.Errorf("no such container: %s: %w", id, errdefs.ErrNotFound)
		}
		names := containerNamesBucket(tx)
		if other := names.Get([]byte(name)); other != nil {
			return fmt.Errorf("the container name %q is already in use by container %.12s: %w", name, other, errdefs.ErrConflict)
		}
		if err := names.Delete(b.Get(fieldName)); err != nil {
			return err
		}
		if err := b.Put(fieldName, []byte(name)); err != nil {
			return err
		}
		return names.Put([]byte(name), []byte(id))
	})
}

// Delete removes the container record and its name.
func (s *Containers) Delete(ctx context.Context, id string) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		cb := containersBucket(tx)
		b := cb.Bucket([]byte(id))
		if b == nil {
			return fmt.Errorf("no such container: %s: %w", id, errdefs.ErrNotFound)
		}
		if err := containerNamesBucket(tx).Delete(b.Get(fieldName)); err != nil {
			return err
		}
		return cb.DeleteBucket([]byte(id))
	})
}
