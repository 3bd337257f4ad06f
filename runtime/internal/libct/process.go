package libct

import (
	"fmt"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Process is a libcontainer process: the container's init or an exec.
type Process = libcontainer.Process

// NewProcess converts an OCI process into a libcontainer process with no
// stdio attached; the caller wires stdio and the console. For a container's
// init, the rlimits that must wait until it is set up come back apart (see
// lateRlimits): pass them to ApplyRlimits once the init waits to exec.
func NewProcess(p *specs.Process, init bool) (*Process, []specs.POSIXRlimit, error) {
	p = copyProcess(p)
	var late []specs.POSIXRlimit
	if init {
		late = splitLateRlimits(p)
	}
	lp, err := newProcess(p)
	return lp, late, err
}

func copyProcess(p *specs.Process) *specs.Process {
	c := *p
	c.Rlimits = append([]specs.POSIXRlimit(nil), p.Rlimits...)
	return &c
}

// ApplyRlimits sets rlimits on a running process.
func ApplyRlimits(pid int, limits []specs.POSIXRlimit) error {
	for _, r := range limits {
		typ, ok := rlimits[r.Type]
		if !ok {
			return fmt.Errorf("unknown rlimit type %q", r.Type)
		}
		if err := unix.Prlimit(pid, typ, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}, nil); err != nil {
			return fmt.Errorf("set %s of the container's process: %w", r.Type, err)
		}
	}
	return nil
}

func newProcess(p *specs.Process) (*Process, error) {
	lp := &Process{
		Args:            p.Args,
		Env:             p.Env,
		UID:             int(p.User.UID),
		GID:             int(p.User.GID),
		Cwd:             p.Cwd,
		Label:           p.SelinuxLabel,
		NoNewPrivileges: &p.NoNewPrivileges,
		AppArmorProfile: p.ApparmorProfile,
		Scheduler:       p.Scheduler,
		IOPriority:      p.IOPriority,
	}
	if p.ConsoleSize != nil {
		lp.ConsoleWidth = uint16(p.ConsoleSize.Width)
		lp.ConsoleHeight = uint16(p.ConsoleSize.Height)
	}
	if c := p.Capabilities; c != nil {
		lp.Capabilities = &configs.Capabilities{
			Bounding:    c.Bounding,
			Effective:   c.Effective,
			Inheritable: c.Inheritable,
			Permitted:   c.Permitted,
			Ambient:     c.Ambient,
		}
	}
	for _, g := range p.User.AdditionalGids {
		lp.AdditionalGroups = append(lp.AdditionalGroups, int(g))
	}
	for _, r := range p.Rlimits {
		typ, ok := rlimits[r.Type]
		if !ok {
			return nil, fmt.Errorf("unknown rlimit type %q", r.Type)
		}
		lp.Rlimits = append(lp.Rlimits, configs.Rlimit{Type: typ, Hard: r.Hard, Soft: r.Soft})
	}
	aff, err := configs.ConvertCPUAffinity(p.ExecCPUAffinity)
	if err != nil {
		return nil, err
	}
	lp.CPUAffinity = aff
	return lp, nil
}

var rlimits = map[string]int{
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
}
