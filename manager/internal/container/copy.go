package container

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	ctypes "github.com/moby/moby/api/types/container"

	"github.com/berthrun/berth/manager/internal/archive"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

// withRoot calls fn with c's root filesystem as its processes see it: a
// running container's through /proc/PID/root (its mounts included), a
// stopped one's rootfs mounted for the call.
func (s *Service) withRoot(ctx context.Context, c *Container, fn func(root string) error) error {
	if c.Running() {
		return fn(fmt.Sprintf("/proc/%d/root", c.State.Pid))
	}
	img, err := s.images.Get(ctx, c.Config.Image.String())
	if err != nil {
		return fmt.Errorf("image of container %.12s: %w", c.ID, err)
	}
	if err := s.mountRootfs(ctx, c, img.Chain); err != nil {
		return err
	}
	defer s.unmountRootfs(c.ID)
	return fn(s.rootfs(c.ID))
}

// PathStat describes path inside c as docker's archive API does: the
// entry itself (a symlink is not followed, its parents are, inside the
// container). A missing path is ErrNotFound.
func (s *Service) PathStat(ctx context.Context, c *Container, path string) (ctypes.PathStat, error) {
	var st ctypes.PathStat
	err := s.withRoot(ctx, c, func(root string) error {
		p, err := entryPath(root, path)
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("could not find the file %s in container %s: %w", path, c.Name, errdefs.ErrNotFound)
		}
		st = ctypes.PathStat{Name: filepath.Base(path), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
		if fi.Mode()&os.ModeSymlink != 0 {
			st.LinkTarget, _ = os.Readlink(p)
		}
		return nil
	})
	return st, err
}

// entryPath is path inside root as docker cp sees it: links in its
// directories resolve inside root (never on the host), the last element is
// the entry itself (a link is copied as a link, as docker cp does
// without -L).
func entryPath(root, path string) (string, error) {
	clean := filepath.Clean("/" + path)
	parent, err := securejoin.SecureJoin(root, filepath.Dir(clean))
	if err != nil {
		return "", err
	}
	return filepath.Join(parent, filepath.Base(clean)), nil
}

// CopyFrom writes a tar of path inside c to w, its top entry named top.
func (s *Service) CopyFrom(ctx context.Context, c *Container, path, top string, w io.Writer) error {
	return s.withRoot(ctx, c, func(root string) error {
		p, err := entryPath(root, path)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(p); err != nil {
			return fmt.Errorf("could not find the file %s in container %s: %w", path, c.Name, errdefs.ErrNotFound)
		}
		rc := archive.Tar(p, top)
		defer rc.Close()
		_, err = io.Copy(w, rc)
		return err
	})
}

// CopyTo extracts the tar read from r into directory dir inside c, with
// the archive package's protections against entries that escape.
func (s *Service) CopyTo(ctx context.Context, c *Container, dir string, r io.Reader) error {
	return s.withRoot(ctx, c, func(root string) error {
		p, err := securejoin.SecureJoin(root, dir)
		if err != nil {
			return err
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			return fmt.Errorf("destination %s in container %s is not a directory: %w", dir, c.Name, errdefs.ErrInvalidArgument)
		}
		return archive.Extract(filepath.Clean(p), r)
	})
}

// DiskUsage is the bytes c holds of its own: its writable layer and logs.
func (s *Service) DiskUsage(c *Container) int64 {
	var n int64
	_ = filepath.WalkDir(s.dataDir(c.ID), func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
