package content

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

func TestWriteVerifiesDigestAndSize(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("hello layer")
	good := digest.FromBytes(data)
	cases := []struct {
		name    string
		dgst    digest.Digest
		size    int64
		wantErr error
	}{
		{"ok", good, int64(len(data)), nil},
		{"ok unknown size", good, -1, nil},
		{"wrong digest", digest.FromString("other"), int64(len(data)), errdefs.ErrDataCorrupt},
		{"wrong size", digest.FromString("x"), 3, errdefs.ErrDataCorrupt},
		{"bad digest", digest.Digest("sha256:nothex"), -1, errdefs.ErrInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Write(tc.dgst, tc.size, bytes.NewReader(data))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Write = %v, want %v", err, tc.wantErr)
			}
			_, has := s.Has(tc.dgst)
			if has != (tc.wantErr == nil) {
				t.Fatalf("Has = %v after Write error %v", has, err)
			}
		})
	}
	got, err := s.ReadAll(good)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
	ingest, _ := os.ReadDir(s.root + "/ingest")
	if len(ingest) != 0 {
		t.Fatalf("ingest not cleaned: %d files left", len(ingest))
	}
}

func TestDeleteAndWalk(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var want []digest.Digest
	for _, b := range []string{"a", "bb", "ccc"} {
		d, err := s.WriteBytes([]byte(b))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}
	if err := s.Delete(want[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(want[0]); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	var seen []string
	if err := s.Walk(func(d digest.Digest, size int64) error {
		seen = append(seen, d.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || strings.Contains(strings.Join(seen, ","), want[0].String()) {
		t.Fatalf("Walk saw %v", seen)
	}
	if _, err := s.Open(want[0]); !errdefs.IsNotFound(err) {
		t.Fatalf("Open deleted blob: %v", err)
	}
}
