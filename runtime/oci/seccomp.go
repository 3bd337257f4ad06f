package oci

import (
	"fmt"
	"slices"
	"strings"

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
		p.Syscalls = mergeValueRules(p.Syscalls)
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

// valueSetLimit bounds the argument values mergeValueRules expands into a
// set (address families, personalities and the like are small numbers).
const valueSetLimit = 1 << 12

// mergeValueRules rewrites rules that allow (or deny) one syscall for a set
// of values of one argument, one rule per value, into one masked-equality
// rule per aligned power-of-two block of that set: docker's 30 socket rules
// (one per allowed address family, the first three as one "< 3") become
// 21. The filter allows and denies exactly the same calls (argument &
// ^(2^k-1) == start matches the values start..start+2^k-1 and, as the
// equality it replaces, only with the high 32 bits clear), but libseccomp
// generates it much faster: each value rule multiplies its work on i386
// (socketcall), and the default profile took libcontainer's init 14.2 ms
// to compile and load, 10.3 ms merged.
//
// Only rules with a single condition (== value, or < value) on the same
// argument and otherwise equal (names, action, errno) are merged, and only
// when that makes fewer rules; the merged rules take the first one's place.
func mergeValueRules(rules []specs.LinuxSyscall) []specs.LinuxSyscall {
	type groupKey struct {
		names  string
		action specs.LinuxSeccompAction
		errno  uint
		hasErr bool
		index  uint
	}
	keyOf := func(r specs.LinuxSyscall) (groupKey, bool) {
		if len(r.Args) != 1 {
			return groupKey{}, false
		}
		a := r.Args[0]
		switch {
		case a.Op == specs.OpEqualTo && a.Value < valueSetLimit:
		case a.Op == specs.OpLessThan && a.Value <= valueSetLimit:
		default:
			return groupKey{}, false
		}
		k := groupKey{names: strings.Join(r.Names, "\x00"), action: r.Action, index: a.Index}
		if r.ErrnoRet != nil {
			k.errno, k.hasErr = *r.ErrnoRet, true
		}
		return k, true
	}
	members := map[groupKey][]int{}
	for i, r := range rules {
		if k, ok := keyOf(r); ok {
			members[k] = append(members[k], i)
		}
	}
	replace := map[int][]specs.LinuxSyscall{} // first rule of a merged group -> its blocks
	drop := map[int]bool{}
	for _, idx := range members {
		if len(idx) < 2 {
			continue
		}
		set := make([]bool, valueSetLimit)
		for _, i := range idx {
			a := rules[i].Args[0]
			if a.Op == specs.OpEqualTo {
				set[a.Value] = true
				continue
			}
			for v := uint64(0); v < a.Value; v++ {
				set[v] = true
			}
		}
		blocks := alignedBlocks(set)
		if len(blocks) >= len(idx) {
			continue
		}
		first := rules[idx[0]]
		merged := make([]specs.LinuxSyscall, 0, len(blocks))
		for _, b := range blocks {
			r := first
			r.Args = []specs.LinuxSeccompArg{{Index: first.Args[0].Index, Op: specs.OpMaskedEqual, Value: ^(b.size - 1), ValueTwo: b.start}}
			merged = append(merged, r)
		}
		replace[idx[0]] = merged
		for _, i := range idx {
			drop[i] = true
		}
	}
	if len(drop) == 0 {
		return rules
	}
	out := make([]specs.LinuxSyscall, 0, len(rules))
	for i, r := range rules {
		if m, ok := replace[i]; ok {
			out = append(out, m...)
			continue
		}
		if !drop[i] {
			out = append(out, r)
		}
	}
	return out
}

// valueBlock is the values start..start+size-1; size is a power of two and
// start a multiple of it.
type valueBlock struct{ start, size uint64 }

// alignedBlocks covers the values set[v] == true with the fewest aligned
// power-of-two blocks (each as large as alignment and the set allow).
func alignedBlocks(set []bool) []valueBlock {
	var out []valueBlock
	for v := uint64(0); v < uint64(len(set)); {
		if !set[v] {
			v++
			continue
		}
		size := uint64(1)
		for next := size * 2; v%next == 0 && v+next <= uint64(len(set)) && allSet(set[v:v+next]); next *= 2 {
			size = next
		}
		out = append(out, valueBlock{v, size})
		v += size
	}
	return out
}

func allSet(s []bool) bool {
	for _, b := range s {
		if !b {
			return false
		}
	}
	return true
}
