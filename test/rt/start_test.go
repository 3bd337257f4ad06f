//go:build integration && linux

package rt

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestStartExecsUserProcess: start turns the created init process into the
// configured process (same pid, args from config.json).
func TestStartExecsUserProcess(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	id := harness.ID(t)

	r.Create(id, b)
	pid := r.MustState(id).Pid
	r.MustRun("start", id)
	st := r.MustState(id)
	if st.Status != specs.StateRunning || st.Pid != pid {
		t.Fatalf("after start: status %q pid %d, want running pid %d", st.Status, st.Pid, pid)
	}
	var args []string
	harness.Poll(harness.DefaultTimeout, func() bool {
		args, _ = harness.Cmdline(pid)
		return reflect.DeepEqual(args, []string{"sleep", "1000"})
	})
	if !reflect.DeepEqual(args, []string{"sleep", "1000"}) {
		t.Errorf("init process runs %q, want [sleep 1000]", args)
	}
}

// TestStartRunningFails: starting a running container is an error and
// leaves it running.
func TestStartRunningFails(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	id := harness.ID(t)

	st := r.StartRunning(id, b)
	res := r.Run("start", id)
	harness.OneLineError(t, res)
	if st2 := r.MustState(id); st2.Status != specs.StateRunning || st2.Pid != st.Pid {
		t.Errorf("after failed start: status %q pid %d, want running pid %d", st2.Status, st2.Pid, st.Pid)
	}
}
