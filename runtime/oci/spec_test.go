package oci

import (
	"runtime"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestDefaults(t *testing.T) {
	s, err := New("/rootfs", WithDefaultSeccomp())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Process.Capabilities.Bounding) != len(DefaultCapabilities) {
		t.Errorf("caps = %v", s.Process.Capabilities.Bounding)
	}
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Fatalf("default seccomp profile missing")
	}
	if slices.Contains(s.Linux.Seccomp.Architectures, specs.ArchX32) ||
		(runtime.GOARCH == "amd64" && !slices.Contains(s.Linux.Seccomp.Architectures, specs.ArchX86)) {
		t.Errorf("seccomp architectures = %v, want x32 left out and x86 kept", s.Linux.Seccomp.Architectures)
	}
	if !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("masked/readonly paths missing")
	}
	if !slices.ContainsFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == "/dev/shm" }) {
		t.Errorf("/dev/shm missing")
	}
}

func TestOptions(t *testing.T) {
	cases := []struct {
		name  string
		opts  []SpecOpt
		check func(*specs.Spec) bool
		err   bool
	}{
		{"env replaces", []SpecOpt{WithEnv([]string{"A=1", "PATH=/x", "A=2"})}, func(s *specs.Spec) bool {
			return slices.Equal(s.Process.Env, []string{"PATH=/x", "A=2"})
		}, false},
		{"cap drop all add one", []SpecOpt{WithCapabilities([]string{"net_admin"}, []string{"ALL"})}, func(s *specs.Spec) bool {
			return slices.Equal(s.Process.Capabilities.Bounding, []string{"CAP_NET_ADMIN"})
		}, false},
		{"unknown cap", []SpecOpt{WithCapabilities([]string{"CAP_NOPE"}, nil)}, nil, true},
		{"memory", []SpecOpt{WithMemoryLimit(32 << 20)}, func(s *specs.Spec) bool {
			return *s.Linux.Resources.Memory.Limit == 32<<20
		}, false},
		{"cpus", []SpecOpt{WithCPUs(0.5)}, func(s *specs.Spec) bool {
			return *s.Linux.Resources.CPU.Quota == 50000 && *s.Linux.Resources.CPU.Period == 100000
		}, false},
		{"host network", []SpecOpt{WithHostNetwork()}, func(s *specs.Spec) bool {
			return !slices.ContainsFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.NetworkNamespace })
		}, false},
		{"privileged", []SpecOpt{WithPrivileged()}, func(s *specs.Spec) bool {
			return len(s.Linux.MaskedPaths) == 0 && len(s.Process.Capabilities.Bounding) > len(DefaultCapabilities)
		}, false},
		{"no args", []SpecOpt{WithArgs()}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New("/r", tc.opts...)
			if tc.err {
				if err == nil {
					t.Fatal("expected an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(s) {
				t.Errorf("check failed: %+v", s.Process)
			}
		})
	}
}
