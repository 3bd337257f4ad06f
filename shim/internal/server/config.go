//go:build linux

package server

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Config is what the shim's command line says.
type Config struct {
	ID          string
	Bundle      string
	StateDir    string
	Runtime     string
	RuntimeRoot string
	LogPath     string
	LogMaxSize  int64
	LogMaxFiles int
	Stdin       bool
	Start       bool
	// HoldOutput keeps the init's output until the first attach client
	// (which gets it all): a container started by the launch (Start)
	// before its client could attach loses none.
	HoldOutput bool
	// ReadyDelete starts the runtime's delete as `delete --wait-stdin`
	// (an rt extension) beside the create, so that little of it is left
	// when the container exits; without the extension the shim deletes
	// the usual way.
	ReadyDelete bool
	// ExitCommand runs once the container has exited and the shim has
	// wound down (conmon's --exit-command): the manager's cleanup.
	ExitCommand []string
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// ParseFlags parses the shim's command line. Relative paths are made
// absolute, since the daemon side runs in "/".
func ParseFlags(args []string, stderr io.Writer) (*Config, error) {
	var c Config
	fs := flag.NewFlagSet("shim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: shim --id ID --bundle DIR --state-dir DIR [options]\n\n"+
			"Holds one container: creates it through the OCI runtime, keeps its stdio,\n"+
			"records its exit. Prints one JSON line once the container is created (or started).\n"+
			"The control protocol is documented in shim/api/PROTOCOL.md.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.ID, "id", "", "container id")
	fs.StringVar(&c.Bundle, "bundle", "", "OCI bundle directory")
	fs.StringVar(&c.StateDir, "state-dir", "", "the shim's state directory (shim.sock, exit.json, ...)")
	fs.StringVar(&c.Runtime, "runtime", "", "OCI runtime binary (default: rt beside the shim, else rt from $PATH)")
	fs.StringVar(&c.RuntimeRoot, "runtime-root", "", "the runtime's --root (default: the runtime's own)")
	fs.StringVar(&c.LogPath, "log-path", "", "container log file, docker json-file lines (default: none)")
	fs.Int64Var(&c.LogMaxSize, "log-max-size", 0, "rotate the log before it grows over this many bytes (0: never)")
	fs.IntVar(&c.LogMaxFiles, "log-max-files", 1, "log files kept, the current one included")
	fs.BoolVar(&c.Stdin, "stdin", false, "keep the container's stdin open for attach clients")
	fs.BoolVar(&c.Start, "start", false, "start the container in the same runtime call as creating it (run --detach)")
	fs.BoolVar(&c.HoldOutput, "hold-output", false, "keep the container's output until the first attach client, which gets it all")
	fs.BoolVar(&c.ReadyDelete, "ready-delete", false, "start the runtime's delete early, waiting (delete --wait-stdin, an rt extension), so the container's exit finds it ready")
	var exitCmd string
	var exitArgs stringList
	fs.StringVar(&exitCmd, "exit-command", "", "program to run after the container exited and the shim wound down")
	fs.Var(&exitArgs, "exit-command-arg", "argument for --exit-command (repeatable)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if exitCmd != "" {
		c.ExitCommand = append([]string{exitCmd}, exitArgs...)
	}
	if c.ID == "" || c.Bundle == "" || c.StateDir == "" {
		fs.Usage()
		return nil, errors.New("--id, --bundle and --state-dir are required")
	}
	for _, p := range []*string{&c.Bundle, &c.StateDir, &c.LogPath, &c.RuntimeRoot} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", *p, err)
		}
		*p = abs
	}
	rt, err := resolveRuntime(c.Runtime)
	if err != nil {
		return nil, err
	}
	c.Runtime = rt
	return &c, nil
}

func resolveRuntime(name string) (string, error) {
	if name == "" {
		if self, err := os.Executable(); err == nil {
			beside := filepath.Join(filepath.Dir(self), "rt")
			if fi, err := os.Stat(beside); err == nil && !fi.IsDir() {
				return beside, nil
			}
		}
		name = "rt"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("find runtime: %w", err)
	}
	return filepath.Abs(p)
}

// bundleInfo is what the shim reads of the bundle's config.json.
type bundleInfo struct {
	terminal bool // process.terminal: the init gets a pty
	// memoryLimited: linux.resources.memory.limit is set, so an OOM kill
	// right after the start is likely enough to be counted exactly
	memoryLimited bool
}

func readBundle(bundle string) (bundleInfo, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return bundleInfo{}, fmt.Errorf("read bundle config: %w", err)
	}
	var spec struct {
		Process *struct {
			Terminal bool `json:"terminal"`
		} `json:"process"`
		Linux *struct {
			Resources *struct {
				Memory *struct {
					Limit *int64 `json:"limit"`
				} `json:"memory"`
			} `json:"resources"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		return bundleInfo{}, fmt.Errorf("decode bundle config: %w", err)
	}
	info := bundleInfo{terminal: spec.Process != nil && spec.Process.Terminal}
	if l := spec.Linux; l != nil && l.Resources != nil && l.Resources.Memory != nil && l.Resources.Memory.Limit != nil {
		info.memoryLimited = *l.Resources.Memory.Limit > 0
	}
	return info, nil
}
