//go:build integration && linux

package daemon

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/test/internal/harness"
)

// daemon is one `mgr daemon` with its own roots, socket and docker config.
type daemon struct {
	t      *testing.T
	dir    string // everything lives under it
	socket string
	env    []string // MGR_* for bin/mgr with the same roots
	args   []string // extra `mgr daemon` flags
	// network is the daemon's default network: a bridge and /24 of its own
	// in 10.252.0.0-10.253.255.0 (the other suites take 10.200-10.251).
	network harness.BridgeNetwork
	cmd     *exec.Cmd
	log     *logBuffer
	exited  chan struct{}
}

// logBuffer collects the daemon's output; tests read it while it runs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startDaemon starts a daemon for t, loads busybox through it and
// registers the cleanup: containers removed through the API, daemon
// stopped, leftover mounts unmounted, the directory removed. args are
// extra `mgr daemon` flags; with any, the daemon is given its unix socket
// as an explicit --host too.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "mgrd")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, socket: filepath.Join(dir, "run", "mgr.sock"), log: &logBuffer{}, args: args}
	for _, sub := range []string{"cni", "docker"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			os.RemoveAll(dir)
			t.Fatal(err)
		}
	}
	d.network = harness.NewBridgeNetwork(t, "bd", 252, 2)
	d.network.Write(t, filepath.Join(dir, "cni"))
	d.env = append(os.Environ(),
		"MGR_ROOT="+filepath.Join(dir, "root"),
		"MGR_RUNROOT="+filepath.Join(dir, "run"),
		"MGR_CONFIG="+filepath.Join(dir, "config"),
		"MGR_CNI_CONFIG_DIR="+filepath.Join(dir, "cni"),
	)
	t.Cleanup(d.cleanup)
	d.spawn()
	out := d.mustDocker("load", "-i", busyboxTar)
	if !strings.Contains(out, "Loaded image: busybox:latest") {
		t.Fatalf("docker load: %q, want Loaded image: busybox:latest", out)
	}
	return d
}

// spawn starts the daemon process and waits until its socket answers.
func (d *daemon) spawn() {
	t := d.t
	t.Helper()
	args := []string{"daemon"}
	if len(d.args) > 0 {
		args = append(append(args, "--host", "unix://"+d.socket), d.args...)
	}
	d.cmd = exec.Command(mgrBinary, args...)
	d.cmd.Env = d.env
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	exited := make(chan struct{})
	d.exited = exited
	if err := d.cmd.Start(); err != nil {
		d.cmd = nil
		t.Fatal(err)
	}
	cmd := d.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", d.socket); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("mgr daemon exited at start:\n%s", d.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mgr daemon did not listen on %s:\n%s", d.socket, d.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopDaemon ends the daemon with SIGTERM (SIGKILL after 15s).
func (d *daemon) stopDaemon() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		d.t.Errorf("mgr daemon ignored SIGTERM for 15s; killing it")
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
}

func (d *daemon) cleanup() {
	t := d.t
	// Containers outlive the daemon (they are under their shims): remove
	// them while it serves.
	if out, _, err := d.docker("ps", "-aq"); err == nil {
		if ids := strings.Fields(out); len(ids) > 0 {
			if out, stderr, err := d.docker(append([]string{"rm", "-f"}, ids...)...); err != nil {
				t.Errorf("cleanup: docker rm -f: %v\n%s%s", err, out, stderr)
			}
		}
	}
	d.stopDaemon()
	// Whatever a failure left: containers through bin/mgr, then mounts.
	if out, err := d.mgr("ps", "-aq"); err == nil && strings.TrimSpace(out) != "" {
		t.Errorf("containers left after cleanup: %s", out)
		_, _ = d.mgr(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
	}
	unmountUnder(t, d.dir)
	d.network.Remove(t)
	if t.Failed() {
		t.Logf("daemon log:\n%s", d.log)
	}
	if err := os.RemoveAll(d.dir); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// unmountUnder lazily unmounts every mount point below dir, deepest first.
func unmountUnder(t *testing.T, dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		t.Errorf("mount left behind: %s", p)
		_ = unix.Unmount(p, unix.MNT_DETACH)
	}
}

// dockerEnv points the docker CLI at the daemon, with a config dir of the
// test's own.
func (d *daemon) dockerEnv() []string {
	return append(os.Environ(), "DOCKER_HOST=unix://"+d.socket, "DOCKER_CONFIG="+filepath.Join(d.dir, "docker"))
}

// docker runs the docker CLI against the daemon: stdout, stderr, error.
func (d *daemon) docker(args ...string) (string, string, error) {
	return d.dockerIn(nil, args...)
}

func (d *daemon) dockerIn(stdin []byte, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerBinary, args...)
	cmd.Env = d.dockerEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	return stdout.String(), stderr.String(), err
}

// mustDocker runs docker and fails the test unless it succeeds.
func (d *daemon) mustDocker(args ...string) string {
	d.t.Helper()
	out, stderr, err := d.docker(args...)
	if err != nil {
		d.t.Fatalf("docker %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// mgrClient runs bin/mgr as a client of a daemon (args carry --host):
// with roots of its own that must stay untouched, so a command that ran
// locally by mistake shows. It returns stdout and stderr together.
func (d *daemon) mgrClient(args ...string) (string, error) {
	d.t.Helper()
	local := filepath.Join(d.dir, "client-must-stay-empty")
	env := slices.DeleteFunc(slices.Clone(os.Environ()), func(kv string) bool { return strings.HasPrefix(kv, "MGR_") })
	cmd := exec.Command(mgrBinary, args...)
	cmd.Env = append(env, "MGR_ROOT="+local+"/root", "MGR_RUNROOT="+local+"/run", "MGR_CONFIG="+local+"/config")
	out, err := cmd.CombinedOutput()
	if _, serr := os.Stat(local); serr == nil {
		d.t.Errorf("mgr %s touched its local roots (%s): it ran locally", strings.Join(args, " "), local)
	}
	return string(out), err
}

// mgr runs bin/mgr with the daemon's roots.
func (d *daemon) mgr(args ...string) (string, error) {
	cmd := exec.Command(mgrBinary, args...)
	cmd.Env = d.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// exitCode is the status of a finished command, -1 if it did not run.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// eventually retries check for up to 10s.
func eventually(t *testing.T, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, last := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not the case after 10s; last: %s", what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
