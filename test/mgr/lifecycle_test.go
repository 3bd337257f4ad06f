//go:build integration && linux

package mgr

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestLifecycleVerbs: create, start, wait, restart, kill -s, pause,
// unpause, rename, logs options and `run -d --rm`, each judged by what the
// container does and what ps/inspect/logs report.
func TestLifecycleVerbs(t *testing.T) {
	t.Parallel()
	m := newMgr(t)

	t.Run("create start wait logs rm", func(t *testing.T) {
		m := m.T(t)
		id := strings.TrimSpace(m.Must("create", "--name", "c1", "busybox", "echo", "created-out").Stdout)
		if len(id) != 64 {
			t.Fatalf("create printed %q, want a 64-hex id", id)
		}
		m.seen(id)
		if st := m.Status("c1"); st != "Created" {
			t.Errorf("ps -a status after create: %q, want Created", st)
		}
		if in := m.Inspect("c1"); in.State.Status != "created" || in.State.Running || in.State.Pid != 0 {
			t.Errorf("inspect after create: %+v", in.State)
		}
		m.Must("start", "c1")
		if res := m.Must("wait", "c1"); res.Stdout != "0\n" {
			t.Errorf("wait printed %q, want 0", res.Stdout)
		}
		if res := m.Must("logs", "c1"); res.Stdout != "created-out\n" {
			t.Errorf("logs: %q", res.Stdout)
		}
		m.Must("rm", "c1")

		// start -a of a created container: started in the shim's launch,
		// its output held for the attach, its exit status mgr's
		m.Must("create", "--name", "c3", "busybox", "sh", "-c", "echo out-a; echo err-a >&2; exit 4")
		if res := m.Run("start", "-a", "c3"); res.Code != 4 || res.Stdout != "out-a\n" || !strings.Contains(res.Stderr, "err-a") {
			t.Errorf("start -a: %s, want exit 4 with out-a and err-a", res)
		}
		m.Must("rm", "c3")

		// a container that never started is removable too
		m.Must("create", "--name", "c2", "busybox", "true")
		if res := m.Run("rm", "c2"); res.Code != 0 || strings.TrimSpace(res.Stdout) != "c2" {
			t.Errorf("rm of a created container: %s", res)
		}
		if ids := m.IDs(); len(ids) != 0 {
			t.Errorf("left after rm: %v", ids)
		}
	})

	t.Run("wait prints the exit code", func(t *testing.T) {
		m := m.T(t)
		m.RunD("--name", "w1", "busybox", "sh", "-c", "sleep 0.3; exit 42")
		if res := m.Must("wait", "w1"); res.Stdout != "42\n" {
			t.Errorf("wait: %s, want 42", res)
		}
	})

	t.Run("run -d --rm removes on exit", func(t *testing.T) {
		m := m.T(t)
		m.RunD("--rm", "--name", "auto1", "busybox", "sh", "-c", "sleep 0.3")
		if !harness.Poll(10*time.Second, func() bool {
			return !strings.Contains(m.Must("ps", "-a", "--format", "{{.Names}}").Stdout, "auto1")
		}) {
			t.Errorf("run -d --rm: the container is still listed after it exited: %q", m.Status("auto1"))
		}
	})

	t.Run("restart", func(t *testing.T) {
		m := m.T(t)
		m.RunD("--name", "r1", "busybox", "sh", "-c", "echo boot; sleep 1000")
		pid := m.Inspect("r1").State.Pid
		m.Must("restart", "-t", "1", "r1")
		in := m.WaitState("r1", "running again", func(i Inspect) bool { return i.State.Running && i.State.Pid != pid })
		if !harness.ProcessGone(pid) {
			t.Errorf("old process %d survived restart (new %d)", pid, in.State.Pid)
		}
		if !harness.Poll(5*time.Second, func() bool { return strings.Count(m.Must("logs", "r1").Stdout, "boot\n") == 2 }) {
			t.Errorf("logs after restart: %q, want boot twice", m.Must("logs", "r1").Stdout)
		}
	})

	t.Run("kill -s delivers the signal", func(t *testing.T) {
		m := m.T(t)
		m.RunD("--name", "k1", "busybox", "sh", "-c", `trap "echo got-usr1; exit 9" USR1; echo ready; while true; do sleep 0.1; done`)
		harness.Poll(5*time.Second, func() bool { return strings.Contains(m.Must("logs", "k1").Stdout, "ready") })
		m.Must("kill", "-s", "USR1", "k1")
		if res := m.Must("wait", "k1"); res.Stdout != "9\n" {
			t.Errorf("wait after kill -s USR1: %q, want 9 (the trap's exit)", res.Stdout)
		}
		if out := m.Must("logs", "k1").Stdout; !strings.Contains(out, "got-usr1") {
			t.Errorf("logs: %q, want got-usr1", out)
		}
		m.RunD("--name", "k2", "busybox", "sleep", "1000")
		m.Must("kill", "k2")
		if res := m.Must("wait", "k2"); res.Stdout != "137\n" {
			t.Errorf("wait after kill: %q, want 137", res.Stdout)
		}
	})

	t.Run("pause unpause", func(t *testing.T) {
		m := m.T(t)
		m.RunD("--name", "p1", "busybox", "sleep", "1000")
		pid := m.Inspect("p1").State.Pid
		m.Must("pause", "p1")
		if st := m.Status("p1"); !strings.Contains(st, "(Paused)") {
			t.Errorf("ps status when paused: %q", st)
		}
		if in := m.Inspect("p1"); !in.State.Paused || in.State.Status != "paused" {
			t.Errorf("inspect when paused: %+v", in.State)
		}
		cg := harness.MustCgroups(t, pid)
		if got := cg.MustRead(t, "freezer", "freezer.state", "cgroup.freeze"); got != "FROZEN" && got != "1" {
			t.Errorf("freezer state %q while paused", got)
		}
		m.Must("unpause", "p1")
		if in := m.Inspect("p1"); in.State.Paused || !in.State.Running {
			t.Errorf("inspect after unpause: %+v", in.State)
		}
		if got := cg.MustRead(t, "freezer", "freezer.state", "cgroup.freeze"); got != "THAWED" && got != "0" {
			t.Errorf("freezer state %q after unpause", got)
		}
	})

	t.Run("rename", func(t *testing.T) {
		m := m.T(t)
		id := m.RunD("--name", "old1", "busybox", "sleep", "1000")
		m.Must("rename", "old1", "new1")
		if in := m.Inspect("new1"); in.ID != id || in.Name != "/new1" {
			t.Errorf("inspect new1: %s %s", in.ID, in.Name)
		}
		if res := m.Run("inspect", "old1"); res.Code != 125 {
			t.Errorf("old name still resolves: %s", res)
		}
		m.Must("create", "--name", "old1", "busybox", "true") // the old name is free
	})

	t.Run("logs tail and timestamps", func(t *testing.T) {
		m := m.T(t)
		m.Must("run", "--name", "lg", "busybox", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; sleep 0.1; echo oops >&2")
		res := m.Must("logs", "lg")
		if res.Stdout != "line1\nline2\nline3\nline4\nline5\n" || res.Stderr != "oops\n" {
			t.Errorf("logs: stdout/stderr not kept apart: %s", res)
		}
		res = m.Must("logs", "--tail", "2", "lg")
		if res.Stdout != "line5\n" || res.Stderr != "oops\n" {
			t.Errorf("logs --tail 2: %s, want line5 and oops", res)
		}
		res = m.Must("logs", "-t", "--tail", "1", "lg")
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z oops\n$`).MatchString(res.Stderr) {
			t.Errorf("logs -t: %s, want an RFC 3339 timestamp before oops", res)
		}
	})
}

// TestExecAndTools: exec, top, stats, cp, port, container prune, version
// and info, on a running container (each only once mgr has it).
func TestExecAndTools(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	id := m.RunD("--name", "tools", "busybox", "sleep", "1000")

	t.Run("exec", func(t *testing.T) {
		if !hasCommand("exec") {
			t.Skip("no exec yet")
		}
		m := m.T(t)
		res := m.Must("exec", "-e", "X=1", "-w", "/tmp", "-u", "nobody", "tools", "sh", "-c", "echo $X $(pwd) $(id -u)")
		if res.Stdout != "1 /tmp 65534\n" {
			t.Errorf("exec -e -w -u: %s", res)
		}
		if res := m.Run("exec", "tools", "nosuchcmd"); res.Code != 127 && res.Code != 126 {
			t.Errorf("exec of an unknown command: %s, want 127 (docker; 126 in older releases)", res)
		}
		if res := m.RunStdin(strings.NewReader("piped\n"), "exec", "-i", "tools", "cat"); res.Stdout != "piped\n" {
			t.Errorf("exec -i: %s", res)
		}
		m.RunD("--name", "gone", "busybox", "true")
		m.Must("wait", "gone")
		if res := m.Run("exec", "gone", "true"); res.Code != 125 {
			t.Errorf("exec in a stopped container: %s, want 125", res)
		} else {
			oneLineError(t, res)
		}
	})
	t.Run("top", func(t *testing.T) {
		if !hasCommand("top") {
			t.Skip("no top yet")
		}
		res := m.T(t).Must("top", "tools")
		if !strings.Contains(res.Stdout, "PID") || !strings.Contains(res.Stdout, "sleep 1000") {
			t.Errorf("top: %s", res)
		}
	})
	t.Run("stats", func(t *testing.T) {
		if !hasCommand("stats") {
			t.Skip("no stats yet")
		}
		res := m.T(t).Must("stats", "--no-stream", "tools")
		if !strings.Contains(res.Stdout, "MEM USAGE") || !regexp.MustCompile(`(?m)^`+id[:12]+`\s+tools\s`).MatchString(res.Stdout) {
			t.Errorf("stats --no-stream: %s", res)
		}
	})
	t.Run("cp", func(t *testing.T) {
		if !hasCommand("cp") {
			t.Skip("no cp yet")
		}
		m := m.T(t)
		in := filepath.Join(m.Dir, "to-container")
		if err := os.WriteFile(in, []byte("copied in\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		m.Must("cp", in, "tools:/tmp/in")
		if hasCommand("exec") {
			if res := m.Must("exec", "tools", "cat", "/tmp/in"); res.Stdout != "copied in\n" {
				t.Errorf("file copied in: %s", res)
			}
		}
		out := filepath.Join(m.Dir, "from-container")
		m.Must("cp", "tools:/etc/hostname", out)
		if got := readFile(t, out); got != id[:12]+"\n" {
			t.Errorf("file copied out: %q, want the hostname %s", got, id[:12])
		}
		// A link is copied as a link (docker cp without -L).
		m.Must("exec", "tools", "ln", "-s", "/etc/hostname", "/tmp/link")
		link := filepath.Join(m.Dir, "link-out")
		m.Must("cp", "tools:/tmp/link", link)
		if target, err := os.Readlink(link); err != nil || target != "/etc/hostname" {
			t.Errorf("cp of a link: %q %v, want a link to /etc/hostname", target, err)
		}
	})
	t.Run("port", func(t *testing.T) {
		if !hasCommand("port") {
			t.Skip("no port yet")
		}
		m := m.T(t)
		m.RunD("--name", "pub", "-p", "127.0.0.1::80", "busybox", "sleep", "1000")
		res := m.Must("port", "pub")
		if !regexp.MustCompile(`^80/tcp -> 127\.0\.0\.1:\d+\n$`).MatchString(res.Stdout) {
			t.Errorf("port: %s", res)
		}
	})
	t.Run("container prune", func(t *testing.T) {
		m := m.T(t)
		dead := m.RunD("busybox", "true")
		m.Must("wait", dead)
		res := m.Run("container", "prune", "-f")
		if res.Code != 0 || !strings.Contains(res.Stdout, dead) {
			t.Errorf("container prune -f: %s, want %s deleted", res, dead)
		}
		if in := m.Inspect("tools"); !in.State.Running {
			t.Errorf("prune touched a running container: %+v", in.State)
		}
	})
	t.Run("version and info", func(t *testing.T) {
		m := m.T(t)
		if res := m.Must("version"); !strings.Contains(res.Stdout, "Version:") || !strings.Contains(res.Stdout, "rt version") {
			t.Errorf("version: %s", res)
		}
		res := m.Must("info")
		for _, want := range []string{"Running: ", "Images: 1", "Cgroup Driver: cgroupfs", "Docker Root Dir: " + m.Root} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("info lacks %q: %s", want, res)
			}
		}
	})
}
