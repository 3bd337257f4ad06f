//go:build integration && linux

package rt

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestRunExitCode: a foreground run exits with the container process's exit
// code, and (without --keep) removes the container completely.
func TestRunExitCode(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 1, 3, 42, 255} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			r := harness.NewRuntime(t)
			b := harness.NewBundle(t, harness.WithShell(fmt.Sprintf("exit %d", code)))
			id := harness.ID(t)
			res := r.Run("run", "--bundle", b.Dir, id)
			if res.ExitCode != code {
				t.Fatalf("exit code %d, want %d: %s", res.ExitCode, code, res)
			}
			harness.AssertNothingLeft(t, r, id, b.Dir)
		})
	}
}

// TestRunStdio: without a terminal the container's stdin, stdout and stderr
// are the runtime's own.
func TestRunStdio(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithShell(`read line; echo "out:$line"; echo "err:$line" >&2`))
	id := harness.ID(t)
	res := r.RunWith(harness.Opts{Stdin: strings.NewReader("hello\n")}, "run", "--bundle", b.Dir, id)
	if res.ExitCode != 0 {
		t.Fatalf("run: %s", res)
	}
	if strings.TrimSpace(res.Stdout) != "out:hello" {
		t.Errorf("stdout %q, want %q", res.Stdout, "out:hello\n")
	}
	if !strings.Contains(res.Stderr, "err:hello") {
		t.Errorf("stderr %q lacks %q", res.Stderr, "err:hello")
	}
}

// TestRunKilledBySignal: when the container's process is killed by a signal
// the foreground run exits with 128+signal.
func TestRunKilledBySignal(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	id := harness.ID(t)

	p := r.StartWith(harness.Opts{}, "run", "--bundle", b.Dir, id)
	r.WaitStatus(id, specs.StateRunning)
	r.MustRun("kill", id, "KILL")
	res := p.Wait()
	if res.ExitCode != 128+int(syscall.SIGKILL) {
		t.Errorf("exit code %d, want %d: %s", res.ExitCode, 128+int(syscall.SIGKILL), res)
	}
	harness.AssertNothingLeft(t, r, id, b.Dir)
}

// TestRunDetach: run --detach returns at once with the container running;
// the container keeps the runtime's stdout.
func TestRunDetach(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithShell(`echo detached-output; exec sleep 1000`))
	id := harness.ID(t)
	pidFile := filepath.Join(t.TempDir(), "pid")

	p := r.StartWith(harness.Opts{}, "run", "--detach", "--pid-file", pidFile, "--bundle", b.Dir, id)
	if res := p.Wait(); res.ExitCode != 0 {
		t.Fatalf("run --detach: %s", res)
	}
	st := r.MustState(id)
	if st.Status != specs.StateRunning {
		t.Fatalf("status %q, want running", st.Status)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(st.Pid) {
		t.Errorf("pid file %q (err %v), want %d", data, err, st.Pid)
	}
	if !harness.Poll(harness.DefaultTimeout, func() bool { return strings.Contains(p.Stdout(), "detached-output") }) {
		t.Errorf("detached container's output did not reach the runtime's stdout: %q", p.Stdout())
	}
}

// TestRunKeep: run --keep leaves the stopped container (state "stopped")
// until it is deleted; delete then removes everything.
func TestRunKeep(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithShell("exit 5"))
	id := harness.ID(t)

	res := r.Run("run", "--keep", "--bundle", b.Dir, id)
	if res.ExitCode != 5 {
		t.Fatalf("exit code %d, want 5: %s", res.ExitCode, res)
	}
	st := r.MustState(id)
	if st.Status != specs.StateStopped {
		t.Fatalf("status %q, want stopped", st.Status)
	}
	if len(harness.FindCgroupDirs(id)) == 0 {
		t.Errorf("run --keep removed the container's cgroups before delete")
	}
	r.MustRun("delete", id)
	harness.AssertNothingLeft(t, r, id, b.Dir)
}

// TestRunProcessConfig: the process section of config.json is honoured
// (env, cwd, user, groups, rlimits, no_new_privs, read-only root).
func TestRunProcessConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   []harness.SpecOpt
		script string
		want   string
	}{
		{"env", []harness.SpecOpt{harness.WithEnv("BERTH_X=forty two")}, `echo "$BERTH_X"`, "forty two"},
		{"path-from-env", nil, `echo "$PATH"`, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		{"cwd", []harness.SpecOpt{harness.WithCwd("/usr/bin")}, `pwd`, "/usr/bin"},
		{"user", []harness.SpecOpt{harness.WithUser(65534, 65534)}, `echo $(id -u):$(id -g)`, "65534:65534"},
		{"user-without-passwd-entry", []harness.SpecOpt{harness.WithUser(1234, 5678)}, `echo $(id -u):$(id -g)`, "1234:5678"},
		{"additional-gids", []harness.SpecOpt{harness.WithUser(1, 1, 65534, 4321)}, `id -G`, "1 4321 65534"},
		{"rlimit-nofile", nil, `ulimit -n`, "1024"},
		{"no-new-privileges", nil, `grep NoNewPrivs /proc/self/status | tr -s '\t ' ' '`, "NoNewPrivs: 1"},
		{"readonly-rootfs", nil, `touch /file 2>/dev/null && echo writable || echo readonly`, "readonly"},
		{"writable-rootfs", []harness.SpecOpt{harness.WithReadonlyRootfs(false)}, `touch /file && echo writable || echo readonly`, "writable"},
		{"pid-1", nil, `echo $$`, "1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := harness.NewRuntime(t)
			b := harness.NewBundle(t, append(tc.opts, harness.WithShell(tc.script))...)
			res := r.Run("run", "--bundle", b.Dir, harness.ID(t))
			if res.ExitCode != 0 {
				t.Fatalf("run: %s", res)
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
}

// groupSet normalises `id -G` output: sorted, without duplicates (runc ≥1.2
// may list a supplementary group twice; only membership matters).
func groupSet(s string) string {
	var ids []int
	for _, f := range strings.Fields(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return s
		}
		ids = append(ids, n)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]string, len(ids))
	for i, n := range ids {
		out[i] = strconv.Itoa(n)
	}
	return strings.Join(out, " ")
}
