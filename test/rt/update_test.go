//go:build integration && linux

package rt

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

// cgroupCheck names a cgroup file (v1 controller+file, v2 file) and the
// value expected in it on each version.
type cgroupCheck struct {
	ctrl, v1File, v2File string
	v1Want, v2Want       string
}

func (c cgroupCheck) verify(t *testing.T, cg *harness.Cgroups) {
	t.Helper()
	got := cg.MustRead(t, c.ctrl, c.v1File, c.v2File)
	want := c.v1Want
	if _, v1 := cg.V1[c.ctrl]; !v1 {
		want = c.v2Want
	}
	if got != want {
		t.Errorf("%s (%s/%s) = %q, want %q", c.ctrl, c.v1File, c.v2File, got, want)
	}
}

// cpuWeight is the cgroup v2 cpu.weight for v1 cpu shares as runc ≥1.3 (and
// so rt) computes it; runc 1.1 used a linear mapping. Only v2 hosts see it.
func cpuWeight(shares uint64) string {
	l := math.Log2(float64(shares))
	return strconv.FormatUint(uint64(math.Ceil(math.Pow(10, (l*l+125*l)/612.0-7.0/34.0))), 10)
}

// TestUpdateFlags: each update flag rewrites the matching cgroup file of a
// running container.
func TestUpdateFlags(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		flags  []string
		checks []cgroupCheck
	}{
		{"memory", []string{"--memory", "64M"}, []cgroupCheck{{"memory", "memory.limit_in_bytes", "memory.max", "67108864", "67108864"}}},
		{"pids-limit", []string{"--pids-limit", "42"}, []cgroupCheck{{"pids", "pids.max", "pids.max", "42", "42"}}},
		{"cpu-share", []string{"--cpu-share", "512"}, []cgroupCheck{{"cpu", "cpu.shares", "cpu.weight", "512", cpuWeight(512)}}},
		{"cpu-quota-period", []string{"--cpu-quota", "50000", "--cpu-period", "100000"}, []cgroupCheck{
			{"cpu", "cpu.cfs_quota_us", "cpu.max", "50000", "50000 100000"},
		}},
		{"cpuset-cpus", []string{"--cpuset-cpus", "0"}, []cgroupCheck{{"cpuset", "cpuset.cpus", "cpuset.cpus", "0", "0"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, id, st, _ := sleeper(t)
			cg := harness.MustCgroups(t, st.Pid)
			r.MustRun(append(append([]string{"update"}, tc.flags...), id)...)
			for _, c := range tc.checks {
				c.verify(t, cg)
			}
		})
	}
}

// TestUpdateResourcesFile: update -r takes a JSON LinuxResources document,
// from a file or from stdin ("-").
func TestUpdateResourcesFile(t *testing.T) {
	t.Parallel()
	r, id, st, _ := sleeper(t)
	cg := harness.MustCgroups(t, st.Pid)

	path := filepath.Join(t.TempDir(), "resources.json")
	if err := os.WriteFile(path, []byte(`{"memory":{"limit":100663296},"pids":{"limit":17}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r.MustRun("update", "-r", path, id)
	cgroupCheck{"memory", "memory.limit_in_bytes", "memory.max", "100663296", "100663296"}.verify(t, cg)
	cgroupCheck{"pids", "pids.max", "pids.max", "17", "17"}.verify(t, cg)

	res := r.RunWith(harness.Opts{Stdin: strings.NewReader(`{"pids":{"limit":23}}`)}, "update", "-r", "-", id)
	if res.ExitCode != 0 {
		t.Fatalf("update -r -: %s", res)
	}
	cgroupCheck{"pids", "pids.max", "pids.max", "23", "23"}.verify(t, cg)
}

// TestUpdateEnforced: a lowered pids limit takes effect at once (forks
// past it fail inside the container) and a raised one lifts it.
func TestUpdateEnforced(t *testing.T) {
	t.Parallel()
	r, id, st, _ := sleeper(t)
	cg := harness.MustCgroups(t, st.Pid)
	const forks = `echo started; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 100 >/dev/null 2>&1 & done; echo all-forked`
	// (the sleeps must not hold the exec's stdio: a foreground exec relays
	// it through pipes and returns only when every holder has closed them)

	r.MustRun("update", "--pids-limit", "10", id)
	res := r.Run("exec", id, "sh", "-c", forks)
	if !strings.Contains(res.Stdout, "started") {
		t.Fatalf("exec'd shell did not run: %s", res)
	}
	if strings.Contains(res.Stdout, "all-forked") || !strings.Contains(res.Stderr, "fork") {
		t.Errorf("want the shell's forks to fail at pids limit 10: %s", res)
	}
	if cur, _ := strconv.Atoi(cg.MustRead(t, "pids", "pids.current", "pids.current")); cur > 10 {
		t.Errorf("pids.current %d above the limit 10", cur)
	}

	r.MustRun("update", "--pids-limit", "100", id)
	if res := r.Run("exec", id, "sh", "-c", forks); !strings.Contains(res.Stdout, "all-forked") {
		t.Errorf("forks failed after raising the pids limit to 100: %s", res)
	}
}

// TestUpdateUnknownFails: update of a missing container fails cleanly.
func TestUpdateUnknownFails(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	id := harness.ID(t)
	harness.OneLineError(t, r.Run("update", "--pids-limit", "10", id))
	harness.AssertNothingLeft(t, r, id, "")
}
