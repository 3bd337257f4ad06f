package store

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// VolumeRecord is a volume's metadata; its data lives on disk.
type VolumeRecord struct {
	Name      string
	Created   time.Time
	Anonymous bool
	Labels    map[string]string
}

// Volumes reads and writes volume records.
type Volumes struct{ db *DB }

// NewVolumes returns the volume store over db.
func NewVolumes(db *DB) *Volumes { return &Volumes{db: db} }

func volumesBucket(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketRoot).Bucket(bucketVolumes) }

// Create records a volume; ErrAlreadyExists if the name is taken.
func (s *Volumes) Create(ctx context.Context, v VolumeRecord) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		b, err := volumesBucket(tx).CreateBucket([]byte(v.Name))
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, errdefs.ErrAlreadyExists)
		}
		if err := b.Put(fieldCreated, []byte(v.Created.UTC().Format(time.RFC3339Nano))); err != nil {
			return err
		}
		if v.Anonymous {
			if err := b.Put(fieldAnonymous, []byte("1")); err != nil {
				return err
			}
		}
		lb, err := b.CreateBucket(bucketLabels)
		if err != nil {
			return err
		}
		for k, val := range v.Labels {
			if err := lb.Put([]byte(k), []byte(val)); err != nil {
				return err
			}
		}
		return nil
	})
}

func readVolume(name []byte, b *bolt.Bucket) VolumeRecord {
	v := VolumeRecord{Name: string(name), Anonymous: string(b.Get(fieldAnonymous)) == "1", Labels: map[string]string{}}
	v.Created, _ = time.Parse(time.RFC3339Nano, string(b.Get(fieldCreated)))
	if lb := b.Bucket(bucketLabels); lb != nil {
		_ = lb.ForEach(func(k, val []byte) error {
			v.Labels[string(k)] = string(val)
			return nil
		})
	}
	return v
}

// Get returns a volume.
func (s *Volumes) Get(ctx context.Context, name string) (VolumeRecord, error) {
	var v VolumeRecord
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		b := volumesBucket(tx).Bucket([]byte(name))
		if b == nil {
			return fmt.Errorf("no such volume: %s: %w", name, errdefs.ErrNotFound)
		}
		v = readVolume([]byte(name), b)
		return nil
	})
	return v, err
}

// List returns every volume.
func (s *Volumes) List(ctx context.Context) ([]VolumeRecord, error) {
	var out []VolumeRecord
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		vb := volumesBucket(tx)
		return vb.ForEachBucket(func(k []byte) error {
			out = append(out, readVolume(k, vb.Bucket(k)))
			return nil
		})
	})
	return out, err
}

// Delete removes a volume record.
func (s *Volumes) Delete(ctx context.Context, name string) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		if err := volumesBucket(tx).DeleteBucket([]byte(name)); err != nil {
			return fmt.Errorf("no such volume: %s: %w", name, errdefs.ErrNotFound)
		}
		return nil
	})
}
