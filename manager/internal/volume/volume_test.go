package volume

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/store"
)

func TestVolumes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(filepath.Join(dir, "volumes"), store.NewVolumes(db), nil)
	v, created, err := s.Ensure(ctx, "data")
	if err != nil || !created {
		t.Fatalf("Ensure = %v, %v", created, err)
	}
	if err := os.WriteFile(filepath.Join(v.Mountpoint, "f"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, created, err := s.Ensure(ctx, "data"); err != nil || created {
		t.Fatalf("second Ensure = %v, %v", created, err)
	}
	if _, err := s.Create(ctx, "data", nil, false); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	if _, err := s.Create(ctx, "../x", nil, false); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("bad name: %v", err)
	}
	anon, err := s.Create(ctx, "", nil, false)
	if err != nil || !anon.Anonymous || len(anon.Name) != 64 {
		t.Fatalf("anonymous: %+v, %v", anon, err)
	}
	if s.Size("data") != 4 {
		t.Errorf("Size = %d", s.Size("data"))
	}
	list, _ := s.List(ctx)
	if len(list) != 2 {
		t.Fatalf("List = %d volumes", len(list))
	}
	if err := s.Remove(ctx, "data"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "volumes", "data")); !os.IsNotExist(err) {
		t.Errorf("volume dir left: %v", err)
	}
	if err := s.Remove(ctx, "data"); !errdefs.IsNotFound(err) {
		t.Errorf("second remove: %v", err)
	}
}
