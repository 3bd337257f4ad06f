//go:build integration && linux

package daemon

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveRestore: containers outlive a daemon killed with SIGKILL; the
// next daemon serves them (ps, logs, stop), and one that exited meanwhile
// shows its real exit code.
func TestLiveRestore(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("run", "-d", "--network", "none", "--name", "logger", "busybox", "sh", "-c",
		"i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done")
	d.mustDocker("run", "-d", "--network", "none", "--name", "seven", "busybox", "sh", "-c", "sleep 2; exit 7")
	started := time.Now()
	pid, err := strconv.Atoi(strings.TrimSpace(d.mustDocker("inspect", "-f", "{{.State.Pid}}", "logger")))
	if err != nil || pid <= 0 {
		t.Fatalf("logger pid: %v", err)
	}
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.exited
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("logger (pid %d) died with the daemon: %v", pid, err)
	}
	time.Sleep(time.Until(started.Add(3 * time.Second))) // seven exits while no daemon runs
	d.spawn()
	if out := d.mustDocker("ps", "--format", "{{.Names}} {{.Status}}"); !strings.Contains(out, "logger Up") || strings.Contains(out, "seven") {
		t.Errorf("docker ps after the daemon restart:\n%s", out)
	}
	if out := d.mustDocker("ps", "-a", "--format", "{{.Names}} {{.Status}}"); !strings.Contains(out, "seven Exited (7)") {
		t.Errorf("docker ps -a: seven not Exited (7):\n%s", out)
	}
	if out := strings.TrimSpace(d.mustDocker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "seven")); out != "exited 7" {
		t.Errorf("seven: %q, want exited 7", out)
	}
	if out := d.mustDocker("logs", "logger"); !strings.Contains(out, "line 0\nline 1\n") {
		t.Errorf("docker logs logger: %q", out)
	}
	if got := strings.TrimSpace(d.mustDocker("inspect", "-f", "{{.State.Pid}}", "logger")); got != strconv.Itoa(pid) {
		t.Errorf("logger pid %s after the daemon restart, want %d", got, pid)
	}
	d.mustDocker("stop", "-t", "1", "logger")
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("logger (pid %d) alive after docker stop", pid)
	}
	if out := strings.TrimSpace(d.mustDocker("inspect", "-f", "{{.State.Status}}", "logger")); out != "exited" {
		t.Errorf("logger after stop: %s", out)
	}
}
