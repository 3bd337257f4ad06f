//go:build integration && linux

package mgr

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

var cgroupID = regexp.MustCompile(`(?m)^\d+:pids:.*/([0-9a-f]{64})$`)

// TestRunRmLeavesNothing: `run --rm` removes everything as soon as it
// returns, whether the command succeeds, fails, or cannot even start.
func TestRunRmLeavesNothing(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	tests := []struct {
		name string
		args []string // run --rm ARGS
		code int
	}{
		{"success", []string{"busybox", "sh", "-c", "cat /proc/self/cgroup; echo ok"}, 0},
		{"failing command", []string{"busybox", "sh", "-c", "cat /proc/self/cgroup; exit 3"}, 3},
		// with --init the shell is not pid 1, so its own SIGKILL is delivered
		{"killed by a signal", []string{"--init", "busybox", "sh", "-c", "cat /proc/self/cgroup; kill -9 $$"}, 137},
		{"command not found", []string{"busybox", "nosuchcmd"}, 127},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := m.T(t)
			res := m.Run(append([]string{"run", "--rm"}, tc.args...)...)
			if res.Code != tc.code {
				t.Errorf("exit %d, want %d: %s", res.Code, tc.code, res)
			}
			// the container's id, from its own cgroup path, for the cgroup check
			if sm := cgroupID.FindStringSubmatch(res.Stdout); sm != nil {
				m.seen(sm[1])
			} else if tc.code != 127 {
				t.Errorf("no container id in /proc/self/cgroup: %q", res.Stdout)
			}
			if ids := m.IDs(); len(ids) != 0 {
				t.Errorf("ps -a after run --rm: %v", ids)
			}
			m.AssertClean("right after run --rm returned")
		})
	}
}

// TestParallelDetached: 50 `mgr run -d` processes at once all succeed, show
// in `ps -q`, and `rm -f` of all 50 leaves nothing.
func TestParallelDetached(t *testing.T) {
	t.Parallel()
	const n = 50
	m := newMgr(t)
	var wg sync.WaitGroup
	results := make([]Result, n)
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = m.Run("run", "-d", "--name", fmt.Sprintf("par%02d", i), "busybox", "sleep", "1000")
		}()
	}
	wg.Wait()
	t.Logf("%d parallel run -d: %v", n, time.Since(start).Round(time.Millisecond))
	want := map[string]bool{}
	for i, res := range results {
		id := strings.TrimSpace(res.Stdout)
		if res.Code != 0 || len(id) != 64 {
			t.Errorf("run -d #%d: %s", i, res)
			continue
		}
		m.seen(id)
		want[id[:12]] = true
	}
	got := strings.Fields(m.Must("ps", "-q").Stdout)
	sort.Strings(got)
	if len(got) != n {
		t.Errorf("ps -q lists %d containers, want %d", len(got), n)
	}
	for _, id := range got {
		if !want[id] {
			t.Errorf("ps -q lists %s, which no run -d printed", id)
		}
	}
	names := m.Must("ps", "--format", "{{.Names}} {{.Status}}").Stdout
	for i := range n {
		if !regexp.MustCompile(`(?m)^par` + fmt.Sprintf("%02d", i) + ` Up`).MatchString(names) {
			t.Errorf("par%02d not Up in ps:\n%s", i, names)
		}
	}
	start = time.Now()
	res := m.Must(append([]string{"rm", "-f"}, m.IDs()...)...)
	t.Logf("rm -f of %d: %v", n, time.Since(start).Round(time.Millisecond))
	if c := strings.Count(res.Stdout, "\n"); c != n {
		t.Errorf("rm -f printed %d lines, want %d", c, n)
	}
	m.AssertClean("after rm -f of 50")
}

// TestShimKilled: a container whose shim is SIGKILLed shows as Exited (137)
// and `rm` cleans it up fully: no runtime state, mount, process or cgroup.
func TestShimKilled(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	id := m.RunD("--name", "orphan", "busybox", "sh", "-c", "while true; do echo tick; sleep 1; done")
	in := m.Inspect("orphan")
	b, err := os.ReadFile(filepath.Join(m.RunRoot, "c", id[:12], "shim.pid"))
	if err != nil {
		t.Fatal(err)
	}
	shimPid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("shim.pid %q: %v", b, err)
	}
	if args, _ := harness.Cmdline(shimPid); len(args) == 0 || filepath.Base(args[0]) != "shim" || !strings.Contains(strings.Join(args, " "), id) {
		t.Fatalf("shim.pid %d is not the shim of %s: %q", shimPid, id, args)
	}
	cgDirs := harness.MustCgroups(t, in.State.Pid).Dirs()
	if err := syscall.Kill(shimPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	harness.WaitProcessGone(t, shimPid)

	var st string
	if !harness.Poll(15*time.Second, func() bool { st = m.Status("orphan"); return strings.HasPrefix(st, "Exited") }) {
		t.Errorf("ps -a status with the shim killed: %q, want Exited (137)", st)
	} else if !strings.HasPrefix(st, "Exited (137)") {
		t.Errorf("ps -a status with the shim killed: %q, want Exited (137)", st)
	}
	if in := m.Inspect("orphan"); in.State.Running || in.State.ExitCode != 137 {
		t.Errorf("inspect with the shim killed: %+v, want exited 137", in.State)
	}
	res := m.Run("rm", "orphan")
	if res.Code != 0 {
		t.Errorf("rm of the orphaned container: %s", res)
		m.Run("rm", "-f", "orphan")
	}
	if !harness.ProcessGone(in.State.Pid) {
		t.Errorf("the container's process %d outlived rm", in.State.Pid)
		_ = syscall.Kill(in.State.Pid, syscall.SIGKILL)
	}
	for _, d := range cgDirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s left after rm", d)
		}
	}
	m.AssertClean("after rm of the orphaned container")
}

// TestLeakCheckDetects proves the leak check is not vacuous: while a
// container runs it must report its mount, shim, state dirs, runtime state,
// netns, bridge port, iptables rules and cgroups. (A published port is what
// gives a container iptables rules of its own: portmap's DNAT chain.)
func TestLeakCheckDetects(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	id := m.RunD("-p", "80", "busybox", "sleep", "1000")
	leaks := strings.Join(m.Leaks(), "\n")
	for _, want := range []string{
		"mount: " + filepath.Join(m.RunRoot, "c", id[:12], "rootfs") + " (overlay)",
		"mount: " + filepath.Join(m.RunRoot, "netns", id[:12]),
		"left in " + filepath.Join(m.RunRoot, "c") + ": " + id[:12],
		"left in " + filepath.Join(m.Root, "containers") + ": " + id,
		"left in " + filepath.Join(m.RunRoot, "runtime") + ": " + id,
		"cgroup: ",
		"bridge " + m.Bridge + " port: veth",
		"iptables: ",
	} {
		if !strings.Contains(leaks, want) {
			t.Errorf("leak check misses %q; it reported:\n%s", want, leaks)
		}
	}
	if !regexp.MustCompile(`(?m)^process \d+: \S*/shim .*` + id).MatchString(leaks) {
		t.Errorf("leak check misses the shim; it reported:\n%s", leaks)
	}
}

// TestCleanupOfRemovedContainer: the exit command a shim runs may come
// after its container was removed, even after its whole data root was: it
// does nothing then, and makes no root again.
func TestCleanupOfRemovedContainer(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	gone := filepath.Join(m.Dir, "removed-root")
	id := strings.Repeat("ab", 32)
	if res := m.Run("--root", gone, "container", "cleanup", "--rm", id); res.Code != 0 {
		t.Fatalf("cleanup of a removed container: %s", res)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("cleanup made %s (stat: %v)", gone, err)
	}
}

// TestRunRmEvents: a foreground run --rm reports its whole life, in order,
// with the exit code on die.
func TestRunRmEvents(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	since := time.Now().Add(-time.Second).Unix()
	if res := m.Run("run", "--rm", "--name", "evt", "busybox", "sh", "-c", "exit 5"); res.Code != 5 {
		t.Fatalf("run --rm: %s, want exit 5", res)
	}
	out := m.Must("events", "--since", strconv.FormatInt(since, 10), "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
		"--filter", "container=evt", "--format", `{{.Action}} {{index .Actor.Attributes "exitCode"}}`).Stdout
	if got, want := strings.Fields(out), []string{"create", "start", "die", "5", "destroy"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events %q, want %q", got, want)
	}
	m.AssertClean("after run --rm")
}
