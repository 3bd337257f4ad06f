//go:build integration && linux

package daemon

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// dockerTTY runs the docker CLI against d on a pty, as in a user's shell.
func (d *daemon) dockerTTY(args ...string) *harness.TTYSession {
	d.t.Helper()
	return harness.StartTTY(d.t, 60*time.Second, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, dockerBinary, args...)
		cmd.Env = d.dockerEnv()
		return cmd
	})
}

// TestDockerTTY: docker run -it with --memory through a pty (window size,
// the pty, the memory limit inside), detach with ctrl-p ctrl-q, docker
// attach and detach again, docker exec -it with its exit status, and
// attach to leave the shell with its status.
func TestDockerTTY(t *testing.T) {
	d := startDaemon(t)
	s := d.dockerTTY("run", "-it", "--name", "t1", "--network", "none", "--memory", "64m", "busybox", "sh")
	s.Expect("# ")
	s.Send("echo hi-$((1+1)); tty; stty size; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; echo end-$((9*9))\r")
	out := harness.NormalizeTTY(s.Expect("end-81"))
	for _, want := range []string{"\nhi-2\n", "\n/dev/pts/0\n", "\n40 120\n", "\n67108864\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("run -it output lacks %q: %q", want, out)
		}
	}
	s.Send("\x10\x11") // ctrl-p ctrl-q
	if code := s.Exit(); code != 0 {
		t.Fatalf("docker run -it exited %d after ctrl-p ctrl-q, want 0", code)
	}
	if out := d.mustDocker("inspect", "-f", "{{.State.Running}} {{.HostConfig.Memory}}", "t1"); out != "true 67108864\n" {
		t.Fatalf("after detaching: %q, want running with 64m", out)
	}

	a := d.dockerTTY("attach", "t1")
	a.Send("echo back-$((2+3))\r")
	a.Expect("back-5")
	a.Send("\x10\x11")
	if code := a.Exit(); code != 1 {
		t.Errorf("docker attach exited %d after ctrl-p ctrl-q, want 1 (read escape sequence)", code)
	}

	e := d.dockerTTY("exec", "-it", "t1", "sh")
	e.Expect("# ")
	e.Send("echo exec-$((3*3)); tty; exit 3\r")
	// the exec has a pty of its own ("exec-9" comes first, in the same read)
	if out := harness.NormalizeTTY(e.Expect("/dev/pts/")); !strings.Contains(out, "\nexec-9\n") {
		t.Errorf("exec -it output: %q", out)
	}
	if code := e.Exit(); code != 3 {
		t.Errorf("docker exec -it exited %d, want 3", code)
	}

	a = d.dockerTTY("attach", "t1")
	a.Send("exit 7\r")
	if code := a.Exit(); code != 7 {
		t.Errorf("docker attach exited %d when the shell exited 7", code)
	}
	if out := d.mustDocker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "t1"); out != "exited 7\n" {
		t.Errorf("after exit 7: %q", out)
	}
}
