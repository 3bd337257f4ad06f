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
// inherits).
const (
	DaemonEnv      = "_BERTH_SHIM_DAEMON"
	GomaxprocsMark = "_BERTH_SHIM_GOMAXPROCS"
)

// StartDaemon starts the shim's daemon side directly — in its own session,
// working in "/", reporting on a pipe — and returns its one-line report.
// `shim` run by hand (the launcher) calls it; Launch calls it too, which
// saves the launcher's own exec on every container start.
func StartDaemon(bin string, args []string, stateDir string) (*LaunchResult, []byte, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create state dir: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("report pipe: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), DaemonEnv+"=3")
	if os.Getenv("GOMAXPROCS") == "" {
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1", GomaxprocsMark+"=1")
	}
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("start shim daemon: %w", err)
	}
	w.Close()
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil {
		state, _ := cmd.Process.Wait()
		msg := "shim daemon exited before reporting"
		if state != nil {
			msg += " (" + state.String() + ")"
		}
		if tail := logTail(stateDir); tail != "" {
			msg += ": " + tail
		}
		return nil, nil, fmt.Errorf("%s", msg)
	}
	// Reap the daemon should it exit while this process still runs (a
	// long-lived manager); a short-lived one simply leaves it to init.
	go func() { _ = cmd.Wait() }()
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
