//go:build integration && linux

package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Bundle is an OCI bundle in a per-test temporary directory: Dir/config.json
// and Dir/rootfs (busybox).
type Bundle struct {
	t      testing.TB
	Dir    string
	Rootfs string
	Spec   *specs.Spec
}

// SpecOpt edits a spec.
type SpecOpt func(*specs.Spec)

// DefaultCaps is the capability set of `runc spec` (and `rt spec`).
var DefaultCaps = []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}

// DefaultSpec returns the same configuration as `runc spec` (runc 1.2+: no
// ambient capabilities; a cgroup namespace only on a cgroup v2 host).
func DefaultSpec() *specs.Spec {
	caps := func() []string { return append([]string(nil), DefaultCaps...) }
	s := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs", Readonly: true},
		Process: &specs.Process{
			Terminal: true,
			User:     specs.User{},
			Args:     []string{"sh"},
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"TERM=xterm",
			},
			Cwd:             "/",
			NoNewPrivileges: true,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  caps(),
				Permitted: caps(),
				Effective: caps(),
			},
			Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		},
		Hostname: "runc",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		},
		Linux: &specs.Linux{
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
			},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
			},
		},
	}
	if CgroupV2Unified() {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	return s
}

// NewBundle builds a busybox bundle in a fresh t.TempDir(). The config is
// DefaultSpec with one change made for non-interactive tests: no terminal
// (tests that want one set WithTerminal). opts are applied afterwards and the
// config is written.
func NewBundle(t testing.TB, opts ...SpecOpt) *Bundle {
	t.Helper()
	dir := t.TempDir()
	b := &Bundle{t: t, Dir: dir, Rootfs: filepath.Join(dir, "rootfs"), Spec: DefaultSpec()}
	if err := BuildRootfs(b.Rootfs); err != nil {
		t.Fatalf("build rootfs: %v", err)
	}
	b.Spec.Process.Terminal = false
	b.Edit(opts...)
	return b
}

// Edit applies opts to the spec and rewrites config.json.
func (b *Bundle) Edit(opts ...SpecOpt) {
	b.t.Helper()
	for _, o := range opts {
		o(b.Spec)
	}
	b.Save()
}

// Save writes the spec to config.json.
func (b *Bundle) Save() {
	b.t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "\t")
	if err != nil {
		b.t.Fatalf("marshal config: %v", err)
	}
	if err := os.WriteFile(b.ConfigPath(), data, 0o644); err != nil {
		b.t.Fatalf("write config: %v", err)
	}
}

// ConfigPath is the bundle's config.json.
func (b *Bundle) ConfigPath() string { return filepath.Join(b.Dir, "config.json") }

// OutDir makes a host directory, bind-mounts it read-write at dest in the
// container and returns its host path. Tests use it to collect files the
// container writes (the rootfs itself is read-only).
func (b *Bundle) OutDir(dest string) string {
	b.t.Helper()
	dir := b.t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		b.t.Fatal(err)
	}
	b.Edit(WithBindMount(dir, dest, false))
	return dir
}

// BuildRootfs makes a busybox rootfs at dir: /bin/busybox, one symlink per
// applet, /etc/passwd and /etc/group, and empty mount points.
func BuildRootfs(dir string) error {
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	for _, d := range []string{"tmp", "var/tmp"} {
		if err := os.Chmod(filepath.Join(dir, d), 0o1777); err != nil {
			return err
		}
	}
	if err := copyFile(BusyboxPath, filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	applets, err := busyboxApplets()
	if err != nil {
		return err
	}
	for _, a := range applets {
		if a == "bin/busybox" {
			continue
		}
		p := filepath.Join(dir, a)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Symlink("/bin/busybox", p); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

var busyboxApplets = sync.OnceValues(func() ([]string, error) {
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox --list-full: %w", err)
	}
	var list []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "..") {
			list = append(list, strings.TrimPrefix(l, "/"))
		}
	}
	if len(list) == 0 {
		return nil, errors.New("busybox --list-full printed no applets")
	}
	return list, nil
})

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// CgroupV2Unified reports whether /sys/fs/cgroup is a cgroup2 mount (pure v2).
func CgroupV2Unified() bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return false
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC
}

// ---- spec options ----

// WithArgs sets process.args.
func WithArgs(args ...string) SpecOpt {
	return func(s *specs.Spec) { s.Process.Args = args }
}

// WithShell runs script with /bin/sh -c.
func WithShell(script string) SpecOpt { return WithArgs("sh", "-c", script) }

// WithTerminal sets process.terminal.
func WithTerminal(on bool) SpecOpt {
	return func(s *specs.Spec) { s.Process.Terminal = on }
}

// WithHostname sets the hostname.
func WithHostname(h string) SpecOpt {
	return func(s *specs.Spec) { s.Hostname = h }
}

// WithEnv appends environment variables ("K=V").
func WithEnv(env ...string) SpecOpt {
	return func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, env...) }
}

// WithCwd sets process.cwd.
func WithCwd(dir string) SpecOpt {
	return func(s *specs.Spec) { s.Process.Cwd = dir }
}

// WithUser sets process.user.
func WithUser(uid, gid uint32, additional ...uint32) SpecOpt {
	return func(s *specs.Spec) {
		s.Process.User = specs.User{UID: uid, GID: gid, AdditionalGids: additional}
	}
}

// WithReadonlyRootfs sets root.readonly.
func WithReadonlyRootfs(ro bool) SpecOpt {
	return func(s *specs.Spec) { s.Root.Readonly = ro }
}

// WithMount appends a mount.
func WithMount(m specs.Mount) SpecOpt {
	return func(s *specs.Spec) { s.Mounts = append(s.Mounts, m) }
}

// WithBindMount bind-mounts host path src at dest, read-only if ro.
func WithBindMount(src, dest string, ro bool) SpecOpt {
	opts := []string{"rbind", "rprivate"}
	if ro {
		opts = append(opts, "ro")
	}
	return WithMount(specs.Mount{Destination: dest, Type: "bind", Source: src, Options: opts})
}

// WithResources edits linux.resources (allocated if nil).
func WithResources(f func(*specs.LinuxResources)) SpecOpt {
	return func(s *specs.Spec) {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		f(s.Linux.Resources)
	}
}

// WithMemoryLimit sets linux.resources.memory.limit.
func WithMemoryLimit(bytes int64) SpecOpt {
	return WithResources(func(r *specs.LinuxResources) {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		r.Memory.Limit = &bytes
	})
}

// WithMemorySwap sets linux.resources.memory.swap (memory+swap). Only hosts
// with swap accounting accept it (see SwapAccounting).
func WithMemorySwap(bytes int64) SpecOpt {
	return WithResources(func(r *specs.LinuxResources) {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		r.Memory.Swap = &bytes
	})
}

// WithPidsLimit sets linux.resources.pids.limit.
func WithPidsLimit(n int64) SpecOpt {
	return WithResources(func(r *specs.LinuxResources) {
		r.Pids = &specs.LinuxPids{Limit: &n}
	})
}

// WithoutNamespace removes a namespace from linux.namespaces (the container
// shares the host's).
func WithoutNamespace(typ specs.LinuxNamespaceType) SpecOpt {
	return func(s *specs.Spec) {
		var out []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != typ {
				out = append(out, ns)
			}
		}
		s.Linux.Namespaces = out
	}
}

// WithNamespace adds (or replaces) a namespace; path joins an existing one.
func WithNamespace(typ specs.LinuxNamespaceType, path string) SpecOpt {
	return func(s *specs.Spec) {
		WithoutNamespace(typ)(s)
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
	}
}

// WithCaps sets the bounding, effective and permitted sets to caps (and
// leaves inheritable and ambient empty); no caps drops them all.
func WithCaps(caps ...string) SpecOpt {
	return func(s *specs.Spec) {
		c := func() []string { return append([]string{}, caps...) }
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: c(), Effective: c(), Permitted: c(),
		}
	}
}

// WithAnnotation sets an annotation.
func WithAnnotation(k, v string) SpecOpt {
	return func(s *specs.Spec) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

// PrettyJSON is a debugging aid for failure messages.
func PrettyJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return buf.String()
}
