package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
)

// The step cache is a directory of small files, one per step made: named
// by the hash of (parent image ID, instruction as history records it, which
// for COPY includes a hash of its sources), holding the image ID.

func cacheKey(parent digest.Digest, createdBy string) string {
	h := sha256.Sum256([]byte(parent.String() + "\n" + createdBy))
	return hex.EncodeToString(h[:])
}

func (b *Builder) cacheGet(key string) (digest.Digest, bool) {
	raw, err := os.ReadFile(filepath.Join(b.cacheDir, key))
	if err != nil {
		return "", false
	}
	d, err := digest.Parse(strings.TrimSpace(string(raw)))
	if err != nil {
		return "", false
	}
	return d, true
}

// cachePut writes the entry crash-safely: a temp file renamed into place.
func (b *Builder) cachePut(key string, id digest.Digest) error {
	if err := os.MkdirAll(b.cacheDir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(b.cacheDir, ".tmp-")
	if err != nil {
		return err
	}
	_, err = f.WriteString(id.String() + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(b.cacheDir, key))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write cache entry: %w", err)
	}
	return nil
}
