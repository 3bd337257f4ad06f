package libct

import (
	"slices"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// relaxSpec accepts what runc 1.1 accepted and libcontainer 1.5 refuses,
// so configs written for runc keep working under rt:
//
//   - a FIFO (type "p") device with major:minor numbers: the kernel ignores
//     numbers for FIFOs, so they are dropped instead of failing the check
//     that the created node has them;
//   - filesystem options on a bind mount ("mode=755,size=1k"): a bind mount
//     takes no filesystem data, and runc 1.1 ignored it; it is dropped with
//     a warning.
func relaxSpec(spec *specs.Spec) {
	if spec.Linux != nil {
		for i, d := range spec.Linux.Devices {
			if d.Type == "p" && (d.Major != 0 || d.Minor != 0) {
				spec.Linux.Devices[i].Major, spec.Linux.Devices[i].Minor = 0, 0
			}
		}
	}
	known := specconv.KnownMountOptions()
	for i, m := range spec.Mounts {
		if !isBind(m) {
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return !slices.Contains(known, o) })
		if len(kept) != len(m.Options) {
			logrus.Warnf("bind mount on %s: ignoring filesystem options a bind mount cannot take", m.Destination)
			spec.Mounts[i].Options = kept
		}
	}
}

func isBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	return slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

// lateRlimits are applied to the container's init by rt itself, after
// libcontainer has set it up: rt init is a Go program whose address-space
// reservations alone exceed a 1 GiB RLIMIT_AS, so with the limit in place
// its own setup (the seccomp filter, for one) fails for lack of memory. The
// user's process, exec'd later, gets the limit as the spec asks.
var lateRlimits = []string{"RLIMIT_AS", "RLIMIT_DATA"}

// splitLateRlimits removes the late rlimits from p and returns them.
func splitLateRlimits(p *specs.Process) []specs.POSIXRlimit {
	var late []specs.POSIXRlimit
	p.Rlimits = slices.DeleteFunc(p.Rlimits, func(r specs.POSIXRlimit) bool {
		if slices.Contains(lateRlimits, r.Type) {
			late = append(late, r)
			return true
		}
		return false
	})
	return late
}
