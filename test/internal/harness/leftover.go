//go:build integration && linux

package harness

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// AssertNothingLeft checks that the container id left nothing behind: no
// state directory under the runtime's --root, `state` fails, no cgroup
// directory named id in any hierarchy (nor any of knownCgroupDirs, recorded
// while it ran), and no mount in this (the host's) mount namespace that
// references the bundle directory.
//
// Cgroup removal may lag the runtime's exit by a moment on some kernels, so
// cgroups are polled briefly before failing.
func AssertNothingLeft(t testing.TB, r *Runtime, id, bundleDir string, knownCgroupDirs ...string) {
	t.Helper()
	stateDir := filepath.Join(r.Root, id)
	if _, err := os.Lstat(stateDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state directory %s still exists (err %v)", stateDir, err)
	}
	if res := r.Run("state", id); res.ExitCode == 0 {
		t.Errorf("`state %s` still succeeds after the container should be gone: %s", id, res)
	}
	var left []string
	Poll(5*time.Second, func() bool {
		left = left[:0]
		left = append(left, FindCgroupDirs(id)...)
		for _, d := range knownCgroupDirs {
			if _, err := os.Stat(d); err == nil {
				left = append(left, d)
			}
		}
		return len(left) == 0
	})
	if len(left) > 0 {
		t.Errorf("cgroup directories left behind for %s: %v", id, left)
	}
	if bundleDir != "" {
		for _, m := range MountsReferencing(t, bundleDir) {
			t.Errorf("mount left behind referencing bundle %s: %s", bundleDir, m)
		}
	}
}

// MountsReferencing returns the lines of /proc/self/mountinfo whose mount
// point, root or source lies under dir.
func MountsReferencing(t testing.TB, dir string) []string {
	t.Helper()
	mis, err := ReadMountInfo("self")
	if err != nil {
		t.Fatalf("read mountinfo: %v", err)
	}
	dir = filepath.Clean(dir)
	under := func(p string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	var out []string
	for _, m := range mis {
		if under(m.MountPoint) || under(m.Source) || (m.Root != "/" && under(m.Root)) {
			out = append(out, m.Line)
		}
	}
	return out
}
