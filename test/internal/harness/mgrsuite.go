//go:build integration && linux

package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// MgrSuite is what the suites that drive bin/mgr share: the repository,
// its built binaries and a busybox image archive made by hack/mkimage.sh.
type MgrSuite struct {
	Top        string // repository root
	Mgr, Rt    string // <repo>/bin/mgr and bin/rt (bin/shim is beside them)
	BusyboxTar string // docker-archive of busybox:latest
	Dir        string // a temp dir for the suite's own fixtures, removed after
}

// MgrMain is TestMain for a suite driving bin/mgr: without root it prints a
// note and exits 0; as root a missing binary or tool is a failure (CI must
// never skip silently). setup, if not nil, checks what else the suite needs
// and makes its fixtures in s.Dir; its error fails the suite.
func MgrMain(m *testing.M, suite string, s *MgrSuite, tools []string, setup func(*MgrSuite) error) {
	if os.Geteuid() != 0 {
		fmt.Printf("test/%s: skipped, requires root\n", suite)
		os.Exit(0)
	}
	code, err := s.run(m, tools, setup)
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/%s: %v\n", suite, err)
		code = 1
	}
	os.Exit(code)
}

func (s *MgrSuite) run(m *testing.M, tools []string, setup func(*MgrSuite) error) (int, error) {
	top, err := RepoRoot()
	if err != nil {
		return 1, err
	}
	s.Top, s.Mgr, s.Rt = top, filepath.Join(top, "bin", "mgr"), filepath.Join(top, "bin", "rt")
	for _, b := range []string{"mgr", "shim", "rt"} {
		p := filepath.Join(top, "bin", b)
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
			return 1, fmt.Errorf("%s missing or not executable: run make build (%v)", p, err)
		}
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return 1, fmt.Errorf("%s is needed: run make setup (%v)", tool, err)
		}
	}
	// Short, under /tmp: some suites put runtime roots (and sockets) here.
	if s.Dir, err = os.MkdirTemp("/tmp", "berth-suite-"); err != nil {
		return 1, err
	}
	defer os.RemoveAll(s.Dir)
	s.BusyboxTar = filepath.Join(s.Dir, "busybox.tar")
	if out, err := exec.Command(filepath.Join(top, "hack", "mkimage.sh"), s.BusyboxTar, "busybox:latest").CombinedOutput(); err != nil {
		return 1, fmt.Errorf("hack/mkimage.sh: %v\n%s", err, out)
	}
	if setup != nil {
		if err := setup(s); err != nil {
			return 1, err
		}
	}
	return m.Run(), nil
}
