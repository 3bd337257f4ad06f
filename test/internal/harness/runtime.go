//go:build integration && linux

package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultTimeout bounds every runtime invocation; it only guards against
// hangs and is never used as a performance assertion.
const DefaultTimeout = 60 * time.Second

// Runtime runs the binary under test with its own --root state directory.
// Every container found under that root is force-deleted at cleanup.
type Runtime struct {
	t    testing.TB // reports failures of invocations made through this value
	Bin  string
	Root string
	s    *runtimeState
}

// runtimeState is shared by a Runtime and its views (see T).
type runtimeState struct {
	owner   testing.TB // the test whose cleanup deletes the containers
	ioDir   string
	mu      sync.Mutex
	cleaned bool
	procs   []*Proc
}

// NewRuntime returns a Runtime with a fresh --root in t.TempDir().
func NewRuntime(t testing.TB) *Runtime {
	t.Helper()
	if binary == "" {
		t.Fatal("harness.Main was not called from TestMain")
	}
	r := &Runtime{t: t, Bin: binary, Root: t.TempDir(), s: &runtimeState{owner: t, ioDir: t.TempDir()}}
	r.armCleanup()
	return r
}

// T returns a view of r that reports failures to t: subtests use it, since
// a subtest must not fail its parent with FailNow. Containers still belong
// to the test that made r and are deleted at its end.
func (r *Runtime) T(t testing.TB) *Runtime {
	c := *r
	c.t = t
	return &c
}

// Result is the outcome of one invocation.
type Result struct {
	Args     []string
	Stdout   string
	Stderr   string
	ExitCode int   // -1 if it did not exit normally (timeout, signal)
	Err      error // failure to start, or timeout
}

func (res Result) String() string {
	return fmt.Sprintf("`%s`: exit %d (err %v)\n--- stdout:\n%s\n--- stderr:\n%s",
		strings.Join(res.Args, " "), res.ExitCode, res.Err, res.Stdout, res.Stderr)
}

// Opts tune one invocation.
type Opts struct {
	Stdin   io.Reader     // default /dev/null
	Dir     string        // working directory
	Timeout time.Duration // default DefaultTimeout
	Global  []string      // extra global flags, placed before the verb
	// Tty, when set, is used as stdin, stdout and stderr and becomes the
	// controlling terminal of a new session (for a foreground `run` of a
	// terminal container).
	Tty *os.File
}

// Proc is a runtime invocation running in the background.
type Proc struct {
	r       *Runtime
	Cmd     *exec.Cmd
	args    []string
	outPath string
	errPath string
	done    chan struct{}
	waitErr error
	timeout time.Duration
}

// armCleanup registers the cleanup again so that it runs before any
// t.TempDir (bundle, out dirs) created since the last registration is
// removed; it runs only once.
func (r *Runtime) armCleanup() {
	r.s.owner.Cleanup(r.cleanup)
}

// Run runs `bin --root ROOT args...` and waits for it.
func (r *Runtime) Run(args ...string) Result {
	r.t.Helper()
	return r.RunWith(Opts{}, args...)
}

// MustRun is Run that fails the test unless the exit code is 0.
func (r *Runtime) MustRun(args ...string) Result {
	r.t.Helper()
	res := r.Run(args...)
	if res.ExitCode != 0 {
		r.t.Fatalf("command failed: %s", res)
	}
	return res
}

// RunWith runs with options and waits.
func (r *Runtime) RunWith(o Opts, args ...string) Result {
	r.t.Helper()
	p := r.StartWith(o, args...)
	return p.Wait()
}

// StartWith starts the invocation in the background. Its stdout and stderr
// go to files (never pipes): a detached container inherits them, and a pipe
// would keep Wait blocked for the container's lifetime.
func (r *Runtime) StartWith(o Opts, args ...string) *Proc {
	r.t.Helper()
	r.armCleanup()
	full := append([]string{"--root", r.Root}, o.Global...)
	full = append(full, args...)
	p := &Proc{r: r, args: append([]string{filepath.Base(r.Bin)}, full...), done: make(chan struct{}), timeout: o.Timeout}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	cmd := exec.Command(r.Bin, full...)
	cmd.Dir = o.Dir
	cmd.Stdin = o.Stdin
	if o.Tty != nil {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Tty, o.Tty, o.Tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	} else {
		outF, err := os.CreateTemp(r.s.ioDir, "stdout-")
		if err != nil {
			r.t.Fatal(err)
		}
		errF, err := os.CreateTemp(r.s.ioDir, "stderr-")
		if err != nil {
			r.t.Fatal(err)
		}
		defer outF.Close()
		defer errF.Close()
		p.outPath, p.errPath = outF.Name(), errF.Name()
		cmd.Stdout, cmd.Stderr = outF, errF
	}
	p.Cmd = cmd
	if err := cmd.Start(); err != nil {
		p.waitErr = err
		close(p.done)
		return p
	}
	r.s.mu.Lock()
	r.s.procs = append(r.s.procs, p)
	r.s.mu.Unlock()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p
}

// Stdout returns what the invocation (and anything that inherited its
// stdout, such as a detached container) has written so far.
func (p *Proc) Stdout() string {
	if p.outPath == "" {
		return ""
	}
	b, _ := os.ReadFile(p.outPath)
	return string(b)
}

// Stderr is like Stdout for stderr.
func (p *Proc) Stderr() string {
	if p.errPath == "" {
		return ""
	}
	b, _ := os.ReadFile(p.errPath)
	return string(b)
}

// Done is closed when the invocation exits.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Kill sends sig to the invocation (not to the container).
func (p *Proc) Kill(sig syscall.Signal) {
	if p.Cmd != nil && p.Cmd.Process != nil {
		_ = p.Cmd.Process.Signal(sig)
	}
}

// Wait waits for the invocation, killing it after its timeout (which fails
// the test: the runtime hung).
func (p *Proc) Wait() Result {
	p.r.t.Helper()
	res := Result{Args: p.args}
	select {
	case <-p.done:
	case <-time.After(p.timeout):
		p.Kill(syscall.SIGKILL)
		<-p.done
		res.Err = fmt.Errorf("timed out after %v", p.timeout)
		p.r.t.Errorf("runtime invocation hung: `%s` did not exit within %v", strings.Join(p.args, " "), p.timeout)
	}
	res.Stdout, res.Stderr = p.Stdout(), p.Stderr()
	res.ExitCode = -1
	if p.Cmd != nil && p.Cmd.ProcessState != nil {
		res.ExitCode = p.Cmd.ProcessState.ExitCode()
	}
	var ee *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &ee) && res.Err == nil {
		res.Err = p.waitErr
	}
	return res
}

// ---- container helpers ----

// State is the output of `state`: the OCI state plus runc's extra fields.
type State struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
	// Raw holds every top-level key as printed.
	Raw map[string]json.RawMessage `json:"-"`
}

// State runs `state id`. ok is false when the command fails.
func (r *Runtime) State(id string) (st State, res Result, ok bool) {
	r.t.Helper()
	res = r.Run("state", id)
	if res.ExitCode != 0 {
		return st, res, false
	}
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
		r.t.Fatalf("state output is not JSON: %v\n%s", err, res)
	}
	if err := json.Unmarshal([]byte(res.Stdout), &st.Raw); err != nil {
		r.t.Fatalf("state output is not a JSON object: %v\n%s", err, res)
	}
	return st, res, true
}

// MustState is State that fails the test if the command fails.
func (r *Runtime) MustState(id string) State {
	r.t.Helper()
	st, res, ok := r.State(id)
	if !ok {
		r.t.Fatalf("state %s failed: %s", id, res)
	}
	return st
}

// WaitStatus polls `state` until the status is want and returns the state.
func (r *Runtime) WaitStatus(id string, want specs.ContainerState) State {
	r.t.Helper()
	var last State
	var lastRes Result
	ok := Poll(20*time.Second, func() bool {
		st, res, ok := r.State(id)
		last, lastRes = st, res
		return ok && st.Status == want
	})
	if !ok {
		r.t.Fatalf("container %s never reached status %q; last: %q\n%s", id, want, last.Status, lastRes)
	}
	return last
}

// Create runs `create --bundle DIR [flags] id` and fails the test on error.
func (r *Runtime) Create(id string, b *Bundle, flags ...string) Result {
	r.t.Helper()
	args := append([]string{"create", "--bundle", b.Dir}, flags...)
	return r.MustRun(append(args, id)...)
}

// RunDetached runs `run --detach --bundle DIR [flags] id` and fails the test
// on error.
func (r *Runtime) RunDetached(id string, b *Bundle, flags ...string) Result {
	r.t.Helper()
	args := append([]string{"run", "--detach", "--bundle", b.Dir}, flags...)
	return r.MustRun(append(args, id)...)
}

// StartRunning creates and starts a container running b's process and waits
// until it is "running"; it returns the state.
func (r *Runtime) StartRunning(id string, b *Bundle) State {
	r.t.Helper()
	r.RunDetached(id, b)
	return r.WaitStatus(id, specs.StateRunning)
}

// cleanup force-deletes every container under Root, then stops background
// invocations. Failures are reported: a runtime that cannot delete its
// containers leaks processes, cgroups and mounts.
func (r *Runtime) cleanup() {
	r = r.T(r.s.owner)
	r.s.mu.Lock()
	if r.s.cleaned {
		r.s.mu.Unlock()
		return
	}
	r.s.cleaned = true
	r.s.mu.Unlock()

	ids := map[string]bool{}
	if entries, err := os.ReadDir(r.Root); err == nil {
		for _, e := range entries {
			ids[e.Name()] = true
		}
	}
	if res := r.rawRun(30*time.Second, "list", "-q"); res.ExitCode == 0 {
		for _, l := range strings.Fields(res.Stdout) {
			ids[l] = true
		}
	}
	for id := range ids {
		res := r.rawRun(30*time.Second, "delete", "--force", id)
		if res.ExitCode != 0 {
			r.t.Errorf("cleanup: delete --force %s failed: %s", id, res)
			r.forceCleanup(id)
		}
	}
	r.s.mu.Lock()
	procs := r.s.procs
	r.s.mu.Unlock()
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.Kill(syscall.SIGKILL)
			<-p.done
		}
	}
	if entries, _ := os.ReadDir(r.Root); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		r.t.Errorf("cleanup: state left under --root after delete --force: %v", names)
		for _, n := range names {
			r.forceCleanup(n)
		}
	}
}

// rawRun runs a command without test bookkeeping (for cleanup).
func (r *Runtime) rawRun(timeout time.Duration, args ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{"--root", r.Root}, args...)
	cmd := exec.CommandContext(ctx, r.Bin, full...)
	var out, errb strings.Builder
	outF, _ := os.CreateTemp(r.s.ioDir, "cleanup-")
	if outF != nil {
		cmd.Stdout = outF
		defer outF.Close()
	}
	cmd.Stderr = &errb
	err := cmd.Run()
	if outF != nil {
		b, _ := os.ReadFile(outF.Name())
		out.Write(b)
	}
	res := Result{Args: full, Stdout: out.String(), Stderr: errb.String(), ExitCode: -1, Err: err}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	return res
}

// forceCleanup is the last resort when the runtime cannot delete a
// container: kill what is in its cgroups, remove the cgroups and the state.
func (r *Runtime) forceCleanup(id string) {
	for _, dir := range FindCgroupDirs(id) {
		if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				var pid int
				if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	}
	for _, dir := range FindCgroupDirs(id) {
		freeze := filepath.Join(dir, "freezer.state")
		if _, err := os.Stat(freeze); err == nil {
			_ = os.WriteFile(freeze, []byte("THAWED"), 0o644)
		}
	}
	Poll(5*time.Second, func() bool {
		for _, dir := range FindCgroupDirs(id) {
			_ = os.Remove(dir)
		}
		return len(FindCgroupDirs(id)) == 0
	})
	_ = os.RemoveAll(filepath.Join(r.Root, id))
}

// ---- small utilities ----

var idSanitizer = regexp.MustCompile(`[^a-z0-9]+`)

// ID returns a container id unique to this test run, derived from the test
// name.
func ID(t testing.TB) string {
	name := idSanitizer.ReplaceAllString(strings.ToLower(t.Name()), "-")
	name = strings.Trim(strings.TrimPrefix(name, "test"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return name + "-" + hex.EncodeToString(b[:])
}

// Poll calls cond every 50ms until it returns true or timeout passes.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitFile waits until path exists and is not empty, then returns its
// content.
func WaitFile(t testing.TB, path string) string {
	t.Helper()
	var data []byte
	if !Poll(20*time.Second, func() bool {
		b, err := os.ReadFile(path)
		data = b
		return err == nil && len(b) > 0
	}) {
		t.Fatalf("file %s was never written", path)
	}
	return string(data)
}

// OneLineError asserts that an invocation failed with a non-zero exit code
// and printed exactly one non-empty line on stderr.
func OneLineError(t testing.TB, res Result) {
	t.Helper()
	if res.ExitCode == 0 {
		t.Errorf("expected failure, got exit 0: %s", res)
		return
	}
	if res.ExitCode < 0 {
		t.Errorf("expected a non-zero exit, the command did not exit normally: %s", res)
	}
	msg := strings.TrimRight(res.Stderr, "\n")
	if strings.TrimSpace(msg) == "" {
		t.Errorf("expected an error message on stderr, got none: %s", res)
	} else if strings.Contains(msg, "\n") {
		t.Errorf("expected a one-line error on stderr, got %d lines: %s", strings.Count(msg, "\n")+1, res)
	}
}
