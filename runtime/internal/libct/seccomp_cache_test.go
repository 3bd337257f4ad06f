package libct

import (
	"bytes"
	"errors"
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
		if st, _ := os.Stat(p); st.Mode().Perm()&0o077 != 0 {
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
