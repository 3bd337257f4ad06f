//go:build integration && linux

package harness

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// BusyboxPath is the statically linked busybox copied into every rootfs
// (Debian's busybox-static).
const BusyboxPath = "/bin/busybox"

// binary is the runtime under test, set by Main.
var binary string

// RepoRoot returns the directory holding the repository's go.mod, found by
// walking up from this source file or, when the test binary was built with
// -trimpath (no absolute source paths), from the working directory (go test
// runs a test binary in its package directory).
func RepoRoot() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("no go.mod above %v", starts)
}

// BinaryFromEnv resolves the runtime binary: $RT_BINARY if set, otherwise
// <repo>/bin/rt. explicit reports whether RT_BINARY was set.
func BinaryFromEnv() (path string, explicit bool, err error) {
	if p := os.Getenv("RT_BINARY"); p != "" {
		// go test runs in the package directory, so a relative path is
		// tried there and then against the repository root.
		if !filepath.IsAbs(p) {
			if _, err := os.Stat(p); err != nil {
				if root, rerr := RepoRoot(); rerr == nil {
					if _, err := os.Stat(filepath.Join(root, p)); err == nil {
						p = filepath.Join(root, p)
					}
				}
			}
		}
		abs, err := filepath.Abs(p)
		return abs, true, err
	}
	root, err := RepoRoot()
	if err != nil {
		return "", false, err
	}
	return filepath.Join(root, "bin", "rt"), false, nil
}

// Binary returns the runtime binary under test (valid after Main).
func Binary() string { return binary }

// Main is the TestMain of every integration package. Without root it prints
// a note and exits 0 (the suite needs real namespaces and cgroups). As root a
// missing runtime binary or busybox is a hard failure: CI runs as root and
// must never skip the suite silently.
func Main(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("integration tests need root: skipping")
		os.Exit(0)
	}
	bin, explicit, err := BinaryFromEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot resolve the runtime binary: %v\n", err)
		os.Exit(1)
	}
	if err := checkExecutable(bin); err != nil {
		if explicit {
			fmt.Fprintf(os.Stderr, "FAIL: RT_BINARY=%s: %v\n", bin, err)
		} else {
			fmt.Fprintf(os.Stderr, "FAIL: runtime binary %s: %v (run `make build`, or set RT_BINARY)\n", bin, err)
		}
		os.Exit(1)
	}
	if err := checkExecutable(BusyboxPath); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %s: %v (install busybox-static, e.g. via hack/setup.sh)\n", BusyboxPath, err)
		os.Exit(1)
	}
	binary = bin
	fmt.Printf("runtime under test: %s\n", bin)
	os.Exit(m.Run())
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return &fs.PathError{Op: "exec", Path: path, Err: fs.ErrPermission}
	}
	return nil
}
