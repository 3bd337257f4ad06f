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
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

var (
	topDir     string // repository root
	mgrBinary  string // <repo>/bin/mgr
	busyboxTar string // docker-archive of busybox:latest from hack/mkimage.sh
)

func TestMain(m *testing.M) {
	var s harness.MgrSuite
	harness.MgrMain(m, "mgr", &s, nil, func(s *harness.MgrSuite) error {
		topDir, mgrBinary, busyboxTar = s.Top, s.Mgr, s.BusyboxTar
		return nil
	})
}
