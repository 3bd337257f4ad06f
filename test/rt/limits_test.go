//go:build integration && linux

package rt

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestMemoryLimit: the configured memory limit lands in the memory cgroup,
// and a process that allocates past it is OOM-killed (SIGKILL, counted in
// the cgroup's oom_kill) while the container itself survives; `events`
// reports the OOM.
func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	const limit = 32 << 20
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithMemoryLimit(limit))
	if harness.SwapAccounting() {
		b.Edit(harness.WithMemorySwap(limit)) // memory+swap = memory: no swap
	}
	out := b.OutDir("/out")
	// dd's 64 MiB block buffer is filled from /dev/zero: twice the limit.
	b.Edit(harness.WithShell(`while [ ! -e /out/go ]; do sleep 0.05; done
dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo $? > /out/rc; exec sleep 1000`))
	id := harness.ID(t)
	st := r.StartRunning(id, b)
	cg := harness.MustCgroups(t, st.Pid)
	cgroupCheck{"memory", "memory.limit_in_bytes", "memory.max", strconv.Itoa(limit), strconv.Itoa(limit)}.verify(t, cg)

	events := r.StartWith(harness.Opts{}, "events", "--interval", "100ms", id)
	defer func() { events.Kill(syscall.SIGKILL); events.Wait() }()
	// Two stats lines show the stream is up (and subscribed to OOM
	// notifications, which the runtime sets up when it starts streaming).
	if !harness.Poll(harness.DefaultTimeout, func() bool { return strings.Count(events.Stdout(), "\n") >= 2 }) {
		t.Fatalf("events stream printed nothing: %q (stderr %q)", events.Stdout(), events.Stderr())
	}

	if err := os.WriteFile(filepath.Join(out, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if rc := strings.TrimSpace(harness.WaitFile(t, filepath.Join(out, "rc"))); rc != strconv.Itoa(128+int(syscall.SIGKILL)) {
		t.Errorf("allocating twice the limit ended with %s, want 137 (OOM kill)", rc)
	}
	v1 := cg.V1["memory"] != ""
	file := "memory.events"
	if v1 {
		file = "memory.oom_control"
	}
	content := cg.MustRead(t, "memory", file, file)
	if n, ok := harness.KeyedValue(content, "oom_kill"); !ok || n < 1 {
		t.Errorf("%s has no oom_kill ≥ 1:\n%s", file, content)
	}
	if st := r.MustState(id); st.Status != specs.StateRunning {
		t.Errorf("container status %q after the OOM kill of a child, want running", st.Status)
	}
	if !harness.Poll(20*time.Second, func() bool { return strings.Contains(events.Stdout(), `"type":"oom"`) }) {
		t.Errorf("events did not report the OOM: %q (stderr %q)", events.Stdout(), events.Stderr())
	}
}

// TestPidsLimit: the configured pids limit lands in pids.max, and forking
// past it fails inside the container (pids.events counts the refusals).
func TestPidsLimit(t *testing.T) {
	t.Parallel()
	const limit = 8
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithPidsLimit(limit))
	out := b.OutDir("/out")
	// A child shell starts 20 background sleeps against a limit of 8 (init
	// and the child shell count too). busybox sh exits on a failed fork, so
	// the init shell survives to report the child's status.
	b.Edit(harness.WithShell(`sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 1000 & done' 2>/out/err
echo $? > /out/rc; echo done > /out/done; exec sleep 1000`))
	id := harness.ID(t)
	st := r.StartRunning(id, b)
	cg := harness.MustCgroups(t, st.Pid)
	cgroupCheck{"pids", "pids.max", "pids.max", strconv.Itoa(limit), strconv.Itoa(limit)}.verify(t, cg)

	harness.WaitFile(t, filepath.Join(out, "done"))
	cur, err := strconv.Atoi(cg.MustRead(t, "pids", "pids.current", "pids.current"))
	if err != nil || cur > limit || cur < 2 {
		t.Errorf("pids.current = %d (err %v), want 2..%d", cur, err, limit)
	}
	if errs, _ := os.ReadFile(filepath.Join(out, "err")); !strings.Contains(string(errs), "fork") {
		t.Errorf("the shell reported no fork failure: %q", errs)
	}
	if rc := readTrim(filepath.Join(out, "rc")); rc == "0" {
		t.Errorf("the forking shell succeeded despite the pids limit")
	}
	if ev, err := cg.Read("pids", "pids.events", "pids.events"); err == nil {
		if n, ok := harness.KeyedValue(ev, "max"); !ok || n < 1 {
			t.Errorf("pids.events max = %d, want ≥ 1:\n%s", n, ev)
		}
	}
}

// TestResourcesFromConfig: linux.resources in config.json are written to
// the cgroup files at create (before the process starts).
func TestResourcesFromConfig(t *testing.T) {
	t.Parallel()
	shares, quota, period := uint64(256), int64(20000), uint64(100000)
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"),
		harness.WithMemoryLimit(48<<20), harness.WithPidsLimit(33),
		harness.WithResources(func(res *specs.LinuxResources) {
			res.CPU = &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period, Cpus: "0"}
		}))
	id := harness.ID(t)
	r.Create(id, b)
	cg := harness.MustCgroups(t, r.MustState(id).Pid)
	for _, c := range []cgroupCheck{
		{"memory", "memory.limit_in_bytes", "memory.max", strconv.Itoa(48 << 20), strconv.Itoa(48 << 20)},
		{"pids", "pids.max", "pids.max", "33", "33"},
		{"cpu", "cpu.shares", "cpu.weight", "256", cpuWeight(256)},
		{"cpu", "cpu.cfs_quota_us", "cpu.max", "20000", "20000 100000"},
		{"cpu", "cpu.cfs_period_us", "cpu.max", "100000", "20000 100000"},
		{"cpuset", "cpuset.cpus", "cpuset.cpus", "0", "0"},
	} {
		c.verify(t, cg)
	}
}
