//go:build integration && linux

package mgr

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// ttySession is mgr running with a pty as its controlling terminal, as in
// a user's shell (harness.OpenPty: no extra dependency for a pty pair).
type ttySession struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	done   chan struct{} // closed when mgr has exited
	err    error         // cmd.Wait's result, once done
}

func startTTY(t *testing.T, m *Mgr, args ...string) *ttySession {
	t.Helper()
	master, slave := harness.OpenPty(t)
	if err := harness.SetWinsize(master, 40, 120); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	t.Cleanup(cancel)
	cmd := m.Command(ctx, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &ttySession{t: t, master: master, cmd: cmd, done: make(chan struct{})}
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

// expect reads until want appears (the typed command echoes too: want
// should be text only the command's output contains).
func (s *ttySession) expect(want string) string {
	s.t.Helper()
	out, err := harness.ReadUntil(s.master, want, 15*time.Second)
	if err != nil {
		s.t.Fatalf("%v; read so far: %q", err, harness.NormalizeTTY(out))
	}
	return out
}

func (s *ttySession) send(text string) {
	s.t.Helper()
	if _, err := s.master.Write([]byte(text)); err != nil {
		s.t.Fatal(err)
	}
}

// exit waits for mgr to end and returns its exit status.
func (s *ttySession) exit() int {
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
		s.t.Fatalf("mgr %s did not exit", strings.Join(s.cmd.Args[1:], " "))
		return -1
	}
}

// TestInteractiveTTY drives `run -i -t` through a pty as a user would:
// type a command, read its output, detach with ctrl-p ctrl-q (mgr exits 0,
// the container keeps running), come back (attach, or start -ai), exit with
// a status mgr returns.
func TestInteractiveTTY(t *testing.T) {
	t.Parallel()
	m := newMgr(t)

	s := startTTY(t, m, "run", "-i", "-t", "--name", "tty1", "busybox", "sh")
	s.expect("# ")
	s.send("echo hi-$((1+1)); tty; stty size; echo end-$((9*9))\r")
	out := harness.NormalizeTTY(s.expect("end-81"))
	if !strings.Contains(out, "\nhi-2\n") {
		t.Errorf("no hi-2 line in %q", out)
	}
	if !strings.Contains(out, "\n/dev/pts/0\n") {
		t.Errorf("the container's stdin is not its pty /dev/pts/0: %q", out)
	}
	if !strings.Contains(out, "\n40 120\n") {
		t.Errorf("the container's pty did not get the 40x120 window size: %q", out)
	}
	s.send("\x10\x11") // ctrl-p ctrl-q
	if code := s.exit(); code != 0 {
		t.Fatalf("mgr exited %d after ctrl-p ctrl-q, want 0", code)
	}
	in := m.Inspect("tty1")
	if !in.State.Running || !in.Config.Tty || !in.Config.OpenStdin {
		t.Fatalf("after detaching: State %+v Tty %v OpenStdin %v; want running, tty, open stdin", in.State, in.Config.Tty, in.Config.OpenStdin)
	}

	if hasCommand("attach") {
		a := startTTY(t, m, "attach", "tty1")
		a.send("echo again-$((2+3))\r")
		a.expect("again-5")
		a.send("exit 7\r")
		if code := a.exit(); code != 7 {
			t.Errorf("attach: mgr exited %d after `exit 7`, want 7", code)
		}
	} else {
		t.Log("mgr has no attach yet: stopping tty1 instead")
		m.Must("stop", "-t", "1", "tty1")
	}
	in = m.WaitState("tty1", "exited", func(i Inspect) bool { return !i.State.Running })
	if hasCommand("attach") && in.State.ExitCode != 7 {
		t.Errorf("exit code after `exit 7`: %d", in.State.ExitCode)
	}

	// start -ai: a fresh shell of the same container, on the terminal
	st := startTTY(t, m, "start", "-a", "-i", "tty1")
	st.send("\r")
	st.expect("# ")
	st.send("echo back-$((3*3))\r")
	st.expect("back-9")
	st.send("exit 5\r")
	if code := st.exit(); code != 5 {
		t.Errorf("start -ai: mgr exited %d after `exit 5`, want 5", code)
	}
	if in := m.WaitState("tty1", "exited", func(i Inspect) bool { return !i.State.Running }); in.State.ExitCode != 5 {
		t.Errorf("inspect ExitCode %d after `exit 5`, want 5", in.State.ExitCode)
	}
}

// TestCombinedShortFlags: docker users type -it, -dit and ps -aq (the seed
// notes: "You can use -ti").
func TestCombinedShortFlags(t *testing.T) {
	t.Parallel()
	m := newMgr(t)

	s := startTTY(t, m, "run", "-it", "--rm", "busybox", "sh", "-c", "echo combined-$((4+4))")
	s.expect("combined-8")
	if code := s.exit(); code != 0 {
		t.Errorf("run -it: exit %d, want 0", code)
	}
	id := m.RunD("busybox", "sleep", "1000")
	res := m.Run("ps", "-aq")
	if res.Code != 0 || strings.TrimSpace(res.Stdout) != id[:12] {
		t.Errorf("ps -aq: want exit 0 and %s: %s", id[:12], res)
	}
	res = m.Run("run", "-dit", "busybox", "sh")
	if res.Code != 0 || len(strings.TrimSpace(res.Stdout)) != 64 {
		t.Errorf("run -dit: want exit 0 and an id: %s", res)
	}
}
