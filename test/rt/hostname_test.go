//go:build integration && linux

package rt

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestHostname: the configured hostname is set in the container's own UTS
// namespace; the host's name is untouched, also after the container renames
// itself.
func TestHostname(t *testing.T) {
	t.Parallel()
	hostBefore, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithHostname("berth-box"),
		harness.WithCaps(append(harness.DefaultCaps, "CAP_SYS_ADMIN")...),
		harness.WithShell(`hostname; hostname renamed-inside && hostname`))
	res := r.Run("run", "--bundle", b.Dir, harness.ID(t))
	if res.ExitCode != 0 {
		t.Fatalf("run: %s", res)
	}
	if got := strings.Fields(res.Stdout); len(got) != 2 || got[0] != "berth-box" || got[1] != "renamed-inside" {
		t.Errorf("hostnames %q, want [berth-box renamed-inside]", got)
	}
	if hostAfter, _ := os.Hostname(); hostAfter != hostBefore {
		t.Errorf("host hostname changed from %q to %q", hostBefore, hostAfter)
	}
}

// TestHostnameSharedUTS: without a UTS namespace the container sees the
// host's hostname (and the config may not set one).
func TestHostnameSharedUTS(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithHostname(""), harness.WithoutNamespace(specs.UTSNamespace), harness.WithArgs("hostname"))
	res := r.Run("run", "--bundle", b.Dir, harness.ID(t))
	if res.ExitCode != 0 || strings.TrimSpace(res.Stdout) != host {
		t.Errorf("want the host's hostname %q: %s", host, res)
	}
}
