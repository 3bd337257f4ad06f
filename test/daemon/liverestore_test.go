//go:build integration && linux

package daemon

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveRestore: containers outlive a daemon killed with SIGKILL (a
// published port keeps answering); the next daemon serves them (ps, logs
// -f, stop), and one that exited meanwhile shows its real exit code.
func TestLiveRestore(t *testing.T) {
	d := startDaemon(t)
	port := freePort(t)
	d.mustDocker("run", "-d", "-p", "127.0.0.1:"+port+":80", "--name", "web", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc")
	url := "http://127.0.0.1:" + port + "/hostname"
	eventually(t, "the published port answers", func() (bool, string) { body, err := httpGet(url); return err == nil, body + fmt.Sprint(err) })
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
	if _, err := httpGet(url); err != nil {
		t.Errorf("published port with the daemon dead: %v", err)
	}
	time.Sleep(time.Until(started.Add(3 * time.Second))) // seven exits while no daemon runs
	d.spawn()
	if _, err := httpGet(url); err != nil {
		t.Errorf("published port after the daemon restart: %v", err)
	}
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
	// logs -f follows the restored container until it stops.
	seen := len(lines(d.mustDocker("logs", "logger")))
	followed := make(chan string, 1)
	go func() { out, _, _ := d.docker("logs", "-f", "logger"); followed <- out }()
	time.Sleep(time.Second)
	d.mustDocker("stop", "-t", "1", "logger")
	select {
	case out := <-followed:
		if n := len(lines(out)); n <= seen {
			t.Errorf("logs -f after the restart gave %d lines, no more than the %d before it", n, seen)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("logs -f did not end when logger stopped")
	}
	d.mustDocker("stop", "-t", "1", "web")
	if _, err := httpGet(url); err == nil {
		t.Errorf("published port still answers after docker stop web")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("logger (pid %d) alive after docker stop", pid)
	}
	if out := strings.TrimSpace(d.mustDocker("inspect", "-f", "{{.State.Status}}", "logger")); out != "exited" {
		t.Errorf("logger after stop: %s", out)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// httpGet fetches url (only ever a loopback address of the test's own).
func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s", resp.Status)
	}
	return string(body), err
}
