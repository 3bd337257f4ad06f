//go:build integration && linux

package daemon

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// state is `Status RestartCount Pid ExitCode` from docker inspect.
func (d *daemon) state(ref string) []string {
	d.t.Helper()
	return strings.Fields(d.mustDocker("inspect", "-f", "{{.State.Status}} {{.RestartCount}} {{.State.Pid}} {{.State.ExitCode}}", ref))
}

// TestRestartOnFailure: on-failure:3 restarts a failing container three
// times (with back-off), then leaves it exited.
func TestRestartOnFailure(t *testing.T) {
	d := startDaemon(t)
	id := strings.TrimSpace(d.mustDocker("run", "-d", "--network", "none", "--restart", "on-failure:3", "busybox", "sh", "-c", "exit 1"))
	eventually(t, "3 restarts then exited", func() (bool, string) {
		st := d.state(id)
		return st[0] == "exited" && st[1] == "3", strings.Join(st, " ")
	})
	time.Sleep(1500 * time.Millisecond) // more than the next back-off (800 ms)
	if st := d.state(id); st[0] != "exited" || st[1] != "3" || st[3] != "1" {
		t.Errorf("after the retries: %v, want exited, RestartCount 3, ExitCode 1", st)
	}
	if out := d.mustDocker("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", id); strings.TrimSpace(out) != "on-failure:3" {
		t.Errorf("RestartPolicy %q", out)
	}
	// A zero exit is not a failure.
	id = strings.TrimSpace(d.mustDocker("run", "-d", "--network", "none", "--restart", "on-failure", "busybox", "true"))
	eventually(t, "exited", func() (bool, string) { st := d.state(id); return st[0] == "exited", strings.Join(st, " ") })
	time.Sleep(500 * time.Millisecond)
	if st := d.state(id); st[0] != "exited" || st[1] != "0" {
		t.Errorf("on-failure after exit 0: %v, want exited without restarts", st)
	}
	// Policies docker refuses.
	if _, stderr, err := d.docker("run", "-d", "--network", "none", "--restart", "always", "--rm", "busybox", "true"); err == nil {
		t.Errorf("--restart always --rm accepted")
	} else if !strings.Contains(stderr, "restart") {
		t.Errorf("--restart always --rm: %s", stderr)
	}
}

// TestRestartAlways: an always container whose process dies comes back;
// docker kill and docker stop end it for good (as in docker), start
// re-arms the policy.
func TestRestartAlways(t *testing.T) {
	d := startDaemon(t)
	id := strings.TrimSpace(d.mustDocker("run", "-d", "--network", "none", "--restart", "always", "busybox", "sleep", "1000"))
	st := d.state(id)
	pid, _ := strconv.Atoi(st[2])
	if st[0] != "running" || pid <= 0 {
		t.Fatalf("state %v", st)
	}
	// Killed behind the daemon's back: not a user stop.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "restarted after its process was killed", func() (bool, string) {
		st := d.state(id)
		return st[0] == "running" && st[1] == "1" && st[2] != strconv.Itoa(pid), strings.Join(st, " ")
	})
	d.mustDocker("kill", id)
	time.Sleep(1 * time.Second)
	if st := d.state(id); st[0] != "exited" || st[1] != "1" || st[3] != "137" {
		t.Errorf("after docker kill: %v, want exited (137), still 1 restart", st)
	}
	d.mustDocker("start", id)
	d.mustDocker("stop", "-t", "1", id)
	time.Sleep(1 * time.Second)
	if st := d.state(id); st[0] != "exited" {
		t.Errorf("after docker stop: %v, want exited", st)
	}
}

// TestRestartWithDaemon: when the daemon starts, always containers that
// are not running come back, unless-stopped ones only if the user did not
// stop them.
func TestRestartWithDaemon(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("run", "-d", "--network", "none", "--name", "al", "--restart", "always", "busybox", "sleep", "1000")
	d.mustDocker("run", "-d", "--network", "none", "--name", "us", "--restart", "unless-stopped", "busybox", "sleep", "1000")
	d.mustDocker("run", "-d", "--network", "none", "--name", "no", "busybox", "sleep", "1000")
	d.mustDocker("stop", "-t", "0", "al", "us", "no")
	d.stopDaemon()
	d.spawn()
	eventually(t, "al back", func() (bool, string) { st := d.state("al"); return st[0] == "running", strings.Join(st, " ") })
	time.Sleep(500 * time.Millisecond)
	for _, name := range []string{"us", "no"} {
		if st := d.state(name); st[0] != "exited" {
			t.Errorf("%s after the daemon restart: %v, want exited", name, st)
		}
	}
}
