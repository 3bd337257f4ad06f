//go:build integration && linux

package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
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

// Mgr is one test's mgr installation. Its roots sit under one short
// directory in /tmp (the shim socket path must stay under 108 bytes); its
// CNI config dir holds its own "bridge" network.
type Mgr struct {
	t       testing.TB
	Dir     string // parent of everything below; nothing may outlive it
	Root    string // MGR_ROOT
	RunRoot string // MGR_RUNROOT
	Config  string // MGR_CONFIG
	CNIDir  string // MGR_CNI_CONFIG_DIR
	Bridge  string // the Linux bridge of the test's "bridge" network
	Subnet  string // its /24
	Prefix  string // its first three octets and a dot, "10.240.7."

	mu       sync.Mutex
	bridges  []string // every bridge device the test's networks made
	prefixes []string // every subnet prefix, for the iptables leak check
	networks []string // networks made by `network create`, removed at cleanup
}

// Result is one finished mgr invocation.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int
	Took   time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("mgr %s: exit %d after %v\nstdout: %q\nstderr: %q",
		strings.Join(r.Args, " "), r.Code, r.Took.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// newSubnet returns a fresh /24 in 10.240.0.0-10.249.255.255 (test/mgr
// uses 10.200-10.239, test/build 10.250-10.251) with a bridge name for it
// starting with tag.
func newSubnet(t testing.TB, tag string) harness.BridgeNetwork {
	return harness.NewBridgeNetwork(t, tag, 240, 10)
}

// newMgr makes fresh roots with the test's own "bridge" network, loads
// busybox and arms the cleanup.
func newMgr(t testing.TB) *Mgr {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "mgr")
	if err != nil {
		t.Fatal(err)
	}
	m := &Mgr{
		t: t, Dir: dir,
		Root:    filepath.Join(dir, "r"),
		RunRoot: filepath.Join(dir, "rr"),
		Config:  filepath.Join(dir, "c"),
		CNIDir:  filepath.Join(dir, "cni"),
	}
	t.Cleanup(m.cleanup)
	bn := newSubnet(t, "bn")
	m.Prefix, m.Subnet, m.Bridge = bn.Prefix, bn.Subnet, bn.Bridge
	m.WriteConflist("10-bridge.conflist", bn.Conflist, bn.Bridge, bn.Prefix)
	res := m.Must("load", "-i", busyboxTar)
	if !strings.Contains(res.Stdout, "Loaded image: busybox:latest") {
		t.Fatalf("load printed no 'Loaded image: busybox:latest': %s", res)
	}
	return m
}

// WriteConflist drops a conflist into the test's config dir and records
// the bridge device and subnet prefix it will use ("" when none).
func (m *Mgr) WriteConflist(file, conf, bridge, prefix string) {
	m.t.Helper()
	if err := os.MkdirAll(m.CNIDir, 0o755); err != nil {
		m.t.Fatal(err)
	}
	m.track(bridge, prefix, "")
	if err := os.WriteFile(filepath.Join(m.CNIDir, file), []byte(conf), 0o644); err != nil {
		m.t.Fatal(err)
	}
}

func (m *Mgr) track(bridge, prefix, network string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if bridge != "" {
		m.bridges = append(m.bridges, bridge)
	}
	if prefix != "" {
		m.prefixes = append(m.prefixes, prefix)
	}
	if network != "" {
		m.networks = append(m.networks, network)
	}
}

// NetInspect is the part of `network inspect` the tests read.
type NetInspect struct {
	Name     string
	Driver   string
	Internal bool
	IPAM     struct {
		Driver string
		Config []struct{ Subnet, Gateway string }
	}
	ConfigFile string
	Bridge     string
	Containers map[string]struct {
		Name        string
		IPv4Address string
		MacAddress  string
		Aliases     []string
	}
}

// NetworkInspect runs `network inspect` on one network.
func (m *Mgr) NetworkInspect(name string) NetInspect {
	m.t.Helper()
	res := m.Must("network", "inspect", name)
	var out []NetInspect
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil || len(out) != 1 {
		m.t.Fatalf("network inspect %s: want a JSON array of one object (%v): %s", name, err, res)
	}
	return out[0]
}

// CreateNetwork runs `network create --subnet` with a fresh /24 and
// returns the network's name and subnet prefix.
func (m *Mgr) CreateNetwork(base string, extra ...string) (name, prefix string) {
	m.t.Helper()
	name = fmt.Sprintf("%s-%06x", base, rand.Uint32()&0xffffff)
	sub := newSubnet(m.t, "")
	prefix, cidr := sub.Prefix, sub.Subnet
	m.track("", prefix, name)
	res := m.Must(append([]string{"network", "create", "--subnet", cidr}, append(extra, name)...)...)
	if strings.TrimSpace(res.Stdout) != name {
		m.t.Fatalf("network create printed %q, want %q", res.Stdout, name)
	}
	if br := m.NetworkInspect(name).Bridge; br != "" {
		m.track(br, "", "")
	}
	return name, prefix
}

func (m *Mgr) env() []string {
	env := []string{
		"MGR_ROOT=" + m.Root,
		"MGR_RUNROOT=" + m.RunRoot,
		"MGR_CONFIG=" + m.Config,
		"MGR_CNI_CONFIG_DIR=" + m.CNIDir,
		"MGR_CNI_BIN_DIR=/opt/cni/bin",
		"MGR_PULL=never", // an unknown image must never become a pull
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MGR_") {
			env = append(env, kv)
		}
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
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	outF, err1 := os.CreateTemp(m.Dir, "out-")
	errF, err2 := os.CreateTemp(m.Dir, "err-")
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
	cmd.Stdout, cmd.Stderr = outF, errF
	start := time.Now()
	err := cmd.Run()
	res := Result{Args: args, Took: time.Since(start)}
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

// MustFail runs mgr and fails the test unless it exits code and its
// stderr holds every one of want.
func (m *Mgr) MustFail(code int, want []string, args ...string) Result {
	m.t.Helper()
	res := m.Run(args...)
	if res.Code != code {
		m.t.Fatalf("want exit %d: %s", code, res)
	}
	for _, w := range want {
		if !strings.Contains(res.Stderr, w) {
			m.t.Errorf("stderr lacks %q: %s", w, res)
		}
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
	return id
}

// Exec runs a command in a running container and returns its stdout.
func (m *Mgr) Exec(ctr string, args ...string) string {
	m.t.Helper()
	return m.Must(append([]string{"exec", ctr}, args...)...).Stdout
}

// IDs returns the full ids of all containers.
func (m *Mgr) IDs() []string {
	m.t.Helper()
	ids := strings.Fields(m.Must("ps", "-a", "-q", "--no-trunc").Stdout)
	sort.Strings(ids)
	return ids
}

// Running reports whether `ps` (running containers only) lists name.
func (m *Mgr) Running(name string) bool {
	m.t.Helper()
	for _, n := range strings.Fields(m.Must("ps", "--format", "{{.Names}}").Stdout) {
		if n == name {
			return true
		}
	}
	return false
}

// ---- host state ----

// dirEntries lists a directory's names (none if it does not exist).
func dirEntries(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// Leases lists host-local's lease files of a network (not its lock and
// last_reserved_ip.N bookkeeping).
func (m *Mgr) Leases(network string) []string {
	var out []string
	for _, n := range dirEntries(filepath.Join(m.Root, "cni", "networks", network)) {
		if n != "lock" && !strings.HasPrefix(n, "last_reserved_ip.") {
			out = append(out, n)
		}
	}
	return out
}

// CacheEntries lists libcni's cached results (one per attachment).
func (m *Mgr) CacheEntries() []string {
	return dirEntries(filepath.Join(m.Root, "cni", "cache", "results"))
}

// NetNSFiles lists the persistent namespaces.
func (m *Mgr) NetNSFiles() []string { return dirEntries(filepath.Join(m.RunRoot, "netns")) }

// BridgePorts lists the interfaces enslaved to a bridge.
func BridgePorts(bridge string) []string {
	return dirEntries(filepath.Join("/sys/class/net", bridge, "brif"))
}

// Leaks lists what is left on the host of this installation: mounts under
// its dir, processes naming it, namespaces, CNI cache entries, leases,
// bridge ports and iptables rules of its subnets.
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
	for _, d := range []string{filepath.Join(m.RunRoot, "netns"), filepath.Join(m.RunRoot, "c"), filepath.Join(m.RunRoot, "runtime"), filepath.Join(m.Root, "cni", "cache", "results")} {
		for _, e := range dirEntries(d) {
			leaks = append(leaks, "left in "+d+": "+e)
		}
	}
	for _, n := range dirEntries(filepath.Join(m.Root, "cni", "networks")) {
		for _, l := range m.Leases(n) {
			leaks = append(leaks, "lease of network "+n+": "+l)
		}
	}
	m.mu.Lock()
	bridges, prefixes := slicesClone(m.bridges), slicesClone(m.prefixes)
	m.mu.Unlock()
	for _, b := range bridges {
		for _, p := range BridgePorts(b) {
			leaks = append(leaks, "bridge "+b+" port: "+p)
		}
	}
	for _, l := range harness.IptablesRules() {
		for _, p := range prefixes {
			if strings.Contains(l, p) {
				leaks = append(leaks, "iptables: "+l)
				break
			}
		}
	}
	return leaks
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// processes returns the processes whose command line mentions the roots.
func (m *Mgr) processes() []harness.HostProc { return harness.ProcessesMentioning(m.Dir) }

// AssertClean fails the test if anything of the installation is left.
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
	if _, err := os.Stat(mgrBinary); err == nil {
		if ids := m.IDs(); len(ids) > 0 {
			if res := m.Run(append([]string{"rm", "-f"}, ids...)...); res.Code != 0 {
				t.Errorf("cleanup: %s", res)
			}
		}
		m.mu.Lock()
		nets := slicesClone(m.networks)
		m.mu.Unlock()
		for _, n := range nets {
			if _, err := os.Stat(filepath.Join(m.CNIDir, "90-mgr-"+n+".conflist")); err == nil {
				if res := m.Run("network", "rm", n); res.Code != 0 {
					t.Errorf("cleanup: %s", res)
				}
			}
		}
		m.AssertClean("after rm -f of every container")
	}
	m.forceClean()
	if err := os.RemoveAll(m.Dir); err != nil {
		t.Errorf("remove roots: %v", err)
	}
}

// forceClean removes by hand what mgr failed to (already reported), so one
// failing test does not leave the host dirty: processes, runtime state,
// mounts, iptables rules of its subnets and its bridges.
func (m *Mgr) forceClean() {
	for _, p := range m.processes() {
		_ = syscall.Kill(p.Pid, syscall.SIGKILL)
	}
	for _, e := range dirEntries(filepath.Join(m.RunRoot, "runtime")) {
		_ = exec.Command(rtBinary, "--root", filepath.Join(m.RunRoot, "runtime"), "delete", "--force", e).Run()
	}
	mis, _ := harness.ReadMountInfo("self")
	for i := len(mis) - 1; i >= 0; i-- {
		if strings.Contains(mis[i].Line, m.Dir+"/") {
			_ = syscall.Unmount(mis[i].MountPoint, syscall.MNT_DETACH)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	removeRules(m.prefixes)
	for _, b := range m.bridges {
		if _, err := os.Stat(filepath.Join("/sys/class/net", b)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if out, err := exec.Command("ip", "link", "del", b).CombinedOutput(); err != nil {
			m.t.Errorf("delete bridge %s: %v: %s", b, err, out)
		}
	}
}

// removeRules deletes the nat and filter rules that name one of prefixes
// (the firewall plugin's CNI-FORWARD rules, the bridge plugin's
// masquerade jumps) and the per-container CNI-* chains they jump to.
func removeRules(prefixes []string) {
	if len(prefixes) == 0 {
		return
	}
	for _, table := range []string{"nat", "filter"} {
		out, _ := exec.Command("iptables-save", "-t", table).Output()
		for _, l := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(l, "-A ") || !containsAny(l, prefixes) {
				continue
			}
			f := strings.Fields(l)
			_ = exec.Command("sh", "-c", "iptables -t "+table+" -D "+strings.Join(f[1:], " ")).Run()
			for i, w := range f {
				if w == "-j" && i+1 < len(f) && strings.HasPrefix(f[i+1], "CNI-") && len(f[i+1]) > 20 {
					_ = exec.Command("iptables", "-t", table, "-F", f[i+1]).Run()
					_ = exec.Command("iptables", "-t", table, "-X", f[i+1]).Run()
				}
			}
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, p := range subs {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// ---- container-side helpers ----

// serveScript makes /srv/file hold content and serves /srv with busybox
// httpd on port 80 in the foreground.
func serveScript(content string) []string {
	return []string{"sh", "-c", "mkdir -p /srv && echo " + content + " > /srv/file && exec httpd -f -p 80 -h /srv"}
}

// fetchScript fetches url with busybox wget (under timeout: Debian busybox
// 1.35's own wget -T segfaults), retrying for ~10 s while the
// server starts.
func fetchScript(url string) []string {
	return []string{"sh", "-c", "for i in $(seq 50); do timeout 3 wget -qO- " + url + " && exit 0; sleep 0.2; done; exit 1"}
}

// ifNames returns the interface names in /proc/net/dev text.
func ifNames(procNetDev string) []string {
	var out []string
	for _, l := range strings.Split(procNetDev, "\n") {
		name, _, ok := strings.Cut(l, ":")
		if ok && !strings.Contains(name, "|") {
			out = append(out, strings.TrimSpace(name))
		}
	}
	sort.Strings(out)
	return out
}

// ipv4Of returns the address of ifname in `ip -o -4 addr show` text.
func ipv4Of(ipAddr, ifname string) string {
	for _, l := range strings.Split(ipAddr, "\n") {
		f := strings.Fields(l)
		for i := 0; i+3 < len(f); i++ {
			if f[i] == ifname+":" || f[i] == ifname {
				if f[i+1] == "inet" {
					addr, _, _ := strings.Cut(f[i+2], "/")
					return addr
				}
			}
		}
	}
	return ""
}
