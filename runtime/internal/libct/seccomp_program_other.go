//go:build !(runcpatch && cgo && seccomp)

package libct

import "github.com/opencontainers/runc/libcontainer/configs"

// precompileSeccomp does nothing without the patched libcontainer: the
// container's init builds its filter as runc does.
func precompileSeccomp(string, *configs.Seccomp) {}
