//go:build integration && linux

package rt

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/test/internal/harness"
)

// loadedFilter reads back from the kernel the newest seccomp filter of
// process pid (PTRACE_SECCOMP_GET_FILTER: the tracee must be stopped).
func loadedFilter(t *testing.T, pid int) []byte {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.PtraceAttach(pid); err != nil {
		t.Fatalf("ptrace attach %d: %v", pid, err)
	}
	defer func() {
		if err := unix.PtraceDetach(pid); err != nil {
			t.Errorf("ptrace detach %d: %v", pid, err)
		}
	}()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		t.Fatalf("wait for %d to stop: %v (status %v)", pid, err, ws)
	}
	const getFilter = 0x420c // PTRACE_SECCOMP_GET_FILTER
	n, _, errno := unix.Syscall6(unix.SYS_PTRACE, getFilter, uintptr(pid), 0, 0, 0, 0)
	if errno != 0 {
		t.Fatalf("PTRACE_SECCOMP_GET_FILTER %d: %v", pid, errno)
	}
	prog := make([]unix.SockFilter, n)
	if _, _, errno := unix.Syscall6(unix.SYS_PTRACE, getFilter, uintptr(pid), 0, uintptr(unsafe.Pointer(&prog[0])), 0, 0); errno != 0 {
		t.Fatalf("PTRACE_SECCOMP_GET_FILTER %d: %v", pid, errno)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), len(prog)*int(unsafe.Sizeof(prog[0])))
}

// sameDecisions fails t unless the two cBPF seccomp programs return the same
// action for every x86_64, i386 and x32 syscall number below 1024 (and a
// few beyond), each with argument vectors that meet the default profile's
// conditions (socket families, personality values, clone flags) and miss
// them. Byte equality is too strict: runc's -ENOSYS stub orders its
// per-architecture sections by Go map iteration, so two builds of the same
// profile differ in layout run to run.
func sameDecisions(t *testing.T, what string, got, want []byte) {
	t.Helper()
	vm := func(raw []byte) *bpf.VM {
		var prog []bpf.Instruction
		for i := 0; i+8 <= len(raw); i += 8 {
			ri := bpf.RawInstruction{
				Op: binary.NativeEndian.Uint16(raw[i:]), Jt: raw[i+2], Jf: raw[i+3],
				K: binary.NativeEndian.Uint32(raw[i+4:]),
			}
			prog = append(prog, ri.Disassemble())
		}
		m, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatalf("filter %s: %v", what, err)
		}
		return m
	}
	g, w := vm(got), vm(want)
	args := [][6]uint64{{}, {1, 2, 3}, {0xffffffff}, {1 << 32}, {0x7e020000}, {0x10000}, {8}, {0x20008}}
	for fam := uint64(0); fam < 64; fam++ {
		args = append(args, [6]uint64{fam, 1})
	}
	var nrs []uint32
	for nr := uint32(0); nr < 1024; nr++ {
		nrs = append(nrs, nr, nr|0x40000000) // x32's numbers have bit 30 set
	}
	nrs = append(nrs, 0xffffffff, 0x7fffffff)
	diffs := 0
	actions := map[int]bool{}
	for _, arch := range []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386, unix.AUDIT_ARCH_AARCH64} {
		for _, nr := range nrs {
			for _, a := range args {
				// struct seccomp_data; x/net/bpf loads words big-endian, so
				// each 32-bit word is stored that way at its native offset
				var data [64]byte
				binary.BigEndian.PutUint32(data[0:], nr)
				binary.BigEndian.PutUint32(data[4:], arch)
				for i, v := range a {
					binary.BigEndian.PutUint32(data[16+8*i:], uint32(v))
					binary.BigEndian.PutUint32(data[20+8*i:], uint32(v>>32))
				}
				gr, gerr := g.Run(data[:])
				wr, werr := w.Run(data[:])
				actions[wr] = true
				if gr != wr || (gerr == nil) != (werr == nil) {
					if diffs++; diffs <= 5 {
						t.Errorf("filter %s: arch %#x nr %#x args %v -> %#x (%v), libcontainer's -> %#x (%v)", what, arch, nr, a, gr, gerr, wr, werr)
					}
				}
			}
		}
	}
	if diffs > 5 {
		t.Errorf("filter %s: %d decisions differ in all", what, diffs)
	}
	// allow, EPERM, ENOSYS (runc's stub) and kill for a foreign
	// architecture at least: else the inputs probed nothing
	if len(actions) < 4 {
		t.Errorf("filter %s: the probe saw only the actions %v", what, actions)
	}
}

// TestSeccompCache: with --seccomp-cache, rt compiles a profile once and
// afterwards loads the stored program; the filter the kernel holds for the
// container (read back through ptrace) decides every probed syscall as the
// one the same rt builds in the init without the cache (libcontainer's own
// path), an exec'd process gets its container's program, and a damaged
// cache file is compiled and written again, never loaded.
func TestSeccompCache(t *testing.T) {
	t.Setenv("RT_SECCOMP_CACHE", "") // the plain runs must compile
	r := harness.NewRuntime(t)
	if help := r.Run("--help"); !strings.Contains(help.Stdout, "--seccomp-cache") {
		t.Skipf("%s has no --seccomp-cache (not rt)", r.Bin)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); err == nil && strings.TrimSpace(string(b)) == "3" {
		t.Skip("Yama forbids ptrace attach (ptrace_scope 3): the loaded filter cannot be read back")
	}
	profile, err := seccomp.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}}})
	if err != nil {
		t.Fatal(err)
	}
	b := harness.NewBundle(t, harness.WithArgs("sleep", "300"))
	b.Spec.Linux.Seccomp = profile
	b.Save()
	cache := filepath.Join(t.TempDir(), "cache")
	cached := harness.Opts{Global: []string{"--seccomp-cache", cache}}

	start := func(id string, o harness.Opts) []byte {
		t.Helper()
		res := r.RunWith(o, "run", "--detach", "--bundle", b.Dir, id)
		if res.ExitCode != 0 {
			t.Fatalf("run %s: %s", id, res)
		}
		return loadedFilter(t, r.WaitStatus(id, specs.StateRunning).Pid)
	}
	cacheFiles := func() []string {
		ents, _ := os.ReadDir(cache)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}

	want := start(harness.ID(t)+"-plain", harness.Opts{})
	if len(want) < 100*8 {
		t.Fatalf("the default profile compiled to only %d bytes", len(want))
	}
	if files := cacheFiles(); len(files) != 0 {
		t.Fatalf("a start without --seccomp-cache wrote %v", files)
	}

	sameDecisions(t, "compiled for the cache", start(harness.ID(t)+"-miss", cached), want)
	files := cacheFiles()
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one file", files)
	}
	file := filepath.Join(cache, files[0])
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(file); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v, want 0600", st.Mode().Perm())
	}
	hit := harness.ID(t) + "-hit"
	hitFilter := start(hit, cached)
	sameDecisions(t, "loaded from the cache", hitFilter, want)
	// The file's program is what the kernel got: the hit was loaded from
	// the file, not compiled again (a file is a 56-byte header: magic,
	// flags, length, SHA-256; then the program).
	const header = 8 + 8 + 8 + 32
	if !bytes.Equal(hitFilter, good[header:]) {
		t.Errorf("a cache hit loaded another program than the cache file's")
	}

	// exec takes the program from the container's state
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.MustRun("exec", "--detach", "--pid-file", pidFile, hit, "sleep", "300")
	pid, err := strconv.Atoi(strings.TrimSpace(harness.WaitFile(t, pidFile)))
	if err != nil {
		t.Fatal(err)
	}
	if got := loadedFilter(t, pid); !bytes.Equal(got, hitFilter) {
		t.Errorf("exec'd process got another filter than its container's init")
	}

	// A flipped bit in the stored program: the file no longer checks out,
	// so the profile is compiled again and the file rewritten.
	bad := bytes.Clone(good)
	bad[len(bad)-3] ^= 0x10
	if err := os.WriteFile(file, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	sameDecisions(t, "after a damaged cache file", start(harness.ID(t)+"-repair", cached), want)
	again, _ := os.ReadFile(file)
	if bytes.Equal(again, bad) || len(again) != len(good) {
		t.Fatalf("the damaged cache file was not rewritten")
	}
	rewritten := start(harness.ID(t)+"-rewritten", cached)
	sameDecisions(t, "loaded from the rewritten file", rewritten, want)
	if !bytes.Equal(rewritten, again[header:]) {
		t.Errorf("the start after the repair did not load the rewritten file")
	}
	if files := cacheFiles(); len(files) != 1 {
		t.Errorf("cache holds %v after the repair, want one file", files)
	}
}
