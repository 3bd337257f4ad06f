//go:build integration && linux

package rt

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestPsJSON: ps --format json lists exactly the container's pids (host
// pids), init and exec'd processes alike.
func TestPsJSON(t *testing.T) {
	t.Parallel()
	r, id, st, _ := sleeper(t)
	if pids := psPids(t, r, id); !slices.Equal(pids, []int{st.Pid}) {
		t.Errorf("ps = %v, want [%d]", pids, st.Pid)
	}
	execDetached(t, r, id, "sleep", "999")
	cg := harness.MustCgroups(t, st.Pid)
	want := cgroupProcs(t, cg)
	got := psPids(t, r, id)
	slices.Sort(want)
	slices.Sort(got)
	if len(got) != 2 || !slices.Equal(got, want) {
		t.Errorf("ps = %v, want the 2 processes of the cgroup %v", got, want)
	}
}

// TestPsTable: plain ps prints ps(1)'s table for the container's processes,
// and passes extra arguments to ps(1).
func TestPsTable(t *testing.T) {
	t.Parallel()
	r, id, st, _ := sleeper(t)

	res := r.MustRun("ps", id)
	lines := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
	if len(lines) != 2 || !slices.Contains(strings.Fields(lines[0]), "PID") {
		t.Fatalf("want a header with PID and one row:\n%s", res.Stdout)
	}
	pidCol := slices.Index(strings.Fields(lines[0]), "PID")
	if f := strings.Fields(lines[1]); len(f) <= pidCol || f[pidCol] != strconv.Itoa(st.Pid) {
		t.Errorf("row %q lacks init pid %d in column %d", lines[1], st.Pid, pidCol)
	}

	res = r.MustRun("ps", id, "-o", "pid,comm")
	lines = strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "PID COMMAND" {
		t.Fatalf("ps -o pid,comm: want header PID COMMAND and one row:\n%s", res.Stdout)
	}
	if f := strings.Fields(lines[1]); len(f) != 2 || f[0] != strconv.Itoa(st.Pid) || f[1] != "sleep" {
		t.Errorf("row %q, want %d sleep", lines[1], st.Pid)
	}
}
