//go:build integration && linux

package images

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSaveLoadRoundTrip: save -o, rmi, load -i gives back the same image ID,
// names and layers; the saved archive is written under the name asked for.
func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	m.must("load", "-i", busyboxTar)
	m.must("tag", "busybox", "example.com/team/bb:v1")
	before := m.inspect("busybox")
	state := m.state()

	out := filepath.Join(t.TempDir(), "saved.tar")
	m.must("save", "-o", out, "busybox", "example.com/team/bb:v1")
	m.must("rmi", "busybox", "example.com/team/bb:v1")
	if imgs := m.images(); len(imgs) != 0 {
		t.Fatalf("images after rmi: %q", imgs)
	}
	loaded := m.must("load", "-i", out)
	for _, n := range []string{"busybox:latest", "example.com/team/bb:v1"} {
		if !strings.Contains(loaded, "Loaded image: "+n+"\n") {
			t.Errorf("load did not report %s:\n%s", n, loaded)
		}
	}
	after := m.inspect("busybox")
	if after.ID != before.ID || !slices.Equal(after.RepoTags, before.RepoTags) || !slices.Equal(after.RootFS.Layers, before.RootFS.Layers) {
		t.Errorf("after save/rmi/load: %+v\nbefore: %+v", after, before)
	}
	m.assertState(state)

	// The archive loads into another store too, and loading twice is a no-op.
	other := newMgr(t)
	other.must("load", "-i", out)
	other.must("load", "-i", out)
	if got := other.inspect("example.com/team/bb:v1").ID; got != before.ID {
		t.Errorf("load into a fresh store: %s, want %s", got, before.ID)
	}
	other.assertState(state)
}

// TestLoadBroken: a broken archive (truncated, not a tar, a missing layer, a
// blob that does not match its name, a layer that does not match the
// config's diff_id) fails with exit 125 and one line on stderr, and leaves
// the store as it was: same images, blobs and layers, no temp files.
func TestLoadBroken(t *testing.T) {
	t.Parallel()
	// The store holds an unrelated image, so that every blob and layer of
	// the broken archives is new to it.
	m := newMgr(t)
	keep := writeFile(t, filepath.Join(t.TempDir(), "keep.tar"), tarOf(t, file{name: "keep", body: "k\n"}))
	m.must("import", keep, "keep:1")
	saver := newMgr(t)
	saver.must("load", "-i", busyboxTar)
	saved := filepath.Join(t.TempDir(), "saved.tar")
	saver.must("save", "-o", saved, "busybox")
	savedData, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	base, cfg := busyboxLayer(t)
	extra := tarOf(t, file{name: "broken", body: "x\n"})
	dir := t.TempDir()

	cases := []struct {
		name, want string
		archive    func() string
	}{
		{"truncated", "unexpected EOF", func() string {
			return writeFile(t, filepath.Join(dir, "truncated.tar"), savedData[:len(savedData)*2/3])
		}},
		{"not a tar", "image archive", func() string {
			return writeFile(t, filepath.Join(dir, "text.tar"), []byte(strings.Repeat("this is not a tar archive\n", 100)))
		}},
		{"empty", "empty or not a tar", func() string {
			return writeFile(t, filepath.Join(dir, "empty.tar"), nil)
		}},
		{"missing layer", "which the archive lacks", func() string {
			p, _ := dockerArchive(t, filepath.Join(dir, "missing.tar"), []string{"broken:missing"}, cfg, [][]byte{base, extra}, func(files []file) []file {
				return slices.DeleteFunc(files, func(f file) bool { return f.name == sha(extra)+"/layer.tar" })
			})
			return p
		}},
		{"blob does not match its name", "does not match its digest", func() string {
			// the saved OCI layout's layer blob, one byte changed
			var files []file
			for _, f := range readTar(t, saved) {
				if f.name == "blobs/sha256/"+sha(base) {
					b := []byte(f.body)
					b[len(b)/2] ^= 0xff
					f.body = string(b)
				}
				files = append(files, f)
			}
			return writeFile(t, filepath.Join(dir, "tampered.tar"), tarOf(t, files...))
		}},
		{"layer does not match diff_id", "image config says", func() string {
			p, _ := dockerArchive(t, filepath.Join(dir, "diffid.tar"), []string{"broken:diffid"}, cfg, [][]byte{base, extra}, func(files []file) []file {
				for i, f := range files {
					if f.name == sha(extra)+"/layer.tar" {
						files[i].body = string(tarOf(t, file{name: "other", body: "y\n"}))
					}
				}
				return files
			})
			return p
		}},
	}
	state := m.state()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := *m
			m.t = t
			fails(t, m.run("load", "-i", c.archive()), c.want)
			m.assertState(state)
		})
	}
	// still usable afterwards
	m.must("load", "-i", saved)
	m.must("rmi", "busybox")
	m.assertState(state)
}

// TestLoadHostileLayer: a layer that climbs out with ../, writes through a
// symlink (absolute, or relative even when it stays inside), points a
// symlink or hardlink outside is refused by `mgr load`; nothing appears
// outside and no layer, blob or image is kept.
func TestLoadHostileLayer(t *testing.T) {
	t.Parallel()
	_, cfg := busyboxLayer(t)
	outside := t.TempDir()
	climb := strings.Repeat("../", 32) + strings.TrimPrefix(outside, "/")
	cases := []struct {
		name   string
		layer  []file
		target string // must not exist afterwards
		want   string
	}{
		{"dotdot", []file{{name: climb + "/escaped", body: "pwned\n"}}, "escaped", "escapes the layer"},
		{"absolute symlink then write", []file{
			{name: "link", typ: tar.TypeSymlink, linkname: outside},
			{name: "link/through-abs", body: "pwned\n"},
		}, "through-abs", "refusing to write through symlink"},
		{"relative symlink then write", []file{
			{name: "etc/", typ: tar.TypeDir},
			{name: "etc/link", typ: tar.TypeSymlink, linkname: "../" + climb},
			{name: "etc/link/through-rel", body: "pwned\n"},
		}, "through-rel", "points outside the layer"},
		{"symlink inside then write", []file{
			{name: "etc/", typ: tar.TypeDir},
			{name: "etc/up", typ: tar.TypeSymlink, linkname: ".."},
			{name: "etc/up/through-inner", body: "pwned\n"},
		}, "", "refusing to write through symlink"},
		{"hardlink out", []file{{name: "hl", typ: tar.TypeLink, linkname: climb + "/../../etc/passwd"}}, "", "hardlink target"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := newMgr(t)
			m.must("load", "-i", busyboxTar)
			state := m.state()
			p, _ := dockerArchive(t, filepath.Join(t.TempDir(), "hostile.tar"), []string{"hostile:1"}, cfg, [][]byte{tarOf(t, c.layer...)}, nil)
			res := m.run("load", "-i", p)
			fails(t, res, c.want)
			if c.target != "" {
				if _, err := os.Lstat(filepath.Join(outside, c.target)); err == nil {
					t.Errorf("the layer wrote %s outside", filepath.Join(outside, c.target))
				}
			}
			m.assertState(state)
		})
	}
	if l := list(t, outside); len(l) != 0 {
		t.Errorf("files appeared outside: %q", l)
	}
}

// TestImport: a gzip'd rootfs tar imported with a name and --change is a
// one-layer image whose layer is the tar (its uncompressed digest), with the
// CMD asked for, and files unpacked.
func TestImport(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	rootfs := tarOf(t,
		file{name: "bin/", typ: tar.TypeDir},
		file{name: "bin/hello", body: "#!/bin/sh\necho hello\n", mode: 0o755},
		file{name: "etc/", typ: tar.TypeDir},
		file{name: "etc/motd", body: "imported\n"},
	)
	tgz := writeFile(t, filepath.Join(t.TempDir(), "rootfs.tar.gz"), gzipped(t, rootfs))
	if f, _ := os.Open(tgz); f != nil { // really gzip
		if _, err := gzip.NewReader(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	out := m.must("import", "--change", `CMD ["/bin/hello","arg"]`, "--change", "ENV GREETING=hi", tgz, "example.com/imported:v2")
	id := strings.TrimSpace(out)
	img := m.inspect("example.com/imported:v2")
	if img.ID != id {
		t.Errorf("import printed %s, inspect says %s", id, img.ID)
	}
	if want := []string{"sha256:" + sha(rootfs)}; !slices.Equal(img.RootFS.Layers, want) {
		t.Errorf("layers %q, want %q", img.RootFS.Layers, want)
	}
	if want := []string{"/bin/hello", "arg"}; !slices.Equal(img.Config.Cmd, want) {
		t.Errorf("Cmd %q, want %q", img.Config.Cmd, want)
	}
	if !slices.Contains(img.Config.Env, "GREETING=hi") {
		t.Errorf("Env %q lacks GREETING=hi", img.Config.Env)
	}
	if !slices.Equal(img.RepoTags, []string{"example.com/imported:v2"}) {
		t.Errorf("RepoTags %q", img.RepoTags)
	}
	snaps := m.snapshots()
	if len(snaps) != 1 {
		t.Fatalf("snapshots %q, want 1", snaps)
	}
	got, err := os.ReadFile(filepath.Join(m.root, "snapshots", snaps[0], "fs", "etc", "motd"))
	if err != nil || string(got) != "imported\n" {
		t.Errorf("unpacked etc/motd: %q, %v", got, err)
	}
	if h := m.must("history", "example.com/imported:v2"); !strings.Contains(h, "Imported from tarball") {
		t.Errorf("history:\n%s", h)
	}
}
