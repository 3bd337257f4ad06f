//go:build integration && linux

// Package daemon holds the end-to-end tests of `mgr daemon`: the real
// docker CLI (/usr/local/bin/docker, 28.2.2) drives berth through the
// Docker Engine API. Every test starts its own daemon on its own socket,
// with its own roots and CNI config dir under /tmp, loads the busybox image
// from hack/mkimage.sh, and at the end removes its containers, stops the
// daemon and unmounts what is left, even when it failed. Each daemon's
// default network is a bridge and a /24 of its own in 10.252-10.253 (and so
// is the network test's user network), never mgr0.
package daemon

import (
	"fmt"
	"os"
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
	var s harness.MgrSuite
	harness.MgrMain(m, "daemon", &s, nil, func(s *harness.MgrSuite) error {
		if fi, err := os.Stat(dockerBinary); err != nil || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("the docker CLI %s is missing: it is the oracle of this suite (%v)", dockerBinary, err)
		}
		topDir, mgrBinary, busyboxTar = s.Top, s.Mgr, s.BusyboxTar
		return nil
	})
}
