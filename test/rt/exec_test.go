//go:build integration && linux

package rt

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// sleeper starts a running container whose init runs `sleep 1000`, waits
// until the init has exec'd it (start may return a moment before), and
// returns the runtime, the id, the state and the bundle.
func sleeper(t *testing.T, opts ...harness.SpecOpt) (*harness.Runtime, string, harness.State, *harness.Bundle) {
	t.Helper()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, append([]harness.SpecOpt{harness.WithArgs("sleep", "1000")}, opts...)...)
	id := harness.ID(t)
	st := r.StartRunning(id, b)
	if len(b.Spec.Process.Args) > 0 {
		var got []string
		if !harness.Poll(harness.DefaultTimeout, func() bool {
			got, _ = harness.Cmdline(st.Pid)
			return reflect.DeepEqual(got, b.Spec.Process.Args)
		}) {
			t.Fatalf("container init %d runs %q, want %q", st.Pid, got, b.Spec.Process.Args)
		}
	}
	return r, id, st, b
}

// TestExec runs processes in one running container: exit codes, stdio and
// the exec flags that shape the process.
func TestExec(t *testing.T) {
	t.Parallel()
	r, id, _, _ := sleeper(t)

	t.Run("exit-code", func(t *testing.T) {
		r := r.T(t)
		for _, code := range []int{0, 1, 7, 255} {
			res := r.Run("exec", id, "sh", "-c", fmt.Sprintf("exit %d", code))
			if res.ExitCode != code {
				t.Errorf("exec exit %d: got %d: %s", code, res.ExitCode, res)
			}
		}
	})

	cases := []struct {
		name  string
		flags []string
		cmd   string
		want  string
	}{
		{"stdout", nil, `echo hello`, "hello"},
		{"env", []string{"--env", "BERTH_A=1", "--env", "BERTH_B=two words"}, `echo "$BERTH_A/$BERTH_B"`, "1/two words"},
		{"env-inherits-config", nil, `echo "$TERM"`, "xterm"},
		{"cwd", []string{"--cwd", "/tmp"}, `pwd`, "/tmp"},
		{"user-uid-gid", []string{"--user", "65534:65534"}, `echo $(id -u):$(id -g)`, "65534:65534"},
		{"user-uid-only", []string{"--user", "1000"}, `id -u`, "1000"},
		{"additional-gids", []string{"--user", "1:1", "--additional-gids", "4321"}, `id -G`, "1 4321"},
		{"in-pid-namespace", nil, `cat /proc/1/cmdline | tr '\0' ' '`, "sleep 1000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := r.T(t)
			args := append(append([]string{"exec"}, tc.flags...), id, "sh", "-c", tc.cmd)
			res := r.Run(args...)
			if res.ExitCode != 0 {
				t.Fatalf("exec: %s", res)
			}
			got := strings.TrimSpace(res.Stdout)
			if tc.name == "additional-gids" {
				got = groupSet(got)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q\n%s", got, tc.want, res)
			}
		})
	}

	t.Run("stderr", func(t *testing.T) {
		r := r.T(t)
		res := r.Run("exec", id, "sh", "-c", "echo oops >&2; exit 2")
		if res.ExitCode != 2 || !strings.Contains(res.Stderr, "oops") {
			t.Errorf("want exit 2 and stderr oops: %s", res)
		}
	})

	t.Run("stdin", func(t *testing.T) {
		r := r.T(t)
		res := r.RunWith(harness.Opts{Stdin: strings.NewReader("piped\n")}, "exec", id, "cat")
		if res.ExitCode != 0 || strings.TrimSpace(res.Stdout) != "piped" {
			t.Errorf("want stdin echoed back: %s", res)
		}
	})
}

// TestExecProcessFile: --process takes the whole process from a JSON file
// (args, env, cwd, user).
func TestExecProcessFile(t *testing.T) {
	t.Parallel()
	r, id, _, _ := sleeper(t)
	proc := specs.Process{
		Args: []string{"sh", "-c", `echo "$BERTH_P $(pwd) $(id -u)"; exit 4`},
		Env:  []string{"PATH=/bin:/usr/bin:/sbin:/usr/sbin", "BERTH_P=from-file"},
		Cwd:  "/etc",
		User: specs.User{UID: 1, GID: 1},
	}
	data, err := json.Marshal(proc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res := r.Run("exec", "--process", path, id)
	if res.ExitCode != 4 {
		t.Fatalf("exit %d, want 4: %s", res.ExitCode, res)
	}
	if got := strings.TrimSpace(res.Stdout); got != "from-file /etc 1" {
		t.Errorf("got %q, want %q", got, "from-file /etc 1")
	}
}

// TestExecDetachPidFile: exec --detach returns while the process runs; the
// pid file names it, and it lives in the container's namespaces and cgroups
// and shows up in ps.
func TestExecDetachPidFile(t *testing.T) {
	t.Parallel()
	r, id, st, _ := sleeper(t)
	pid := execDetached(t, r, id, "sleep", "999")
	for _, ns := range []string{"pid", "mnt", "net", "uts", "ipc"} {
		if a, b := harness.MustNamespace(t, pid, ns), harness.MustNamespace(t, st.Pid, ns); a != b {
			t.Errorf("exec'd process %s namespace %s, init's %s", ns, a, b)
		}
	}
	initCg, execCg := harness.MustCgroups(t, st.Pid), harness.MustCgroups(t, pid)
	if !reflect.DeepEqual(initCg.Dirs(), execCg.Dirs()) {
		t.Errorf("exec'd process cgroups %v, init's %v", execCg.Dirs(), initCg.Dirs())
	}
	pids := psPids(t, r, id)
	if !slices.Contains(pids, pid) || !slices.Contains(pids, st.Pid) {
		t.Errorf("ps --format json = %v, want both init %d and exec %d", pids, st.Pid, pid)
	}
}

// TestExecJoinsNamespaces: an exec'd process sees the container's
// namespaces, not the host's.
func TestExecJoinsNamespaces(t *testing.T) {
	t.Parallel()
	r, id, st, _ := sleeper(t)
	for _, ns := range []string{"pid", "mnt", "net", "uts", "ipc"} {
		res := r.Run("exec", id, "readlink", "/proc/self/ns/"+ns)
		if res.ExitCode != 0 {
			t.Fatalf("exec readlink: %s", res)
		}
		if got, want := strings.TrimSpace(res.Stdout), harness.MustNamespace(t, st.Pid, ns); got != want {
			t.Errorf("exec sees %s, init has %s", got, want)
		}
	}
}

// TestExecStoppedFails: exec into a stopped container fails with a one-line
// error and leaves the container as it was.
func TestExecStoppedFails(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithShell("exit 0"))
	id := harness.ID(t)
	if res := r.Run("run", "--keep", "--bundle", b.Dir, id); res.ExitCode != 0 {
		t.Fatalf("run --keep: %s", res)
	}
	res := r.Run("exec", id, "true")
	harness.OneLineError(t, res)
	if st := r.MustState(id); st.Status != specs.StateStopped {
		t.Errorf("status %q after failed exec, want stopped", st.Status)
	}
}

// execDetached runs `exec --detach --pid-file` and waits until the new
// process has exec'd args (the runtime may return while its helper is still
// setting the process up), then returns its pid.
func execDetached(t *testing.T, r *harness.Runtime, id string, args ...string) int {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.MustRun(append([]string{"exec", "--detach", "--pid-file", pidFile, id}, args...)...)
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		t.Fatalf("pid file content %q", data)
	}
	var got []string
	if !harness.Poll(harness.DefaultTimeout, func() bool {
		got, _ = harness.Cmdline(pid)
		return reflect.DeepEqual(got, args)
	}) {
		t.Fatalf("exec'd process %d runs %q, want %q", pid, got, args)
	}
	return pid
}

func psPids(t *testing.T, r *harness.Runtime, id string) []int {
	t.Helper()
	res := r.MustRun("ps", "--format", "json", id)
	var pids []int
	if err := json.Unmarshal([]byte(res.Stdout), &pids); err != nil {
		t.Fatalf("ps --format json is not a JSON array of pids: %v\n%s", err, res)
	}
	return pids
}
