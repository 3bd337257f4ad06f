//go:build integration && linux

package mgr

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

// startTTY runs mgr with a pty as its controlling terminal.
func startTTY(t *testing.T, m *Mgr, args ...string) *harness.TTYSession {
	t.Helper()
	return harness.StartTTY(t, cmdTimeout, func(ctx context.Context) *exec.Cmd { return m.Command(ctx, args...) })
}

// TestInteractiveTTY drives `run -i -t` through a pty as a user would:
// type a command, read its output, detach with ctrl-p ctrl-q (mgr exits 0,
// the container keeps running), come back (attach, or start -ai), exit with
// a status mgr returns.
func TestInteractiveTTY(t *testing.T) {
	t.Parallel()
	m := newMgr(t)

	s := startTTY(t, m, "run", "-i", "-t", "--name", "tty1", "busybox", "sh")
	s.Expect("# ")
	s.Send("echo hi-$((1+1)); tty; stty size; echo end-$((9*9))\r")
	out := harness.NormalizeTTY(s.Expect("end-81"))
	if !strings.Contains(out, "\nhi-2\n") {
		t.Errorf("no hi-2 line in %q", out)
	}
	if !strings.Contains(out, "\n/dev/pts/0\n") {
		t.Errorf("the container's stdin is not its pty /dev/pts/0: %q", out)
	}
	if !strings.Contains(out, "\n40 120\n") {
		t.Errorf("the container's pty did not get the 40x120 window size: %q", out)
	}
	s.Send("\x10\x11") // ctrl-p ctrl-q
	if code := s.Exit(); code != 0 {
		t.Fatalf("mgr exited %d after ctrl-p ctrl-q, want 0", code)
	}
	in := m.Inspect("tty1")
	if !in.State.Running || !in.Config.Tty || !in.Config.OpenStdin {
		t.Fatalf("after detaching: State %+v Tty %v OpenStdin %v; want running, tty, open stdin", in.State, in.Config.Tty, in.Config.OpenStdin)
	}

	if hasCommand("attach") {
		a := startTTY(t, m, "attach", "tty1")
		a.Send("echo again-$((2+3))\r")
		a.Expect("again-5")
		a.Send("exit 7\r")
		if code := a.Exit(); code != 7 {
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
	st.Send("\r")
	st.Expect("# ")
	st.Send("echo back-$((3*3))\r")
	st.Expect("back-9")
	st.Send("exit 5\r")
	if code := st.Exit(); code != 5 {
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
	s.Expect("combined-8")
	if code := s.Exit(); code != 0 {
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
