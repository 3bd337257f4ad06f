package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStoreLookupErase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	// An existing docker config keeps its other settings.
	if err := os.WriteFile(path, []byte(`{"detachKeys":"ctrl-x","auths":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f := New(path)
	if err := f.Store("127.0.0.1:5000", "alice", "s3:cret"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "s3:cret") || !strings.Contains(string(data), "detachKeys") {
		t.Fatalf("file content: %s", data)
	}
	u, p, ok, err := f.Lookup("127.0.0.1:5000")
	if err != nil || !ok || u != "alice" || p != "s3:cret" {
		t.Fatalf("Lookup = %q %q %v %v", u, p, ok, err)
	}
	if had, err := f.Erase("127.0.0.1:5000"); err != nil || !had {
		t.Fatalf("Erase = %v, %v", had, err)
	}
	if _, _, ok, _ := f.Lookup("127.0.0.1:5000"); ok {
		t.Fatal("credentials survived Erase")
	}
	if had, _ := f.Erase("127.0.0.1:5000"); had {
		t.Fatal("second Erase found credentials")
	}
}
