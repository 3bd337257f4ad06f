//go:build integration && linux

package mgr

import (
	"bufio"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestSeedWalk walks the command list of the seed's Docker notes the way a
// user types it: images, a one-shot run, a detached loop, ps, logs -f,
// inspect, stop, ps -a, start, exec, rm -f and rmi.
func TestSeedWalk(t *testing.T) {
	t.Parallel()
	m := newMgr(t)

	// docker images
	if res := m.Must("images"); !regexp.MustCompile(`(?m)^busybox\s+latest\s+[0-9a-f]{12}\s`).MatchString(res.Stdout) {
		t.Fatalf("images does not list busybox:latest: %s", res)
	}

	// docker run imageName commandToRunInsideContainer
	res := m.Must("run", "--name", "oneshot", "busybox", "echo", "hello from busybox")
	if res.Stdout != "hello from busybox\n" {
		t.Errorf("one-shot run printed %q, want %q", res.Stdout, "hello from busybox\n")
	}
	if st := m.Status("oneshot"); !strings.HasPrefix(st, "Exited (0)") {
		t.Errorf("ps -a status of the one-shot container: %q, want Exited (0)", st)
	}

	// docker run -d ubuntu /bin/sh -c "while true; do echo hello world; sleep 1; done"
	id := m.RunD("--name", "hello", "busybox", "/bin/sh", "-c", "while true; do echo hello world; sleep 1; done")

	// docker ps: the running container, Up, with its short id and name
	ps := m.Must("ps").Stdout
	if !regexp.MustCompile(`(?m)^` + id[:12] + `\s+busybox\s+.*\sUp .*\shello$`).MatchString(ps) {
		t.Errorf("ps does not show %s Up as hello:\n%s", id[:12], ps)
	}
	if strings.Contains(ps, "oneshot") {
		t.Errorf("ps (without -a) lists the exited one-shot container:\n%s", ps)
	}

	// docker logs -f: three lines arrive while it runs
	logsFollow(t, m, "hello", "hello world", 3)

	// docker inspect
	in := m.Inspect("hello")
	if in.ID != id || in.Name != "/hello" || !in.State.Running || in.State.Status != "running" || in.State.Pid <= 0 {
		t.Errorf("inspect hello: Id %q Name %q State %+v; want id %s, /hello, running with a pid", in.ID, in.Name, in.State, id)
	}
	if want := []string{"/bin/sh", "-c", "while true; do echo hello world; sleep 1; done"}; strings.Join(in.Config.Cmd, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("inspect Config.Cmd = %q, want %q", in.Config.Cmd, want)
	}
	pid := in.State.Pid

	// docker stop: sh as pid 1 ignores SIGTERM, so -t 1 ends in SIGKILL
	if res := m.Must("stop", "-t", "1", "hello"); strings.TrimSpace(res.Stdout) != "hello" {
		t.Errorf("stop printed %q, want the name back", res.Stdout)
	}
	if st := m.Status("hello"); !strings.HasPrefix(st, "Exited (137)") && !strings.HasPrefix(st, "Exited (143)") {
		t.Errorf("ps -a status after stop: %q, want Exited (137) or (143)", st)
	}
	if in := m.Inspect("hello"); in.State.Running || in.State.Pid != 0 || (in.State.ExitCode != 137 && in.State.ExitCode != 143) {
		t.Errorf("inspect after stop: %+v, want not running, pid 0, exit 137/143", in.State)
	}
	if !harness.ProcessGone(pid) {
		t.Errorf("container process %d still alive after stop", pid)
	}

	// docker ps -a: both containers, in docker's column layout
	psa := m.Must("ps", "-a").Stdout
	if !strings.HasPrefix(psa, "CONTAINER ID") || !strings.Contains(psa, "NAMES") {
		t.Errorf("ps -a has no docker header:\n%s", psa)
	}
	for _, name := range []string{"hello", "oneshot"} {
		if !regexp.MustCompile(`(?m)\sExited \(\d+\) .*\s` + name + `$`).MatchString(psa) {
			t.Errorf("ps -a does not list %s as Exited:\n%s", name, psa)
		}
	}

	// docker start: the same container runs again, with a new process
	if res := m.Must("start", "hello"); strings.TrimSpace(res.Stdout) != "hello" {
		t.Errorf("start printed %q, want the name back", res.Stdout)
	}
	in = m.WaitState("hello", "running", func(i Inspect) bool { return i.State.Running })
	if in.ID != id || in.State.Pid == pid {
		t.Errorf("after start: id %s pid %d (before: %d); want the same container with a new process", in.ID, in.State.Pid, pid)
	}
	if st := m.Status("hello"); !strings.HasPrefix(st, "Up") {
		t.Errorf("ps status after start: %q, want Up", st)
	}

	// docker exec (when it lands)
	if hasCommand("exec") {
		res := m.Run("exec", "hello", "sh", "-c", "echo exec-$((6*7)) in $(hostname)")
		if res.Code != 0 || res.Stdout != "exec-42 in "+id[:12]+"\n" {
			t.Errorf("exec: want exit 0 and %q: %s", "exec-42 in "+id[:12]+"\n", res)
		}
		res = m.Run("exec", "hello", "sh", "-c", "exit 4")
		if res.Code != 4 {
			t.Errorf("exec exit 4: %s", res)
		}
	} else {
		t.Log("mgr has no exec yet: step skipped")
	}

	// docker rm -f (running) and rm (exited)
	if res := m.Must("rm", "-f", "hello"); strings.TrimSpace(res.Stdout) != "hello" {
		t.Errorf("rm -f printed %q, want the name back", res.Stdout)
	}
	m.Must("rm", "oneshot")
	if ids := m.IDs(); len(ids) != 0 {
		t.Errorf("containers left after rm: %v", ids)
	}
	m.AssertClean("after rm -f")

	// docker rmi, now that no container uses it
	res = m.Must("rmi", "busybox")
	if !strings.Contains(res.Stdout, "Untagged: busybox:latest") || !strings.Contains(res.Stdout, "Deleted: sha256:") {
		t.Errorf("rmi output lacks Untagged/Deleted lines: %s", res)
	}
	if res := m.Must("images"); strings.Contains(res.Stdout, "busybox") {
		t.Errorf("images still lists busybox after rmi: %s", res)
	}
}

// logsFollow runs `logs -f` on a running container, reads want lines equal
// to line (with a timeout) and kills the logs process.
func logsFollow(t *testing.T, m *Mgr, name, line string, want int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := m.Command(ctx, "logs", "-f", name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(15 * time.Second)
	var got []string
	for len(got) < want {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("logs -f ended after %d lines %q (exit: %v), want it to follow", len(got), got, cmd.Wait())
			}
			if l != line {
				t.Errorf("logs -f line %q, want %q", l, line)
			}
			got = append(got, l)
		case <-timeout:
			t.Fatalf("logs -f: %d lines in 15s (%q), want %d", len(got), got, want)
		}
	}
	cancel()
	_ = cmd.Wait()
	for range lines { // drain the reader
	}
}
