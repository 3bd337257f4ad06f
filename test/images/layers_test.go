//go:build integration && linux

package images

import (
	"archive/tar"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// layeredArchive writes a docker-archive of ref: busybox's layer plus a
// small one on top, so it shares its base layer with busybox:latest.
func layeredArchive(t testing.TB, dir, ref string) string {
	t.Helper()
	base, cfg := busyboxLayer(t)
	extra := tarOf(t, file{name: "etc/", typ: tar.TypeDir}, file{name: "etc/berth-release", body: "layered\n"})
	path, _ := dockerArchive(t, filepath.Join(dir, "layered.tar"), []string{ref}, cfg, [][]byte{base, extra}, nil)
	return path
}

func inode(t testing.TB, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestSharedBaseLayer: two images sharing busybox's layer store it once and
// unpack it once (2 snapshots, not 3, and the first unpacked directory is
// reused as is); removing one image keeps the shared layer; removing both
// empties snapshots/ and the content store.
func TestSharedBaseLayer(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	m.must("load", "-i", busyboxTar)
	bb := m.inspect("busybox")
	snaps := m.snapshots()
	if len(snaps) != 1 {
		t.Fatalf("busybox: %d snapshots %q, want 1", len(snaps), snaps)
	}
	baseDir := filepath.Join(m.root, "snapshots", snaps[0])
	baseIno := inode(t, baseDir)

	m.must("load", "-i", layeredArchive(t, t.TempDir(), "layered:1"))
	layered := m.inspect("layered:1")
	if len(layered.RootFS.Layers) != 2 || layered.RootFS.Layers[0] != bb.RootFS.Layers[0] {
		t.Fatalf("layered image layers %q do not start with busybox's %q", layered.RootFS.Layers, bb.RootFS.Layers)
	}
	if got := m.snapshots(); len(got) != 2 || !slices.Contains(got, snaps[0]) {
		t.Fatalf("after the second image: snapshots %q, want busybox's %s and one more", got, snaps[0])
	}
	if inode(t, baseDir) != baseIno {
		t.Errorf("busybox's layer was unpacked again for the second image")
	}
	// 2 images: 2 manifests + 2 configs + 2 distinct layers
	if b := m.blobs(); len(b) != 6 {
		t.Errorf("content store holds %d blobs, want 6 (the shared layer once): %q", len(b), b)
	}
	if _, err := os.Stat(filepath.Join(m.root, "snapshots", snaps[0], "fs", "bin", "busybox")); err != nil {
		t.Errorf("shared layer not unpacked: %v", err)
	}

	m.must("rmi", "busybox")
	if got := m.snapshots(); len(got) != 2 || !slices.Contains(got, snaps[0]) {
		t.Fatalf("after rmi busybox: snapshots %q, the shared %s must stay", got, snaps[0])
	}
	if b := m.blobs(); len(b) != 4 {
		t.Errorf("after rmi busybox: %d blobs %q, want the layered image's 4", len(b), b)
	}
	if got := m.inspect("layered:1").ID; got != layered.ID {
		t.Errorf("layered image changed: %s, was %s", got, layered.ID)
	}

	m.must("rmi", "layered:1")
	if s, b := m.snapshots(), m.blobs(); len(s)+len(b) != 0 {
		t.Errorf("after rmi of both: snapshots %q, blobs %q, want none", s, b)
	}
	m.assertNoTemp()
}
