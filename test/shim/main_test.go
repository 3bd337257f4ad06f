//go:build integration && linux

// Package shim_test runs bin/shim with real containers over rt, runc and
// crun. It needs root and the built binaries (make build).
//
// Fixtures live here rather than in test/internal/harness: the shim needs
// only a bundle with an absolute rootfs path shared by all tests, and the
// harness's Runtime wraps rt's command line, not a shim.
package shim_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

var (
	repo     string // repository root
	shimBin  string // bin/shim
	rootfs   string // shared read-only busybox rootfs
	baseSpec []byte // bin/rt spec's config.json
	// runtimes maps a name to its binary, for the runtimes installed.
	runtimes = map[string]string{}
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the shim suite: needs root")
		return 0
	}
	_, file, _, _ := runtime.Caller(0)
	repo = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	shimBin = filepath.Join(repo, "bin", "shim")
	rt := filepath.Join(repo, "bin", "rt")
	for _, b := range []string{shimBin, rt} {
		if _, err := os.Stat(b); err != nil {
			fmt.Printf("skipping the shim suite: %s missing (make build)\n", b)
			return 0
		}
	}
	runtimes["rt"] = rt
	for _, name := range []string{"runc", "crun"} {
		if p, err := exec.LookPath(name); err == nil {
			runtimes[name] = p
		}
	}
	dir, err := os.MkdirTemp("", "shim-suite-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	out, err := exec.Command(filepath.Join(repo, "hack", "mkbundle.sh"), filepath.Join(dir, "bundle")).CombinedOutput()
	if err != nil {
		fmt.Printf("make bundle: %v: %s\n", err, out)
		return 1
	}
	rootfs = filepath.Join(dir, "bundle", "rootfs")
	if baseSpec, err = os.ReadFile(filepath.Join(dir, "bundle", "config.json")); err != nil {
		fmt.Println(err)
		return 1
	}
	return m.Run()
}
