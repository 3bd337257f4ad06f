//go:build integration && linux

package rt

import (
	"regexp"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

var ptsRe = regexp.MustCompile(`^/dev/pts/\d+$`)

// ttyContainer creates a terminal container whose pty master arrives on a
// console socket; the process is not started yet.
func ttyContainer(t *testing.T, opts ...harness.SpecOpt) (*harness.Runtime, string, *harness.ConsoleSocket) {
	t.Helper()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, append([]harness.SpecOpt{harness.WithTerminal(true)}, opts...)...)
	cs := harness.NewConsoleSocket(t)
	id := harness.ID(t)
	r.Create(id, b, "--console-socket", cs.Path)
	return r, id, cs
}

// TestConsoleSocketTty: with --console-socket the runtime hands over the
// pty master; the container's stdio is the slave, /dev/pts/0 of its own
// devpts instance.
func TestConsoleSocketTty(t *testing.T) {
	t.Parallel()
	r, id, cs := ttyContainer(t, harness.WithShell(`tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty`))
	master := cs.Master(t)
	r.MustRun("start", id)
	out, err := harness.ReadUntilClosed(master, harness.DefaultTimeout)
	if err != nil {
		t.Fatalf("read pty master: %v (got %q)", err, out)
	}
	lines := strings.Split(strings.TrimSpace(harness.NormalizeTTY(out)), "\n")
	if len(lines) != 2 || lines[0] != "/dev/pts/0" || lines[1] != "all-tty" {
		t.Errorf("got %q, want /dev/pts/0 and all-tty", out)
	}
}

// TestConsoleSocketResize: a window size set on the master before start is
// what the container sees (stty size prints "rows cols").
func TestConsoleSocketResize(t *testing.T) {
	t.Parallel()
	r, id, cs := ttyContainer(t, harness.WithArgs("stty", "size"))
	master := cs.Master(t)
	if err := harness.SetWinsize(master, 37, 141); err != nil {
		t.Fatalf("resize: %v", err)
	}
	r.MustRun("start", id)
	out, err := harness.ReadUntilClosed(master, harness.DefaultTimeout)
	if err != nil {
		t.Fatalf("read pty master: %v (got %q)", err, out)
	}
	if got := strings.TrimSpace(harness.NormalizeTTY(out)); got != "37 141" {
		t.Errorf("stty size = %q, want %q", got, "37 141")
	}
}

// TestConsoleSocketInput: what is written to the master reaches the
// container's stdin.
func TestConsoleSocketInput(t *testing.T) {
	t.Parallel()
	r, id, cs := ttyContainer(t, harness.WithShell(`read line; echo "got:$line"`))
	master := cs.Master(t)
	r.MustRun("start", id)
	if _, err := master.Write([]byte("typed-text\n")); err != nil {
		t.Fatal(err)
	}
	out, err := harness.ReadUntil(master, "got:typed-text", harness.DefaultTimeout)
	if err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	r.WaitStatus(id, specs.StateStopped)
}

// TestExecTtyConsoleSocket: exec --tty --detach --console-socket gives the
// exec'd process its own pty, whose master arrives on the socket.
func TestExecTtyConsoleSocket(t *testing.T) {
	t.Parallel()
	r, id, _, _ := sleeper(t)
	cs := harness.NewConsoleSocket(t)
	r.MustRun("exec", "--tty", "--detach", "--console-socket", cs.Path, id, "tty")
	master := cs.Master(t)
	out, err := harness.ReadUntilClosed(master, harness.DefaultTimeout)
	if err != nil {
		t.Fatalf("read pty master: %v (got %q)", err, out)
	}
	lines := strings.Split(strings.TrimSpace(harness.NormalizeTTY(out)), "\n")
	if len(lines) < 1 || !ptsRe.MatchString(lines[0]) {
		t.Errorf("exec tty printed %q, want /dev/pts/N", out)
	}
}

// TestRunForegroundTty: a foreground run of a terminal container relays
// between the caller's terminal and the container's pty, both ways.
func TestRunForegroundTty(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithTerminal(true), harness.WithShell(`tty; read line; echo "got:$line"; exit 6`))
	master, slave := harness.OpenPty(t)
	id := harness.ID(t)
	p := r.StartWith(harness.Opts{Tty: slave}, "run", "--bundle", b.Dir, id)
	out, err := harness.ReadUntil(master, "/dev/pts/0", harness.DefaultTimeout)
	if err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if _, err := master.Write([]byte("fromhost\n")); err != nil {
		t.Fatal(err)
	}
	if out, err := harness.ReadUntil(master, "got:fromhost", harness.DefaultTimeout); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if res := p.Wait(); res.ExitCode != 6 {
		t.Errorf("exit code %d, want 6", res.ExitCode)
	}
	harness.AssertNothingLeft(t, r, id, b.Dir)
}

// TestTerminalNeedsConsoleSocket: a detached terminal container without a
// console socket is refused, and nothing is left behind.
func TestTerminalNeedsConsoleSocket(t *testing.T) {
	t.Parallel()
	for _, verb := range [][]string{{"create"}, {"run", "--detach"}} {
		t.Run(verb[0], func(t *testing.T) {
			t.Parallel()
			r := harness.NewRuntime(t)
			b := harness.NewBundle(t, harness.WithTerminal(true), harness.WithArgs("sleep", "1000"))
			id := harness.ID(t)
			harness.OneLineError(t, r.Run(append(verb, "--bundle", b.Dir, id)...))
			harness.AssertNothingLeft(t, r, id, b.Dir)
		})
	}
}
