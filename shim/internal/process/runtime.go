//go:build linux

// Package process drives the OCI runtime through its command line (rt,
// runc or crun: they share runc's CLI) and keeps the state of the
// container's init process.
package process

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/berthrun/berth/shim/internal/reaper"
)

// Runtime is an OCI runtime binary with runc's command line.
type Runtime struct {
	Path    string // binary
	Root    string // --root, empty for the runtime's default
	LogPath string // --log, written as --log-format json
	Reaper  *reaper.Reaper
}

// Stdio are the files a runtime process gets as fds 0, 1 and 2 (nil: /dev/null).
type Stdio struct {
	In, Out, Err *os.File
}

func (r *Runtime) command(ctx context.Context, args ...string) *exec.Cmd {
	global := make([]string, 0, 6+len(args))
	if r.Root != "" {
		global = append(global, "--root", r.Root)
	}
	global = append(global, "--log", r.LogPath, "--log-format", "json")
	cmd := exec.CommandContext(ctx, r.Path, append(global, args...)...)
	cmd.Env = os.Environ()
	return cmd
}

// run runs the runtime with args and stdio; when stdio's Out and Err are nil,
// the runtime's own output is captured for the error message.
func (r *Runtime) run(ctx context.Context, stdio Stdio, args ...string) error {
	cmd := r.command(ctx, args...)
	logOff := r.logSize()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	var out bytes.Buffer
	var pr, pw *os.File
	capture := stdio.Out == nil && stdio.Err == nil
	if capture {
		var err error
		if pr, pw, err = os.Pipe(); err != nil {
			return fmt.Errorf("%s %s: %w", r.Path, args[0], err)
		}
		defer pr.Close()
		cmd.Stdout, cmd.Stderr = pw, pw
	}
	e, err := r.Reaper.Run(ctx, cmd)
	if capture {
		pw.Close()
		io.Copy(&out, io.LimitReader(pr, 64<<10))
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.Path, args[0], err)
	}
	code, _ := e.Code()
	if code == 0 {
		return nil
	}
	if msg := r.lastError(logOff); msg != "" {
		return fmt.Errorf("%s", msg)
	}
	if s := strings.TrimSpace(out.String()); s != "" {
		return fmt.Errorf("%s %s: %s", r.Path, args[0], s)
	}
	return fmt.Errorf("%s %s: exit status %d", r.Path, args[0], code)
}

func (r *Runtime) logSize() int64 {
	fi, err := os.Stat(r.LogPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// lastError returns the message of the last "error" (or "fatal") entry the
// runtime logged after offset (containerd's getLastRuntimeError).
func (r *Runtime) lastError(offset int64) string {
	f, err := os.Open(r.LogPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	var last string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) != nil {
			continue
		}
		if entry.Level == "error" || entry.Level == "fatal" {
			last = entry.Msg
		}
	}
	return last
}

// CreateOpts are the arguments of `create`.
type CreateOpts struct {
	Bundle        string
	PidFile       string
	ConsoleSocket string // tty: where the runtime sends the pty master
	Stdio         Stdio  // no tty: the container's stdio
	// Start starts the container in the same runtime call (`run
	// --detach`): one runtime process less than create and start.
	Start bool
}

// Create runs `create --bundle B --pid-file P [--console-socket S] ID`, or
// `run --detach ...` with o.Start.
func (r *Runtime) Create(ctx context.Context, id string, o CreateOpts) error {
	args := []string{"create", "--bundle", o.Bundle, "--pid-file", o.PidFile}
	if o.Start {
		args = []string{"run", "--detach", "--bundle", o.Bundle, "--pid-file", o.PidFile}
	}
	if o.ConsoleSocket != "" {
		args = append(args, "--console-socket", o.ConsoleSocket)
	}
	return r.run(ctx, o.Stdio, append(args, id)...)
}

// Start runs `start ID`.
func (r *Runtime) Start(ctx context.Context, id string) error {
	return r.run(ctx, Stdio{}, "start", id)
}

// Kill runs `kill [--all] ID SIG`.
func (r *Runtime) Kill(ctx context.Context, id string, sig int, all bool) error {
	args := []string{"kill"}
	if all {
		args = append(args, "--all")
	}
	return r.run(ctx, Stdio{}, append(args, id, strconv.Itoa(sig))...)
}

// Delete runs `delete [--force] ID`.
func (r *Runtime) Delete(ctx context.Context, id string, force bool) error {
	args := []string{"delete"}
	if force {
		args = append(args, "--force")
	}
	return r.run(ctx, Stdio{}, append(args, id)...)
}

// ReadyDelete is `delete --wait-stdin ID` (an rt extension) started
// ahead of the container's exit: by then rt has started up and loaded the
// container's state, and the delete that is left takes ~1.3 ms instead of
// ~5 (rt's start ~2.8 ms, the state's load ~1). It waits on a pipe: a byte
// to load the container, a second to delete it; closing the pipe leaves
// the container as it is.
type ReadyDelete struct {
	r    *Runtime
	w    *os.File
	exit <-chan reaper.Exit
}

// StartReadyDelete starts the ready delete of id; it may come before the
// container exists (its load waits for Load).
func (r *Runtime) StartReadyDelete(ctx context.Context, id string) (*ReadyDelete, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%s delete --wait-stdin: %w", r.Path, err)
	}
	defer pr.Close()
	cmd := r.command(ctx, "delete", "--wait-stdin", id)
	cmd.Stdin = pr
	exit, err := r.Reaper.Start(cmd)
	if err != nil {
		pw.Close()
		return nil, fmt.Errorf("%s delete --wait-stdin: %w", r.Path, err)
	}
	_ = cmd.Process.Release()
	return &ReadyDelete{r: r, w: pw, exit: exit}, nil
}

// Load tells it that the container exists: it loads the state now.
func (d *ReadyDelete) Load() error {
	if _, err := d.w.Write([]byte{'l'}); err != nil {
		return fmt.Errorf("ready delete: %w", err)
	}
	return nil
}

// Run tells it to delete (as --force) and waits for it; an error means the
// container may not be deleted (a runtime without --wait-stdin exits at
// once, with an error): delete it the usual way.
func (d *ReadyDelete) Run(ctx context.Context) error {
	logOff := d.r.logSize()
	_, werr := d.w.Write([]byte{'d'})
	d.w.Close()
	var e reaper.Exit
	select {
	case e = <-d.exit:
	case <-ctx.Done():
		return ctx.Err()
	}
	if code, _ := e.Code(); code != 0 {
		if msg := d.r.lastError(logOff); msg != "" {
			return fmt.Errorf("ready delete: %s", msg)
		}
		return fmt.Errorf("ready delete: exit status %d", code)
	}
	if werr != nil {
		return fmt.Errorf("ready delete: %w", werr)
	}
	return nil
}

// Cancel lets it go without deleting anything.
func (d *ReadyDelete) Cancel() { d.w.Close() }

// ExecOpts are the arguments of `exec --detach`.
type ExecOpts struct {
	ProcessFile   string
	PidFile       string
	ConsoleSocket string
	Stdio         Stdio
}

// Exec runs `exec --detach --process F --pid-file P [--console-socket S] ID`;
// the process is left running, orphaned to the shim (the subreaper).
func (r *Runtime) Exec(ctx context.Context, id string, o ExecOpts) error {
	args := []string{"exec", "--detach", "--process", o.ProcessFile, "--pid-file", o.PidFile}
	if o.ConsoleSocket != "" {
		args = append(args, "--console-socket", o.ConsoleSocket)
	}
	return r.run(ctx, o.Stdio, append(args, id)...)
}

// ReadPid reads a pid file the runtime wrote.
func ReadPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("bad pid file %s: %q", path, b)
	}
	return pid, nil
}
