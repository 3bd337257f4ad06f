//go:build linux

// Package reaper reaps every child of the shim (a child subreaper, so the
// container's init and exec'd processes, orphaned by the runtime, are its
// children) and hands each exit status to whoever waits for that pid.
//
// exec.Cmd.Wait cannot be used beside a wait4(-1) loop, so processes are
// started through Start, which registers the pid before the loop can report
// it. Pids that exit before anyone asks for them (a container init that dies
// before its pid file is read) are kept, a bounded number, for Wait.
package reaper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// keepUnclaimed bounds the exits kept for pids nobody waits for yet.
const keepUnclaimed = 64

// Exit is a reaped process's status.
type Exit struct {
	Pid    int
	Status unix.WaitStatus
}

// Code returns the exit code as docker reports it: the status, or 128+n for
// a process killed by signal n; and the signal (0 if it exited).
func (e Exit) Code() (code, signal int) {
	if e.Status.Signaled() {
		return 128 + int(e.Status.Signal()), int(e.Status.Signal())
	}
	return e.Status.ExitStatus(), 0
}

// Reaper is the shim's only caller of wait4.
type Reaper struct {
	mu        sync.Mutex
	waiters   map[int]chan Exit
	unclaimed map[int]Exit
	order     []int
}

// New makes the calling process a child subreaper and starts reaping until
// ctx is done.
func New(ctx context.Context) (*Reaper, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("become child subreaper: %w", err)
	}
	r := &Reaper{waiters: map[int]chan Exit{}, unclaimed: map[int]Exit{}}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, unix.SIGCHLD)
	go func() {
		defer signal.Stop(sigs)
		for {
			r.reap()
			select {
			case <-ctx.Done():
				return
			case <-sigs:
			}
		}
	}()
	return r, nil
}

func (r *Reaper) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		if !ws.Exited() && !ws.Signaled() {
			continue
		}
		r.deliver(Exit{Pid: pid, Status: ws})
	}
}

func (r *Reaper) deliver(e Exit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch, ok := r.waiters[e.Pid]; ok {
		delete(r.waiters, e.Pid)
		ch <- e
		return
	}
	if len(r.order) >= keepUnclaimed {
		delete(r.unclaimed, r.order[0])
		r.order = r.order[1:]
	}
	r.unclaimed[e.Pid] = e
	r.order = append(r.order, e.Pid)
}

// Wait returns a channel that receives pid's exit. pid must be a child
// (or, through the subreaper, a descendant orphaned to the shim).
func (r *Reaper) Wait(pid int) <-chan Exit {
	ch := make(chan Exit, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.unclaimed[pid]; ok {
		delete(r.unclaimed, pid)
		for i, p := range r.order {
			if p == pid {
				r.order = append(r.order[:i], r.order[i+1:]...)
				break
			}
		}
		ch <- e
		return ch
	}
	r.waiters[pid] = ch
	return ch
}

// Start starts cmd and returns a channel for its exit; the pid is
// registered before the reaping loop can see it exit. Never call cmd.Wait.
func (r *Reaper) Start(cmd *exec.Cmd) (<-chan Exit, error) {
	ch := make(chan Exit, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r.waiters[cmd.Process.Pid] = ch
	return ch, nil
}

// Run starts cmd and waits for it (or ctx). Its stdio must be *os.File or nil,
// since exec.Cmd's copying goroutines end only in Wait.
func (r *Reaper) Run(ctx context.Context, cmd *exec.Cmd) (Exit, error) {
	ch, err := r.Start(cmd)
	if err != nil {
		return Exit{}, err
	}
	defer cmd.Process.Release()
	select {
	case e := <-ch:
		return e, nil
	case <-ctx.Done():
		cmd.Process.Kill()
		return <-ch, ctx.Err()
	}
}
