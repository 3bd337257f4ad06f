//go:build integration && linux

package shim_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/shim/api"
	"github.com/berthrun/berth/test/internal/harness"
)

// The manager that started the shim is SIGKILLed; the shim, in its own
// session and no longer the manager's child, keeps the container running
// and still serves it.
func TestSurvivesLauncherKill(t *testing.T) {
	t.Parallel()
	c := newCtr(t, "rt", withArgs("sleep", "1000"))
	ctx := ctxT(t)
	// A stand-in manager: it runs the shim, prints its report, then lingers.
	args := append([]string{"-c", `"$0" "$@" && exec sleep 1000`, shimBin}, c.opts.Args()...)
	mgr := exec.Command("sh", append(args, "--start")...)
	mgr.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := mgr.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		mgr.Process.Kill()
		mgr.Wait()
		t.Fatalf("no report: %v", err)
	}
	var res api.LaunchResult
	if err := json.Unmarshal([]byte(line), &res); err != nil || res.Error != "" {
		t.Fatalf("report %q: %v", line, err)
	}
	c.launched = &res
	if err := syscall.Kill(-mgr.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	mgr.Wait()

	ppid, sid, err := ppidSid(res.ShimPid)
	if err != nil {
		t.Fatalf("shim gone after its manager was killed: %v", err)
	}
	if ppid == mgr.Process.Pid || sid != res.ShimPid {
		t.Errorf("shim ppid %d sid %d: want re-parented away from %d, in its own session", ppid, sid, mgr.Process.Pid)
	}
	if ippid, _, _ := ppidSid(res.Pid); ippid != res.ShimPid {
		t.Errorf("container init's parent is %d, want the shim %d (subreaper)", ippid, res.ShimPid)
	}
	if !alive(res.Pid) {
		t.Fatal("container init died with its manager")
	}
	cl, err := api.Dial(ctx, api.SocketPath(c.state))
	if err != nil {
		t.Fatal(err)
	}
	st, err := cl.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != api.StatusRunning || st.Pid != res.Pid || st.ID != c.id || st.Bundle != c.bundle {
		t.Errorf("state after manager death: %+v", st)
	}
	if err := cl.Kill(ctx, int(syscall.SIGKILL), false); err != nil {
		t.Fatal(err)
	}
	ex, err := cl.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ex.ExitCode != 137 {
		t.Errorf("exit %+v, want 137", ex)
	}
}

// Create and start are separate steps; a manager can network in between.
func TestCreateThenStart(t *testing.T) {
	t.Parallel()
	c := newCtr(t, "rt", withShell("exit 0"))
	ctx := ctxT(t)
	c.launch(ctx)
	st, err := c.client.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != api.StatusCreated || st.Pid != c.launched.Pid || st.ShimPid != c.launched.ShimPid {
		t.Fatalf("state after launch: %+v, launch %+v", st, c.launched)
	}
	if err := c.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ex, err := c.client.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ex.ExitCode != 0 || ex.Signal != 0 || ex.Pid != c.launched.Pid {
		t.Errorf("exit %+v", ex)
	}
	if !waitGone(c.launched.ShimPid) {
		t.Error("shim did not exit after its container")
	}
	if _, err := os.Stat(api.SocketPath(c.state)); err == nil {
		t.Error("shim left its socket")
	}
	if c.runtimeKnows() {
		t.Error("runtime state left after exit")
	}
}

// A shim started ahead of its bundle (Prelaunch) waits: let go, it runs
// the container; aborted, it leaves nothing, not even a file.
func TestPrelaunch(t *testing.T) {
	t.Parallel()
	t.Run("launch", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t, "rt", withShell("echo prelaunched"))
		c.opts.Start = true
		// The bundle is not ready yet: the shim must not look at it
		// before it is let go.
		config := filepath.Join(c.bundle, "config.json")
		if err := os.Rename(config, config+".later"); err != nil {
			t.Fatal(err)
		}
		pre, err := api.StartPrelaunch(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // time enough to fail, were it not waiting
		if entries, _ := os.ReadDir(c.state); len(entries) != 0 {
			t.Errorf("a waiting shim wrote %v", entries)
		}
		if err := os.Rename(config+".later", config); err != nil {
			t.Fatal(err)
		}
		if c.launched, err = pre.Launch(); err != nil {
			t.Fatal(err)
		}
		if !waitGone(c.launched.ShimPid) {
			t.Fatal("shim did not exit after its container")
		}
		if ex, err := api.ReadExit(c.state); err != nil || ex.ExitCode != 0 {
			t.Errorf("exit record %+v, %v", ex, err)
		}
		if log, _ := os.ReadFile(c.opts.LogPath); !strings.Contains(string(log), "prelaunched") {
			t.Errorf("log %q lacks the output", log)
		}
	})
	t.Run("abort", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t, "rt", withShell("echo never"))
		pre, err := api.StartPrelaunch(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		pre.Abort()
		if entries, _ := os.ReadDir(c.state); len(entries) != 0 {
			t.Errorf("an aborted shim left %v", entries)
		}
		if procs := harness.ProcessesMentioning(c.state); len(procs) != 0 {
			t.Errorf("an aborted shim still runs: %v", procs)
		}
		if c.runtimeKnows() {
			t.Error("an aborted shim created the container")
		}
	})
}

// A bundle the runtime cannot run: Launch returns the runtime's own error.
func TestCreateError(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"rt", "runc", "crun"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, name, withArgs("/no/such/binary"))
			c.opts.Start = true // crun finds out only at start
			_, err := api.Launch(ctxT(t), c.opts)
			if err == nil {
				t.Fatal("launch of a bad bundle succeeded")
			}
			if !strings.Contains(err.Error(), "/no/such/binary") {
				t.Errorf("error %q does not carry the runtime's message", err)
			}
			if api.Alive(ctxT(t), c.state) {
				t.Error("shim still running after a failed create")
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 3, 42, 255} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, "rt", withShell(fmt.Sprintf("exit %d", code)))
			c.opts.Start = true
			ctx := ctxT(t)
			c.launch(ctx)
			ex, err := c.client.Wait(ctx)
			if err != nil {
				// It may have exited before Wait: the record stays.
				if ex, err = api.ReadExit(c.state); err != nil {
					t.Fatal(err)
				}
			}
			if ex.ExitCode != code || ex.Signal != 0 || ex.OOMKilled || ex.ExitedAt.IsZero() {
				t.Errorf("wait: %+v, want exit %d", ex, code)
			}
			waitGone(c.launched.ShimPid)
			rec, err := api.ReadExit(c.state)
			if err != nil {
				t.Fatal(err)
			}
			if rec.ExitCode != code || !rec.ExitedAt.Equal(ex.ExitedAt) {
				t.Errorf("exit.json %+v, wait said %+v", rec, ex)
			}
		})
	}
}

// A container killed by a signal reports 128+n and the signal.
func TestSignalExit(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGUSR1} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			// The init of a pid namespace ignores the signals it has no
			// handler for; outside one, sleep dies of any of them.
			c := newCtr(t, "rt", withArgs("sleep", "1000"), withoutPidNS)
			c.opts.Start = true
			ctx := ctxT(t)
			c.launch(ctx)
			if err := c.client.Kill(ctx, int(sig), false); err != nil {
				t.Fatal(err)
			}
			ex, err := c.client.Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ex.ExitCode != 128+int(sig) || ex.Signal != int(sig) {
				t.Errorf("exit %+v, want %d (signal %s)", ex, 128+int(sig), sigName(int(sig)))
			}
		})
	}
}

// waitLog waits until the container's log holds want.
func waitLog(t *testing.T, c *ctr, want string) {
	t.Helper()
	if !poll(20e9, func() bool {
		b, _ := os.ReadFile(c.opts.LogPath)
		return strings.Contains(string(b), want)
	}) {
		t.Fatalf("log never contained %q", want)
	}
}

func TestOOMKilled(t *testing.T) {
	t.Parallel()
	// tail keeps the newline-free stream in memory until the limit.
	c := newCtr(t, "rt", withShell("dd if=/dev/zero bs=1M count=256 2>/dev/null | tail >/dev/null"), withMemory(16<<20))
	c.opts.Start = true
	ctx := ctxT(t)
	c.launch(ctx)
	ex, err := c.client.Wait(ctx)
	if err != nil {
		if ex, err = api.ReadExit(c.state); err != nil {
			t.Fatal(err)
		}
	}
	if !ex.OOMKilled {
		t.Errorf("exit %+v: want oom_killed", ex)
	}
	// The shell reports its OOM-killed pipeline as 128+9.
	if ex.ExitCode != 137 {
		t.Errorf("exit code %d, want 137", ex.ExitCode)
	}
	waitGone(c.launched.ShimPid)
	rec, err := api.ReadExit(c.state)
	if err != nil || !rec.OOMKilled {
		t.Errorf("exit.json %+v (%v): want oom_killed", rec, err)
	}
}

// An exit with no OOM is not marked.
func TestNotOOMKilled(t *testing.T) {
	t.Parallel()
	c := newCtr(t, "rt", withShell("exit 137"), withMemory(16<<20))
	c.opts.Start = true
	ctx := ctxT(t)
	c.launch(ctx)
	waitGone(c.launched.ShimPid)
	ex, err := api.ReadExit(c.state)
	if err != nil {
		t.Fatal(err)
	}
	if ex.OOMKilled || ex.ExitCode != 137 || ex.Signal != 0 {
		t.Errorf("exit %+v: want 137 by exit, not oom", ex)
	}
}

// The shim is SIGKILLed: the manager sees it is gone and Cleanup leaves no
// runtime state, cgroup or container process behind.
func TestShimKilledCleanup(t *testing.T) {
	t.Parallel()
	for name := range runtimes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, name, withArgs("sleep", "1000"))
			c.opts.Start = true
			ctx := ctxT(t)
			c.launch(ctx)
			cg := memoryCgroup(t, c.launched.Pid)
			if _, err := os.Stat(cg); err != nil {
				t.Fatalf("container cgroup %s: %v", cg, err)
			}
			if err := syscall.Kill(c.launched.ShimPid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if !waitGone(c.launched.ShimPid) {
				t.Fatal("shim survived SIGKILL")
			}
			// A SIGKILLed process is a zombie before all its threads have
			// let go of its files: its socket may answer a moment longer.
			if !poll(10e9, func() bool { return !api.Alive(ctx, c.state) }) {
				t.Fatal("Alive reports a killed shim")
			}
			if _, err := c.client.State(ctx); err == nil {
				t.Fatal("a killed shim answered")
			}
			if !c.runtimeKnows() || !alive(c.launched.Pid) {
				t.Fatal("the container went with the shim; nothing to clean up")
			}
			if err := api.Cleanup(ctx, api.CleanupOptions{StateDir: c.state, ID: c.id, Runtime: c.runtime, RuntimeRoot: c.root}); err != nil {
				t.Fatal(err)
			}
			if c.runtimeKnows() {
				t.Error("runtime state left")
			}
			if !waitGone(c.launched.Pid) {
				t.Error("container init left running")
			}
			if !poll(10e9, func() bool { _, err := os.Stat(cg); return err != nil }) {
				t.Errorf("cgroup %s left", cg)
			}
			ex, err := api.ReadExit(c.state)
			if err != nil || !ex.ShimLost || ex.ExitCode != 137 {
				t.Errorf("exit record %+v (%v): want shim_lost 137", ex, err)
			}
			for _, f := range []string{api.SocketFile, api.PidFile} {
				if _, err := os.Stat(filepath.Join(c.state, f)); err == nil {
					t.Errorf("%s left", f)
				}
			}
		})
	}
}

// memoryCgroup returns the v1 memory (or v2) cgroup directory of pid.
func memoryCgroup(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[1] == "memory" {
			return filepath.Join("/sys/fs/cgroup/memory", parts[2])
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "0::") {
			return filepath.Join("/sys/fs/cgroup", strings.TrimPrefix(line, "0::"))
		}
	}
	t.Fatalf("no memory cgroup for %d", pid)
	return ""
}

// A request of another protocol version is refused with a clear error.
func TestProtocolVersion(t *testing.T) {
	t.Parallel()
	c := newCtr(t, "rt", withArgs("sleep", "1000"))
	ctx := ctxT(t)
	c.launch(ctx)
	conn, err := net.Dial("unix", api.SocketPath(c.state))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, `{"v":99,"op":"state"}`+"\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var resp api.Response
	if err := json.Unmarshal([]byte(line), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error != api.ErrUnsupportedVersion || resp.V != api.Version {
		t.Errorf("response %q", line)
	}
}

// The exit command (the manager's cleanup) runs once the shim wound down
// after its container exited, and not when a client shut the shim down:
// that client cleans up itself.
func TestExitCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		shutdown bool
		want     bool
	}{
		{"container exits", false, true},
		{"shut down by a client", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script := "exit 0"
			if tc.shutdown {
				script = "sleep 100"
			}
			c := newCtr(t, "rt", withShell(script))
			marker := filepath.Join(c.dir, "exit-command-ran")
			c.opts.Start = true
			c.opts.ExitCommand = []string{"/bin/sh", "-c", `echo "$0" > "$1"`, c.id, marker}
			ctx := ctxT(t)
			c.launch(ctx)
			if tc.shutdown {
				if err := c.client.Shutdown(ctx, true); err != nil {
					t.Fatal(err)
				}
			}
			if !waitGone(c.launched.ShimPid) {
				t.Fatal("shim did not exit")
			}
			ran := poll(2*time.Second, func() bool { _, err := os.Stat(marker); return err == nil })
			if ran != tc.want {
				t.Fatalf("exit command ran: %v, want %v", ran, tc.want)
			}
			if ran {
				if b, _ := os.ReadFile(marker); strings.TrimSpace(string(b)) != c.id {
					t.Errorf("exit command got %q, want its arguments (%s)", b, c.id)
				}
			}
		})
	}
}
