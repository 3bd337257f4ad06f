//go:build integration && linux

package shim_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/berthrun/berth/shim/api"
)

// With ReadyDelete the shim starts the runtime's delete beside the create
// (rt's delete --wait-stdin) and lets it finish the container after the
// exit; runc and crun lack the flag and are deleted the usual way. Either
// way the exit is recorded as without it, nothing of the container is left
// and no waiting delete outlives the shim.
func TestReadyDelete(t *testing.T) {
	t.Parallel()
	type tc struct {
		name    string
		runtime string
		opts    []specOpt
		code    int
		oom     bool
	}
	var cases []tc
	for name := range runtimes {
		cases = append(cases, tc{name: "exit", runtime: name, opts: []specOpt{withShell("exit 7")}, code: 7})
	}
	// A memory limit takes the create, OOM counter, start path.
	cases = append(cases, tc{name: "oom", runtime: "rt", code: 137, oom: true, opts: []specOpt{
		withShell("dd if=/dev/zero bs=1M count=256 2>/dev/null | tail >/dev/null"), withMemory(16 << 20)}})
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.runtime, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, tc.runtime, tc.opts...)
			c.opts.Start = true
			c.opts.ReadyDelete = true
			ctx := ctxT(t)
			c.launch(ctx)
			if !waitGone(c.launched.ShimPid) {
				t.Fatal("shim still running")
			}
			ex, err := api.ReadExit(c.state)
			if err != nil {
				t.Fatal(err)
			}
			if ex.ExitCode != tc.code || ex.OOMKilled != tc.oom {
				t.Errorf("exit %+v, want code %d oom %v", ex, tc.code, tc.oom)
			}
			if c.runtimeKnows() {
				t.Error("runtime state left")
			}
			if pids := waitingDeletes(t, c.id); len(pids) > 0 {
				t.Errorf("waiting delete left: pids %v", pids)
			}
			log, _ := os.ReadFile(filepath.Join(c.state, api.ShimLogFile))
			fellBack := bytes.Contains(log, []byte("ready delete"))
			if want := tc.runtime != "rt"; fellBack != want {
				t.Errorf("shim log mentions the ready delete failing: %v, want %v:\n%s", fellBack, want, log)
			}
		})
	}
}

// The shim dies while its ready delete waits: the delete sees its stdin
// close and leaves the container running, as a killed shim always does;
// Cleanup then removes it.
func TestReadyDeleteShimKilled(t *testing.T) {
	t.Parallel()
	c := newCtr(t, "rt", withArgs("sleep", "1000"))
	c.opts.Start = true
	c.opts.ReadyDelete = true
	ctx := ctxT(t)
	c.launch(ctx)
	if !poll(10e9, func() bool { return len(waitingDeletes(t, c.id)) == 1 }) {
		t.Fatal("no waiting delete beside the container")
	}
	if err := syscall.Kill(c.launched.ShimPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitGone(c.launched.ShimPid) {
		t.Fatal("shim survived SIGKILL")
	}
	if !poll(10e9, func() bool { return len(waitingDeletes(t, c.id)) == 0 }) {
		t.Fatal("the waiting delete outlived its shim")
	}
	if !c.runtimeKnows() || !alive(c.launched.Pid) {
		t.Fatal("the container was deleted with its shim gone")
	}
	if err := api.Cleanup(ctx, api.CleanupOptions{StateDir: c.state, ID: c.id, Runtime: c.runtime, RuntimeRoot: c.root}); err != nil {
		t.Fatal(err)
	}
	if c.runtimeKnows() {
		t.Error("runtime state left after Cleanup")
	}
}

// waitingDeletes lists the pids of `delete --wait-stdin ID` processes.
func waitingDeletes(t *testing.T, id string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		hasFlag, hasID := false, false
		for _, a := range args {
			hasFlag = hasFlag || a == "--wait-stdin"
			hasID = hasID || a == id
		}
		if hasFlag && hasID {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
