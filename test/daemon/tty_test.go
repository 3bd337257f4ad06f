//go:build integration && linux

package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

// TestServerDetachKeys: a client that sends the detach sequence down a TTY
// attach (the docker CLI filters it itself; other clients rely on the
// daemon, as with dockerd) ends its session, and the container lives on.
func TestServerDetachKeys(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("create", "-it", "--name", "sd", "--network", "none", "busybox", "sh")
	d.mustDocker("start", "sd")
	for _, tc := range []struct{ query, keys string }{{"", "\x10\x11"}, {"&detachKeys=ctrl-a", "\x01"}} {
		conn, err := net.Dial("unix", d.socket)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /v1.50/containers/sd/attach?stream=1&stdin=1&stdout=1%s HTTP/1.1\r\nHost: mgr\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", tc.query)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("attach: %v %v", resp, err)
		}
		fmt.Fprint(conn, "echo hi-$((3+4))\r")
		if _, err := readUntil(br, "hi-7", 10*time.Second); err != nil {
			t.Fatalf("attach %q: %v", tc.query, err)
		}
		fmt.Fprint(conn, tc.keys)
		if _, err := readUntil(br, "\x00never", 10*time.Second); !errors.Is(err, io.EOF) {
			t.Errorf("after the detach keys %q the session did not end: %v", tc.keys, err)
		}
		conn.Close()
		if out := d.mustDocker("inspect", "-f", "{{.State.Running}}", "sd"); out != "true\n" {
			t.Fatalf("after detaching: running = %q", out)
		}
	}
}

// TestExecDetachKeepsRunning: an exec -it session a client leaves with the
// detach keys keeps its process, and exec inspect says it is running (not
// exited with -1).
func TestExecDetachKeepsRunning(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("run", "-d", "--name", "ed", "--network", "none", "busybox", "sleep", "300")
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", d.socket)
	}}}
	resp, err := hc.Post("http://mgr/v1.50/containers/ed/exec", "application/json",
		strings.NewReader(`{"Cmd": ["sh"], "Tty": true, "AttachStdin": true, "AttachStdout": true, "AttachStderr": true}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID string `json:"Id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || created.ID == "" {
		t.Fatalf("exec create: %v %+v", err, created)
	}
	conn, err := net.Dial("unix", d.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"Detach": false, "Tty": true}`
	fmt.Fprintf(conn, "POST /v1.50/exec/%s/start HTTP/1.1\r\nHost: mgr\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", created.ID, len(body), body)
	br := bufio.NewReader(conn)
	if r, err := http.ReadResponse(br, nil); err != nil || r.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("exec start: %v %v", r, err)
	}
	fmt.Fprint(conn, "echo in-$((5*5))\r")
	if _, err := readUntil(br, "in-25", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "\x10\x11")
	if _, err := readUntil(br, "\x00never", 10*time.Second); !errors.Is(err, io.EOF) {
		t.Fatalf("the exec session did not end on the detach keys: %v", err)
	}
	resp, err = hc.Get("http://mgr/v1.50/exec/" + created.ID + "/json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Running  bool
		ExitCode *int
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || !st.Running || st.ExitCode != nil {
		t.Errorf("exec inspect after detaching: %+v %v, want running without an exit code", st, err)
	}
}

// readUntil reads r until want appears, EOF, or the timeout.
func readUntil(r *bufio.Reader, want string, timeout time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	done := make(chan res, 1)
	go func() {
		var b strings.Builder
		for {
			c, err := r.ReadByte()
			if err != nil {
				done <- res{b.String(), err}
				return
			}
			b.WriteByte(c)
			if strings.Contains(b.String(), want) {
				done <- res{b.String(), nil}
				return
			}
		}
	}()
	select {
	case r := <-done:
		return r.s, r.err
	case <-time.After(timeout):
		return "", fmt.Errorf("no %q within %s", want, timeout)
	}
}
