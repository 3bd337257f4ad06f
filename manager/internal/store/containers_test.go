package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

func TestContainers(t *testing.T) {
	ctx := context.Background()
	s := NewContainers(openTemp(t))
	a := ContainerRecord{ID: "abc123" + "0000", Name: "web", Created: time.Now(), Labels: map[string]string{"k": "v"}, Config: []byte(`{}`), State: []byte(`{"Status":"created"}`)}
	if err := s.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	clash := a
	clash.ID = "abd999"
	if err := s.Create(ctx, clash); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("name clash: %v", err)
	}
	if list, _ := s.List(ctx); len(list) != 1 {
		t.Fatalf("a refused create left a record: %d containers", len(list))
	}
	b := ContainerRecord{ID: "abd999", Name: "db", Config: []byte(`{}`), State: []byte(`{}`)}
	if err := s.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"web": a.ID, "/db": b.ID, "abc": a.ID, "abd9": b.ID} {
		if id, err := s.Resolve(ctx, ref); err != nil || id != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", ref, id, err, want)
		}
	}
	if _, err := s.Resolve(ctx, "ab"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := s.Resolve(ctx, "zzz"); !errdefs.IsNotFound(err) {
		t.Errorf("unknown: %v", err)
	}
	if err := s.Rename(ctx, a.ID, "db"); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("rename onto a used name: %v", err)
	}
	if err := s.Rename(ctx, a.ID, "web2"); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateState(ctx, a.ID, func([]byte) ([]byte, error) { return []byte(`{"Status":"running"}`), nil }); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, a.ID)
	if err != nil || got.Name != "web2" || string(got.State) != `{"Status":"running"}` || got.Labels["k"] != "v" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if err := s.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, "web2"); !errdefs.IsNotFound(err) {
		t.Errorf("name survived delete: %v", err)
	}
}
