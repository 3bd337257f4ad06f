//go:build integration && linux

package daemon

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRunForeground: docker run attaches before start, takes the exit
// code from /wait, and --rm removes the container.
func TestRunForeground(t *testing.T) {
	d := startDaemon(t)
	out := d.mustDocker("run", "--rm", "--network", "none", "busybox", "echo", "hello from berth")
	if out != "hello from berth\n" {
		t.Errorf("run --rm echo: %q", out)
	}
	out, stderr, err := d.docker("run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo to-out; echo to-err >&2; exit 3")
	if exitCode(err) != 3 || out != "to-out\n" || stderr != "to-err\n" {
		t.Errorf("run exit 3: code %d, stdout %q, stderr %q", exitCode(err), out, stderr)
	}
	// -e, -w, -u, --hostname reach the process.
	out = d.mustDocker("run", "--rm", "--network", "none", "-e", "GREETING=hi there", "-w", "/tmp", "-u", "65534", "--hostname", "boxy",
		"busybox", "sh", "-c", `echo "$GREETING|$(pwd)|$(id -u)|$(hostname)"`)
	if out != "hi there|/tmp|65534|boxy\n" {
		t.Errorf("run with -e -w -u --hostname: %q", out)
	}
	// stdin with -i (StdinOnce): cat sees EOF and exits.
	out, stderr, err = d.dockerIn([]byte("piped in\n"), "run", "--rm", "-i", "--network", "none", "busybox", "cat")
	if err != nil || out != "piped in\n" {
		t.Errorf("run -i cat: %v %q %q", err, out, stderr)
	}
	// A TTY session: raw stream, one pty for both.
	out = d.mustDocker("run", "--rm", "-t", "--network", "none", "busybox", "sh", "-c", "tty; echo err >&2")
	if out != "/dev/pts/0\r\nerr\r\n" {
		t.Errorf("run -t: %q", out)
	}
	// A command that does not exist: 127, as docker.
	_, stderr, err = d.docker("run", "--rm", "--network", "none", "busybox", "no-such-command")
	if exitCode(err) != 127 || !strings.Contains(stderr, "executable file not found") {
		t.Errorf("run of a missing command: code %d, stderr %q", exitCode(err), stderr)
	}
	// Every --rm container is gone.
	eventually(t, "--rm containers removed", func() (bool, string) {
		out := d.mustDocker("ps", "-aq")
		return strings.TrimSpace(out) == "", out
	})
	// Without --rm it stays, exited with its code.
	_, _, err = d.docker("run", "--name", "keep", "--network", "none", "busybox", "sh", "-c", "exit 5")
	if exitCode(err) != 5 {
		t.Errorf("run exit 5: %v", err)
	}
	out = d.mustDocker("ps", "-a", "--format", "{{.Names}} {{.Status}}")
	if !regexp.MustCompile(`^keep Exited \(5\) .* ago\n$`).MatchString(out) {
		t.Errorf("ps -a after run: %q", out)
	}
	if out := d.mustDocker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", "keep"); out != "exited 5 false\n" {
		t.Errorf("inspect of an exited container: %q", out)
	}
}

// TestDetachedLifecycle walks a background container through ps, logs,
// inspect, exec, top, stats, stop, start, restart, kill, wait and rm.
func TestDetachedLifecycle(t *testing.T) {
	d := startDaemon(t)
	script := `echo started; trap "echo got-term; exit 0" TERM; while true; do sleep 0.1; done`
	id := strings.TrimSpace(d.mustDocker("run", "-d", "--name", "web", "--network", "none", "--label", "app=web", "busybox", "sh", "-c", script))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d printed %q, want an id", id)
	}
	out := d.mustDocker("ps", "--format", "{{.ID}} {{.Names}} {{.Image}} {{.Status}} {{.Labels}}")
	if !regexp.MustCompile(`^` + id[:12] + ` web busybox Up .* app=web\n$`).MatchString(out) {
		t.Errorf("ps: %q", out)
	}
	if out := d.mustDocker("ps", "-q", "--filter", "label=app=web", "--filter", "status=running"); out != id[:12]+"\n" {
		t.Errorf("ps --filter: %q", out)
	}
	if out := d.mustDocker("ps", "-q", "--filter", "name=nomatch"); out != "" {
		t.Errorf("ps --filter name=nomatch: %q", out)
	}
	eventually(t, "logs show the first line", func() (bool, string) {
		out, _, _ := d.docker("logs", "web")
		return out == "started\n", out
	})
	out = d.mustDocker("inspect", "-f", "{{.State.Running}} {{.State.Status}} {{json .Config.Cmd}} {{.Name}} {{.HostConfig.NetworkMode}}", "web")
	if want := `true running ["sh","-c",` + jsonString(script) + `] /web none` + "\n"; out != want {
		t.Errorf("inspect:\n got %q\nwant %q", out, want)
	}

	// exec: output, exit code, -e and -w.
	out, stderr, err := d.docker("exec", "-e", "X=1", "-w", "/etc", "web", "sh", "-c", `echo "exec $X $(pwd)"; echo oops >&2; exit 4`)
	if exitCode(err) != 4 || out != "exec 1 /etc\n" || stderr != "oops\n" {
		t.Errorf("exec: code %d, stdout %q, stderr %q", exitCode(err), out, stderr)
	}
	out, _, err = d.dockerIn([]byte("via stdin\n"), "exec", "-i", "web", "cat")
	if err != nil || out != "via stdin\n" {
		t.Errorf("exec -i cat: %v %q", err, out)
	}
	d.mustDocker("exec", "-d", "web", "sh", "-c", "echo detached > /tmp/marker")
	eventually(t, "exec -d ran", func() (bool, string) {
		out, _, _ := d.docker("exec", "web", "cat", "/tmp/marker")
		return out == "detached\n", out
	})

	// top lists the shell and its sleep.
	out = d.mustDocker("top", "web")
	if rows := lines(out); len(rows) < 2 || !strings.HasPrefix(rows[0], "UID") || !strings.Contains(rows[0], "PID") || !strings.Contains(out, "sh -c echo started") {
		t.Errorf("top:\n%s", out)
	}
	// stats: one sample with the container's name and its pids.
	out = d.mustDocker("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.MemUsage}}")
	if !regexp.MustCompile(`^web [1-9][0-9]* [0-9.]+[KMG]i?B / [0-9.]+[KMG]i?B\n$`).MatchString(out) {
		t.Errorf("stats --no-stream: %q", out)
	}
	out = d.mustDocker("stats", "--no-stream", "--format", "{{.CPUPerc}}", "web")
	if !regexp.MustCompile(`^[0-9]+\.[0-9]{2}%\n$`).MatchString(out) {
		t.Errorf("stats --no-stream web: %q", out)
	}

	// stop: the trap runs, exit 0.
	if out := d.mustDocker("stop", "web"); out != "web\n" {
		t.Errorf("stop: %q", out)
	}
	if out := d.mustDocker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web"); out != "exited 0\n" {
		t.Errorf("after stop: %q", out)
	}
	if out := d.mustDocker("logs", "web"); out != "started\ngot-term\n" {
		t.Errorf("logs after stop: %q", out)
	}
	if out := d.mustDocker("ps", "-q"); out != "" {
		t.Errorf("ps after stop: %q", out)
	}
	d.mustDocker("stop", "web") // stopping a stopped container succeeds
	d.mustDocker("start", "web")
	if out := d.mustDocker("inspect", "-f", "{{.State.Running}}", "web"); out != "true\n" {
		t.Errorf("after start: %q", out)
	}
	d.mustDocker("start", "web") // 304: no error
	pid1 := d.mustDocker("inspect", "-f", "{{.State.Pid}}", "web")
	d.mustDocker("restart", "-t", "5", "web")
	if pid2 := d.mustDocker("inspect", "-f", "{{.State.Pid}}", "web"); pid2 == pid1 || pid2 == "0\n" {
		t.Errorf("restart kept pid %s -> %s", pid1, pid2)
	}
	// kill, then wait prints 137.
	d.mustDocker("kill", "web")
	if out := d.mustDocker("wait", "web"); out != "137\n" {
		t.Errorf("wait after kill: %q", out)
	}
	_, stderr, err = d.docker("kill", "web")
	if exitCode(err) != 1 || !strings.Contains(stderr, "is not running") {
		t.Errorf("kill of a stopped container: %v %q", err, stderr)
	}
	_, stderr, err = d.docker("exec", "web", "true")
	if exitCode(err) == 0 || !strings.Contains(stderr, "is not running") {
		t.Errorf("exec in a stopped container: %v %q", err, stderr)
	}

	// wait blocks until the exit.
	d.mustDocker("start", "web")
	done := make(chan string, 1)
	go func() { out, _, _ := d.docker("wait", "web"); done <- out }()
	time.Sleep(300 * time.Millisecond)
	select {
	case out := <-done:
		t.Fatalf("wait returned %q while the container runs", out)
	default:
	}
	d.mustDocker("kill", "-s", "TERM", "web")
	select {
	case out := <-done:
		if out != "0\n" {
			t.Errorf("wait after SIGTERM: %q", out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("wait did not return after the container exited")
	}

	// rm -f of a running container; rm of a missing one is ignored with -f.
	d.mustDocker("start", "web")
	_, stderr, err = d.docker("rm", "web")
	if exitCode(err) != 1 || !strings.Contains(stderr, "stop the container before removing or force remove") {
		t.Errorf("rm of a running container: %v %q", err, stderr)
	}
	if out := d.mustDocker("rm", "-f", "web"); out != "web\n" {
		t.Errorf("rm -f: %q", out)
	}
	d.mustDocker("rm", "-f", "web")
	if out := d.mustDocker("ps", "-aq"); out != "" {
		t.Errorf("ps -a after rm: %q", out)
	}
}

// TestAutoRemoveDetached: the daemon removes a --rm container that exits
// with nobody attached.
func TestAutoRemoveDetached(t *testing.T) {
	d := startDaemon(t)
	id := strings.TrimSpace(d.mustDocker("run", "-d", "--rm", "--network", "none", "busybox", "sleep", "0.3"))
	if len(id) != 64 {
		t.Fatalf("run -d --rm: %q", id)
	}
	eventually(t, "auto-removed", func() (bool, string) {
		out := d.mustDocker("ps", "-aq")
		return out == "", out
	})
	_, stderr, err := d.docker("inspect", id)
	if exitCode(err) != 1 || !strings.Contains(stderr, "No such object") {
		t.Errorf("inspect of an auto-removed container: %v %q", err, stderr)
	}
	// Containers that exit at once: the shim's exit command and the
	// daemon both remove them; a client waiting for the removal is told
	// every time (it hung when the daemon's removal lost the race).
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", d.socket)
		}}}
	for i := range 10 {
		id := strings.TrimSpace(d.mustDocker("run", "-d", "--rm", "--network", "none", "busybox", "true"))
		resp, err := client.Post("http://mgr/v1.50/containers/"+id+"/wait?condition=removed", "", nil)
		if err != nil {
			t.Fatalf("wait for the removal of run %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
			t.Errorf("wait for the removal of run %d: %s %s", i, resp.Status, body)
		}
	}
}

// TestLogsFollow: logs -f streams until the container exits; -t stamps.
func TestLogsFollow(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("run", "-d", "--name", "talker", "--network", "none", "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.3; done; echo bye >&2")
	out, stderr, err := d.docker("logs", "-f", "talker")
	if err != nil || out != "line1\nline2\nline3\n" || stderr != "bye\n" {
		t.Errorf("logs -f: %v %q %q", err, out, stderr)
	}
	out, stderr, err = d.docker("logs", "--tail", "2", "-t", "talker")
	if err != nil || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line3\n$`).MatchString(out) ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z bye\n$`).MatchString(stderr) {
		t.Errorf("logs --tail 2 -t: %v %q %q", err, out, stderr)
	}
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}
