package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

type entry struct {
	name, link, body string
	typ              byte
	mode             int64
}

func mkTar(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if e.typ == tar.TypeDir {
				mode = 0o755
			}
		}
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: mode, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root (mknod, chown, trusted xattrs)")
	}
}

// TestHostileLayers proves each hostile archive is refused and that nothing
// is written outside the layer directory.
func TestHostileLayers(t *testing.T) {
	requireRoot(t)
	cases := []struct {
		name    string
		entries []entry
	}{
		{"dot-dot path", []entry{{name: "../escaped", body: "x", typ: tar.TypeReg}}},
		{"deep dot-dot path", []entry{{name: "a/../../escaped", body: "x", typ: tar.TypeReg}}},
		{"absolute path", []entry{{name: "/escaped", body: "x", typ: tar.TypeReg}}},
		{"write through symlink to outside", []entry{
			{name: "evil", link: "/OUTSIDE", typ: tar.TypeSymlink},
			{name: "evil/escaped", body: "x", typ: tar.TypeReg},
		}},
		{"write through relative symlink", []entry{
			{name: "d", typ: tar.TypeDir},
			{name: "d/up", link: "..", typ: tar.TypeSymlink},
			{name: "d/up/escaped", body: "x", typ: tar.TypeReg},
		}},
		{"symlink pointing outside", []entry{{name: "out", link: "../../OUTSIDE/escaped", typ: tar.TypeSymlink}}},
		{"hardlink to outside", []entry{{name: "hl", link: "../OUTSIDE/secret", typ: tar.TypeLink}}},
		{"hardlink to absolute", []entry{{name: "hl", link: "/etc/passwd", typ: tar.TypeLink}}},
		{"hardlink through symlink", []entry{
			{name: "s", link: "/", typ: tar.TypeSymlink},
			{name: "hl", link: "s/etc/passwd", typ: tar.TypeLink},
		}},
		{"whiteout through symlink", []entry{
			{name: "s", link: "/OUTSIDE", typ: tar.TypeSymlink},
			{name: "s/.wh.secret", typ: tar.TypeReg},
		}},
		{"opaque dir through symlink", []entry{
			{name: "s", link: "../OUTSIDE", typ: tar.TypeSymlink},
			{name: "s/.wh..wh..opq", typ: tar.TypeReg},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			outside := filepath.Join(base, "OUTSIDE")
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("keep"), 0o600); err != nil {
				t.Fatal(err)
			}
			layer := filepath.Join(base, "layer", "fs")
			if err := os.MkdirAll(layer, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := Apply(layer, bytes.NewReader(mkTar(t, tc.entries...)))
			if !errors.Is(err, errdefs.ErrDataCorrupt) {
				t.Fatalf("Apply = %v, want a refusal (ErrDataCorrupt)", err)
			}
			// Nothing outside the layer changed.
			for _, p := range []string{filepath.Join(base, "escaped"), filepath.Join(base, "layer", "escaped"), filepath.Join(outside, "escaped"), "/escaped"} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
			data, err := os.ReadFile(filepath.Join(outside, "secret"))
			if err != nil || string(data) != "keep" {
				t.Errorf("outside file changed: %q, %v", data, err)
			}
			var xa [8]byte
			if n, _ := unix.Getxattr(outside, "trusted.overlay.opaque", xa[:]); n > 0 {
				t.Errorf("opaque xattr set outside the layer")
			}
		})
	}
}

func TestApplyOverlayForm(t *testing.T) {
	requireRoot(t)
	layer := t.TempDir()
	raw := mkTar(t,
		entry{name: "etc/", typ: tar.TypeDir},
		entry{name: "etc/hostname", body: "box\n", typ: tar.TypeReg},
		entry{name: "bin/", typ: tar.TypeDir},
		entry{name: "bin/busybox", body: "ELF", typ: tar.TypeReg, mode: 0o4755},
		entry{name: "bin/sh", link: "/bin/busybox", typ: tar.TypeSymlink},
		entry{name: "bin/ls", link: "bin/busybox", typ: tar.TypeLink},
		entry{name: "gone/.wh..wh..opq", typ: tar.TypeReg},
		entry{name: "etc/.wh.motd", typ: tar.TypeReg},
	)
	for _, tc := range []struct {
		name string
		wrap func([]byte) []byte
	}{
		{"plain", func(b []byte) []byte { return b }},
		// GNU tar pads archives to 10 KiB records; the padding is part of
		// the diffID.
		{"padded", func(b []byte) []byte { return append(append([]byte{}, b...), make([]byte, 10240-len(b)%10240)...) }},
		{"gzip", func(b []byte) []byte {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(b)
			zw.Close()
			return buf.Bytes()
		}},
		{"zstd", func(b []byte) []byte {
			var buf bytes.Buffer
			zw, _ := zstd.NewWriter(&buf)
			zw.Write(b)
			zw.Close()
			return buf.Bytes()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(layer, tc.name)
			os.Mkdir(dir, 0o755)
			res, err := Apply(dir, bytes.NewReader(tc.wrap(raw)))
			if err != nil {
				t.Fatal(err)
			}
			plainStream := raw
			if tc.name == "padded" {
				plainStream = tc.wrap(raw)
			}
			if want := digest.FromBytes(plainStream); res.DiffID != want {
				t.Errorf("DiffID = %s, want %s (digest of the uncompressed tar)", res.DiffID, want)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "etc/hostname")); string(b) != "box\n" {
				t.Errorf("etc/hostname = %q", b)
			}
			if fi, err := os.Stat(filepath.Join(dir, "bin/busybox")); err != nil || fi.Mode()&os.ModeSetuid == 0 {
				t.Errorf("setuid bit lost: %v %v", fi.Mode(), err)
			}
			if l, _ := os.Readlink(filepath.Join(dir, "bin/sh")); l != "/bin/busybox" {
				t.Errorf("symlink = %q", l)
			}
			var a, b unix.Stat_t
			unix.Stat(filepath.Join(dir, "bin/ls"), &a)
			unix.Stat(filepath.Join(dir, "bin/busybox"), &b)
			if a.Ino != b.Ino {
				t.Errorf("hardlink not preserved")
			}
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(dir, "etc/motd"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
				t.Errorf("whiteout is not a 0/0 char device: %+v %v", st, err)
			}
			buf := make([]byte, 4)
			if n, err := unix.Getxattr(filepath.Join(dir, "gone"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
				t.Errorf("opaque xattr missing: %v", err)
			}
		})
	}
}

func TestCorruptLayer(t *testing.T) {
	for _, data := range [][]byte{
		{0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad}, // truncated gzip
		bytes.Repeat([]byte{0xff}, 1024),     // not a tar
	} {
		if _, err := Apply(t.TempDir(), bytes.NewReader(data)); err == nil {
			t.Errorf("Apply accepted garbage %x", data[:4])
		}
	}
}
