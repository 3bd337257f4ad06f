//go:build integration && linux

package rt

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// waitForExitScript runs until the host creates /out/exit, after noting that
// it started in /out/started.
const waitForExitScript = `echo started > /out/started; while [ ! -e /out/exit ]; do sleep 0.05; done; exit 0`

// TestStateLifecycle walks a container through created → running → stopped
// → deleted and checks `state` at every step, including that the runtime
// keeps its state under --root and that delete leaves nothing behind.
func TestStateLifecycle(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t)
	out := b.OutDir("/out")
	b.Edit(harness.WithShell(waitForExitScript))
	id := harness.ID(t)

	r.Create(id, b)
	st := r.MustState(id)
	if st.Status != specs.StateCreated {
		t.Fatalf("after create: status %q, want created", st.Status)
	}
	if st.Pid <= 0 {
		t.Fatalf("after create: pid %d, want > 0", st.Pid)
	}
	if harness.ProcessGone(st.Pid) {
		t.Fatalf("after create: init pid %d does not exist", st.Pid)
	}
	if _, err := os.Stat(filepath.Join(out, "started")); err == nil {
		t.Fatalf("the container process ran before start")
	}
	if _, err := os.Stat(filepath.Join(r.Root, id)); err != nil {
		t.Errorf("no state directory for %s under --root %s: %v", id, r.Root, err)
	}
	cgDirs := harness.MustCgroups(t, st.Pid).Dirs()
	createdPid := st.Pid

	r.MustRun("start", id)
	st = r.MustState(id)
	if st.Status != specs.StateRunning {
		t.Fatalf("after start: status %q, want running", st.Status)
	}
	if st.Pid != createdPid {
		t.Errorf("after start: pid %d, want the created pid %d", st.Pid, createdPid)
	}
	harness.WaitFile(t, filepath.Join(out, "started"))

	if err := os.WriteFile(filepath.Join(out, "exit"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st = r.WaitStatus(id, specs.StateStopped)
	if st.ID != id {
		t.Errorf("stopped state id %q, want %q", st.ID, id)
	}
	harness.WaitProcessGone(t, createdPid)

	r.MustRun("delete", id)
	harness.AssertNothingLeft(t, r, id, b.Dir, cgDirs...)
}

// TestStateOCIFields checks that `state` prints an OCI state object: the
// required keys with the right values, and the config's annotations.
func TestStateOCIFields(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t,
		harness.WithArgs("sleep", "1000"),
		harness.WithAnnotation("org.berth.test", "state-annotation"))
	id := harness.ID(t)
	r.Create(id, b)

	st := r.MustState(id)
	for _, key := range []string{"ociVersion", "id", "status", "pid", "bundle"} {
		if _, ok := st.Raw[key]; !ok {
			t.Errorf("state lacks required key %q: %s", key, harness.PrettyJSON(st.Raw))
		}
	}
	if !regexp.MustCompile(`^1\.\d+\.\d+`).MatchString(st.Version) {
		t.Errorf("ociVersion %q is not a 1.x.y version", st.Version)
	}
	if st.ID != id {
		t.Errorf("id %q, want %q", st.ID, id)
	}
	if st.Status != specs.StateCreated {
		t.Errorf("status %q, want created", st.Status)
	}
	if st.Bundle != b.Dir {
		t.Errorf("bundle %q, want %q (absolute path)", st.Bundle, b.Dir)
	}
	if got := st.Annotations["org.berth.test"]; got != "state-annotation" {
		t.Errorf("annotation org.berth.test = %q, want %q (annotations: %v)", got, "state-annotation", st.Annotations)
	}

	r.MustRun("start", id)
	if st := r.MustState(id); st.Status != specs.StateRunning || st.Pid <= 0 {
		t.Errorf("after start: status %q pid %d, want running with a pid", st.Status, st.Pid)
	}
}
