// Package snapshot keeps image layers unpacked on disk, once each, keyed by
// chain ID and shared by every image that has the layer; and it describes
// the overlayfs mount that stacks a chain under a container's own upper
// directory. It returns mounts; it never mounts (see package mount).
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"

	"github.com/berthrun/berth/manager/internal/archive"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/store"
)

// Mount is one mount(2) to make: overlay for a rootfs.
type Mount struct {
	Type    string
	Source  string
	Options []string
}

// Snapshotter stores unpacked layers under root (<data root>/snapshots).
type Snapshotter struct {
	root    string
	records *store.Snapshots
}

// New returns the snapshotter over root, creating it.
func New(root string, records *store.Snapshots) (*Snapshotter, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	return &Snapshotter{root: root, records: records}, nil
}

// ChainID is the identity of a layer stack: the diffIDs of every layer up
// to and including this one.
func ChainID(parent, diffID digest.Digest) digest.Digest {
	if parent == "" {
		return diffID
	}
	return identity.ChainID([]digest.Digest{parent, diffID})
}

// Unpack makes sure the layer diffID on top of chain parent is unpacked and
// returns its chain ID. open is called only when the layer is missing, so a
// shared base layer is read and written once. The layer's content must hash
// to diffID, or nothing is kept.
func (s *Snapshotter) Unpack(ctx context.Context, parent, diffID digest.Digest, open func() (io.ReadCloser, error)) (digest.Digest, error) {
	chain := ChainID(parent, diffID)
	if _, err := s.records.Get(ctx, chain); err == nil {
		return chain, nil
	} else if !errdefs.IsNotFound(err) {
		return "", err
	}
	if parent != "" {
		if _, err := s.records.Get(ctx, parent); err != nil {
			return "", fmt.Errorf("parent layer of %s: %w", diffID, err)
		}
	}
	tmp, err := os.MkdirTemp(s.root, "tmp-")
	if err != nil {
		return "", fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	fsDir := filepath.Join(tmp, "fs")
	if err := os.Mkdir(fsDir, 0o755); err != nil {
		return "", err
	}
	rc, err := open()
	if err != nil {
		return "", fmt.Errorf("open layer %s: %w", diffID, err)
	}
	res, err := archive.Apply(fsDir, rc)
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	if res.DiffID != diffID {
		return "", fmt.Errorf("unpack layer: content is %s but the image config says %s: %w", res.DiffID, diffID, errdefs.ErrDataCorrupt)
	}
	dir := chain.Encoded()
	if err := os.Rename(tmp, filepath.Join(s.root, dir)); err != nil {
		if !errors.Is(err, os.ErrExist) && !isNotEmpty(err) {
			return "", fmt.Errorf("commit layer %s: %w", diffID, err)
		}
		// Another mgr unpacked the same layer meanwhile; keep theirs.
	}
	err = s.records.Add(ctx, store.Snapshot{ChainID: chain, Parent: parent, DiffID: diffID, Dir: dir, Size: res.Size, Created: time.Now()})
	if err != nil && !errors.Is(err, errdefs.ErrAlreadyExists) {
		return "", err
	}
	return chain, nil
}

func isNotEmpty(err error) bool { return strings.Contains(err.Error(), "directory not empty") }

// Dir is the unpacked content of a chain's top layer.
func (s *Snapshotter) Dir(sn store.Snapshot) string { return filepath.Join(s.root, sn.Dir, "fs") }

// Lowers returns the layer directories of chain, topmost first.
func (s *Snapshotter) Lowers(ctx context.Context, chain digest.Digest) ([]string, error) {
	var dirs []string
	for c := chain; c != ""; {
		sn, err := s.records.Get(ctx, c)
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, s.Dir(sn))
		c = sn.Parent
	}
	return dirs, nil
}

// RootfsMount describes the overlay of chain under a container's writable
// layer in rwDir (which gets upper/ and work/).
func (s *Snapshotter) RootfsMount(ctx context.Context, chain digest.Digest, rwDir string) (Mount, error) {
	lowers, err := s.Lowers(ctx, chain)
	if err != nil {
		return Mount{}, err
	}
	upper, work := filepath.Join(rwDir, "upper"), filepath.Join(rwDir, "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Mount{}, err
		}
	}
	return Mount{
		Type:    "overlay",
		Source:  "overlay",
		Options: []string{"lowerdir=" + strings.Join(lowers, ":"), "upperdir=" + upper, "workdir=" + work},
	}, nil
}

// Remove deletes the snapshot of chain. The caller decides that nothing
// uses it any more.
func (s *Snapshotter) Remove(ctx context.Context, chain digest.Digest) error {
	sn, err := s.records.Get(ctx, chain)
	if err != nil {
		return err
	}
	if err := s.records.Delete(ctx, chain); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(s.root, sn.Dir)); err != nil {
		return fmt.Errorf("remove layer %s: %w", chain, err)
	}
	return nil
}

// List returns every snapshot.
func (s *Snapshotter) List(ctx context.Context) ([]store.Snapshot, error) { return s.records.List(ctx) }
