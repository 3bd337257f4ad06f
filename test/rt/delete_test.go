//go:build integration && linux

package rt

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestDeleteStopped: delete of a stopped container removes its state,
// cgroups and mounts.
func TestDeleteStopped(t *testing.T) {
	t.Parallel()
	r, id, st, b := sleeper(t)
	cg := harness.MustCgroups(t, st.Pid).Dirs()
	r.MustRun("kill", id, "KILL")
	r.WaitStatus(id, specs.StateStopped)
	r.MustRun("delete", id)
	harness.AssertNothingLeft(t, r, id, b.Dir, cg...)
}

// TestDeleteRunningRefused: delete without --force refuses a running
// container and leaves it running.
func TestDeleteRunningRefused(t *testing.T) {
	t.Parallel()
	r, id, st, _ := sleeper(t)
	harness.OneLineError(t, r.Run("delete", id))
	if st2 := r.MustState(id); st2.Status != specs.StateRunning || st2.Pid != st.Pid {
		t.Errorf("after refused delete: status %q pid %d, want running pid %d", st2.Status, st2.Pid, st.Pid)
	}
	if harness.ProcessGone(st.Pid) {
		t.Errorf("refused delete killed init %d", st.Pid)
	}
}

// TestDeleteForce: delete --force kills and removes a container in any
// live state.
func TestDeleteForce(t *testing.T) {
	t.Parallel()
	for _, state := range []specs.ContainerState{specs.StateCreated, specs.StateRunning, "paused", specs.StateStopped} {
		t.Run(string(state), func(t *testing.T) {
			t.Parallel()
			r := harness.NewRuntime(t)
			b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
			id := harness.ID(t)
			r.Create(id, b)
			st := r.MustState(id)
			cg := harness.MustCgroups(t, st.Pid).Dirs()
			switch state {
			case specs.StateRunning:
				r.MustRun("start", id)
			case "paused":
				r.MustRun("start", id)
				r.MustRun("pause", id)
			case specs.StateStopped:
				r.MustRun("start", id)
				r.MustRun("kill", id, "KILL")
			}
			r.WaitStatus(id, state)

			r.MustRun("delete", "--force", id)
			harness.WaitProcessGone(t, st.Pid)
			harness.AssertNothingLeft(t, r, id, b.Dir, cg...)
		})
	}
}

// TestDeleteForceUnknown: delete --force of an id that does not exist
// succeeds (it is idempotent); plain delete fails.
func TestDeleteForceUnknown(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	id := harness.ID(t)
	if res := r.Run("delete", "--force", id); res.ExitCode != 0 {
		t.Errorf("delete --force of unknown id: %s", res)
	}
	harness.OneLineError(t, r.Run("delete", id))
	harness.AssertNothingLeft(t, r, id, "")
}

// TestDeleteForceWithExecProcesses: delete --force also copes with
// processes exec'd into the container, whether they still run or have
// exited (an exited one stays a zombie under an init that never reaps).
func TestDeleteForceWithExecProcesses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		wait bool
	}{
		{"exec-running", true},
		{"exec-exited", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, id, st, b := sleeper(t)
			cg := harness.MustCgroups(t, st.Pid)
			if tc.wait {
				execDetached(t, r, id, "sleep", "999")
			} else {
				r.MustRun("exec", "--detach", id, "true")
			}
			procs := cgroupProcs(t, cg)
			r.MustRun("delete", "--force", id)
			for _, pid := range procs {
				harness.WaitProcessGone(t, pid)
			}
			harness.AssertNothingLeft(t, r, id, b.Dir, cg.Dirs()...)
		})
	}
}
