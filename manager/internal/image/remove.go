package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"
	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/snapshot"
)

// User says whether a container uses an image: its ID and whether it runs.
// The image service asks before deleting; the container service answers.
type User func(ctx context.Context, image digest.Digest) (container string, running bool, err error)

// Remove deletes or untags ref as `docker rmi` does: a name that is one of
// several is untagged; the last name, or the ID with force, deletes the
// image. An image a container uses is refused unless forced, and even then
// only untagged while a container runs it.
func (s *Service) Remove(ctx context.Context, ref string, force bool, users User) ([]imagetypes.DeleteResponse, error) {
	id, err := s.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	img, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	short := id.Encoded()[:12]
	var byName string // set when ref is one of the image's names
	if named, err := Normalize(ref); err == nil && slices.Contains(img.Names, named.String()) {
		byName = named.String()
	}
	var out []imagetypes.DeleteResponse
	untag := func(n string) error {
		if _, err := s.images.DeleteName(ctx, n); err != nil {
			return err
		}
		s.event(eventtypes.ActionUnTag, id.String(), n)
		out = append(out, imagetypes.DeleteResponse{Untagged: Familiar(n)})
		return nil
	}
	// One of several names: untag only, whoever uses the image.
	if byName != "" && len(img.Names) > 1 {
		return out, untag(byName)
	}
	if byName == "" && len(img.Names) > 1 && !force {
		return nil, fmt.Errorf("unable to delete %s (must be forced) - image is referenced in multiple repositories: %w", short, errdefs.ErrConflict)
	}
	if users != nil {
		ctr, running, err := users(ctx, id)
		if err != nil {
			return nil, err
		}
		if ctr != "" {
			switch {
			case running:
				return nil, fmt.Errorf("unable to delete %s (cannot be forced) - image is being used by running container %.12s: %w", short, ctr, errdefs.ErrConflict)
			case !force:
				return nil, fmt.Errorf("unable to remove %s (must force) - container %.12s is using its referenced image %s: %w", ref, ctr, short, errdefs.ErrConflict)
			}
			// Forced while a stopped container uses it: untag, keep the image.
			for _, n := range img.Names {
				if err := untag(n); err != nil {
					return out, err
				}
			}
			return out, nil
		}
	}
	for _, n := range img.Names {
		if err := untag(n); err != nil {
			return out, err
		}
	}
	if err := s.images.Delete(ctx, id); err != nil {
		return out, err
	}
	s.event(eventtypes.ActionDelete, id.String(), ref)
	out = append(out, imagetypes.DeleteResponse{Deleted: id.String()})
	return out, s.collect(ctx)
}

// Prune removes images no container uses: only unnamed ones, or all with
// all. It returns what it deleted and the bytes of blobs freed.
func (s *Service) Prune(ctx context.Context, all bool, users User) ([]imagetypes.DeleteResponse, int64, error) {
	list, err := s.List(ctx)
	if err != nil {
		return nil, 0, err
	}
	before := s.blobBytes()
	parents := map[digest.Digest]bool{}
	for _, img := range list {
		if img.Parent != "" {
			parents[img.Parent] = true
		}
	}
	var out []imagetypes.DeleteResponse
	for _, img := range list {
		// Without all: only dangling images, untagged and no other
		// image's parent (a build's intermediate steps are its cache).
		if !all && (len(img.Names) > 0 || parents[img.ID]) {
			continue
		}
		if users != nil {
			if ctr, _, err := users(ctx, img.ID); err != nil {
				return out, 0, err
			} else if ctr != "" {
				continue
			}
		}
		for _, n := range img.Names {
			if _, err := s.images.DeleteName(ctx, n); err != nil {
				return out, 0, err
			}
			s.event(eventtypes.ActionUnTag, img.ID.String(), n)
			out = append(out, imagetypes.DeleteResponse{Untagged: Familiar(n)})
		}
		if err := s.images.Delete(ctx, img.ID); err != nil && !errdefs.IsNotFound(err) {
			return out, 0, err
		}
		s.event(eventtypes.ActionDelete, img.ID.String(), img.ID.String())
		out = append(out, imagetypes.DeleteResponse{Deleted: img.ID.String()})
	}
	if err := s.collect(ctx); err != nil {
		return out, 0, err
	}
	return out, before - s.blobBytes(), nil
}

func (s *Service) blobBytes() int64 {
	var n int64
	_ = s.content.Walk(func(_ digest.Digest, size int64) error { n += size; return nil })
	return n
}

// collect deletes the snapshots and blobs no image references. It holds the
// store's collection lock exclusively, so it never runs while a pull or load
// (which hold it shared) has written blobs it has not yet recorded.
func (s *Service) collect(ctx context.Context) error {
	unlock, err := s.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	list, err := s.images.List(ctx)
	if err != nil {
		return err
	}
	keepBlobs := map[digest.Digest]bool{}
	keepChains := map[digest.Digest]bool{}
	for _, img := range list {
		keepBlobs[img.Manifest], keepBlobs[img.ID] = true, true
		var chain digest.Digest
		for _, l := range img.Layers {
			keepBlobs[l.Digest] = true
			chain = snapshot.ChainID(chain, l.DiffID)
			keepChains[chain] = true
		}
	}
	snaps, err := s.snapshots.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, sn := range snaps {
		if !keepChains[sn.ChainID] {
			if err := s.snapshots.Remove(ctx, sn.ChainID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := s.content.Walk(func(d digest.Digest, _ int64) error {
		if !keepBlobs[d] {
			if err := s.content.Delete(d); err != nil {
				errs = append(errs, err)
			}
		}
		return nil
	}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// discard drops what a failed load or import stored before it failed
// (blobs, unpacked layers) and no image references. Called after the
// shared lock is released; best effort: the next rmi or prune collects too.
func (s *Service) discard(ctx context.Context) {
	_ = s.collect(context.WithoutCancel(ctx))
}

// lock takes the collection lock: shared for writers of new content,
// exclusive for collect.
func (s *Service) lock(exclusive bool) (func(), error) {
	f, err := os.OpenFile(s.lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("content lock: %w", err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	deadline := time.Now().Add(time.Minute)
	for {
		err = unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("content lock %s: %w: %w", filepath.Base(s.lockPath), err, errdefs.ErrUnavailable)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
