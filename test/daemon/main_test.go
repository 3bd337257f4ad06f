//go:build integration && linux

// Package daemon holds the end-to-end tests of `mgr daemon`: the real
// docker CLI (/usr/local/bin/docker, 28.2.2) drives berth through the
// Docker Engine API. Every test starts its own daemon on its own socket,
// with its own roots and CNI config dir under /tmp, loads the busybox image
// from hack/mkimage.sh, and at the end removes its containers, stops the
// daemon and unmounts what is left, even when it failed. Containers run
// with --network none except in the network test, which uses its own
// bridge and a 10.240.x.0/24 subnet, never mgr0.
package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

const dockerBinary = "/usr/local/bin/docker"

var (
	topDir     string // repository root
	mgrBinary  string // <repo>/bin/mgr
	busyboxTar string // docker-archive of busybox:latest from hack/mkimage.sh
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("test/daemon: skipped, requires root")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	top, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/daemon:", err)
		return 1
	}
	topDir = top
	// As root, a missing binary is a failure: CI must never skip silently.
	for _, b := range []string{"mgr", "shim", "rt"} {
		p := filepath.Join(top, "bin", b)
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
			fmt.Fprintf(os.Stderr, "test/daemon: %s missing or not executable: run make build (%v)\n", p, err)
			return 1
		}
	}
	if fi, err := os.Stat(dockerBinary); err != nil || fi.Mode()&0o111 == 0 {
		fmt.Fprintf(os.Stderr, "test/daemon: the docker CLI %s is missing: it is the oracle of this suite (%v)\n", dockerBinary, err)
		return 1
	}
	mgrBinary = filepath.Join(top, "bin", "mgr")
	dir, err := os.MkdirTemp("/tmp", "mgrd-img")
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/daemon:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	busyboxTar = filepath.Join(dir, "busybox.tar")
	out, err := exec.Command(filepath.Join(top, "hack", "mkimage.sh"), busyboxTar, "busybox:latest").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/daemon: hack/mkimage.sh: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
