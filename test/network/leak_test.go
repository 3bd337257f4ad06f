//go:build integration && linux

package network

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// hostCounts are the host-wide and per-installation figures the leak test
// compares with its baseline.
type hostCounts struct {
	Veths     int // ip -o link show type veth
	NsMounts  int // nsfs mounts under the test's dir in /proc/self/mountinfo
	Leases    int // host-local lease files of the test's "bridge"
	Cache     int // libcni cached results
	Iptables  int // iptables-save lines
	Nft       int // nft list ruleset lines (-1: nft not installed)
	NetnsFile int // files in $MGR_RUNROOT/netns
	OwnVeths  int // veths enslaved to the test's bridge
	OwnRules  int // iptables-save lines naming the test's subnet
}

// same compares the test's own figures strictly and the host-wide ones
// (veths, iptables, nft lines) only when nothing else changed them: other
// suites (test/mgr) may run on the host at the same time.
func (c hostCounts) same(base hostCounts, t *testing.T) bool {
	own := func(h hostCounts) hostCounts {
		h.Veths, h.Iptables, h.Nft = 0, 0, 0
		return h
	}
	if own(c) != own(base) {
		return false
	}
	if c != base {
		t.Logf("host-wide counts differ (%+v vs baseline %+v) while the test's own are back: another process changed them", c, base)
	}
	return true
}

func (m *Mgr) counts() hostCounts {
	m.t.Helper()
	var c hostCounts
	out, err := exec.Command("ip", "-o", "link", "show", "type", "veth").Output()
	if err != nil {
		m.t.Fatalf("ip link: %v", err)
	}
	c.Veths = countLines(string(out))
	mis, err := harness.ReadMountInfo("self")
	if err != nil {
		m.t.Fatal(err)
	}
	for _, mi := range mis {
		if mi.FSType == "nsfs" && strings.HasPrefix(mi.MountPoint, m.Dir+"/") {
			c.NsMounts++
		}
	}
	c.Leases = len(m.Leases("bridge"))
	c.Cache = len(m.CacheEntries())
	c.NetnsFile = len(m.NetNSFiles())
	c.OwnVeths = len(BridgePorts(m.Bridge))
	out, err = exec.Command("iptables-save").Output()
	if err != nil {
		m.t.Fatalf("iptables-save: %v", err)
	}
	c.Iptables = countLines(string(out))
	c.OwnRules = strings.Count(string(out), m.Prefix)
	c.Nft = -1
	if _, err := exec.LookPath("nft"); err == nil {
		out, err := exec.Command("nft", "list", "ruleset").Output()
		if err != nil {
			m.t.Fatalf("nft list ruleset: %v", err)
		}
		c.Nft = countLines(string(out))
	}
	return c
}

func countLines(s string) int { return strings.Count(s, "\n") }

// TestLeaks: after a warm-up run, 100 `run --rm busybox true` on the
// test's bridge network bring every count back to the baseline; so do 20
// managers kill -9'ed at a random point (20-200 ms) of `run -d ... sleep
// 30` or `run --rm ... sleep 2`, followed by `rm -f` of what `ps -aq`
// lists and `container prune -f`. No shim of the test may remain.
// Not parallel: iptables and veth counts are host-wide.
func TestLeaks(t *testing.T) {
	m := newMgr(t)
	m.Must("run", "--rm", "busybox", "true") // warm-up: bridge, iptables chains
	base := m.counts()
	t.Logf("baseline: %+v", base)
	if base.Leases != 0 || base.Cache != 0 || base.NsMounts != 0 || base.NetnsFile != 0 {
		t.Fatalf("baseline after a --rm run is not empty: %+v", base)
	}

	const cycles, kills = 100, 20
	start := time.Now()
	for i := range cycles {
		if res := m.Run("run", "--rm", "busybox", "true"); res.Code != 0 {
			t.Fatalf("cycle %d: %s", i, res)
		}
	}
	took := time.Since(start)
	t.Logf("%d x run --rm busybox true: %v (%v per run)", cycles, took.Round(time.Millisecond), (took / cycles).Round(time.Millisecond))
	if got := m.counts(); !got.same(base, t) {
		t.Errorf("after %d runs: %+v, baseline %+v", cycles, got, base)
	}

	start = time.Now()
	for i := range kills {
		args := []string{"run", "-d", "--name", fmt.Sprintf("k%d", i), "busybox", "sleep", "30"}
		if i%2 == 1 {
			args = []string{"run", "--rm", "--name", fmt.Sprintf("k%d", i), "busybox", "sleep", "2"}
		}
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		cmd := m.Command(ctx, args...)
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rand.IntN(181)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		cancel()
	}
	ids := m.IDs()
	t.Logf("%d managers killed; %d containers recorded afterwards", kills, len(ids))
	if len(ids) > 0 {
		m.Must(append([]string{"rm", "-f"}, ids...)...)
	}
	m.Must("container", "prune", "-f")
	t.Logf("kill cycles and cleanup: %v", time.Since(start).Round(time.Millisecond))
	var got hostCounts
	if !harness.Poll(5*time.Second, func() bool { got = m.counts(); return got.same(base, t) }) {
		t.Errorf("after %d killed managers, rm -f and prune: %+v, baseline %+v", kills, got, base)
	}
	if left := m.IDs(); len(left) > 0 {
		t.Errorf("containers left after rm -f and prune: %v", left)
	}
	var procs []harness.HostProc
	if !harness.Poll(5*time.Second, func() bool { procs = m.processes(); return len(procs) == 0 }) {
		for _, p := range procs {
			t.Errorf("process left: %d %s", p.Pid, strings.Join(p.Args, " "))
		}
	}
	m.AssertClean("after the kill cycles")
}
