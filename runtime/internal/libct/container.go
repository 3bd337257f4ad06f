package libct

import (
	"errors"
	"fmt"
	"os"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Container is a libcontainer container; rt's verbs work on it directly.
type Container = libcontainer.Container

// Status values, re-exported so verbs can switch on them.
const (
	Created = libcontainer.Created
	Running = libcontainer.Running
	Paused  = libcontainer.Paused
	Stopped = libcontainer.Stopped
)

// Errors callers branch on.
var (
	ErrNotExist   = libcontainer.ErrNotExist
	ErrExist      = libcontainer.ErrExist
	ErrNotRunning = libcontainer.ErrNotRunning
	ErrEmptyID    = errors.New("container id cannot be empty")
)

// CreateOpts are the rt flags that shape a container beyond its config.json.
type CreateOpts struct {
	SystemdCgroup   bool
	NoPivotRoot     bool
	NoNewKeyring    bool
	RootlessCgroups bool
	// SeccompCache is the directory of compiled seccomp filters (empty:
	// none; the init compiles its filter as runc's does).
	SeccompCache string
}

// Load opens the container id under the state root.
func Load(root, id string) (*Container, error) {
	if id == "" {
		return nil, ErrEmptyID
	}
	return libcontainer.Load(root, id)
}

// Create turns spec into a libcontainer configuration and registers the
// container under root. The current directory must be the bundle: that is
// how libcontainer learns the bundle path, as with runc.
func Create(root, id string, spec *specs.Spec, opts CreateOpts) (*Container, error) {
	if id == "" {
		return nil, ErrEmptyID
	}
	if opts.SystemdCgroup {
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			return nil, errors.New("--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); use the default cgroupfs driver")
		}
	}
	relaxSpec(spec)
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       id,
		UseSystemdCgroup: opts.SystemdCgroup,
		NoPivotRoot:      opts.NoPivotRoot,
		NoNewKeyring:     opts.NoNewKeyring,
		Spec:             spec,
		RootlessEUID:     os.Geteuid() != 0,
		RootlessCgroups:  opts.RootlessCgroups,
	})
	if err != nil {
		return nil, fmt.Errorf("convert config: %w", err)
	}
	precompileSeccomp(opts.SeccompCache, config.Seccomp)
	return libcontainer.Create(root, id, config)
}
