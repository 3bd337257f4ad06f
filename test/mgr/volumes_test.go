//go:build integration && linux

package mgr

import (
	"strings"
	"testing"
)

// TestNamedVolumes proves named volumes are made on first use and their
// data outlives the containers that wrote it, anonymous volumes go with
// rm -v, and a volume in use cannot be removed.
func TestNamedVolumes(t *testing.T) {
	t.Parallel()
	m := newMgr(t)

	m.Must("run", "--rm", "--network", "none", "-v", "keep:/data", "busybox", "sh", "-c", "echo persisted > /data/f")
	if out := m.Must("volume", "ls", "-q").Stdout; strings.TrimSpace(out) != "keep" {
		t.Fatalf("volume ls after first use = %q, want keep", out)
	}
	if out := m.Output("--network", "none", "-v", "keep:/data", "busybox", "cat", "/data/f"); out != "persisted\n" {
		t.Errorf("a second container read %q from the volume, want persisted", out)
	}

	id := m.RunD("--network", "none", "-v", "keep:/data", "-v", "/scratch", "busybox", "sleep", "1000")
	in := m.Inspect(id)
	var anon string
	for _, mt := range in.Mounts {
		if mt.Destination == "/scratch" {
			anon = mt.Name
		}
	}
	if len(anon) != 64 {
		t.Fatalf("no anonymous volume for /scratch in %+v", in.Mounts)
	}
	if res := m.Run("volume", "rm", "keep"); res.Code != 125 || !strings.Contains(res.Stderr, "in use") {
		t.Errorf("volume rm of a volume in use: %s", res)
	}
	m.Must("rm", "-f", "-v", id)
	vols := m.Must("volume", "ls", "-q").Stdout
	if strings.Contains(vols, anon) {
		t.Errorf("rm -v left the anonymous volume %s", anon)
	}
	if !strings.Contains(vols, "keep") {
		t.Errorf("rm -v removed the named volume: %q", vols)
	}
	m.Must("volume", "rm", "keep")
	if out := strings.TrimSpace(m.Must("volume", "ls", "-q").Stdout); out != "" {
		t.Errorf("volumes left: %q", out)
	}
}
