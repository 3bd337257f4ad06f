//go:build integration && linux

package mgr

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// cmdTimeout bounds one mgr invocation; it only guards against hangs.
const cmdTimeout = 90 * time.Second

// Mgr is one test's mgr installation: its own data root, runtime root and
// config dir, all under one short directory in /tmp (the shim's socket
// path, $MGR_RUNROOT/c/<id12>/shim.sock, must stay under 108 bytes).
type Mgr struct {
	t       testing.TB
	Dir     string // parent of the three roots; nothing may outlive it
	Root    string // MGR_ROOT
	RunRoot string // MGR_RUNROOT
	Config  string // MGR_CONFIG
	CNIDir  string // MGR_CNI_CONFIG_DIR: this test's "bridge" network
	Bridge  string // its Linux bridge
	Subnet  string // its /24, "10.X.Y." prefix form in SubnetPrefix
	// SubnetPrefix is the first three octets plus a dot, for leak checks.
	SubnetPrefix string
	network      harness.BridgeNetwork

	mu  sync.Mutex
	ids map[string]bool // every container id seen, for the cgroup check
}

// Result is one finished mgr invocation.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int // exit status, -1 if mgr did not exit normally
	Took   time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("mgr %s: exit %d after %v\nstdout: %q\nstderr: %q",
		strings.Join(r.Args, " "), r.Code, r.Took.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// newMgr makes fresh roots, loads busybox with `mgr load -i` and arms the
// cleanup: remove every container (`rm -f`), assert nothing leaked, then
// force-clean whatever did and delete the roots.
func newMgr(t testing.TB) *Mgr {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "mgr")
	if err != nil {
		t.Fatal(err)
	}
	m := &Mgr{
		t: t, Dir: dir, ids: map[string]bool{},
		Root:    filepath.Join(dir, "r"),
		RunRoot: filepath.Join(dir, "rr"),
		Config:  filepath.Join(dir, "c"),
		CNIDir:  filepath.Join(dir, "cni"),
	}
	t.Cleanup(m.cleanup)
	m.writeNetwork()
	res := m.Must("load", "-i", busyboxTar)
	if !strings.Contains(res.Stdout, "Loaded image: busybox:latest") {
		t.Fatalf("load printed no 'Loaded image: busybox:latest': %s", res)
	}
	return m
}

// writeNetwork gives the test its own default ("bridge") network in
// 10.200.0.0-10.239.255.0 (test/network uses 10.240-10.249).
func (m *Mgr) writeNetwork() {
	bn := harness.NewBridgeNetwork(m.t, "bt", 200, 40)
	m.Bridge, m.Subnet, m.SubnetPrefix = bn.Bridge, bn.Subnet, bn.Prefix
	m.network = bn
	bn.Write(m.t, m.CNIDir)
}

// T returns a copy of m that reports to t (a subtest sharing the roots).
func (m *Mgr) T(t testing.TB) *Mgr {
	return &Mgr{t: t, Dir: m.Dir, Root: m.Root, RunRoot: m.RunRoot, Config: m.Config,
		CNIDir: m.CNIDir, Bridge: m.Bridge, Subnet: m.Subnet, SubnetPrefix: m.SubnetPrefix, network: m.network, ids: m.ids}
}

func (m *Mgr) env() []string {
	env := []string{
		"MGR_ROOT=" + m.Root,
		"MGR_RUNROOT=" + m.RunRoot,
		"MGR_CONFIG=" + m.Config,
		"MGR_CNI_CONFIG_DIR=" + m.CNIDir,
		// an unknown image must never become a pull from docker.io
		"MGR_PULL=never",
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MGR_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Command returns an exec.Cmd for mgr with this installation's roots.
func (m *Mgr) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, mgrBinary, args...)
	cmd.Env = m.env()
	cmd.Dir = m.Dir
	return cmd
}

// Run runs mgr to completion. Output goes to files, never pipes: a shim
// that inherited a pipe would keep the call from returning.
func (m *Mgr) Run(args ...string) Result {
	return m.RunStdin(nil, args...)
}

// RunStdin is Run with stdin fed from r (nil: /dev/null).
func (m *Mgr) RunStdin(r io.Reader, args ...string) Result {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	outF, err1 := os.CreateTemp("", "mgr-out-")
	errF, err2 := os.CreateTemp("", "mgr-err-")
	if err := errors.Join(err1, err2); err != nil {
		m.t.Fatal(err)
	}
	defer func() {
		outF.Close()
		errF.Close()
		os.Remove(outF.Name())
		os.Remove(errF.Name())
	}()
	cmd := m.Command(ctx, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r, outF, errF
	start := time.Now()
	err := cmd.Run()
	res := Result{Args: args, Code: 0, Took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	default:
		m.t.Fatalf("mgr %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		m.t.Errorf("mgr %s: still running after %v, killed", strings.Join(args, " "), cmdTimeout)
	}
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	res.Stdout, res.Stderr = string(o), string(e)
	return res
}

// Must runs mgr and fails the test unless it exits 0.
func (m *Mgr) Must(args ...string) Result {
	m.t.Helper()
	res := m.Run(args...)
	if res.Code != 0 {
		m.t.Fatalf("unexpected failure: %s", res)
	}
	return res
}

// RunD starts a detached container and returns its full id.
func (m *Mgr) RunD(args ...string) string {
	m.t.Helper()
	res := m.Must(append([]string{"run", "-d"}, args...)...)
	id := strings.TrimSpace(res.Stdout)
	if len(id) != 64 {
		m.t.Fatalf("run -d printed %q, want a 64-hex id: %s", id, res)
	}
	m.seen(id)
	return id
}

func (m *Mgr) seen(ids ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		m.ids[id] = true
	}
}

// IDs returns the full ids of all containers (`ps -a -q --no-trunc`).
func (m *Mgr) IDs() []string {
	m.t.Helper()
	res := m.Must("ps", "-a", "-q", "--no-trunc")
	ids := strings.Fields(res.Stdout)
	sort.Strings(ids)
	m.seen(ids...)
	return ids
}

// PsA returns `ps -a` as "ID NAME|STATUS" lines, sorted: a snapshot to
// compare before and after a failed command.
func (m *Mgr) PsA() string {
	m.t.Helper()
	res := m.Must("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}|{{.Status}}")
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	for i, l := range lines {
		// "Up 2 seconds" changes between snapshots; keep the state word
		id, status, _ := strings.Cut(l, "|")
		state, _, _ := strings.Cut(status, " ")
		lines[i] = id + "|" + state
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Status returns the STATUS column of `ps -a` for one container.
func (m *Mgr) Status(nameOrID string) string {
	m.t.Helper()
	res := m.Must("ps", "-a", "--no-trunc", "--format", "{{.ID}}|{{.Names}}|{{.Status}}")
	for _, l := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		f := strings.SplitN(l, "|", 3)
		if len(f) == 3 && (f[0] == nameOrID || f[1] == nameOrID || strings.HasPrefix(f[0], nameOrID)) {
			return f[2]
		}
	}
	m.t.Fatalf("container %s not in ps -a:\n%s", nameOrID, res.Stdout)
	return ""
}

// Inspect is the part of `mgr inspect` the tests read.
type Inspect struct {
	ID     string `json:"Id"`
	Name   string
	Mounts []struct {
		Type, Name, Source, Destination string
		RW                              bool
	}
	Path  string
	Args  []string
	State struct {
		Status     string
		Running    bool
		Paused     bool
		OOMKilled  bool
		Pid        int
		ExitCode   int
		StartedAt  string
		FinishedAt string
	}
	Config struct {
		Hostname   string
		User       string
		Env        []string
		Cmd        []string
		WorkingDir string
		Entrypoint []string
		Tty        bool
		OpenStdin  bool
	}
	HostConfig struct {
		Memory     int64
		NanoCpus   int64
		PidsLimit  *int64
		AutoRemove bool
	}
}

// Inspect runs `mgr inspect` on one container.
func (m *Mgr) Inspect(nameOrID string) Inspect {
	m.t.Helper()
	res := m.Must("inspect", nameOrID)
	var out []Inspect
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil || len(out) != 1 {
		m.t.Fatalf("inspect %s: want a JSON array of one object (%v): %s", nameOrID, err, res)
	}
	m.seen(out[0].ID)
	return out[0]
}

// WaitState polls inspect until cond holds.
func (m *Mgr) WaitState(nameOrID string, what string, cond func(Inspect) bool) Inspect {
	m.t.Helper()
	var last Inspect
	if !harness.Poll(20*time.Second, func() bool {
		last = m.Inspect(nameOrID)
		return cond(last)
	}) {
		m.t.Fatalf("container %s never became %s: %+v", nameOrID, what, last.State)
	}
	return last
}

// Exec runs a one-shot foreground container and returns its stdout; it
// fails the test unless it exits 0.
func (m *Mgr) Output(args ...string) string {
	m.t.Helper()
	return m.Must(append([]string{"run", "--rm"}, args...)...).Stdout
}

// ---- leak checks ----

// Leaks lists what is left on the host of this installation's containers:
// mounts under its roots, processes mentioning them (shims, runtimes,
// mgr), state dirs, runtime state and cgroups of the ids seen. It is empty
// when every container was removed cleanly.
func (m *Mgr) Leaks() []string {
	var leaks []string
	mis, err := harness.ReadMountInfo("self")
	if err != nil {
		leaks = append(leaks, "mountinfo: "+err.Error())
	}
	for _, mi := range mis {
		if strings.Contains(mi.Line, m.Dir+"/") {
			leaks = append(leaks, "mount: "+mi.MountPoint+" ("+mi.FSType+")")
		}
	}
	for _, p := range m.processes() {
		leaks = append(leaks, fmt.Sprintf("process %d: %s", p.Pid, strings.Join(p.Args, " ")))
	}
	for _, d := range []string{filepath.Join(m.RunRoot, "c"), filepath.Join(m.Root, "containers"), filepath.Join(m.RunRoot, "runtime"), filepath.Join(m.RunRoot, "netns")} {
		ents, err := os.ReadDir(d)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			leaks = append(leaks, d+": "+err.Error())
		}
		for _, e := range ents {
			leaks = append(leaks, "left in "+d+": "+e.Name())
		}
	}
	m.mu.Lock()
	ids := make(map[string]bool, len(m.ids))
	for id := range m.ids {
		ids[id] = true
	}
	m.mu.Unlock()
	for _, d := range cgroupDirsNamed(ids) {
		leaks = append(leaks, "cgroup: "+d)
	}
	if ports, _ := os.ReadDir(filepath.Join("/sys/class/net", m.Bridge, "brif")); len(ports) > 0 {
		for _, p := range ports {
			leaks = append(leaks, "bridge "+m.Bridge+" port: "+p.Name())
		}
	}
	for _, l := range harness.IptablesRules() {
		if strings.Contains(l, m.SubnetPrefix) {
			leaks = append(leaks, "iptables: "+l)
			continue
		}
		for id := range ids {
			if strings.Contains(l, id) {
				leaks = append(leaks, "iptables: "+l)
				break
			}
		}
	}
	return leaks
}

// processes returns the processes whose command line mentions the roots.
func (m *Mgr) processes() []harness.HostProc { return harness.ProcessesMentioning(m.Dir) }

// cgroupDirsNamed walks the cgroup mounts once and returns the directories
// named after one of ids.
func cgroupDirsNamed(ids map[string]bool) []string {
	if len(ids) == 0 {
		return nil
	}
	var found []string
	_ = filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == "/sys/fs/cgroup" {
				return err
			}
			return fs.SkipDir
		}
		if !d.IsDir() {
			return nil
		}
		if ids[d.Name()] {
			found = append(found, path)
			return fs.SkipDir
		}
		if strings.Count(path, "/") > 12 {
			return fs.SkipDir
		}
		return nil
	})
	sort.Slice(found, func(i, j int) bool { return len(found[i]) > len(found[j]) })
	return found
}

// AssertClean fails the test if anything of the installation's containers
// is left (it waits a little: a shim exits just after answering).
func (m *Mgr) AssertClean(when string) {
	m.t.Helper()
	var leaks []string
	if harness.Poll(5*time.Second, func() bool { leaks = m.Leaks(); return len(leaks) == 0 }) {
		return
	}
	m.t.Errorf("%s: left behind:\n  %s", when, strings.Join(leaks, "\n  "))
}

func (m *Mgr) cleanup() {
	t := m.t
	if ids := m.IDs(); len(ids) > 0 {
		if res := m.Run(append([]string{"rm", "-f"}, ids...)...); res.Code != 0 {
			t.Errorf("cleanup: %s", res)
		}
		if left := m.IDs(); len(left) > 0 {
			t.Errorf("cleanup: rm -f left containers: %v", left)
		}
	}
	m.AssertClean("after rm -f of every container")
	m.forceClean()
	if err := os.RemoveAll(m.Dir); err != nil {
		t.Errorf("remove roots: %v", err)
	}
}

// forceClean removes by hand what mgr failed to (already reported), so one
// failing test does not leave the host dirty for the next.
func (m *Mgr) forceClean() {
	for _, p := range m.processes() {
		_ = syscall.Kill(p.Pid, syscall.SIGKILL)
	}
	rt := filepath.Join(topDir, "bin", "rt")
	if ents, _ := os.ReadDir(filepath.Join(m.RunRoot, "runtime")); len(ents) > 0 {
		for _, e := range ents {
			_ = exec.Command(rt, "--root", filepath.Join(m.RunRoot, "runtime"), "delete", "--force", e.Name()).Run()
		}
	}
	mis, _ := harness.ReadMountInfo("self")
	for i := len(mis) - 1; i >= 0; i-- {
		if strings.Contains(mis[i].Line, m.Dir+"/") {
			_ = syscall.Unmount(mis[i].MountPoint, syscall.MNT_DETACH)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range cgroupDirsNamed(m.ids) {
		_ = os.Remove(d)
	}
	m.network.Remove(m.t)
}

// ---- helpers ----

var (
	helpOnce sync.Once
	helpText string
)

// hasCommand reports whether bin/mgr has a top-level command (exec, attach
// and others land while this suite is written).
func hasCommand(name string) bool {
	helpOnce.Do(func() {
		out, _ := exec.Command(mgrBinary, "--help").Output()
		helpText = string(out)
	})
	sc := bufio.NewScanner(strings.NewReader(helpText))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && strings.TrimSuffix(f[0], ",") == name {
			return true
		}
	}
	return false
}

// oneLineError asserts a failed invocation with exactly one non-empty line
// on stderr (plus, as docker prints after a bad flag, "See 'mgr run --help'.").
func oneLineError(t testing.TB, res Result) {
	t.Helper()
	msg := strings.TrimRight(res.Stderr, "\n")
	if first, hint, ok := strings.Cut(msg, "\n"); ok && strings.HasPrefix(hint, "See 'mgr ") && strings.HasSuffix(hint, " --help'.") {
		msg = first
	}
	switch {
	case strings.TrimSpace(msg) == "":
		t.Errorf("no error message on stderr: %s", res)
	case strings.Contains(msg, "\n"):
		t.Errorf("want a one-line error on stderr, got %d lines: %s", strings.Count(msg, "\n")+1, res)
	}
}

// statusField returns a field of /proc/self/status as the container printed
// it.
func statusField(t testing.TB, status, field string) string {
	t.Helper()
	v, ok := harness.StatusField(status, field)
	if !ok {
		t.Fatalf("no %s in /proc/self/status:\n%s", field, status)
	}
	return v
}
