//go:build linux

// Package server is the shim: the launcher side that mgr runs, and the
// daemon side that holds one container (its runtime process, stdio, log,
// exit record and control socket).
package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/berthrun/berth/shim/api"
)

// daemonEnv marks the re-executed daemon side; its value is the fd of the
// report pipe.
const daemonEnv = "_BERTH_SHIM_DAEMON"

// gomaxprocsMark says the launcher set GOMAXPROCS, so the daemon drops it
// again from the runtime's environment.
const gomaxprocsMark = "_BERTH_SHIM_GOMAXPROCS"

// Main runs the shim with args (without the program name) and returns its
// exit status.
func Main(args []string) int {
	cfg, err := ParseFlags(args, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim: %v\n", err)
		return 2
	}
	if os.Getenv(daemonEnv) != "" {
		return daemon(cfg)
	}
	return launch(cfg, args, os.Stdout)
}

// launch re-executes the shim as a daemon in a new session, waits for its
// report, prints it as one JSON line and returns. The daemon is then
// orphaned: re-parented to init (or the nearest subreaper), away from
// whatever started the shim.
func launch(cfg *Config, args []string, stdout io.Writer) int {
	fail := func(err error) int {
		b, _ := json.Marshal(api.LaunchResult{Error: err.Error()})
		fmt.Fprintf(stdout, "%s\n", b)
		return 1
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fail(fmt.Errorf("create state dir: %w", err))
	}
	self, err := os.Executable()
	if err != nil {
		return fail(fmt.Errorf("find shim binary: %w", err))
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail(fmt.Errorf("report pipe: %w", err))
	}
	defer r.Close()
	cmd := exec.Command(self, args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	if os.Getenv("GOMAXPROCS") == "" {
		// The daemon waits on I/O; one P saves ~300 KiB of RSS per shim.
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1", gomaxprocsMark+"=1")
	}
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fail(fmt.Errorf("start shim daemon: %w", err))
	}
	w.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		// The daemon died before reporting; it is our child until we exit.
		state, _ := cmd.Process.Wait()
		msg := "shim daemon exited before reporting"
		if state != nil {
			msg += " (" + state.String() + ")"
		}
		if tail := logTail(cfg.StateDir); tail != "" {
			msg += ": " + tail
		}
		return fail(fmt.Errorf("%s", msg))
	}
	cmd.Process.Release()
	fmt.Fprint(stdout, line)
	var res api.LaunchResult
	if json.Unmarshal([]byte(line), &res) != nil || res.Error != "" {
		return 1
	}
	return 0
}

func logTail(stateDir string) string {
	b, err := os.ReadFile(stateDir + "/" + api.ShimLogFile)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// reporter writes the daemon's one report to the launcher.
type reporter struct{ f *os.File }

func (r *reporter) report(res api.LaunchResult) {
	if r.f == nil {
		return
	}
	b, _ := json.Marshal(res)
	r.f.Write(append(b, '\n'))
	r.f.Close()
	r.f = nil
}

func daemon(cfg *Config) int {
	rep := &reporter{f: os.NewFile(3, "report")}
	os.Unsetenv(daemonEnv)
	if os.Getenv(gomaxprocsMark) != "" {
		os.Unsetenv(gomaxprocsMark)
		os.Unsetenv("GOMAXPROCS")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := newShim(ctx, cfg)
	if err != nil {
		rep.report(api.LaunchResult{Error: err.Error()})
		return 1
	}
	return s.run(ctx, rep)
}
