//go:build integration && linux

package shim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/shim/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// specOpt edits a container's config.
type specOpt func(*specs.Spec)

func withArgs(args ...string) specOpt { return func(s *specs.Spec) { s.Process.Args = args } }
func withShell(script string) specOpt { return withArgs("sh", "-c", script) }
func withTTY(on bool) specOpt         { return func(s *specs.Spec) { s.Process.Terminal = on } }
func withoutPidNS(s *specs.Spec) {
	var ns []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type != specs.PIDNamespace {
			ns = append(ns, n)
		}
	}
	s.Linux.Namespaces = ns
}

func withMemory(limit int64) specOpt {
	return func(s *specs.Spec) {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &limit}
	}
}

// ctr is one container held by a shim, in its own temporary root.
type ctr struct {
	t        *testing.T
	id       string
	dir      string // temp dir: bundle/, state/, root/
	bundle   string
	state    string
	root     string
	runtime  string
	opts     api.LaunchOptions
	client   *api.Client
	launched *api.LaunchResult
}

// newCtr writes a bundle and registers cleanup; launch it with launch().
func newCtr(t *testing.T, runtimeName string, opts ...specOpt) *ctr {
	t.Helper()
	bin, ok := runtimes[runtimeName]
	if !ok {
		t.Skipf("%s not installed", runtimeName)
	}
	// Short: the state dir holds unix sockets.
	dir, err := os.MkdirTemp("/tmp", "shimt")
	if err != nil {
		t.Fatal(err)
	}
	c := &ctr{
		t: t, id: fmt.Sprintf("%s-%s", runtimeName, filepath.Base(dir)), dir: dir,
		bundle: filepath.Join(dir, "bundle"), state: filepath.Join(dir, "state"), root: filepath.Join(dir, "root"),
		runtime: bin,
	}
	var spec specs.Spec
	if err := json.Unmarshal(baseSpec, &spec); err != nil {
		t.Fatal(err)
	}
	spec.Version = "1.0.2" // crun 1.8 refuses newer versions
	spec.Root = &specs.Root{Path: rootfs, Readonly: true}
	spec.Process.Terminal = false
	for _, o := range opts {
		o(&spec)
	}
	if err := os.MkdirAll(c.bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(&spec, "", "\t")
	if err := os.WriteFile(filepath.Join(c.bundle, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	c.opts = api.LaunchOptions{
		Shim: shimBin, ID: c.id, Bundle: c.bundle, StateDir: c.state,
		Runtime: bin, RuntimeRoot: c.root, LogPath: filepath.Join(dir, "ctr.log"),
	}
	t.Cleanup(c.cleanup)
	return c
}

func (c *ctr) launch(ctx context.Context) {
	c.t.Helper()
	res, err := api.Launch(ctx, c.opts)
	if err != nil {
		c.t.Fatalf("launch: %v", err)
	}
	c.launched = res
	if c.opts.Start {
		// A started container may be gone already, shim and all.
		c.client = api.NewClient(api.SocketPath(c.state))
		return
	}
	if c.client, err = api.Dial(ctx, api.SocketPath(c.state)); err != nil {
		c.t.Fatalf("dial: %v", err)
	}
}

// cleanup kills whatever is left and checks that nothing is: no shim, no
// runtime state.
func (c *ctr) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if api.Alive(ctx, c.state) {
		if cl, err := api.Dial(ctx, api.SocketPath(c.state)); err == nil {
			cl.Shutdown(ctx, true)
		}
		if c.launched != nil {
			waitGone(c.launched.ShimPid)
		}
	}
	if err := api.Cleanup(ctx, api.CleanupOptions{StateDir: c.state, ID: c.id, Runtime: c.runtime, RuntimeRoot: c.root}); err != nil {
		c.t.Errorf("cleanup: %v", err)
	}
	if out, err := exec.Command(c.runtime, "--root", c.root, "state", c.id).CombinedOutput(); err == nil {
		c.t.Errorf("runtime state of %s left: %s", c.id, out)
	}
	if !c.t.Failed() {
		os.RemoveAll(c.dir)
	} else {
		c.t.Logf("kept %s", c.dir)
		if b, err := os.ReadFile(filepath.Join(c.state, api.ShimLogFile)); err == nil {
			c.t.Logf("shim.log:\n%s", b)
		}
	}
}

// runtimeKnows tells whether the runtime still has state for the container.
func (c *ctr) runtimeKnows() bool {
	return exec.Command(c.runtime, "--root", c.root, "state", c.id).Run() == nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// alive tells whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// waitGone waits (bounded) for pid to be gone or a zombie.
func waitGone(pid int) bool {
	return poll(20*time.Second, func() bool { return !alive(pid) })
}

func poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// ppidSid returns a process's parent and session ids.
func ppidSid(pid int) (ppid, sid int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ppid, _ = strconv.Atoi(f[1])
	sid, _ = strconv.Atoi(f[3])
	return ppid, sid, nil
}

// syncBuf is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls buf until it contains want.
func waitFor(t *testing.T, buf *syncBuf, want string) {
	t.Helper()
	if !poll(20*time.Second, func() bool { return strings.Contains(buf.String(), want) }) {
		t.Fatalf("output never contained %q; got %q", want, buf.String())
	}
}

type logEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func readLog(t *testing.T, path string) []logEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []logEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var e logEntry
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("log %s: %v", path, err)
		}
		out = append(out, e)
	}
}

func sigName(sig int) string { return syscall.Signal(sig).String() }
