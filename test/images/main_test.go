//go:build integration && linux

// Package images holds the end-to-end tests of mgr's image commands: pull,
// push, login, load, save, import, rmi and the store they leave behind. They
// run <repo>/bin/mgr as root, each test with its own --root, --runroot and
// credentials dir, against Debian's docker-registry started on 127.0.0.1.
package images

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

var (
	mgrBinary  string // <repo>/bin/mgr
	busyboxTar string // docker-archive of busybox:latest from hack/mkimage.sh
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("test/images: skipped, requires root")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	top, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/images:", err)
		return 1
	}
	mgrBinary = filepath.Join(top, "bin", "mgr")
	if _, err := os.Stat(mgrBinary); err != nil {
		fmt.Fprintf(os.Stderr, "test/images: %s missing: run make build (%v)\n", mgrBinary, err)
		return 1
	}
	for _, tool := range []string{"docker-registry", "htpasswd"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "test/images: %s missing: run make setup (%v)\n", tool, err)
			return 1
		}
	}
	dir, err := os.MkdirTemp("", "berth-images-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/images:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	busyboxTar = filepath.Join(dir, "busybox.tar")
	out, err := exec.Command(filepath.Join(top, "hack", "mkimage.sh"), busyboxTar, "busybox:latest").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/images: hack/mkimage.sh: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
