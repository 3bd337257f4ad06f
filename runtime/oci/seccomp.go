package oci

import (
	"fmt"

	"github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// WithDefaultSeccomp applies docker's default seccomp profile. It depends
// on the capabilities (some syscalls are allowed only with CAP_SYS_ADMIN and
// the like), so apply it after the capability options.
func WithDefaultSeccomp() SpecOpt {
	return func(s *specs.Spec) error {
		p, err := seccomp.GetDefaultProfile(s)
		if err != nil {
			return fmt.Errorf("default seccomp profile: %w", err)
		}
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
