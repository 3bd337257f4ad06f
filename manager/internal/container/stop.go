package container

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/runtime/signalname"
	shimapi "github.com/berthrun/berth/shim/api"
)

// DefaultStopTimeout is docker's grace period before SIGKILL.
const DefaultStopTimeout = 10 * time.Second

// Kill sends sig to c's init.
func (s *Service) Kill(ctx context.Context, c *Container, sig unix.Signal) error {
	if !c.Running() {
		return fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	// As docker: SIGKILL or the stop signal (any signal when the
	// container has none of its own) ends its restart policy.
	if endsRestarts(c, sig) && !c.State.StoppedByUser {
		c.State.StoppedByUser = true
		if err := s.setState(ctx, c); err != nil {
			return err
		}
	}
	if err := s.shim(c.ID).Kill(ctx, int(sig), false); err != nil {
		return fmt.Errorf("kill container %.12s: %w", c.ID, err)
	}
	s.event(c, eventtypes.ActionKill, map[string]string{"signal": strconv.Itoa(int(sig))})
	return nil
}

func endsRestarts(c *Container, sig unix.Signal) bool {
	if sig == unix.SIGKILL || c.Config.StopSignal == "" {
		return true
	}
	stop, err := signalname.Parse(c.Config.StopSignal)
	return err != nil || stop == sig
}

// Stop sends the stop signal, waits up to timeout (nil: the container's
// own or 10 s), then SIGKILL, and waits for the exit.
func (s *Service) Stop(ctx context.Context, c *Container, timeout *time.Duration) error {
	if !c.Running() {
		return nil // docker: stopping a stopped container succeeds
	}
	if err := s.stop(ctx, c, timeout); err != nil {
		return err
	}
	s.event(c, eventtypes.ActionStop, nil)
	return nil
}

func (s *Service) stop(ctx context.Context, c *Container, timeout *time.Duration) error {
	sig := unix.SIGTERM
	if c.Config.StopSignal != "" {
		parsed, err := signalname.Parse(c.Config.StopSignal)
		if err != nil {
			return err
		}
		sig = parsed
	}
	grace := DefaultStopTimeout
	if c.Config.StopTimeout != nil {
		grace = time.Duration(*c.Config.StopTimeout) * time.Second
	}
	if timeout != nil {
		grace = *timeout
	}
	if c.State.Status == StatusPaused {
		// A frozen process cannot handle its stop signal.
		if err := s.Unpause(ctx, c); err != nil {
			return err
		}
	}
	if err := s.Kill(ctx, c, sig); err != nil {
		return err
	}
	if grace > 0 { // 0 (stop -t 0): SIGKILL at once, as docker
		if _, err := s.waitExit(ctx, c, grace); err == nil {
			return nil
		}
	}
	if err := s.shim(c.ID).Kill(ctx, int(unix.SIGKILL), true); err != nil && shimapi.Alive(ctx, s.runDir(c.ID)) {
		return fmt.Errorf("kill container %.12s: %w", c.ID, err)
	}
	_, err := s.waitExit(ctx, c, 0)
	return err
}

// Wait blocks until c exits and returns its exit status.
func (s *Service) Wait(ctx context.Context, c *Container) (*shimapi.ExitStatus, error) {
	return s.waitExit(ctx, c, 0)
}

// ShimExit waits for c's exit as its shim reports it and leaves the record
// as it is: for a caller that removes c next, with RemoveExited, which
// records nothing, tears down while the shim runs the runtime's delete and
// deletes the record once.
func (s *Service) ShimExit(ctx context.Context, c *Container) (*shimapi.ExitStatus, error) {
	return s.shim(c.ID).Wait(ctx)
}

var errTimeout = errors.New("timed out")

// waitExit waits (at most d, 0 for ever) for c's exit record and
// reconciles c with it.
func (s *Service) waitExit(ctx context.Context, c *Container, d time.Duration) (*shimapi.ExitStatus, error) {
	if !c.Running() && c.State.Status != StatusCreated {
		return &shimapi.ExitStatus{ExitCode: c.State.ExitCode, OOMKilled: c.State.OOMKilled, ExitedAt: c.State.FinishedAt}, nil
	}
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	exit, err := s.shim(c.ID).Wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errTimeout
		}
		// The shim may be gone; the record tells.
		if rerr := s.reconcile(context.WithoutCancel(ctx), c); errors.Is(rerr, errRemoved) {
			return nil, fmt.Errorf("container %s was removed: %w", c.Name, errdefs.ErrNotFound)
		} else if rerr != nil {
			return nil, rerr
		}
		if c.Running() {
			return nil, err
		}
		return &shimapi.ExitStatus{ExitCode: c.State.ExitCode, OOMKilled: c.State.OOMKilled, ExitedAt: c.State.FinishedAt}, nil
	}
	// The shim answers before it runs the runtime's delete: record the
	// exit and tear down meanwhile, then wait for it to be gone, so the
	// next step (remove, start again) does not race it.
	err = s.reconcile(context.WithoutCancel(ctx), c)
	s.waitShimGone(ctx, c.ID)
	// Removed meanwhile (--rm): the exit is known all the same.
	if err != nil && !errors.Is(err, errRemoved) {
		return nil, err
	}
	return exit, nil
}
