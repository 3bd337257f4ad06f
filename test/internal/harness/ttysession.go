//go:build integration && linux

package harness

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TTYSession is a command running with a pty as its controlling terminal
// (40 rows, 120 columns), as in a user's shell: mgr run -it, docker
// attach, docker exec -it.
type TTYSession struct {
	t      testing.TB
	master *os.File
	cmd    *exec.Cmd
	done   chan struct{} // closed when the command has exited
	err    error         // cmd.Wait's result, once done
}

// StartTTY starts the command mk makes (with the context it must use) on
// a new pty; it is killed in t.Cleanup if still running.
func StartTTY(t testing.TB, timeout time.Duration, mk func(ctx context.Context) *exec.Cmd) *TTYSession {
	t.Helper()
	master, slave := OpenPty(t)
	if err := SetWinsize(master, 40, 120); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	cmd := mk(ctx)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &TTYSession{t: t, master: master, cmd: cmd, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// Expect reads until want appears (typed input echoes too: want should be
// text only the output contains) and returns what it read.
func (s *TTYSession) Expect(want string) string {
	s.t.Helper()
	out, err := ReadUntil(s.master, want, 15*time.Second)
	if err != nil {
		s.t.Fatalf("%v; read so far: %q", err, NormalizeTTY(out))
	}
	return out
}

// Send types text.
func (s *TTYSession) Send(text string) {
	s.t.Helper()
	if _, err := s.master.Write([]byte(text)); err != nil {
		s.t.Fatal(err)
	}
}

// Exit waits for the command to end and returns its exit status.
func (s *TTYSession) Exit() int {
	s.t.Helper()
	select {
	case <-s.done:
		var ee *exec.ExitError
		if errors.As(s.err, &ee) {
			return ee.ExitCode()
		}
		if s.err != nil {
			s.t.Fatal(s.err)
		}
		return 0
	case <-time.After(15 * time.Second):
		s.t.Fatalf("%s did not exit", strings.Join(s.cmd.Args, " "))
		return -1
	}
}
