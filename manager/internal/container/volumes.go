package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/berthrun/berth/manager/internal/archive"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

// populateVolumes copies what the image has at a volume's mount point into
// the volume when the volume is empty, as docker does, so VOLUME /data over
// an image's /data starts with its files. The rootfs must be mounted.
func (s *Service) populateVolumes(c *Container) error {
	for _, m := range c.Config.Mounts {
		if m.Type != "volume" {
			continue
		}
		dst := s.volumes.Path(m.Name)
		if entries, err := os.ReadDir(dst); err != nil || len(entries) > 0 {
			continue
		}
		src, err := securejoin.SecureJoin(s.rootfs(c.ID), m.Destination)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
			continue
		}
		if err := copyDirContents(src, dst); err != nil {
			return fmt.Errorf("populate volume %s from the image: %w", m.Name, err)
		}
	}
	return nil
}

func copyDirContents(src, dst string) error {
	rc := archive.Tar(src, ".")
	defer rc.Close()
	return archive.Extract(dst, rc)
}

// VolumeUsers lists the containers that mount a volume.
func (s *Service) VolumeUsers(ctx context.Context, name string) ([]*Container, error) {
	list, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Container
	for _, c := range list {
		if slices.ContainsFunc(c.Config.Mounts, func(m Mount) bool { return m.Type == "volume" && m.Name == name }) {
			out = append(out, c)
		}
	}
	return out, nil
}

// RemoveAnonymousVolumes deletes the anonymous volumes of a removed
// container (rm -v, --rm) that no other container mounts.
func (s *Service) RemoveAnonymousVolumes(ctx context.Context, c *Container) error {
	if !slices.ContainsFunc(c.Config.Mounts, func(m Mount) bool { return m.Type == "volume" && m.Anonymous }) {
		return nil // the common case: no need to list every container
	}
	var errs []error
	for _, m := range c.Config.Mounts {
		if m.Type != "volume" || !m.Anonymous {
			continue
		}
		users, err := s.VolumeUsers(ctx, m.Name)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			continue
		}
		if err := s.volumes.Remove(ctx, m.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RemoveVolume deletes a volume that no container mounts.
func (s *Service) RemoveVolume(ctx context.Context, name string) error {
	users, err := s.VolumeUsers(ctx, name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		var ids []string
		for _, u := range users {
			ids = append(ids, u.ID)
		}
		return fmt.Errorf("remove %s: volume is in use - [%s]: %w", name, strings.Join(ids, ", "), errdefs.ErrConflict)
	}
	return s.volumes.Remove(ctx, name)
}

// PruneVolumes removes the volumes no container mounts: the anonymous
// ones, or all with all. It returns their names and the bytes freed.
func (s *Service) PruneVolumes(ctx context.Context, all bool) ([]string, uint64, error) {
	vols, err := s.volumes.List(ctx)
	if err != nil {
		return nil, 0, err
	}
	var names []string
	var freed uint64
	for _, v := range vols {
		if !v.Anonymous && !all {
			continue
		}
		size := s.volumes.Size(v.Name)
		if err := s.RemoveVolume(ctx, v.Name); err != nil {
			if errors.Is(err, errdefs.ErrConflict) || errdefs.IsNotFound(err) {
				continue
			}
			return names, freed, err
		}
		names = append(names, v.Name)
		freed += uint64(max(size, 0))
	}
	return names, freed, nil
}
