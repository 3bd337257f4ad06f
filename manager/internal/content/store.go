// Package content is the manager's content-addressed blob store: layers,
// manifests and image configs under blobs/sha256/<hex>, each verified against
// its digest when written. Writes are atomic (temp file in ingest/, fsync,
// rename), so a crash or a full disk never leaves a half blob under its name.
package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// Store is a directory of blobs named by digest.
type Store struct {
	root string
}

// Open returns the store rooted at dir, creating its directories.
func Open(dir string) (*Store, error) {
	for _, d := range []string{filepath.Join(dir, "blobs", "sha256"), filepath.Join(dir, "ingest")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("content store: %w", err)
		}
	}
	return &Store{root: dir}, nil
}

// Path is where the blob dgst lives (whether or not it exists).
func (s *Store) Path(dgst digest.Digest) (string, error) {
	if err := dgst.Validate(); err != nil {
		return "", fmt.Errorf("digest %q: %w", dgst, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(s.root, "blobs", dgst.Algorithm().String(), dgst.Encoded()), nil
}

// Has reports whether the blob is present, and its size.
func (s *Store) Has(dgst digest.Digest) (int64, bool) {
	p, err := s.Path(dgst)
	if err != nil {
		return 0, false
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, false
	}
	return fi.Size(), true
}

// Open opens the blob for reading.
func (s *Store) Open(dgst digest.Digest) (*os.File, error) {
	p, err := s.Path(dgst)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", dgst, errdefs.ErrNotFound)
	}
	return f, err
}

// ReadAll returns a small blob (a manifest or config) whole.
func (s *Store) ReadAll(dgst digest.Digest) ([]byte, error) {
	f, err := s.Open(dgst)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", dgst, err)
	}
	return data, nil
}

// Write stores what r yields under dgst, verifying the digest (and the size,
// when size >= 0). A blob already present is not written again.
func (s *Store) Write(dgst digest.Digest, size int64, r io.Reader) error {
	dst, err := s.Path(dgst)
	if err != nil {
		return err
	}
	if have, ok := s.Has(dgst); ok && (size < 0 || have == size) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Join(s.root, "ingest"), dgst.Encoded()+".*")
	if err != nil {
		return fmt.Errorf("write blob %s: %w", dgst, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	verifier := dgst.Verifier()
	n, err := io.Copy(io.MultiWriter(tmp, verifier), r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write blob %s: %w", dgst, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("blob %s: got %d bytes, want %d: %w", dgst, n, size, errdefs.ErrDataCorrupt)
	}
	if !verifier.Verified() {
		return fmt.Errorf("blob %s: content does not match its digest: %w", dgst, errdefs.ErrDataCorrupt)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("commit blob %s: %w", dgst, err)
	}
	return nil
}

// Ingest stores what r yields under the digest it turns out to have, for
// content whose digest is not known beforehand (a layer.tar in an archive).
func (s *Store) Ingest(r io.Reader) (digest.Digest, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.root, "ingest"), "ingest.*")
	if err != nil {
		return "", 0, fmt.Errorf("ingest: %w", err)
	}
	defer os.Remove(tmp.Name())
	digester := digest.SHA256.Digester()
	n, err := io.Copy(io.MultiWriter(tmp, digester.Hash()), r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("ingest: %w", err)
	}
	d := digester.Digest()
	dst, _ := s.Path(d)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, fmt.Errorf("commit blob %s: %w", d, err)
	}
	return d, n, nil
}

// WriteBytes stores data and returns its digest.
func (s *Store) WriteBytes(data []byte) (digest.Digest, error) {
	d := digest.FromBytes(data)
	return d, s.Write(d, int64(len(data)), bytes.NewReader(data))
}

// Delete removes a blob; a missing blob is not an error.
func (s *Store) Delete(dgst digest.Digest) error {
	p, err := s.Path(dgst)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", dgst, err)
	}
	return nil
}

// Walk calls fn for every blob in the store.
func (s *Store) Walk(fn func(dgst digest.Digest, size int64) error) error {
	dir := filepath.Join(s.root, "blobs", "sha256")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, e := range entries {
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if d.Validate() != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if err := fn(d, info.Size()); err != nil {
			return err
		}
	}
	return nil
}
