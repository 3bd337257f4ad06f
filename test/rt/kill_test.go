//go:build integration && linux

package rt

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// trapScript installs handlers that record the signal's name in /out/sig
// and exit, then reports readiness and waits. (PID 1 of a pid namespace only
// receives signals it handles, so the traps are what makes TERM & co. work.)
const trapScript = `
for s in TERM USR1 USR2 HUP INT; do trap "echo $s > /out/sig; exit 0" $s; done
echo ready > /out/ready
while :; do sleep 1 & wait $!; done`

// TestKillSignalSpellings: kill accepts a signal by name, SIG-prefixed name
// or number, and delivers it to the container's init; without a signal it
// sends SIGTERM.
func TestKillSignalSpellings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		arg  string // "" = no signal argument
		want string
	}{
		{"", "TERM"},
		{"TERM", "TERM"},
		{"SIGTERM", "TERM"},
		{"15", "TERM"},
		{"USR1", "USR1"},
		{"SIGUSR1", "USR1"},
		{"10", "USR1"},
		{"HUP", "HUP"},
		{"1", "HUP"},
		{"SIGINT", "INT"},
		{"USR2", "USR2"},
	}
	for _, tc := range cases {
		name := tc.arg
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := harness.NewRuntime(t)
			b := harness.NewBundle(t)
			out := b.OutDir("/out")
			b.Edit(harness.WithShell(trapScript))
			id := harness.ID(t)
			r.StartRunning(id, b)
			harness.WaitFile(t, filepath.Join(out, "ready"))

			args := []string{"kill", id}
			if tc.arg != "" {
				args = append(args, tc.arg)
			}
			r.MustRun(args...)
			if got := strings.TrimSpace(harness.WaitFile(t, filepath.Join(out, "sig"))); got != tc.want {
				t.Errorf("container received %s, want %s", got, tc.want)
			}
			r.WaitStatus(id, specs.StateStopped)
		})
	}
}

// TestKillKILL: SIGKILL in any spelling stops the container even though
// its init cannot handle it.
func TestKillKILL(t *testing.T) {
	t.Parallel()
	for _, sig := range []string{"KILL", "SIGKILL", "9"} {
		t.Run(sig, func(t *testing.T) {
			t.Parallel()
			r, id, st, _ := sleeper(t)
			r.MustRun("kill", id, sig)
			r.WaitStatus(id, specs.StateStopped)
			harness.WaitProcessGone(t, st.Pid)
		})
	}
}

// TestKillAll: with the host's pid namespace, `kill --all` signals every
// process of the container (init and exec'd ones), leaving its cgroup
// empty.
//
// runc 1.1 signals all processes only with --all; runc ≥1.2 (and so rt) does
// it for any kill of a container without its own pid namespace and keeps
// --all as an accepted no-op flag. Passing --all covers both.
func TestKillAll(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"), harness.WithoutNamespace(specs.PIDNamespace))
	id := harness.ID(t)
	st := r.StartRunning(id, b)
	for i := 0; i < 3; i++ {
		execDetached(t, r, id, "sleep", "1001")
	}
	cg := harness.MustCgroups(t, st.Pid)
	procs := cgroupProcs(t, cg)
	if len(procs) < 4 {
		t.Fatalf("expected init + 3 exec'd processes in the cgroup, got %v", procs)
	}

	r.MustRun("kill", "--all", id, "KILL")
	for _, pid := range procs {
		harness.WaitProcessGone(t, pid)
	}
	r.WaitStatus(id, specs.StateStopped)
	harness.Poll(harness.DefaultTimeout, func() bool { return len(cgroupProcs(t, cg)) == 0 })
	if left := cgroupProcs(t, cg); len(left) > 0 {
		t.Errorf("processes left in the container's cgroup: %v", left)
	}
}

// TestKillStoppedFails: signalling a stopped container is an error.
func TestKillStoppedFails(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithShell("exit 0"))
	id := harness.ID(t)
	if res := r.Run("run", "--keep", "--bundle", b.Dir, id); res.ExitCode != 0 {
		t.Fatalf("run --keep: %s", res)
	}
	harness.OneLineError(t, r.Run("kill", id, "KILL"))
	if st := r.MustState(id); st.Status != specs.StateStopped {
		t.Errorf("status %q, want stopped", st.Status)
	}
}

// cgroupProcs lists the pids in the container's pids (or, on v2, unified)
// cgroup.
func cgroupProcs(t *testing.T, cg *harness.Cgroups) []int {
	t.Helper()
	p, err := cg.Path("pids", "cgroup.procs", "cgroup.procs")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil // cgroup removed: no processes
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}
