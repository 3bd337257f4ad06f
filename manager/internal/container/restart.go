package container

import (
	"context"
	"fmt"
	"time"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// Restart policy names, docker's.
const (
	RestartNo            = "no"
	RestartAlways        = "always"
	RestartOnFailure     = "on-failure"
	RestartUnlessStopped = "unless-stopped"
)

// validate checks a policy as docker's daemon does at create.
func (p RestartPolicy) validate(autoRemove bool) error {
	switch p.Name {
	case "", RestartNo, RestartAlways, RestartUnlessStopped:
		if p.MaxRetry != 0 {
			return fmt.Errorf("invalid restart policy: maximum retry count can only be used with 'on-failure': %w", errdefs.ErrInvalidArgument)
		}
	case RestartOnFailure:
		if p.MaxRetry < 0 {
			return fmt.Errorf("invalid restart policy: maximum retry count cannot be negative: %w", errdefs.ErrInvalidArgument)
		}
	default:
		return fmt.Errorf("invalid restart policy: unknown policy %q; use one of 'no', 'always', 'on-failure' or 'unless-stopped': %w", p.Name, errdefs.ErrInvalidArgument)
	}
	if autoRemove && p.Name != "" && p.Name != RestartNo {
		return fmt.Errorf("can't create 'AutoRemove' container with restart policy: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// ShouldRestart applies the policy to an exit, as docker's restart manager
// does: nothing restarts a container the user stopped or killed; always
// and unless-stopped restart it whatever its exit code; on-failure only
// after a non-zero exit and at most MaxRetry times (0: no limit), restarts
// being the ones already made since the last start by the user.
func (p RestartPolicy) ShouldRestart(exitCode int, stoppedByUser bool, restarts int) bool {
	if stoppedByUser {
		return false
	}
	switch p.Name {
	case RestartAlways, RestartUnlessStopped:
		return true
	case RestartOnFailure:
		return exitCode != 0 && (p.MaxRetry == 0 || restarts < p.MaxRetry)
	}
	return false
}

// StartsWithDaemon reports whether a container that is not running comes
// back when the daemon starts: always ones do, unless-stopped ones unless
// the user stopped them.
func (c *Container) StartsWithDaemon() bool {
	switch c.Config.Restart.Name {
	case RestartAlways:
		return true
	case RestartUnlessStopped:
		return !c.State.StoppedByUser
	}
	return false
}

// Restart backoff, docker's: 100 ms doubling up to a minute, back to
// 100 ms once a run lasted 10 s.
const (
	restartDelayMin   = 100 * time.Millisecond
	restartDelayMax   = time.Minute
	restartResetAfter = 10 * time.Second
)

// NextRestartDelay is the wait before the next restart, given the last one
// (0 at first) and how long the container ran.
func NextRestartDelay(last, ran time.Duration) time.Duration {
	if ran >= restartResetAfter || last <= 0 {
		return restartDelayMin
	}
	return min(last*2, restartDelayMax)
}

// AutoRestart starts c again under its restart policy, counting the
// restart in c.State.RestartCount.
func (s *Service) AutoRestart(ctx context.Context, c *Container) error {
	if c.Running() {
		return nil
	}
	c.State.RestartCount++
	if err := s.Start(ctx, c); err != nil {
		return fmt.Errorf("restart container %.12s (policy %s): %w", c.ID, c.Config.Restart.Name, err)
	}
	return nil
}
