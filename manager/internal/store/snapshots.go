package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// Snapshot is an unpacked layer, keyed by its chain ID.
type Snapshot struct {
	ChainID digest.Digest
	Parent  digest.Digest
	DiffID  digest.Digest
	Dir     string
	Size    int64
	Created time.Time
}

// Snapshots reads and writes layer snapshot records.
type Snapshots struct{ db *DB }

// NewSnapshots returns the snapshot record store over db.
func NewSnapshots(db *DB) *Snapshots { return &Snapshots{db: db} }

func snapshotsBucket(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketRoot).Bucket(bucketSnapshots) }

// Add records sn. It fails with ErrAlreadyExists when another process
// committed the same chain first; the caller then drops its copy.
func (s *Snapshots) Add(ctx context.Context, sn Snapshot) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		b, err := snapshotsBucket(tx).CreateBucket([]byte(sn.ChainID))
		if err == bolt.ErrBucketExists {
			return fmt.Errorf("snapshot %s: %w", sn.ChainID, errdefs.ErrAlreadyExists)
		}
		if err != nil {
			return err
		}
		for k, v := range map[string]string{
			string(fieldDir):     sn.Dir,
			string(fieldParent):  string(sn.Parent),
			string(fieldDiffID):  string(sn.DiffID),
			string(fieldSize):    strconv.FormatInt(sn.Size, 10),
			string(fieldCreated): sn.Created.UTC().Format(time.RFC3339Nano),
		} {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
}

func readSnapshot(k []byte, b *bolt.Bucket) Snapshot {
	sn := Snapshot{
		ChainID: digest.Digest(k),
		Parent:  digest.Digest(b.Get(fieldParent)),
		DiffID:  digest.Digest(b.Get(fieldDiffID)),
		Dir:     string(b.Get(fieldDir)),
	}
	sn.Size, _ = strconv.ParseInt(string(b.Get(fieldSize)), 10, 64)
	sn.Created, _ = time.Parse(time.RFC3339Nano, string(b.Get(fieldCreated)))
	return sn
}

// Get returns the snapshot of a chain.
func (s *Snapshots) Get(ctx context.Context, chainID digest.Digest) (Snapshot, error) {
	var sn Snapshot
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		b := snapshotsBucket(tx).Bucket([]byte(chainID))
		if b == nil {
			return fmt.Errorf("snapshot %s: %w", chainID, errdefs.ErrNotFound)
		}
		sn = readSnapshot([]byte(chainID), b)
		return nil
	})
	return sn, err
}

// List returns every snapshot.
func (s *Snapshots) List(ctx context.Context) ([]Snapshot, error) {
	var out []Snapshot
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		sb := snapshotsBucket(tx)
		return sb.ForEachBucket(func(k []byte) error {
			out = append(out, readSnapshot(k, sb.Bucket(k)))
			return nil
		})
	})
	return out, err
}

// Delete removes a snapshot record.
func (s *Snapshots) Delete(ctx context.Context, chainID digest.Digest) error {
	return s.db.Update(ctx, func(tx *bolt.Tx) error {
		if err := snapshotsBucket(tx).DeleteBucket([]byte(chainID)); err != nil {
			return fmt.Errorf("snapshot %s: %w", chainID, errdefs.ErrNotFound)
		}
		return nil
	})
}
