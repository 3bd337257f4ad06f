package oci

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func marshal(s *specs.Spec) ([]byte, error) { return json.MarshalIndent(s, "", "  ") }

// WithArgs sets the command line.
func WithArgs(args ...string) SpecOpt {
	return func(s *specs.Spec) error {
		if len(args) == 0 {
			return fmt.Errorf("no command specified")
		}
		s.Process.Args = args
		return nil
	}
}

// WithEnv sets or replaces variables (KEY=VALUE); later wins, as docker.
func WithEnv(env []string) SpecOpt {
	return func(s *specs.Spec) error {
		for _, kv := range env {
			key, _, _ := strings.Cut(kv, "=")
			s.Process.Env = slices.DeleteFunc(s.Process.Env, func(e string) bool {
				k, _, _ := strings.Cut(e, "=")
				return k == key
			})
			s.Process.Env = append(s.Process.Env, kv)
		}
		return nil
	}
}

// WithCwd sets the working directory.
func WithCwd(dir string) SpecOpt {
	return func(s *specs.Spec) error {
		if dir != "" {
			s.Process.Cwd = dir
		}
		return nil
	}
}

// WithUser sets uid, gid and supplementary groups.
func WithUser(uid, gid uint32, additional []uint32) SpecOpt {
	return func(s *specs.Spec) error {
		s.Process.User = specs.User{UID: uid, GID: gid, AdditionalGids: additional}
		return nil
	}
}

// WithHostname sets the UTS hostname.
func WithHostname(name string) SpecOpt {
	return func(s *specs.Spec) error { s.Hostname = name; return nil }
}

// WithTTY gives the process a terminal.
func WithTTY(tty bool) SpecOpt {
	return func(s *specs.Spec) error {
		s.Process.Terminal = tty
		if tty {
			return WithEnv([]string{"TERM=xterm"})(s)
		}
		return nil
	}
}

// WithReadonlyRootfs mounts the root filesystem read-only.
func WithReadonlyRootfs(ro bool) SpecOpt {
	return func(s *specs.Spec) error { s.Root.Readonly = ro; return nil }
}

// WithMounts adds mounts, replacing default ones at the same destination.
func WithMounts(mounts []specs.Mount) SpecOpt {
	return func(s *specs.Spec) error {
		for _, m := range mounts {
			s.Mounts = slices.DeleteFunc(s.Mounts, func(x specs.Mount) bool { return x.Destination == m.Destination })
			s.Mounts = append(s.Mounts, m)
		}
		return nil
	}
}

// WithNetNS joins the network namespace at path; "" keeps a new one;
// WithHostNetwork drops the namespace entirely.
func WithNetNS(path string) SpecOpt {
	return func(s *specs.Spec) error {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = path
			}
		}
		return nil
	}
}

// WithHostNetwork shares the host's network namespace.
func WithHostNetwork() SpecOpt {
	return func(s *specs.Spec) error {
		s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.NetworkNamespace })
		// With the host's network, /sys must stay read-only but shows the
		// host's interfaces: that is what --network host asks for.
		return nil
	}
}

// WithMemoryLimit sets the memory limit in bytes (and no extra swap, as
// docker does when only --memory is given).
func WithMemoryLimit(bytes int64) SpecOpt {
	return func(s *specs.Spec) error {
		if bytes <= 0 {
			return nil
		}
		mem := resources(s)
		if mem.Memory == nil {
			mem.Memory = &specs.LinuxMemory{}
		}
		swap := bytes
		mem.Memory.Limit, mem.Memory.Swap = &bytes, &swap
		return nil
	}
}

// WithCPUs limits CPU time to n CPUs (CFS quota over a 100 ms period).
func WithCPUs(n float64) SpecOpt {
	return func(s *specs.Spec) error {
		if n <= 0 {
			return nil
		}
		period := uint64(100000)
		quota := int64(n * float64(period))
		r := resources(s)
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		r.CPU.Period, r.CPU.Quota = &period, &quota
		return nil
	}
}

// WithPidsLimit limits the number of processes.
func WithPidsLimit(n int64) SpecOpt {
	return func(s *specs.Spec) error {
		if n != 0 {
			resources(s).Pids = &specs.LinuxPids{Limit: &n}
		}
		return nil
	}
}

func resources(s *specs.Spec) *specs.LinuxResources {
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	return s.Linux.Resources
}

// WithCapabilities adds and drops capabilities ("ALL" allowed in either;
// names with or without CAP_).
func WithCapabilities(add, drop []string) SpecOpt {
	return func(s *specs.Spec) error {
		caps := clone(s.Process.Capabilities.Bounding)
		norm := func(c string) string {
			c = strings.ToUpper(c)
			if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
				c = "CAP_" + c
			}
			return c
		}
		for _, d := range drop {
			if d = norm(d); d == "ALL" {
				caps = nil
			} else {
				caps = slices.DeleteFunc(caps, func(c string) bool { return c == d })
			}
		}
		for _, a := range add {
			if a = norm(a); a == "ALL" {
				caps = boundingCapabilities()
			} else if !slices.Contains(caps, a) {
				if !slices.Contains(allCapabilities, a) {
					return fmt.Errorf("unknown capability %q", a)
				}
				caps = append(caps, a)
			}
		}
		setCaps(s, caps)
		return nil
	}
}

func setCaps(s *specs.Spec, caps []string) {
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Permitted: clone(caps), Effective: clone(caps)}
}

// WithPrivileged gives all capabilities and devices, no masked or
// read-only paths, and no seccomp filter, as docker's --privileged.
func WithPrivileged() SpecOpt {
	return func(s *specs.Spec) error {
		setCaps(s, boundingCapabilities())
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
		s.Linux.Seccomp = nil
		resources(s).Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		for i, m := range s.Mounts {
			if m.Type == "sysfs" || m.Type == "cgroup" {
				s.Mounts[i].Options = slices.DeleteFunc(clone(m.Options), func(o string) bool { return o == "ro" })
			}
		}
		return nil
	}
}

// WithNoNewPrivileges sets no_new_privs on the process.
func WithNoNewPrivileges(on bool) SpecOpt {
	return func(s *specs.Spec) error { s.Process.NoNewPrivileges = on; return nil }
}

// WithRlimit sets one rlimit ("nofile", "nproc", ... or RLIMIT_*).
func WithRlimit(name string, soft, hard uint64) SpecOpt {
	return func(s *specs.Spec) error {
		typ := strings.ToUpper(name)
		if !strings.HasPrefix(typ, "RLIMIT_") {
			typ = "RLIMIT_" + typ
		}
		s.Process.Rlimits = slices.DeleteFunc(s.Process.Rlimits, func(r specs.POSIXRlimit) bool { return r.Type == typ })
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: typ, Soft: soft, Hard: hard})
		return nil
	}
}

// WithAnnotations adds OCI annotations.
func WithAnnotations(a map[string]string) SpecOpt {
	return func(s *specs.Spec) error {
		if len(a) == 0 {
			return nil
		}
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		for k, v := range a {
			s.Annotations[k] = v
		}
		return nil
	}
}

// WithCgroupsPath places the container's cgroup.
func WithCgroupsPath(p string) SpecOpt {
	return func(s *specs.Spec) error { s.Linux.CgroupsPath = p; return nil }
}

var allCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}
