package oci

import (
	"fmt"
	"slices"

	"github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// WithDefaultSeccomp applies docker's default seccomp profile. It depends
// on the capabilities (some syscalls are allowed only with CAP_SYS_ADMIN and
// the like), so apply it after the capability options.
//
// Unlike docker, the filter leaves out the x32 ABI: libseccomp compiles the
// profile once per architecture, and x32 (off in most kernels, this one's
// included) cost ~10 ms of every container start. A syscall through an
// architecture the filter does not list is refused, so leaving x32 out
// denies more, never less. i386 stays, for 32-bit programs.
func WithDefaultSeccomp() SpecOpt {
	return func(s *specs.Spec) error {
		p, err := seccomp.GetDefaultProfile(s)
		if err != nil {
			return fmt.Errorf("default seccomp profile: %w", err)
		}
		p.Architectures = slices.DeleteFunc(p.Architectures, func(a specs.Arch) bool { return a == specs.ArchX32 })
		s.Linux.Seccomp = p
		return nil
	}
}

// WithSeccompProfile applies a profile in docker's JSON format.
func WithSeccompProfile(body []byte) SpecOpt {
	return func(s *specs.Spec) error {
		p, err := seccomp.LoadProfile(string(body), s)
		if err != nil {
			return fmt.Errorf("seccomp profile: %w", err)
		}
		s.Linux.Seccomp = p
		return nil
	}
}

// WithoutSeccomp runs unconfined (--security-opt seccomp=unconfined).
func WithoutSeccomp() SpecOpt {
	return func(s *specs.Spec) error { s.Linux.Seccomp = nil; return nil }
}
