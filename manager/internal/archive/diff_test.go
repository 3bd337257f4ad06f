//go:build linux

package archive

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDiffWhiteouts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root")
	}
	up := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(up, "bin"), 0o755))
	must(unix.Mknod(filepath.Join(up, "bin/ls"), unix.S_IFCHR, 0))
	must(os.MkdirAll(filepath.Join(up, "etc/opq"), 0o755))
	must(unix.Setxattr(filepath.Join(up, "etc/opq"), "trusted.overlay.opaque", []byte("y"), 0))
	must(os.WriteFile(filepath.Join(up, "etc/opq/f"), []byte("x"), 0o644))
	must(os.WriteFile(filepath.Join(up, "etc/hosts"), nil, 0o644))
	rc := Diff(up, []string{"/etc/hosts"})
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(err)
		names = append(names, h.Name)
	}
	want := []string{"bin/", "bin/.wh.ls", "etc/", "etc/opq/", "etc/opq/.wh..wh..opq", "etc/opq/f"}
	if !slices.Equal(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
}
