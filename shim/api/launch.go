package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// LaunchOptions says which container a new shim holds and how.
type LaunchOptions struct {
	// Shim is the shim binary (default "shim" from $PATH).
	Shim string
	// ID, Bundle: the container id and its OCI bundle. Whether it gets a
	// tty is read from the bundle's config.json (process.terminal).
	ID     string
	Bundle string
	// StateDir is the shim's directory (shim.sock, shim.pid, init.pid,
	// exit.json, runtime.log, shim.log). It is created if missing and must
	// be short enough for a unix socket path (about 100 bytes).
	StateDir string
	// Runtime is the OCI runtime binary (default: bin/rt beside the shim,
	// else "rt" from $PATH); RuntimeRoot its --root (empty: its default).
	Runtime     string
	RuntimeRoot string
	// RuntimeEnv is added to the shim's environment, which its runtime
	// calls inherit (e.g. rt's RT_SECCOMP_CACHE).
	RuntimeEnv []string
	// LogPath is the container's json-file log (empty: no log file).
	// LogMaxSize (bytes, 0: unlimited) and LogMaxFiles (default 1) rotate it.
	LogPath     string
	LogMaxSize  int64
	LogMaxFiles int
	// Stdin keeps a pipe to the container's stdin open for attach clients.
	Stdin bool
	// Start starts the container in the runtime call that creates it
	// (`run --detach`: one runtime process less than create + start).
	Start bool
	// HoldOutput keeps the container's output until the first attach,
	// which gets it all: with Start, a client attaching after the launch
	// still sees everything (a foreground run).
	HoldOutput bool
	// ReadyDelete starts the runtime's delete beside the create, waiting
	// (`delete --wait-stdin`, an rt extension), so that the container's
	// exit finds most of it done; for containers whose exit someone waits
	// for (a foreground run), since the waiting rt process (~2.6 MB) stays
	// as long as the container. Runtimes without the extension are deleted
	// the usual way.
	ReadyDelete bool
	// ExitCommand runs after the container exited and the shim wound
	// down (the manager's cleanup); empty for none.
	ExitCommand []string
}

// Args returns the shim's command line for o (without the binary).
func (o LaunchOptions) Args() []string {
	args := []string{"--id", o.ID, "--bundle", o.Bundle, "--state-dir", o.StateDir}
	if o.Runtime != "" {
		args = append(args, "--runtime", o.Runtime)
	}
	if o.RuntimeRoot != "" {
		args = append(args, "--runtime-root", o.RuntimeRoot)
	}
	if o.LogPath != "" {
		args = append(args, "--log-path", o.LogPath)
	}
	if o.LogMaxSize > 0 {
		args = append(args, "--log-max-size", strconv.FormatInt(o.LogMaxSize, 10))
	}
	if o.LogMaxFiles > 0 {
		args = append(args, "--log-max-files", strconv.Itoa(o.LogMaxFiles))
	}
	if o.Stdin {
		args = append(args, "--stdin")
	}
	if o.Start {
		args = append(args, "--start")
	}
	if o.HoldOutput {
		args = append(args, "--hold-output")
	}
	if o.ReadyDelete {
		args = append(args, "--ready-delete")
	}
	if len(o.ExitCommand) > 0 {
		args = append(args, "--exit-command", o.ExitCommand[0])
		for _, a := range o.ExitCommand[1:] {
			args = append(args, "--exit-command-arg", a)
		}
	}
	return args
}

// Launch starts a shim for one container and returns once the container is
// created (or started, with Start), or with the runtime's error text. The
// shim runs on in its own session; the caller may exit at any time after.
func Launch(ctx context.Context, o LaunchOptions) (*LaunchResult, error) {
	bin, err := o.shimBinary()
	if err != nil {
		return nil, err
	}
	res, _, err := StartDaemon(bin, o.Args(), o.StateDir, o.RuntimeEnv)
	return launched(o.ID, res, err)
}

func (o LaunchOptions) shimBinary() (string, error) {
	if o.ID == "" || o.Bundle == "" || o.StateDir == "" {
		return "", errors.New("launch shim: id, bundle and state dir are required")
	}
	if o.Shim != "" {
		return o.Shim, nil
	}
	bin, err := exec.LookPath("shim")
	if err != nil {
		return "", fmt.Errorf("launch shim for %s: %w", o.ID, err)
	}
	return bin, nil
}

func launched(id string, res *LaunchResult, err error) (*LaunchResult, error) {
	if err != nil {
		return nil, fmt.Errorf("launch shim for %s: %w", id, err)
	}
	if res.Error != "" {
		return res, fmt.Errorf("create container %s: %s", id, res.Error)
	}
	return res, nil
}

// A Prelaunch is a shim started before its container's bundle is ready:
// the shim process comes up (exec, Go runtime) while the caller mounts the
// rootfs and writes config.json. Launch lets it go on to the bundle and the
// runtime; Abort ends it. Should the caller die in between, the shim ends
// too (its gate pipe closes) without leaving a file behind.
type Prelaunch struct {
	d  *daemon
	id string
}

// StartPrelaunch starts a shim for o that waits for Launch.
func StartPrelaunch(o LaunchOptions) (*Prelaunch, error) {
	bin, err := o.shimBinary()
	if err != nil {
		return nil, err
	}
	d, err := spawnDaemon(bin, o.Args(), o.StateDir, o.RuntimeEnv, true)
	if err != nil {
		return nil, fmt.Errorf("launch shim for %s: %w", o.ID, err)
	}
	return &Prelaunch{d: d, id: o.ID}, nil
}

// Launch lets the shim go on and returns as the function Launch does.
func (p *Prelaunch) Launch() (*LaunchResult, error) {
	// A failed write means the shim is gone: its report (none) says so.
	_, _ = p.d.gate.Write([]byte{1})
	p.d.gate.Close()
	res, _, err := p.d.report()
	return launched(p.id, res, err)
}

// Abort ends the waiting shim and reaps it.
func (p *Prelaunch) Abort() {
	p.d.gate.Close()
	p.d.reports.Close()
	_ = p.d.cmd.Wait()
}

func parseLaunch(out []byte) (*LaunchResult, error) {
	out = bytes.TrimSpace(out)
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if len(out) == 0 {
		return nil, errors.New("shim reported nothing")
	}
	var res LaunchResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("decode shim report %q: %w", out, err)
	}
	return &res, nil
}

// ReadExit reads the exit record the shim wrote to stateDir/exit.json. It
// returns an error wrapping fs.ErrNotExist while the container has not exited.
func ReadExit(stateDir string) (*ExitStatus, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, ExitFile))
	if err != nil {
		return nil, fmt.Errorf("read exit record: %w", err)
	}
	var st ExitStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode exit record: %w", err)
	}
	return &st, nil
}

// Alive tells whether the shim of stateDir still runs: its socket accepts a
// connection, or (while it is busy or starting) the process in shim.pid is
// a shim for this state directory.
func Alive(ctx context.Context, stateDir string) bool {
	if c, err := Dial(ctx, SocketPath(stateDir)); err == nil && c != nil {
		return true
	}
	_, ok := shimPid(stateDir)
	return ok
}

// shimPid returns the pid in stateDir's shim.pid when that process is a
// shim for stateDir.
func shimPid(stateDir string) (int, bool) {
	pid, err := readPid(filepath.Join(stateDir, PidFile))
	if err != nil {
		return 0, false
	}
	return pid, isShimOf(pid, stateDir)
}

// isShimOf tells whether process pid is a shim for stateDir (and not a
// process that got a dead shim's pid).
func isShimOf(pid int, stateDir string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	abs, _ := filepath.Abs(stateDir)
	return bytes.Contains(cmdline, []byte("\x00--state-dir\x00"+stateDir+"\x00")) ||
		bytes.Contains(cmdline, []byte("\x00--state-dir\x00"+abs+"\x00"))
}

// WaitGone waits until the shim of stateDir has exited or ctx is done. It
// watches the shim process through a pidfd, so the wait ends the moment
// the shim does, without dialling its socket over and over (each dial
// also wakes the shim while it runs the runtime's delete). Kernels without
// pidfds (before 5.3) get that polling.
func WaitGone(ctx context.Context, stateDir string) error {
	pid, ok := shimPid(stateDir)
	if !ok {
		// A shim that has not written its pid yet answers on its socket.
		return pollGone(ctx, stateDir)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil
	case err != nil:
		return pollGone(ctx, stateDir)
	}
	defer unix.Close(fd)
	// The pid was checked before the pidfd held it: check again, now that
	// it cannot be reused.
	if !isShimOf(pid, stateDir) {
		return nil
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		// Short slices so that ctx is honoured; a pidfd is readable once
		// its process has exited.
		n, err := unix.Poll(fds, 50)
		if n > 0 {
			return nil
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait for shim %d: %w", pid, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func pollGone(ctx context.Context, stateDir string) error {
	for Alive(ctx, stateDir) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("bad pid in %s: %q", path, b)
	}
	return pid, nil
}

// runtimeHasState reports whether the runtime may still hold the
// container. Runtimes that speak runc's CLI (rt, runc, crun) keep a
// container's state in ROOT/ID: without that directory there is nothing to
// delete, and the two runtime runs (delete, then state) a shim that cleaned
// up after itself would cost are saved. Without a known root, assume state.
func runtimeHasState(o CleanupOptions) bool {
	if o.RuntimeRoot == "" {
		return true
	}
	_, err := os.Stat(filepath.Join(o.RuntimeRoot, o.ID))
	return !errors.Is(err, os.ErrNotExist)
}

// CleanupOptions names what a dead shim left behind.
type CleanupOptions struct {
	StateDir    string
	ID          string
	Runtime     string // default "rt"
	RuntimeRoot string
}

// ErrShimAlive is returned by Cleanup for a shim that still runs; use
// Client.Shutdown for it.
var ErrShimAlive = errors.New("shim is alive")

// Cleanup removes what a shim that died (was killed) before its container
// left behind: it kills the container and deletes its runtime state
// (`RUNTIME delete --force`, which also removes its cgroup), records an exit
// (137, ShimLost) when the shim wrote none, and removes the shim's socket
// and pid files. exit.json and the log files stay.
func Cleanup(ctx context.Context, o CleanupOptions) error {
	if Alive(ctx, o.StateDir) {
		return fmt.Errorf("clean up shim of %s: %w", o.ID, ErrShimAlive)
	}
	rt := o.Runtime
	if rt == "" {
		rt = "rt"
	}
	var global []string
	if o.RuntimeRoot != "" {
		global = append(global, "--root", o.RuntimeRoot)
	}
	if runtimeHasState(o) {
		out, err := exec.CommandContext(ctx, rt, append(global, "delete", "--force", o.ID)...).CombinedOutput()
		if err != nil {
			// A container the runtime does not know is already gone.
			if serr := exec.CommandContext(ctx, rt, append(global, "state", o.ID)...).Run(); serr == nil {
				return fmt.Errorf("delete container %s: %w: %s", o.ID, err, strings.TrimSpace(string(out)))
			}
		}
	}
	exitPath := filepath.Join(o.StateDir, ExitFile)
	if _, err := os.Stat(exitPath); err != nil {
		st := ExitStatus{ExitCode: 128 + int(syscall.SIGKILL), Signal: int(syscall.SIGKILL), ExitedAt: time.Now().UTC(), ShimLost: true}
		if pid, perr := readPid(filepath.Join(o.StateDir, InitPidFile)); perr == nil {
			st.Pid = pid
		}
		if err := WriteFileAtomic(exitPath, st); err != nil {
			return err
		}
	}
	for _, f := range []string{SocketFile, PidFile, InitPidFile} {
		if err := os.Remove(filepath.Join(o.StateDir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clean up shim of %s: %w", o.ID, err)
		}
	}
	return nil
}

// WriteFileAtomic writes v as JSON to path through a temporary file and a
// rename, so that readers see the whole record or none. No fsync: the files
// it writes live in the run root, whose state does not outlive the machine
// (nor do the containers it describes), and the rename suffices against a
// process's crash; the fsync cost the exit record's readers ~0.2 ms.
func WriteFileAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
