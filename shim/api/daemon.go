package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// The daemon side of the shim is the same binary started with DaemonEnv
// set to the fd of a pipe it reports on; GomaxprocsMark says the starter
// set GOMAXPROCS=1 for it (the daemon drops it from what the runtime
// inherits). With GateEnv (the fd of a pipe) it waits for a byte on that
// pipe before it reads the bundle, and exits quietly at its end instead.
const (
	DaemonEnv      = "_BERTH_SHIM_DAEMON"
	GomaxprocsMark = "_BERTH_SHIM_GOMAXPROCS"
	GateEnv        = "_BERTH_SHIM_GATE"
)

// StartDaemon starts the shim's daemon side directly — in its own session,
// working in "/", reporting on a pipe — and returns its one-line report.
// `shim` run by hand (the launcher) calls it; Launch calls it too, which
// saves the launcher's own exec on every container start. env is added to
// the daemon's environment (which its runtime calls inherit).
func StartDaemon(bin string, args []string, stateDir string, env []string) (*LaunchResult, []byte, error) {
	d, err := spawnDaemon(bin, args, stateDir, env, false)
	if err != nil {
		return nil, nil, err
	}
	return d.report()
}

// daemon is a shim daemon started, its report not read yet.
type daemon struct {
	cmd      *exec.Cmd
	reports  *os.File // read end of the report pipe
	gate     *os.File // write end of the gate pipe, if gated
	stateDir string
}

func spawnDaemon(bin string, args []string, stateDir string, env []string, gated bool) (*daemon, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("report pipe: %w", err)
	}
	defer w.Close()
	d := &daemon{reports: r, stateDir: stateDir}
	cmd := exec.Command(bin, args...)
	cmd.Dir = "/"
	cmd.Env = append(append(os.Environ(), env...), DaemonEnv+"=3")
	if os.Getenv("GOMAXPROCS") == "" {
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1", GomaxprocsMark+"=1")
	}
	cmd.ExtraFiles = []*os.File{w}
	if gated {
		gr, gw, err := os.Pipe()
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("gate pipe: %w", err)
		}
		defer gr.Close()
		d.gate = gw
		cmd.Env = append(cmd.Env, GateEnv+"=4")
		cmd.ExtraFiles = append(cmd.ExtraFiles, gr)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		if d.gate != nil {
			d.gate.Close()
		}
		return nil, fmt.Errorf("start shim daemon: %w", err)
	}
	d.cmd = cmd
	return d, nil
}

// report reads the daemon's report line.
func (d *daemon) report() (*LaunchResult, []byte, error) {
	defer d.reports.Close()
	line, err := bufio.NewReader(d.reports).ReadBytes('\n')
	if err != nil {
		state, _ := d.cmd.Process.Wait()
		msg := "shim daemon exited before reporting"
		if state != nil {
			msg += " (" + state.String() + ")"
		}
		if tail := logTail(d.stateDir); tail != "" {
			msg += ": " + tail
		}
		return nil, nil, fmt.Errorf("%s", msg)
	}
	// Reap the daemon should it exit while this process still runs (a
	// long-lived manager); a short-lived one simply leaves it to init.
	go func() { _ = d.cmd.Wait() }()
	var res LaunchResult
	if err := json.Unmarshal(line, &res); err != nil {
		return nil, line, fmt.Errorf("decode shim report %q: %w", line, err)
	}
	return &res, line, nil
}

func logTail(stateDir string) string {
	b, err := os.ReadFile(stateDir + "/" + ShimLogFile)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
