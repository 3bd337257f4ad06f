//go:build linux

package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/berthrun/berth/shim/api"
	"github.com/berthrun/berth/shim/internal/process"
	"github.com/berthrun/berth/shim/internal/reaper"
	"github.com/berthrun/berth/shim/internal/stdio"
)

// execProc is one exec session's process: its stdio and exit.
type execProc struct {
	hub    *stdio.Hub
	pipes  *stdio.Pipes
	master *os.File
	copies sync.WaitGroup

	mu     sync.Mutex
	stdin  *os.File
	exit   *api.ExitStatus
	exited chan struct{}
}

func (s *shim) exec(ctx context.Context, conn *net.UnixConn, br *bufio.Reader, req api.Request) {
	if st := s.state(); st.Status != api.StatusRunning {
		replyErr(conn, fmt.Errorf("cannot exec in a container that is %s", st.Status))
		return
	}
	var proc struct {
		Terminal bool     `json:"terminal"`
		Args     []string `json:"args"`
	}
	if err := json.Unmarshal(req.Process, &proc); err != nil || len(proc.Args) == 0 {
		replyErr(conn, fmt.Errorf("exec: bad process (need a runtime-spec process with args): %v", err))
		return
	}
	base := s.path(fmt.Sprintf("exec-%d", s.execSeq.Add(1)))
	removeFiles := func() {
		os.Remove(base + ".json")
		os.Remove(base + ".pid")
	}
	defer removeFiles()
	if err := os.WriteFile(base+".json", req.Process, 0o600); err != nil {
		replyErr(conn, fmt.Errorf("exec: write process: %w", err))
		return
	}
	ep := &execProc{hub: stdio.NewHub(), exited: make(chan struct{})}
	sub := ep.hub.Subscribe()
	opts := process.ExecOpts{ProcessFile: base + ".json", PidFile: base + ".pid"}
	masterCh := make(chan *os.File, 1)
	var err error
	var console *stdio.ConsoleSocket
	if proc.Terminal {
		console, err = stdio.ListenConsole(base + ".sock")
		if err != nil {
			replyErr(conn, err)
			return
		}
		defer console.Close()
		go func() {
			f, err := console.Receive()
			if err != nil {
				s.log.Printf("exec console: %v", err)
			}
			masterCh <- f
		}()
		opts.ConsoleSocket = console.Path()
	} else {
		if ep.pipes, err = stdio.NewPipes(true); err != nil {
			replyErr(conn, err)
			return
		}
		opts.Stdio = process.Stdio{In: ep.pipes.Child[0], Out: ep.pipes.Child[1], Err: ep.pipes.Child[2]}
	}
	err = s.rt.Exec(ctx, s.cfg.ID, opts)
	if ep.pipes != nil {
		ep.pipes.CloseChild()
	}
	if err == nil && proc.Terminal {
		select {
		case ep.master = <-masterCh:
			if ep.master == nil {
				err = errors.New("exec: runtime sent no console")
			}
		case <-time.After(10 * time.Second):
			err = errors.New("exec: runtime sent no console")
		}
	}
	var pid int
	if err == nil {
		pid, err = process.ReadPid(base + ".pid")
	}
	if err != nil {
		if ep.pipes != nil {
			ep.pipes.Close()
		}
		if ep.master != nil {
			ep.master.Close()
		}
		replyErr(conn, err)
		return
	}
	exitCh := s.reaper.Wait(pid)
	removeFiles()
	if console != nil {
		// The console has arrived: its socket goes now, not when the
		// session ends (clients that saw the exit may look for leftovers).
		console.Close()
	}
	if proc.Terminal {
		ep.stdin = ep.master
		ep.copy(s, ep.master, api.FrameStdout)
	} else {
		ep.stdin = ep.pipes.Stdin
		ep.copy(s, ep.pipes.Stdout, api.FrameStdout)
		ep.copy(s, ep.pipes.Stderr, api.FrameStderr)
	}
	go ep.wait(s, exitCh)
	if err := reply(conn, api.Response{}); err != nil {
		ep.hub.Unsubscribe(sub)
		return
	}
	sess := &session{
		hub:    ep.hub,
		exited: ep.exited,
		exit: func() *api.ExitStatus {
			ep.mu.Lock()
			defer ep.mu.Unlock()
			return ep.exit
		},
		stdin: func(p []byte) error {
			ep.mu.Lock()
			f := ep.stdin
			ep.mu.Unlock()
			if f == nil {
				return os.ErrClosed
			}
			_, err := f.Write(p)
			return err
		},
		closeStdin: func() {
			ep.mu.Lock()
			defer ep.mu.Unlock()
			if ep.pipes != nil && ep.stdin != nil {
				ep.stdin.Close()
				ep.stdin = nil
			}
		},
		resize: func(w, h uint16) error {
			if ep.master == nil {
				return errors.New("exec has no terminal")
			}
			return stdio.Resize(ep.master, w, h)
		},
	}
	s.serveStream(conn, br, sess, sub)
}

func (ep *execProc) copy(s *shim, f *os.File, frame byte) {
	ep.copies.Add(1)
	go func() {
		defer ep.copies.Done()
		if err := stdio.Copy(f, func(p []byte) { ep.hub.Publish(frame, p) }); err != nil {
			s.log.Printf("exec copy: %v", err)
		}
	}()
}

// wait records the exec'd process's exit once it is reaped and its output drained.
func (ep *execProc) wait(s *shim, exitCh <-chan reaper.Exit) {
	e := <-exitCh
	if !waitTimeout(&ep.copies, drainTimeout) {
		if ep.pipes != nil {
			ep.pipes.Stdout.Close()
			ep.pipes.Stderr.Close()
		}
		if ep.master != nil {
			ep.master.Close()
		}
		ep.copies.Wait()
	}
	code, sig := e.Code()
	ep.mu.Lock()
	ep.exit = &api.ExitStatus{Pid: e.Pid, ExitCode: code, Signal: sig, ExitedAt: time.Now().UTC()}
	if ep.pipes != nil {
		ep.pipes.Close()
	}
	if ep.master != nil {
		ep.master.Close()
	}
	ep.stdin = nil
	ep.mu.Unlock()
	close(ep.exited)
	ep.hub.Close()
	s.log.Printf("exec exited pid=%d code=%d", e.Pid, code)
}
