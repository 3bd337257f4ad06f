//go:build integration && linux

package daemon

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestVolumes: docker volume create/ls/inspect/rm/prune, named volumes in
// run -v, and rm -v taking a container's anonymous volumes.
func TestVolumes(t *testing.T) {
	d := startDaemon(t)
	if out := strings.TrimSpace(d.mustDocker("volume", "create", "--label", "team=a", "data")); out != "data" {
		t.Errorf("volume create: %q", out)
	}
	d.mustDocker("volume", "create", "data") // creating an existing volume returns it
	var vols []struct {
		Name, Driver, Mountpoint, Scope, CreatedAt string
		Labels                                     map[string]string
	}
	if err := json.Unmarshal([]byte(d.mustDocker("volume", "inspect", "data")), &vols); err != nil || len(vols) != 1 {
		t.Fatalf("volume inspect: %v %+v", err, vols)
	}
	if v := vols[0]; v.Name != "data" || v.Driver != "local" || v.Scope != "local" || v.Labels["team"] != "a" || !strings.HasPrefix(v.Mountpoint, d.dir+"/") || v.CreatedAt == "" {
		t.Errorf("volume inspect: %+v", v)
	}
	if _, stderr, err := d.docker("volume", "inspect", "nosuch"); err == nil || !strings.Contains(stderr, "nosuch") {
		t.Errorf("volume inspect nosuch: %v %s", err, stderr)
	}
	// Named volumes in run -v: made on first use, shared, persistent.
	d.mustDocker("run", "--rm", "--network", "none", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
	if out := d.mustDocker("run", "--rm", "--network", "none", "-v", "data:/d", "busybox", "cat", "/d/f"); out != "kept\n" {
		t.Errorf("volume content: %q", out)
	}
	d.mustDocker("run", "--name", "user", "--network", "none", "-v", "auto:/x", "busybox", "true")
	if out := d.mustDocker("volume", "ls", "--format", "{{.Driver}} {{.Name}}"); !strings.Contains(out, "local data\n") || !strings.Contains(out, "local auto\n") {
		t.Errorf("volume ls:\n%s", out)
	}
	if out := d.mustDocker("volume", "ls", "-q", "--filter", "label=team=a"); out != "data\n" {
		t.Errorf("volume ls --filter label=team=a: %q", out)
	}
	if out := d.mustDocker("volume", "ls", "-q", "--filter", "dangling=true"); out != "data\n" {
		t.Errorf("volume ls --filter dangling=true: %q", out)
	}
	if out := d.mustDocker("volume", "ls", "-q", "--filter", "dangling=false"); out != "auto\n" {
		t.Errorf("volume ls --filter dangling=false: %q", out)
	}
	// In use: refused, even with -f.
	if _, stderr, err := d.docker("volume", "rm", "auto"); err == nil || !strings.Contains(stderr, "in use") {
		t.Errorf("volume rm of a volume in use: %v %s", err, stderr)
	}
	if _, _, err := d.docker("volume", "rm", "-f", "auto"); err == nil {
		t.Errorf("volume rm -f of a volume in use succeeded")
	}
	d.mustDocker("rm", "user")
	d.mustDocker("volume", "rm", "auto")
	d.mustDocker("volume", "rm", "-f", "auto") // gone: -f ignores it
	if _, _, err := d.docker("volume", "rm", "auto"); err == nil {
		t.Errorf("volume rm of a missing volume succeeded")
	}
	// rm -v removes the anonymous volumes, not the named ones.
	d.mustDocker("create", "--name", "anon", "--network", "none", "-v", "/anon", "-v", "data:/data", "busybox", "true")
	var mounts []struct{ Name, Type string }
	if err := json.Unmarshal([]byte(d.mustDocker("inspect", "-f", "{{json .Mounts}}", "anon")), &mounts); err != nil {
		t.Fatal(err)
	}
	anon := ""
	for _, m := range mounts {
		if m.Name != "data" {
			anon = m.Name
		}
	}
	if anon == "" {
		t.Fatalf("no anonymous volume in %+v", mounts)
	}
	if out := d.mustDocker("volume", "inspect", "-f", "{{json .Labels}}", anon); !strings.Contains(out, "com.docker.volume.anonymous") {
		t.Errorf("anonymous volume labels: %s", out)
	}
	d.mustDocker("rm", "-v", "anon")
	if _, _, err := d.docker("volume", "inspect", anon); err == nil {
		t.Errorf("anonymous volume %s left after rm -v", anon)
	}
	d.mustDocker("volume", "inspect", "data")
	// --rm takes its anonymous volumes along too.
	d.mustDocker("run", "--rm", "--network", "none", "-v", "/scratch", "busybox", "true")
	eventually(t, "--rm's anonymous volume removed", func() (bool, string) {
		out := d.mustDocker("volume", "ls", "-q")
		return out == "data\n", out
	})
	// prune: anonymous unused ones only; -a: all unused ones.
	anonVol := strings.TrimSpace(d.mustDocker("volume", "create"))
	if out := d.mustDocker("volume", "prune", "-f"); !strings.Contains(out, anonVol) || strings.Contains(out, "data") {
		t.Errorf("volume prune:\n%s", out)
	}
	if out := d.mustDocker("volume", "prune", "-af"); !strings.Contains(out, "data") {
		t.Errorf("volume prune -a:\n%s", out)
	}
	if out := d.mustDocker("volume", "ls", "-q"); out != "" {
		t.Errorf("volumes left after prune -a: %q", out)
	}
}
