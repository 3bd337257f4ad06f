//go:build integration && linux

// Package mgr holds the end-to-end tests of mgr's container commands: run,
// create, start, stop, ps, logs, inspect, rm and friends, walked as a docker
// user would. They run <repo>/bin/mgr (with bin/shim and bin/rt beside it)
// as root; every test gets its own --root, --runroot and config dir under
// /tmp, loads the busybox image from hack/mkimage.sh and, when it ends,
// removes its containers and checks that nothing leaked on the host: no
// mount, shim process, state dir, runtime state or cgroup.
package mgr

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

var (
	topDir     string // repository root
	mgrBinary  string // <repo>/bin/mgr
	busyboxTar string // docker-archive of busybox:latest from hack/mkimage.sh
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("test/mgr: skipped, requires root")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	top, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/mgr:", err)
		return 1
	}
	topDir = top
	// mgr finds the shim and the runtime beside itself: all three must be
	// built, and CI (root) must never skip silently.
	for _, b := range []string{"mgr", "shim", "rt"} {
		p := filepath.Join(top, "bin", b)
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
			fmt.Fprintf(os.Stderr, "test/mgr: %s missing or not executable: run make build (%v)\n", p, err)
			return 1
		}
	}
	mgrBinary = filepath.Join(top, "bin", "mgr")
	dir, err := os.MkdirTemp("", "berth-mgr-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/mgr:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	busyboxTar = filepath.Join(dir, "busybox.tar")
	out, err := exec.Command(filepath.Join(top, "hack", "mkimage.sh"), busyboxTar, "busybox:latest").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/mgr: hack/mkimage.sh: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
