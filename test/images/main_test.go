//go:build integration && linux

// Package images holds the end-to-end tests of mgr's image commands: pull,
// push, login, load, save, import, rmi and the store they leave behind. They
// run <repo>/bin/mgr as root, each test with its own --root, --runroot and
// credentials dir, against Debian's docker-registry started on 127.0.0.1.
package images

import (
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

var (
	mgrBinary  string // <repo>/bin/mgr
	busyboxTar string // docker-archive of busybox:latest from hack/mkimage.sh
)

func TestMain(m *testing.M) {
	var s harness.MgrSuite
	harness.MgrMain(m, "images", &s, []string{"docker-registry", "htpasswd"}, func(s *harness.MgrSuite) error {
		mgrBinary, busyboxTar = s.Mgr, s.BusyboxTar
		return nil
	})
}
