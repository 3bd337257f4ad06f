//go:build integration && linux

// Package rt holds the end-to-end tests of the rt OCI runtime's command line,
// one file per verb as in runc's tests/integration. They run the binary in
// $RT_BINARY (default: <repo>/bin/rt) as root; any runc-compatible runtime
// can be checked the same way (RT_BINARY=/usr/sbin/runc).
package rt

import (
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
