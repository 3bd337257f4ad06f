package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

func openTemp(t *testing.T, opts ...Option) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "meta.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestMigrations runs every migration from an empty file and checks what
// each one must leave behind.
func TestMigrations(t *testing.T) {
	checks := map[int]func(*bolt.Tx) error{
		1: func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketImages, bucketNames, bucketSnapshots} {
				if tx.Bucket(bucketRoot).Bucket(b) == nil {
					return errors.New("missing bucket " + string(b))
				}
			}
			return nil
		},
		3: func(tx *bolt.Tx) error {
			if tx.Bucket(bucketRoot).Bucket(bucketVolumes) == nil {
				return errors.New("missing bucket volumes")
			}
			return nil
		},
		2: func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketContainers, bucketContainerNames} {
				if tx.Bucket(bucketRoot).Bucket(b) == nil {
					return errors.New("missing bucket " + string(b))
				}
			}
			return nil
		},
	}
	if len(checks) != len(migrations) {
		t.Fatalf("%d migrations but %d checks: add a check for each migration", len(migrations), len(checks))
	}
	db := openTemp(t)
	err := db.View(context.Background(), func(tx *bolt.Tx) error {
		v, err := schemaVersion(tx)
		if err != nil || v != SchemaVersion() {
			t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion())
		}
		for v := 1; v <= len(migrations); v++ {
			if err := checks[v](tx); err != nil {
				t.Errorf("after migration %d: %v", v, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A newer schema than we know is refused, not rewritten.
	if err := db.Update(context.Background(), func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoot).Put(keyVersion, []byte("99"))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(db.path); err == nil {
		t.Fatal("opened a database with a newer schema")
	}
}

func TestImagesAndNames(t *testing.T) {
	ctx := context.Background()
	s := NewImages(openTemp(t))
	img := Image{
		ID:       digest.FromString("config"),
		Manifest: digest.FromString("manifest"),
		Layers:   []Layer{{Digest: digest.FromString("l1"), DiffID: digest.FromString("d1"), Size: 10}},
		Size:     1234,
		Created:  time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Platform: "linux/amd64",
	}
	if err := s.Put(ctx, img); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Manifest != img.Manifest || got.Size != 1234 || !got.Created.Equal(img.Created) || len(got.Layers) != 1 || got.Layers[0].DiffID != img.Layers[0].DiffID {
		t.Fatalf("round trip: got %+v", got)
	}
	if _, err := s.SetName(ctx, "docker.io/library/busybox:latest", img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetName(ctx, "x:1", digest.FromString("nope")); !errdefs.IsNotFound(err) {
		t.Fatalf("naming a missing image: %v", err)
	}
	if id, err := s.Resolve(ctx, "docker.io/library/busybox:latest"); err != nil || id != img.ID {
		t.Fatalf("Resolve = %s, %v", id, err)
	}
	if err := s.Delete(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.Names(ctx); len(names) != 0 {
		t.Fatalf("names left after delete: %v", names)
	}
}

// TestConcurrentWriters opens the database from many goroutines at once;
// each open takes the file lock as a separate mgr process would.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	s := NewImages(db)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := digest.FromString(string(rune('a' + i)))
			if err := s.Put(ctx, Image{ID: id}); err != nil {
				errs <- err
				return
			}
			if _, err := s.List(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	imgs, err := s.List(ctx)
	if err != nil || len(imgs) != 20 {
		t.Fatalf("List = %d images, %v", len(imgs), err)
	}
}

func TestLockTimeoutIsClear(t *testing.T) {
	db := openTemp(t, WithLockTimeout(100*time.Millisecond))
	held := make(chan struct{})
	release := make(chan struct{})
	go func() {
		_ = db.Update(context.Background(), func(*bolt.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	err := db.Update(context.Background(), func(*bolt.Tx) error { return nil })
	close(release)
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("second writer: %v, want ErrUnavailable", err)
	}
}
