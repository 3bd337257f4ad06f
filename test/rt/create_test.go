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

// TestCreateDoesNotRunProcess: after create the init process exists, sits in
// the container's namespaces and cgroups, but the user process has not run;
// it runs only after start.
func TestCreateDoesNotRunProcess(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t)
	out := b.OutDir("/out")
	b.Edit(harness.WithShell(`echo ran > /out/ran; sleep 1000`))
	id := harness.ID(t)

	r.Create(id, b)
	st := r.MustState(id)
	if st.Status != specs.StateCreated || st.Pid <= 0 {
		t.Fatalf("after create: status %q pid %d", st.Status, st.Pid)
	}
	// The init process is already isolated: its own pid and mount namespaces.
	for _, ns := range []string{"pid", "mnt", "uts", "ipc", "net"} {
		if harness.MustNamespace(t, st.Pid, ns) == harness.MustNamespace(t, "self", ns) {
			t.Errorf("created init process shares the host %s namespace", ns)
		}
	}
	if args, err := harness.Cmdline(st.Pid); err == nil && len(args) > 0 && args[0] == "sleep" {
		t.Errorf("created container already runs the user process: %q", args)
	}
	if _, err := os.Stat(filepath.Join(out, "ran")); err == nil {
		t.Fatal("user process ran before start")
	}

	r.MustRun("start", id)
	if got := strings.TrimSpace(harness.WaitFile(t, filepath.Join(out, "ran"))); got != "ran" {
		t.Errorf("marker content %q", got)
	}
}

// TestCreatePidFile: --pid-file receives the init pid, the same as state's.
func TestCreatePidFile(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	id := harness.ID(t)
	pidFile := filepath.Join(t.TempDir(), "init.pid")

	r.Create(id, b, "--pid-file", pidFile)
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("pid file not written: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file content %q is not a number", data)
	}
	if st := r.MustState(id); st.Pid != pid {
		t.Errorf("pid file says %d, state says %d", pid, st.Pid)
	}
}

// TestCreateBundleDefaultsToCwd: without --bundle the current directory is
// the bundle, and state reports it as an absolute path.
func TestCreateBundleDefaultsToCwd(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	id := harness.ID(t)

	res := r.RunWith(harness.Opts{Dir: b.Dir}, "create", id)
	if res.ExitCode != 0 {
		t.Fatalf("create in bundle dir: %s", res)
	}
	if st := r.MustState(id); st.Bundle != b.Dir {
		t.Errorf("bundle %q, want %q", st.Bundle, b.Dir)
	}
}

// TestCreateThenDelete: a created (never started) container can be deleted
// without --force; its init process, cgroups and state disappear.
func TestCreateThenDelete(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	id := harness.ID(t)

	r.Create(id, b)
	st := r.MustState(id)
	cg := harness.MustCgroups(t, st.Pid).Dirs()
	r.MustRun("delete", id)
	harness.WaitProcessGone(t, st.Pid)
	harness.AssertNothingLeft(t, r, id, b.Dir, cg...)
}

// TestCreateSameBundleTwoIDs: one bundle can back two containers with
// different ids; each gets its own init process and state.
func TestCreateSameBundleTwoIDs(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	id1, id2 := harness.ID(t), harness.ID(t)

	r.Create(id1, b)
	r.Create(id2, b)
	s1, s2 := r.MustState(id1), r.MustState(id2)
	if s1.Pid == s2.Pid {
		t.Errorf("two containers share init pid %d", s1.Pid)
	}
	if s1.Status != specs.StateCreated || s2.Status != specs.StateCreated {
		t.Errorf("statuses %q, %q; want created, created", s1.Status, s2.Status)
	}
}
