//go:build linux

package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/berthrun/berth/shim/api"
	"github.com/berthrun/berth/shim/internal/logging"
	"github.com/berthrun/berth/shim/internal/oom"
	"github.com/berthrun/berth/shim/internal/process"
	"github.com/berthrun/berth/shim/internal/reaper"
	"github.com/berthrun/berth/shim/internal/stdio"
	"golang.org/x/sys/unix"
)

// drainTimeout bounds how long output is drained after a process exited: a
// process outside the container's pid namespace may hold its pipes open.
const drainTimeout = 2 * time.Second

// With --hold-output, up to holdLimit bytes of output wait for the first
// attach client; past that the container's writes wait. After holdTimeout
// from the launch's report without one (the client died), the output only
// goes to the log.
const (
	holdLimit   = 1 << 20
	holdTimeout = 10 * time.Second
)

type shim struct {
	cfg      *Config
	log      *log.Logger
	rt       *process.Runtime
	reaper   *reaper.Reaper
	terminal bool
	// startInCreate: --start is done by the runtime call that creates
	// the container (run --detach)
	startInCreate bool
	ln            *net.UnixListener

	// stdio of the container's init
	pipes   *stdio.Pipes
	master  *os.File
	stdinMu sync.Mutex
	stdin   *os.File // pipes.Stdin or master; nil without stdin
	hub     *stdio.Hub
	logw    *logging.Writer
	copies  sync.WaitGroup

	oom     *oom.Counter
	oomBase uint64
	// ready: the runtime's delete, started early (--ready-delete); nil
	// when not asked for or not possible
	ready *process.ReadyDelete

	initExit <-chan reaper.Exit
	conns    sync.WaitGroup
	execSeq  atomic.Int64
	// shutDown: a client asked the shim to go (shutdown op); that client
	// cleans up, so the exit command does not run.
	shutDown atomic.Bool

	mu        sync.Mutex
	pid       int
	status    string
	createdAt time.Time
	startedAt *time.Time
	exit      *api.ExitStatus
	exited    chan struct{} // closed once the exit is recorded (exit.json written)
}

func (s *shim) path(name string) string { return filepath.Join(s.cfg.StateDir, name) }

func newShim(ctx context.Context, cfg *Config) (*shim, error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	s := &shim{cfg: cfg, hub: stdio.NewHub(), exited: make(chan struct{})}
	if cfg.HoldOutput {
		s.hub.Hold(holdLimit)
	}
	lf, err := os.OpenFile(s.path(api.ShimLogFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open shim log: %w", err)
	}
	// Panics and runtime errors land in the shim log too.
	unix.Dup2(int(lf.Fd()), 2)
	s.log = log.New(lf, "", log.LstdFlags|log.Lmicroseconds|log.LUTC)
	s.log.SetPrefix("id=" + cfg.ID + " ")

	if c, err := api.Dial(ctx, s.path(api.SocketFile)); err == nil && c != nil {
		return nil, fmt.Errorf("a shim already holds %s", cfg.StateDir)
	}
	for _, f := range []string{api.SocketFile, api.ExitFile, api.InitPidFile} {
		if err := os.Remove(s.path(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove stale %s: %w", f, err)
		}
	}
	if err := os.WriteFile(s.path(api.PidFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, fmt.Errorf("write shim pid: %w", err)
	}
	info, err := readBundle(cfg.Bundle)
	if err != nil {
		return nil, err
	}
	s.terminal = info.terminal
	// A memory-limited container is created, its OOM counter read, then
	// started: an OOM kill in its first moments is counted. Otherwise one
	// runtime call does both (one runtime process less); its cgroup is
	// new, so the counter starts at zero.
	s.startInCreate = cfg.Start && !info.memoryLimited
	if s.reaper, err = reaper.New(ctx); err != nil {
		return nil, err
	}
	s.rt = &process.Runtime{Path: cfg.Runtime, Root: cfg.RuntimeRoot, LogPath: s.path(api.RuntimeLogFile), Reaper: s.reaper}
	s.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: s.path(api.SocketFile), Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen control socket: %w", err)
	}
	s.ln.SetUnlinkOnClose(true)
	return s, nil
}

func (s *shim) run(ctx context.Context, rep *reporter) int {
	if err := s.create(ctx); err != nil {
		s.log.Printf("create: %v", err)
		s.abort()
		rep.report(api.LaunchResult{Error: err.Error()})
		return 1
	}
	if s.cfg.Start && !s.startInCreate {
		if err := s.start(ctx); err != nil {
			s.log.Printf("start: %v", err)
			if derr := s.rt.Delete(ctx, s.cfg.ID, true); derr != nil {
				s.log.Printf("delete: %v", derr)
			}
			s.abort()
			rep.report(api.LaunchResult{Error: err.Error()})
			return 1
		}
	}
	s.log.Printf("%s pid=%d runtime=%s", s.status, s.pid, s.cfg.Runtime)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, unix.SIGHUP)
	go func() {
		for range hup {
			if s.logw != nil {
				if err := s.logw.Reopen(); err != nil {
					s.log.Printf("reopen log: %v", err)
				}
			}
		}
	}()
	go s.serve(ctx)
	if s.cfg.HoldOutput {
		time.AfterFunc(holdTimeout, s.hub.Release)
	}
	rep.report(api.LaunchResult{ShimPid: os.Getpid(), Pid: s.pid, Socket: s.path(api.SocketFile), Started: s.cfg.Start})

	e := <-s.initExit
	s.finish(ctx, e)
	return 0
}

// abort undoes newShim after a failed create.
func (s *shim) abort() {
	s.cancelReadyDelete()
	s.ln.Close()
	if s.pipes != nil {
		s.pipes.Close()
	}
	if s.logw != nil {
		s.logw.Close()
	}
	os.Remove(s.path(api.PidFile))
	os.Remove(s.path(api.InitPidFile))
}

// runExitCommand starts the exit command in its own session and does not
// wait: the shim is about to exit, and the command (the manager's cleanup,
// which may remove this state dir) must not depend on it.
func (s *shim) runExitCommand() {
	if len(s.cfg.ExitCommand) == 0 {
		return
	}
	if s.shutDown.Load() {
		s.log.Printf("exit command skipped: the client that shut the shim down cleans up")
		return
	}
	cmd := exec.Command(s.cfg.ExitCommand[0], s.cfg.ExitCommand[1:]...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		s.log.Printf("exit command: %v", err)
		return
	}
	_ = cmd.Process.Release()
}

func (s *shim) create(ctx context.Context) error {
	var err error
	if s.cfg.LogPath != "" {
		if s.logw, err = logging.Open(s.cfg.LogPath, s.cfg.LogMaxSize, s.cfg.LogMaxFiles); err != nil {
			return err
		}
	}
	opts := process.CreateOpts{Bundle: s.cfg.Bundle, PidFile: s.path(api.InitPidFile), Start: s.startInCreate}
	var console *stdio.ConsoleSocket
	type master struct {
		f   *os.File
		err error
	}
	masterCh := make(chan master, 1)
	if s.terminal {
		if console, err = stdio.ListenConsole(s.path("console.sock")); err != nil {
			return err
		}
		defer console.Close()
		go func() {
			f, err := console.Receive()
			masterCh <- master{f, err}
		}()
		opts.ConsoleSocket = console.Path()
	} else {
		if s.pipes, err = stdio.NewPipes(s.cfg.Stdin); err != nil {
			return err
		}
		opts.Stdio = process.Stdio{In: s.pipes.Child[0], Out: s.pipes.Child[1], Err: s.pipes.Child[2]}
	}
	if s.cfg.ReadyDelete {
		// Beside the create: its start-up overlaps the container's.
		if s.ready, err = s.rt.StartReadyDelete(ctx, s.cfg.ID); err != nil {
			s.log.Printf("ready delete: %v", err)
		}
	}
	err = s.rt.Create(ctx, s.cfg.ID, opts)
	if s.pipes != nil {
		s.pipes.CloseChild()
	}
	if err != nil {
		s.cancelReadyDelete()
		return err
	}
	if s.terminal {
		select {
		case m := <-masterCh:
			err = m.err
			s.master = m.f
		case <-time.After(10 * time.Second):
			err = errors.New("runtime sent no console")
		}
		if err != nil {
			s.rt.Delete(ctx, s.cfg.ID, true)
			return err
		}
	}
	pid, err := process.ReadPid(s.path(api.InitPidFile))
	if err != nil {
		s.rt.Delete(ctx, s.cfg.ID, true)
		return err
	}
	if s.ready != nil {
		if err := s.ready.Load(); err != nil {
			s.log.Printf("%v", err)
			s.cancelReadyDelete()
		}
	}
	// The init is orphaned to us (the subreaper) when the runtime exits; the
	// reaper keeps its exit should it have happened already.
	s.initExit = s.reaper.Wait(pid)
	if s.oom, err = oom.ForPid(pid); err != nil {
		// started already: a process that exited at once is gone
		s.log.Printf("no oom counter: %v", err)
	} else if s.startInCreate {
		s.oomBase = 0 // a new cgroup; what it counts now happened since the start
	} else if s.oomBase, err = s.oom.Kills(); err != nil {
		s.log.Printf("no oom counter: %v", err)
		s.oom = nil
	}
	now := time.Now().UTC()
	s.mu.Lock()
	s.pid, s.status, s.createdAt = pid, api.StatusCreated, now
	if s.startInCreate {
		s.status, s.startedAt = api.StatusRunning, &now
	}
	s.mu.Unlock()

	if s.terminal {
		s.stdin = s.master
		s.copy(s.master, api.FrameStdout, "stdout")
	} else {
		s.stdin = s.pipes.Stdin
		s.copy(s.pipes.Stdout, api.FrameStdout, "stdout")
		s.copy(s.pipes.Stderr, api.FrameStderr, "stderr")
	}
	return nil
}

// cancelReadyDelete lets the ready delete go without deleting anything.
func (s *shim) cancelReadyDelete() {
	if s.ready != nil {
		s.ready.Cancel()
		s.ready = nil
	}
}

// deleteContainer is the runtime's delete after the init's exit: the ready
// one if there is one, the usual one when it failed or there is none.
func (s *shim) deleteContainer(ctx context.Context) error {
	if s.ready != nil {
		err := s.ready.Run(ctx)
		s.ready = nil
		if err == nil {
			return nil
		}
		s.log.Printf("%v; deleting the usual way", err)
	}
	return s.rt.Delete(ctx, s.cfg.ID, true)
}

// copy feeds one output stream of the init to the log and the hub.
func (s *shim) copy(f *os.File, frame byte, stream string) {
	var lines *logging.Lines
	if s.logw != nil {
		var failed bool
		lines = logging.NewLines(func(line []byte) {
			if err := s.logw.Write(stream, line, time.Now()); err != nil && !failed {
				failed = true
				s.log.Printf("log %s: %v", stream, err)
			}
		})
	}
	s.copies.Add(1)
	go func() {
		defer s.copies.Done()
		err := stdio.Copy(f, func(p []byte) {
			if lines != nil {
				lines.Write(p)
			}
			s.hub.Publish(frame, p)
		})
		if err != nil {
			s.log.Printf("copy %s: %v", stream, err)
		}
		if lines != nil {
			lines.Flush()
		}
	}()
}

func (s *shim) start(ctx context.Context) error {
	s.mu.Lock()
	status := s.status
	s.mu.Unlock()
	if status != api.StatusCreated {
		return fmt.Errorf("cannot start a container that is %s", status)
	}
	if err := s.rt.Start(ctx, s.cfg.ID); err != nil {
		return err
	}
	now := time.Now().UTC()
	s.mu.Lock()
	if s.status == api.StatusCreated {
		s.status, s.startedAt = api.StatusRunning, &now
	}
	s.mu.Unlock()
	return nil
}

// waitTimeout waits for wg, at most d; it reports whether wg finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// finish records the init's exit and winds the shim down: OOM check, the
// runtime's delete started, output drained, exit.json (atomically),
// waiters and attach clients answered, the socket removed once the delete
// is done. The delete runs meanwhile (the container is dead, its OOM
// counter read) and clients learn the exit before it ends, so their own
// teardown overlaps it; the shim is gone (its socket closed) only once the
// runtime state is.
func (s *shim) finish(ctx context.Context, e reaper.Exit) {
	oomKilled := false
	if s.oom != nil {
		if n, err := s.oom.Kills(); err != nil {
			s.log.Printf("read oom counter: %v", err)
		} else if n > s.oomBase {
			oomKilled = true
		}
	}
	deleted := make(chan struct{})
	go func() {
		defer close(deleted)
		if err := s.deleteContainer(ctx); err != nil {
			s.log.Printf("delete: %v", err)
		}
	}()
	// Held output waits for its client (bounded by holdTimeout) before
	// the drain's clock starts: a full hold holds up the copy loops.
	<-s.hub.HoldEnded()
	if !waitTimeout(&s.copies, drainTimeout) {
		s.log.Printf("output still open %s after exit; closing it", drainTimeout)
		if s.pipes != nil {
			s.pipes.Stdout.Close()
			s.pipes.Stderr.Close()
		}
		if s.master != nil {
			s.master.Close()
		}
		s.copies.Wait()
	}
	code, sig := e.Code()
	st := &api.ExitStatus{Pid: e.Pid, ExitCode: code, Signal: sig, ExitedAt: time.Now().UTC(), OOMKilled: oomKilled}
	if err := api.WriteFileAtomic(s.path(api.ExitFile), st); err != nil {
		s.log.Printf("record exit: %v", err)
	}
	s.log.Printf("exited pid=%d code=%d signal=%d oom=%v", e.Pid, code, sig, st.OOMKilled)
	s.mu.Lock()
	s.status, s.exit = api.StatusStopped, st
	s.mu.Unlock()
	close(s.exited)
	s.hub.Close()
	s.stdinMu.Lock()
	if s.pipes != nil {
		s.pipes.Close()
	}
	if s.master != nil {
		s.master.Close()
	}
	s.stdin = nil
	s.stdinMu.Unlock()
	if s.logw != nil {
		s.logw.Close()
	}
	<-deleted
	// Let waiters and attach clients get their answer, within bounds.
	s.ln.Close()
	if !waitTimeout(&s.conns, drainTimeout) {
		s.log.Printf("clients still connected after %s; exiting", drainTimeout)
	}
	os.Remove(s.path(api.PidFile))
	os.Remove(s.path(api.InitPidFile))
	s.runExitCommand()
}
