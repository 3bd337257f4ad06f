package oci

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestAlignedBlocks(t *testing.T) {
	tests := []struct {
		name   string
		values []uint64
		want   []valueBlock
	}{
		{"empty", nil, nil},
		{"one", []uint64{5}, []valueBlock{{5, 1}}},
		{"aligned pair", []uint64{8, 9}, []valueBlock{{8, 2}}},
		{"unaligned pair", []uint64{7, 8}, []valueBlock{{7, 1}, {8, 1}}},
		{"run", []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8}, []valueBlock{{0, 8}, {8, 1}}},
		{"docker's socket families", []uint64{0, 1, 2, 7, 8, 9, 10, 13, 14, 15, 16, 17, 18, 21, 22, 24, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 39, 41, 42, 43, 44, 45},
			[]valueBlock{{0, 2}, {2, 1}, {7, 1}, {8, 2}, {10, 1}, {13, 1}, {14, 2}, {16, 2}, {18, 1}, {21, 1}, {22, 1}, {24, 1}, {26, 2}, {28, 4}, {32, 2}, {35, 1}, {36, 1}, {39, 1}, {41, 1}, {42, 2}, {44, 2}}},
		{"top of the range", []uint64{valueSetLimit - 2, valueSetLimit - 1}, []valueBlock{{valueSetLimit - 2, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := make([]bool, valueSetLimit)
			for _, v := range tt.values {
				set[v] = true
			}
			if got := alignedBlocks(set); !slices.Equal(got, tt.want) {
				t.Errorf("alignedBlocks = %v, want %v", got, tt.want)
			}
		})
	}
}

func rule(name string, action specs.LinuxSeccompAction, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{name}, Action: action, Args: args}
}

func eq(v uint64) specs.LinuxSeccompArg {
	return specs.LinuxSeccompArg{Index: 0, Value: v, Op: specs.OpEqualTo}
}

func masked(start, size uint64) specs.LinuxSeccompArg {
	return specs.LinuxSeccompArg{Index: 0, Value: ^(size - 1), ValueTwo: start, Op: specs.OpMaskedEqual}
}

func TestMergeValueRules(t *testing.T) {
	errno := uint(38)
	withErrno := rule("socket", specs.ActErrno, eq(9))
	withErrno.ErrnoRet = &errno
	tests := []struct {
		name  string
		rules []specs.LinuxSyscall
		want  []specs.LinuxSyscall
	}{
		{
			name:  "equalities merge in the first one's place",
			rules: []specs.LinuxSyscall{rule("read", specs.ActAllow), rule("socket", specs.ActAllow, eq(8)), rule("write", specs.ActAllow), rule("socket", specs.ActAllow, eq(9)), rule("socket", specs.ActAllow, eq(10)), rule("socket", specs.ActAllow, eq(11))},
			want:  []specs.LinuxSyscall{rule("read", specs.ActAllow), rule("socket", specs.ActAllow, masked(8, 4)), rule("write", specs.ActAllow)},
		},
		{
			name:  "less-than and equalities",
			rules: []specs.LinuxSyscall{rule("socket", specs.ActAllow, specs.LinuxSeccompArg{Index: 0, Value: 3, Op: specs.OpLessThan}), rule("socket", specs.ActAllow, eq(3))},
			want:  []specs.LinuxSyscall{rule("socket", specs.ActAllow, masked(0, 4))},
		},
		{
			name:  "no fewer rules: unchanged",
			rules: []specs.LinuxSyscall{rule("socket", specs.ActAllow, eq(7)), rule("socket", specs.ActAllow, eq(8))},
			want:  []specs.LinuxSyscall{rule("socket", specs.ActAllow, eq(7)), rule("socket", specs.ActAllow, eq(8))},
		},
		{
			name:  "different actions or errnos stay apart",
			rules: []specs.LinuxSyscall{rule("socket", specs.ActAllow, eq(8)), rule("socket", specs.ActErrno, eq(9)), withErrno},
			want:  []specs.LinuxSyscall{rule("socket", specs.ActAllow, eq(8)), rule("socket", specs.ActErrno, eq(9)), withErrno},
		},
		{
			name: "other operators, other arguments, two conditions: untouched",
			rules: []specs.LinuxSyscall{
				rule("socket", specs.ActAllow, specs.LinuxSeccompArg{Index: 0, Value: 8, Op: specs.OpNotEqual}),
				rule("socket", specs.ActAllow, specs.LinuxSeccompArg{Index: 1, Value: 9, Op: specs.OpEqualTo}),
				rule("socket", specs.ActAllow, eq(10), specs.LinuxSeccompArg{Index: 1, Value: 1, Op: specs.OpEqualTo}),
				rule("socket", specs.ActAllow, eq(valueSetLimit)),
				rule("socket", specs.ActAllow, eq(valueSetLimit+1)),
			},
			want: []specs.LinuxSyscall{
				rule("socket", specs.ActAllow, specs.LinuxSeccompArg{Index: 0, Value: 8, Op: specs.OpNotEqual}),
				rule("socket", specs.ActAllow, specs.LinuxSeccompArg{Index: 1, Value: 9, Op: specs.OpEqualTo}),
				rule("socket", specs.ActAllow, eq(10), specs.LinuxSeccompArg{Index: 1, Value: 1, Op: specs.OpEqualTo}),
				rule("socket", specs.ActAllow, eq(valueSetLimit)),
				rule("socket", specs.ActAllow, eq(valueSetLimit+1)),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeValueRules(slices.Clone(tt.rules))
			if !slices.EqualFunc(got, tt.want, sameRule) {
				t.Errorf("mergeValueRules =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func sameRule(a, b specs.LinuxSyscall) bool {
	return slices.Equal(a.Names, b.Names) && a.Action == b.Action && slices.Equal(a.Args, b.Args) &&
		(a.ErrnoRet == nil) == (b.ErrnoRet == nil) && (a.ErrnoRet == nil || *a.ErrnoRet == *b.ErrnoRet)
}

// argHolds evaluates one condition as the kernel filter does on a 64-bit
// architecture (libseccomp compares all 64 bits there).
func argHolds(a specs.LinuxSeccompArg, x uint64) bool {
	switch a.Op {
	case specs.OpEqualTo:
		return x == a.Value
	case specs.OpNotEqual:
		return x != a.Value
	case specs.OpLessThan:
		return x < a.Value
	case specs.OpLessEqual:
		return x <= a.Value
	case specs.OpGreaterThan:
		return x > a.Value
	case specs.OpGreaterEqual:
		return x >= a.Value
	case specs.OpMaskedEqual:
		return x&a.Value == a.ValueTwo
	}
	panic("unknown operator " + a.Op)
}

// verdicts lists the actions of the rules that match syscall name with
// argument index 0 set to x (the other arguments 0). The set of matching
// actions is enough to compare two profiles here, without libseccomp's
// precedence between actions: merging only ever replaces rules of one
// action with rules of that same action.
func verdicts(rules []specs.LinuxSyscall, name string, x uint64) []string {
	var out []string
	for _, r := range rules {
		if !slices.Contains(r.Names, name) {
			continue
		}
		match := true
		for _, a := range r.Args {
			v := uint64(0)
			if a.Index == 0 {
				v = x
			}
			match = match && argHolds(a, v)
		}
		if match {
			v := string(r.Action)
			if r.ErrnoRet != nil {
				v += "/" + strconv.FormatUint(uint64(*r.ErrnoRet), 10)
			}
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestDefaultProfileMergedEquivalent checks that the merged default
// profile decides every call docker's does, for every syscall it names and
// first arguments across and beyond the merged range (high bits included).
func TestDefaultProfileMergedEquivalent(t *testing.T) {
	s, err := New("/rootfs")
	if err != nil {
		t.Fatal(err)
	}
	docker, err := seccomp.GetDefaultProfile(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := WithDefaultSeccomp()(s); err != nil {
		t.Fatal(err)
	}
	merged := s.Linux.Seccomp
	if len(merged.Syscalls) >= len(docker.Syscalls) {
		t.Fatalf("merged profile has %d rules, docker's %d: nothing merged", len(merged.Syscalls), len(docker.Syscalls))
	}
	probes := []uint64{math.MaxUint32, math.MaxUint32 + 1, 1 << 63, math.MaxUint64}
	for v := uint64(0); v < valueSetLimit+64; v++ {
		probes = append(probes, v, v|1<<32, v|1<<63)
	}
	// Every argument value for the syscalls with conditions, a few for the
	// rest.
	names := map[string][]uint64{}
	for _, r := range docker.Syscalls {
		for _, n := range r.Names {
			if len(r.Args) > 0 {
				names[n] = probes
			} else if names[n] == nil {
				names[n] = probes[:8]
			}
		}
	}
	for name, probes := range names {
		for _, x := range probes {
			want, got := verdicts(docker.Syscalls, name, x), verdicts(merged.Syscalls, name, x)
			if !slices.Equal(got, want) {
				t.Fatalf("%s(%#x): merged profile says %v, docker's %v", name, x, got, want)
			}
		}
	}
}
