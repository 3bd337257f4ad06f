package libct

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestCacheFileRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	filter := bytes.Repeat([]byte{0x15, 0, 1, 0, 0x3e, 0, 0, 0xc0}, 100)
	key := cacheKey([]byte("profile"), []byte("v1"))
	if err := writeCached(dir, key, 12, filter); err != nil {
		t.Fatal(err)
	}
	flags, got, err := readCached(dir, key)
	if err != nil || flags != 12 || !bytes.Equal(got, filter) {
		t.Fatalf("read back flags %d, %d bytes, %v", flags, len(got), err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != key {
		t.Errorf("cache dir holds %v, want just %s", ents, key)
	}
	for _, p := range []string{dir, filepath.Join(dir, key)} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: the filters of root's containers are root's only", p, st.Mode().Perm())
		}
	}
}

func TestCacheFileRejectsDamage(t *testing.T) {
	good := encodeProgram(5, bytes.Repeat([]byte{6, 0, 0, 0, 0, 0, 0xff, 0x7f}, 10))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 1
		return b
	}
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"header only, cut", good[:cacheHeaderLen-1]},
		{"program cut", good[:len(good)-8]},
		{"program longer", append(bytes.Clone(good), 0, 0, 0, 0, 0, 0, 0, 0)},
		{"magic", flip(0)},
		{"format version", flip(7)},
		{"flags", flip(8)},
		{"length", flip(16)},
		{"checksum", flip(30)},
		{"program", flip(len(good) - 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := decodeProgram(tc.file); !errors.Is(err, errBadCacheFile) {
				t.Errorf("decoded a damaged file: %v", err)
			}
		})
	}
	if _, _, err := decodeProgram(good); err != nil {
		t.Errorf("the intact file: %v", err)
	}
}

func TestCacheKeySeparatesParts(t *testing.T) {
	// each part is length-prefixed: moving a byte from one part to the
	// next gives another key
	if cacheKey([]byte("ab"), []byte("c")) == cacheKey([]byte("a"), []byte("bc")) {
		t.Error("parts run into each other")
	}
	if cacheKey([]byte("a")) != cacheKey([]byte("a")) {
		t.Error("key is not stable")
	}
}

// TestCacheTrustsOnlyPrivateFiles: a file anyone else could have written
// is never read as a filter, however well it checks out.
func TestCacheTrustsOnlyPrivateFiles(t *testing.T) {
	filter := bytes.Repeat([]byte{6, 0, 0, 0, 0, 0, 0xff, 0x7f}, 4)
	key := cacheKey([]byte("p"))
	// each case spoils a private cache and returns the directory to read
	for _, tc := range []struct {
		name  string
		root  bool // needs root (chown)
		spoil func(t *testing.T, dir string) string
	}{
		{"directory writable by the group", false, func(t *testing.T, dir string) string { return chmod(t, dir, dir, 0o770) }},
		{"directory writable by all", false, func(t *testing.T, dir string) string { return chmod(t, dir, dir, 0o1777) }},
		{"file writable by others", false, func(t *testing.T, dir string) string { return chmod(t, dir, filepath.Join(dir, key), 0o606) }},
		{"file is a symlink", false, func(t *testing.T, dir string) string {
			other := filepath.Join(t.TempDir(), "elsewhere")
			if err := os.Rename(filepath.Join(dir, key), other); err != nil {
				t.Fatal(err)
			}
			return symlink(t, dir, other, filepath.Join(dir, key))
		}},
		{"directory is a symlink", false, func(t *testing.T, dir string) string {
			link := filepath.Join(t.TempDir(), "link")
			return symlink(t, link, dir, link)
		}},
		{"file of another user", true, func(t *testing.T, dir string) string { return chown(t, dir, filepath.Join(dir, key)) }},
		{"directory of another user", true, func(t *testing.T, dir string) string { return chown(t, dir, dir) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			dir := filepath.Join(t.TempDir(), "cache")
			if err := writeCached(dir, key, 0, filter); err != nil {
				t.Fatal(err)
			}
			if _, _, err := readCached(dir, key); err != nil {
				t.Fatalf("private cache not read: %v", err)
			}
			_, _, err := readCached(tc.spoil(t, dir), key)
			if err == nil {
				t.Error("read a filter others could have written")
			} else if errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the spoilt cache was not there to refuse: %v", err)
			}
		})
	}
}

func chmod(t *testing.T, ret, p string, mode os.FileMode) string {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return ret
}

func chown(t *testing.T, ret, p string) string {
	t.Helper()
	if err := os.Lchown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	return ret
}

func symlink(t *testing.T, ret, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return ret
}
