//go:build integration && linux

package rt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// counterScript increments a counter in /out/count as fast as it can.
const counterScript = `i=0; while :; do i=$((i+1)); echo $i > /out/count.tmp; mv /out/count.tmp /out/count; done`

// freezerState returns "frozen" or "thawed" from the freezer cgroup (v1
// freezer.state, v2 cgroup.freeze).
func freezerState(t *testing.T, cg *harness.Cgroups) string {
	t.Helper()
	v := cg.MustRead(t, "freezer", "freezer.state", "cgroup.freeze")
	switch v {
	case "FROZEN", "1":
		return "frozen"
	case "THAWED", "0":
		return "thawed"
	}
	return v
}

// TestPauseResume: pause freezes every process of the container (state
// "paused", freezer frozen, no progress) and resume thaws it.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t)
	out := b.OutDir("/out")
	b.Edit(harness.WithShell(counterScript))
	id := harness.ID(t)
	st := r.StartRunning(id, b)
	cg := harness.MustCgroups(t, st.Pid)
	count := filepath.Join(out, "count")
	harness.WaitFile(t, count)
	if got := freezerState(t, cg); got != "thawed" {
		t.Fatalf("freezer before pause: %s", got)
	}

	r.MustRun("pause", id)
	if st := r.MustState(id); st.Status != "paused" {
		t.Fatalf("status after pause %q, want paused", st.Status)
	}
	if got := freezerState(t, cg); got != "frozen" {
		t.Errorf("freezer after pause: %s, want frozen", got)
	}
	// A frozen container makes no progress: the counter stays put. (This
	// can only fail if the freeze did not happen; it is no timing check.)
	before := readTrim(count)
	time.Sleep(300 * time.Millisecond)
	if after := readTrim(count); after != before {
		t.Errorf("counter moved while paused: %s → %s", before, after)
	}

	r.MustRun("resume", id)
	if st := r.MustState(id); st.Status != specs.StateRunning {
		t.Fatalf("status after resume %q, want running", st.Status)
	}
	if got := freezerState(t, cg); got != "thawed" {
		t.Errorf("freezer after resume: %s, want thawed", got)
	}
	if !harness.Poll(harness.DefaultTimeout, func() bool { return readTrim(count) != before }) {
		t.Errorf("counter did not move after resume")
	}
}

// TestPauseErrors: resume of a running container, pause of a stopped one
// and exec into a paused one are refused.
func TestPauseErrors(t *testing.T) {
	t.Parallel()
	r, id, _, _ := sleeper(t)

	harness.OneLineError(t, r.Run("resume", id))
	if st := r.MustState(id); st.Status != specs.StateRunning {
		t.Errorf("after refused resume: status %q", st.Status)
	}

	r.MustRun("pause", id)
	harness.OneLineError(t, r.Run("exec", id, "true"))
	if st := r.MustState(id); st.Status != "paused" {
		t.Errorf("after refused exec: status %q, want paused", st.Status)
	}
	r.MustRun("resume", id)

	r.MustRun("kill", id, "KILL")
	r.WaitStatus(id, specs.StateStopped)
	harness.OneLineError(t, r.Run("pause", id))
	harness.OneLineError(t, r.Run("resume", id))
	if st := r.MustState(id); st.Status != specs.StateStopped {
		t.Errorf("status %q, want stopped", st.Status)
	}
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}
