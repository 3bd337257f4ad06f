//go:build linux

// Package server is the shim: the launcher side that mgr runs, and the
// daemon side that holds one container (its runtime process, stdio, log,
// exit record and control socket).
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/berthrun/berth/shim/api"
)

// Main runs the shim with args (without the program name) and returns its
// exit status.
func Main(args []string) int {
	cfg, err := ParseFlags(args, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim: %v\n", err)
		return 2
	}
	if os.Getenv(api.DaemonEnv) != "" {
		return daemon(cfg)
	}
	return launch(cfg, args, os.Stdout)
}

// launch re-executes the shim as a daemon in a new session, waits for its
// report, prints it as one JSON line and returns. The daemon is then
// orphaned: re-parented to init (or the nearest subreaper), away from
// whatever started the shim.
func launch(cfg *Config, args []string, stdout io.Writer) int {
	self, err := os.Executable()
	if err == nil {
		var line []byte
		var res *api.LaunchResult
		res, line, err = api.StartDaemon(self, args, cfg.StateDir, nil)
		if err == nil {
			fmt.Fprintf(stdout, "%s", line)
			if res.Error != "" {
				return 1
			}
			return 0
		}
	}
	b, _ := json.Marshal(api.LaunchResult{Error: err.Error()})
	fmt.Fprintf(stdout, "%s\n", b)
	return 1
}

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
	os.Unsetenv(api.DaemonEnv)
	if os.Getenv(api.GomaxprocsMark) != "" {
		os.Unsetenv(api.GomaxprocsMark)
		os.Unsetenv("GOMAXPROCS")
	}
	if fd := os.Getenv(api.GateEnv); fd != "" {
		os.Unsetenv(api.GateEnv)
		if !passGate(fd) {
			return 0 // the launcher gave up before the bundle was ready
		}
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

// passGate waits for the launcher's go (a byte on the gate pipe, fd);
// false when the pipe ends first.
func passGate(fd string) bool {
	n, err := strconv.Atoi(fd)
	if err != nil {
		return false
	}
	gate := os.NewFile(uintptr(n), "gate")
	defer gate.Close()
	var b [1]byte
	got, _ := gate.Read(b[:])
	return got == 1
}
