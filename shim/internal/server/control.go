//go:build linux

package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/berthrun/berth/shim/api"
	"github.com/berthrun/berth/shim/internal/stdio"
)

// writeTimeout is how long one frame may take to reach a client before the
// client is considered gone.
const writeTimeout = 5 * time.Second

// maxRequest bounds a request line (an exec's process is the largest).
const maxRequest = 1 << 20

func (s *shim) serve(ctx context.Context) {
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Printf("accept: %v", err)
			}
			return
		}
		s.conns.Add(1)
		go func() {
			defer s.conns.Done()
			defer conn.Close()
			s.handle(ctx, conn)
		}()
	}
}

func reply(conn net.Conn, resp api.Response) error {
	resp.V = api.Version
	b, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err = conn.Write(append(b, '\n'))
	conn.SetWriteDeadline(time.Time{})
	return err
}

func replyErr(conn net.Conn, err error) { reply(conn, api.Response{Error: err.Error()}) }

func (s *shim) handle(ctx context.Context, conn *net.UnixConn) {
	br := bufio.NewReader(io.LimitReader(conn, maxRequest))
	line, err := br.ReadBytes('\n')
	if err != nil {
		return
	}
	var req api.Request
	if err := json.Unmarshal(line, &req); err != nil {
		replyErr(conn, fmt.Errorf("decode request: %w", err))
		return
	}
	if req.V != api.Version {
		replyErr(conn, errors.New(api.ErrUnsupportedVersion))
		return
	}
	// The stream after an attach or exec request is not bounded.
	br = bufio.NewReader(io.MultiReader(br, conn))
	switch req.Op {
	case api.OpState:
		reply(conn, api.Response{State: s.state()})
	case api.OpStart:
		if err := s.start(ctx); err != nil {
			replyErr(conn, err)
			return
		}
		reply(conn, api.Response{State: s.state()})
	case api.OpKill:
		sig := req.Signal
		if sig == 0 {
			sig = int(syscall.SIGTERM)
		}
		if st := s.state(); st.Status == api.StatusStopped {
			replyErr(conn, errors.New("container is not running"))
			return
		}
		if err := s.rt.Kill(ctx, s.cfg.ID, sig, req.All); err != nil {
			replyErr(conn, err)
			return
		}
		reply(conn, api.Response{})
	case api.OpResize:
		if err := s.resize(req.Width, req.Height); err != nil {
			replyErr(conn, err)
			return
		}
		reply(conn, api.Response{})
	case api.OpWait:
		select {
		case <-s.exited:
		case <-ctx.Done():
			replyErr(conn, ctx.Err())
			return
		}
		reply(conn, api.Response{Exit: s.state().Exit})
	case api.OpShutdown:
		if err := s.shutdown(ctx, req.Force); err != nil {
			replyErr(conn, err)
			return
		}
		reply(conn, api.Response{Exit: s.state().Exit})
	case api.OpAttach:
		s.attach(conn, br, req)
	case api.OpExec:
		s.exec(ctx, conn, br, req)
	default:
		replyErr(conn, fmt.Errorf("unknown operation %q", req.Op))
	}
}

func (s *shim) state() *api.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &api.State{
		ID: s.cfg.ID, Bundle: s.cfg.Bundle, Runtime: s.cfg.Runtime, RuntimeRoot: s.cfg.RuntimeRoot,
		StateDir: s.cfg.StateDir, LogPath: s.cfg.LogPath, Terminal: s.terminal, Stdin: s.cfg.Stdin || s.terminal,
		ShimPid: os.Getpid(), Pid: s.pid, Status: s.status, CreatedAt: s.createdAt, StartedAt: s.startedAt, Exit: s.exit,
	}
}

func (s *shim) resize(width, height uint16) error {
	if !s.terminal {
		return errors.New("container has no terminal")
	}
	s.stdinMu.Lock()
	defer s.stdinMu.Unlock()
	if s.stdin == nil {
		return errors.New("container is not running")
	}
	return stdio.Resize(s.master, width, height)
}

// shutdown kills a container that still runs (with force) and waits until
// its exit is recorded; the shim exits after answering, without running
// its exit command: the client asking tears down itself (and would race
// the command, which may outlive it).
func (s *shim) shutdown(ctx context.Context, force bool) error {
	select {
	case <-s.exited:
		s.shutDown.Store(true)
		return nil
	default:
	}
	if !force {
		return errors.New("container is running (shut down with force to kill it)")
	}
	s.shutDown.Store(true)
	s.hub.Release() // no client is coming for held output
	if err := s.rt.Kill(ctx, s.cfg.ID, int(syscall.SIGKILL), true); err != nil {
		// runtimes refuse --all for some states; the init alone suffices
		// in a pid namespace.
		if err2 := s.rt.Kill(ctx, s.cfg.ID, int(syscall.SIGKILL), false); err2 != nil {
			// an init that exited already is being recorded (drain first)
			select {
			case <-s.exited:
				return nil
			case <-time.After(drainTimeout + time.Second):
				return err2
			}
		}
	}
	select {
	case <-s.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// session is what a stream (attach or exec) is served from.
type session struct {
	hub        *stdio.Hub
	exited     <-chan struct{}
	exit       func() *api.ExitStatus
	stdin      func(p []byte) error // nil: no stdin
	closeStdin func()
	resize     func(width, height uint16) error
}

func (s *shim) attach(conn *net.UnixConn, br *bufio.Reader, req api.Request) {
	if req.Stdin && s.stdin == nil && s.state().Status != api.StatusStopped {
		replyErr(conn, errors.New("container has no stdin (launch the shim with --stdin)"))
		return
	}
	// Subscribe before answering, so no output after the answer is missed.
	sub := s.hub.Subscribe()
	if err := reply(conn, api.Response{}); err != nil {
		s.hub.Unsubscribe(sub)
		return
	}
	sess := &session{
		hub:    s.hub,
		exited: s.exited,
		exit:   func() *api.ExitStatus { return s.state().Exit },
		resize: func(w, h uint16) error { return s.resize(w, h) },
	}
	if req.Stdin {
		sess.stdin = func(p []byte) error {
			s.stdinMu.Lock()
			defer s.stdinMu.Unlock()
			if s.stdin == nil {
				return os.ErrClosed
			}
			_, err := s.stdin.Write(p)
			return err
		}
		if req.CloseStdin && !s.terminal {
			sess.closeStdin = func() {
				s.stdinMu.Lock()
				defer s.stdinMu.Unlock()
				if s.stdin != nil {
					s.stdin.Close()
					s.stdin = nil
				}
			}
		}
	}
	s.serveStream(conn, br, sess, sub)
}

// serveStream copies a session's output to the client and the client's
// frames (stdin, resize, close) to the session, until the session ends
// (exit frame) or the client goes away or lags too far behind (dropped).
func (s *shim) serveStream(conn *net.UnixConn, br *bufio.Reader, sess *session, sub *stdio.Sub) {
	go func() {
		for {
			stream, p, err := api.ReadFrame(br)
			if err != nil {
				// The client is gone (or done): it gets no more output.
				sess.hub.Unsubscribe(sub)
				return
			}
			switch stream {
			case api.FrameStdin:
				if sess.stdin != nil {
					if err := sess.stdin(p); err != nil {
						s.log.Printf("stdin: %v", err)
					}
				}
			case api.FrameResize:
				if w, h, err := api.ParseResize(p); err == nil && sess.resize != nil {
					if err := sess.resize(w, h); err != nil {
						s.log.Printf("resize: %v", err)
					}
				}
			case api.FrameClose:
				if sess.closeStdin != nil {
					sess.closeStdin()
				}
			}
		}
	}()
	broken := false
	for c := range sub.C {
		if broken {
			continue
		}
		conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := api.WriteFrame(conn, c.Stream, c.Data); err != nil {
			broken = true
			sess.hub.Unsubscribe(sub)
		}
	}
	if broken || sess.hub.Dropped(sub) {
		return
	}
	select {
	case <-sess.exited:
		if st := sess.exit(); st != nil {
			b, _ := json.Marshal(st)
			conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			api.WriteFrame(conn, api.FrameExit, b)
		}
		// Let the client read the exit frame before the close.
		conn.CloseWrite()
	default:
	}
}
