//go:build integration && linux

package rt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestBindMountReadOnly: a read-only bind mount shows the host directory's
// files and refuses writes; nothing is written to the host.
func TestBindMountReadOnly(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "hello.txt"), []byte("from-host"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithBindMount(src, "/data", true), harness.WithShell(`cat /data/hello.txt; echo
if touch /data/new 2>/dev/null; then echo writable; else echo readonly; fi
grep ' /data ' /proc/self/mountinfo`))
	id := harness.ID(t)
	res := r.Run("run", "--bundle", b.Dir, id)
	if res.ExitCode != 0 {
		t.Fatalf("run: %s", res)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) != 3 || lines[0] != "from-host" || lines[1] != "readonly" {
		t.Fatalf("got %q, want from-host, readonly and the mountinfo line", lines)
	}
	if opts := strings.Fields(lines[2]); len(opts) < 6 || !strings.HasPrefix(opts[5], "ro") {
		t.Errorf("/data mount options %q, want ro", lines[2])
	}
	if _, err := os.Stat(filepath.Join(src, "new")); err == nil {
		t.Errorf("a file was created through the read-only mount")
	}
	harness.AssertNothingLeft(t, r, id, b.Dir)
	if m := harness.MountsReferencing(t, src); len(m) > 0 {
		t.Errorf("bind source still mounted on the host: %v", m)
	}
}

// TestBindMountReadWrite: a read-write bind mount carries writes to the
// host.
func TestBindMountReadWrite(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithBindMount(src, "/data", false), harness.WithShell(`echo written > /data/out.txt`))
	if res := r.Run("run", "--bundle", b.Dir, harness.ID(t)); res.ExitCode != 0 {
		t.Fatalf("run: %s", res)
	}
	if data, err := os.ReadFile(filepath.Join(src, "out.txt")); err != nil || strings.TrimSpace(string(data)) != "written" {
		t.Errorf("host sees %q (err %v), want written", data, err)
	}
}

// TestMountTmpfsAndOptions: a tmpfs mount with options appears with them;
// the default /proc, /dev, /dev/pts, /dev/shm, /sys mounts exist, /sys is
// read-only and masked paths are masked.
func TestMountTmpfsAndOptions(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t,
		harness.WithMount(specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "size=1m"}}),
		harness.WithShell(`grep ' /scratch ' /proc/self/mountinfo
echo x > /scratch/f && cat /scratch/f
for m in /proc /dev /dev/pts /dev/shm /dev/mqueue /sys; do grep -q " $m " /proc/self/mountinfo && echo "mounted $m"; done
touch /sys/x 2>/dev/null || echo sys-readonly
cat /proc/kcore 2>/dev/null | head -c 1 | wc -c`))
	res := r.Run("run", "--bundle", b.Dir, harness.ID(t))
	if res.ExitCode != 0 {
		t.Fatalf("run: %s", res)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) < 1 {
		t.Fatalf("no output: %s", res)
	}
	mi := strings.Fields(lines[0])
	if len(mi) < 6 || !strings.Contains(mi[len(mi)-3], "tmpfs") {
		t.Errorf("/scratch is not tmpfs: %q", lines[0])
	}
	for _, o := range []string{"nosuid", "nodev", "noexec"} {
		if len(mi) < 6 || !strings.Contains(mi[5], o) {
			t.Errorf("/scratch lacks %s: %q", o, lines[0])
		}
	}
	want := []string{"x", "mounted /proc", "mounted /dev", "mounted /dev/pts", "mounted /dev/shm", "mounted /dev/mqueue", "mounted /sys", "sys-readonly", "0"}
	if got := lines[1:]; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
