package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// mountRootfs mounts the container's overlay (its image's layers, chain,
// under its own rw layer) at its bundle's rootfs.
func (s *Service) mountRootfs(ctx context.Context, c *Container, chain digest.Digest) error {
	m, err := s.snapshots.RootfsMount(ctx, chain, filepath.Join(s.dataDir(c.ID), "rw"))
	if err != nil {
		return err
	}
	target := s.rootfs(c.ID)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	if err := s.unmountRootfs(c.ID); err != nil {
		return err
	}
	data := strings.Join(m.Options, ",")
	if len(data) >= os.Getpagesize() {
		return fmt.Errorf("image of container %.12s has too many layers for one overlay mount (%d bytes of options)", c.ID, len(data))
	}
	if err := unix.Mount(m.Source, target, m.Type, 0, data); err != nil {
		return fmt.Errorf("mount rootfs of %.12s: %w", c.ID, err)
	}
	return nil
}

// unmountRootfs unmounts the rootfs if it is mounted.
func (s *Service) unmountRootfs(id string) error {
	target := s.rootfs(id)
	for {
		err := unix.Unmount(target, unix.MNT_DETACH)
		if err == nil {
			continue // stacked mounts: unmount until none is left
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("unmount rootfs of %.12s: %w", id, err)
	}
}
