//go:build integration && linux

package mgr

import (
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestResourceLimits: --memory kills (OOMKilled in inspect), --pids-limit
// stops a fork loop, and --memory/--cpus/--pids-limit land in the
// container's cgroup files.
func TestResourceLimits(t *testing.T) {
	t.Parallel()
	m := newMgr(t)

	t.Run("memory OOM", func(t *testing.T) {
		t.Parallel()
		m := m.T(t)
		// the shell holds 100 MB of 'a' from the substitution: over 32m
		// (and over memory+swap, which docker sets to twice the limit)
		res := m.Run("run", "--name", "oom", "--memory", "32m", "busybox", "sh", "-c", `x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived`)
		if res.Code != 137 {
			t.Errorf("exit %d, want 137 (SIGKILL by the OOM killer): %s", res.Code, res)
		}
		if strings.Contains(res.Stdout, "survived") {
			t.Errorf("the allocation succeeded under --memory 32m: %s", res)
		}
		in := m.Inspect("oom")
		if !in.State.OOMKilled || in.State.ExitCode != 137 {
			t.Errorf("inspect State %+v, want OOMKilled true and ExitCode 137", in.State)
		}
		if in.HostConfig.Memory != 32<<20 {
			t.Errorf("inspect HostConfig.Memory %d, want %d", in.HostConfig.Memory, 32<<20)
		}
		// docker's events for it: oom, then die with the exit code.
		ev := m.Must("events", "--since", "5m", "--until", "0s", "--filter", "container=oom", "--filter", "event=oom", "--filter", "event=die",
			"--format", `{{.Action}} {{index .Actor.Attributes "exitCode"}}`)
		if ev.Stdout != "oom \ndie 137\n" {
			t.Errorf("mgr events: %q, want oom then die 137", ev.Stdout)
		}
	})

	t.Run("pids-limit stops a fork loop", func(t *testing.T) {
		t.Parallel()
		m := m.T(t)
		res := m.Run("run", "--rm", "--pids-limit", "10", "busybox", "sh", "-c",
			"for i in $(seq 1 30); do sleep 2 & done; wait; echo done")
		all := res.Stdout + res.Stderr
		if !strings.Contains(all, "can't fork") && !strings.Contains(all, "Resource temporarily unavailable") {
			t.Errorf("30 background sleeps under --pids-limit 10 all forked: %s", res)
		}
	})

	t.Run("cgroup files", func(t *testing.T) {
		t.Parallel()
		m := m.T(t)
		m.RunD("--name", "limited", "--memory", "48m", "--cpus", "0.5", "--pids-limit", "10", "busybox", "sleep", "1000")
		in := m.Inspect("limited")
		cg := harness.MustCgroups(t, in.State.Pid)
		if got := cg.MustRead(t, "pids", "pids.max", "pids.max"); got != "10" {
			t.Errorf("pids.max = %q, want 10", got)
		}
		if got := cg.MustRead(t, "memory", "memory.limit_in_bytes", "memory.max"); got != "50331648" {
			t.Errorf("memory limit = %q, want 50331648 (48m)", got)
		}
		if cg.Unified || cg.V1["cpu"] == "" {
			if got := cg.MustRead(t, "cpu", "", "cpu.max"); got != "50000 100000" {
				t.Errorf("cpu.max = %q, want \"50000 100000\"", got)
			}
		} else {
			quota := cg.MustRead(t, "cpu", "cpu.cfs_quota_us", "")
			period := cg.MustRead(t, "cpu", "cpu.cfs_period_us", "")
			if quota != "50000" || period != "100000" {
				t.Errorf("cpu.cfs_quota_us/cfs_period_us = %s/%s, want 50000/100000", quota, period)
			}
		}
		if in.HostConfig.NanoCpus != 500000000 || in.HostConfig.PidsLimit == nil || *in.HostConfig.PidsLimit != 10 {
			t.Errorf("inspect HostConfig NanoCpus %d PidsLimit %v, want 500000000 and 10", in.HostConfig.NanoCpus, in.HostConfig.PidsLimit)
		}
	})
}
