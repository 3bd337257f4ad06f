package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berthrun/berth/manager/internal/errdefs"
	shimapi "github.com/berthrun/berth/shim/api"
)

// Remove deletes c: refused while it runs unless force (then SIGKILL
// first). Everything it had goes: shim, runtime state, rootfs mount, rw
// layer, logs, record and name.
func (s *Service) Remove(ctx context.Context, c *Container, force bool) error {
	// A record left created by an mgr that died right after its shim
	// started the container: it runs all the same.
	if !force && c.State.Status == StatusCreated && s.shimRunning(ctx, c) {
		return fmt.Errorf("cannot remove container %s: container is running: stop the container before removing or force remove: %w", c.Name, errdefs.ErrConflict)
	}
	if c.Running() {
		if !force {
			return fmt.Errorf("cannot remove container %s: container is %s: stop the container before removing or force remove: %w", c.Name, c.State.Status, errdefs.ErrConflict)
		}
		if c.State.Status == StatusPaused {
			_ = s.Unpause(ctx, c)
		}
		// Shutdown kills it and tells the shim that this removal cleans
		// up: its exit command would race the removal (and outlive it).
		if err := s.shim(c.ID).Shutdown(ctx, true); err != nil && shimapi.Alive(ctx, s.runDir(c.ID)) {
			return fmt.Errorf("kill container %.12s: %w", c.ID, err)
		}
		if _, err := s.waitExit(ctx, c, 0); err != nil {
			return err
		}
	}
	dir := s.runDir(c.ID)
	if shimapi.Alive(ctx, dir) {
		// Created but never started (the shim holds a created container),
		// or a shim still winding down after its container exited: then
		// it may close the connection on us as it exits, which is fine.
		if err := s.shim(c.ID).Shutdown(ctx, true); err != nil {
			s.waitShimGone(ctx, c.ID)
			if shimapi.Alive(ctx, dir) {
				return fmt.Errorf("shut down shim of %.12s: %w", c.ID, err)
			}
		}
		s.waitShimGone(ctx, c.ID)
	}
	// A shim killed before it could clean up leaves runtime state. (A
	// container created but never started has no shim state dir at all.)
	if _, err := os.Stat(dir); err == nil {
		err := shimapi.Cleanup(ctx, shimapi.CleanupOptions{StateDir: dir, ID: c.ID, Runtime: s.paths.Runtime, RuntimeRoot: s.runtimeRoot()})
		if err != nil && !errors.Is(err, shimapi.ErrShimAlive) {
			return err
		}
	}
	// The shim's exit command may be tearing down at this moment: take
	// the container's lock so the network is torn down once.
	unlock, err := lockFile(filepath.Join(s.dataDir(c.ID), "reconcile.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.unmountRootfs(c.ID); err != nil {
		return err
	}
	if err := s.teardownNetwork(ctx, c); err != nil {
		return err
	}
	if err := removeAll(dir, s.dataDir(c.ID)); err != nil {
		return fmt.Errorf("remove container %.12s: %w", c.ID, err)
	}
	if err := s.records.Delete(ctx, c.ID); err != nil {
		return err
	}
	s.event(c, eventtypes.ActionDestroy, nil)
	return nil
}

// RemoveExited removes c right after its exit, as a foreground run --rm
// does: the record and data go while the shim still runs the runtime's
// delete, the run dir once the shim is gone (Wait and Remove would record
// the exit first and then wait for the shim). A container whose shim has
// not recorded an exit takes that longer way.
func (s *Service) RemoveExited(ctx context.Context, c *Container) error {
	dir := s.runDir(c.ID)
	exit, err := shimapi.ReadExit(dir)
	if err != nil {
		if _, err := s.waitExit(ctx, c, 0); err != nil {
			return err
		}
		return s.Remove(ctx, c, true)
	}
	unlock, err := lockFile(filepath.Join(s.dataDir(c.ID), "reconcile.lock"))
	if err != nil {
		return err
	}
	// Another mgr may have recorded the exit (it said die) or removed c.
	removed, recorded := false, false
	if rec, err := s.records.Get(ctx, c.ID); errdefs.IsNotFound(err) {
		removed = true
	} else if err == nil {
		if fresh, err := decode(rec); err == nil {
			recorded = fresh.State.Status == StatusExited && !fresh.State.FinishedAt.Before(exit.ExitedAt)
		}
	}
	c.exited(exit)
	err = errors.Join(s.unmountRootfs(c.ID), s.teardownNetwork(ctx, c))
	if err == nil {
		err = removeAll(s.dataDir(c.ID))
	}
	if err == nil && !removed {
		err = s.records.Delete(ctx, c.ID)
	}
	unlock()
	if err != nil {
		return fmt.Errorf("remove container %.12s: %w", c.ID, err)
	}
	if !recorded && !removed {
		s.exitEvents(c)
	}
	if !removed {
		s.event(c, eventtypes.ActionDestroy, nil)
	}
	// The shim exits once the runtime state is gone; a shim that does not
	// (or died) is shut down or cleaned up as Remove does.
	s.waitShimGone(ctx, c.ID)
	if shimapi.Alive(ctx, dir) {
		_ = s.shim(c.ID).Shutdown(ctx, true)
		s.waitShimGone(ctx, c.ID)
	}
	err = shimapi.Cleanup(ctx, shimapi.CleanupOptions{StateDir: dir, ID: c.ID, Runtime: s.paths.Runtime, RuntimeRoot: s.runtimeRoot()})
	if err != nil && !errors.Is(err, shimapi.ErrShimAlive) {
		return err
	}
	return removeAll(dir)
}

// Pause freezes every process of c.
func (s *Service) Pause(ctx context.Context, c *Container) error {
	if c.State.Status != StatusRunning {
		return fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	if err := s.runtime(ctx, "pause", c.ID); err != nil {
		return err
	}
	c.State.Status = StatusPaused
	if err := s.setState(ctx, c); err != nil {
		return err
	}
	s.event(c, eventtypes.ActionPause, nil)
	return nil
}

// Unpause thaws c.
func (s *Service) Unpause(ctx context.Context, c *Container) error {
	if c.State.Status != StatusPaused {
		return fmt.Errorf("container %s is not paused: %w", c.Name, errdefs.ErrConflict)
	}
	if err := s.runtime(ctx, "resume", c.ID); err != nil {
		return err
	}
	c.State.Status = StatusRunning
	if err := s.setState(ctx, c); err != nil {
		return err
	}
	s.event(c, eventtypes.ActionUnPause, nil)
	return nil
}

// runtime runs one runtime command on a container the shim holds (the shim
// protocol covers the lifecycle; freezing needs no monitor).
func (s *Service) runtime(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, s.paths.Runtime, append([]string{"--root", s.runtimeRoot()}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
	return nil
}

// Top lists c's processes as ps(1) does (psArgs default "-ef").
func (s *Service) Top(ctx context.Context, c *Container, psArgs []string) ([]byte, error) {
	if !c.Running() {
		return nil, fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	args := append([]string{"--root", s.runtimeRoot(), "ps", c.ID}, psArgs...)
	out, err := exec.CommandContext(ctx, s.paths.Runtime, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("top: %s", strings.TrimSpace(string(out)))
	}
	return out, nil
}
