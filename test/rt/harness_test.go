//go:build integration && linux

package rt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/test/internal/harness"
)

// recorder captures Errorf calls so the harness's own checks can be tested.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

// TestHarnessDetectsLeftovers makes sure the "nothing left behind" check is
// not vacuous: pointed at a live container it reports the state directory,
// the working `state` and the cgroups; pointed at a bundle with a mount it
// reports the mount.
func TestHarnessDetectsLeftovers(t *testing.T) {
	t.Parallel()
	r, id, st, b := sleeper(t)
	rec := &recorder{TB: t}
	harness.AssertNothingLeft(rec, r, id, b.Dir, harness.MustCgroups(t, st.Pid).Dirs()...)
	all := strings.Join(rec.errs, "\n")
	for _, want := range []string{"state directory", "still succeeds", "cgroup directories left"} {
		if !strings.Contains(all, want) {
			t.Errorf("leftover check missed %q; it reported:\n%s", want, all)
		}
	}

	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	}()
	if m := harness.MountsReferencing(t, dir); len(m) != 1 {
		t.Errorf("MountsReferencing found %d mounts under %s, want 1: %v", len(m), dir, m)
	}
}
