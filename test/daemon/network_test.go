//go:build integration && linux

package daemon

import (
	"os"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestNetworks creates a user network (its own bridge and /24) in
// the daemon's own CNI config dir, inspects it, runs a container on it
// when the CNI plugins are installed, and removes it.
func TestNetworks(t *testing.T) {
	d := startDaemon(t)
	out := d.mustDocker("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}")
	for _, want := range []string{"host host local", "none null local"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("network ls: missing %q in\n%s", want, out)
		}
	}
	sub := harness.NewBridgeNetwork(t, "", 252, 2)
	id := strings.TrimSpace(d.mustDocker("network", "create", "--subnet", sub.Subnet, "--label", "suite=daemon", "dtest"))
	if len(id) != 64 {
		t.Fatalf("network create printed %q, want an id", id)
	}
	if _, err := os.Stat(d.dir + "/cni"); err != nil {
		t.Fatal(err)
	}
	out = d.mustDocker("network", "ls", "--filter", "name=dtest", "--format", "{{.ID}} {{.Name}} {{.Driver}}")
	if out != id[:12]+" dtest bridge\n" {
		t.Errorf("network ls --filter: %q", out)
	}
	out = d.mustDocker("network", "inspect", "-f", `{{.Name}} {{.Id}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Labels.suite}}`, "dtest")
	if want := "dtest " + id + " " + sub.Subnet + " " + sub.Prefix + "1 daemon\n"; out != want {
		t.Errorf("network inspect: %q, want %q", out, want)
	}
	_, stderr, err := d.docker("network", "create", "dtest")
	if exitCode(err) != 1 || !strings.Contains(stderr, "dtest") {
		t.Errorf("network create of a taken name: %v %q", err, stderr)
	}

	if _, err := os.Stat("/opt/cni/bin/bridge"); err == nil {
		out = d.mustDocker("run", "--rm", "--network", "dtest", "busybox", "sh", "-c", "ip -4 -o addr show eth0")
		if !strings.Contains(out, "inet "+sub.Prefix) {
			t.Errorf("container on dtest: %q", out)
		}
		d.mustDocker("run", "-d", "--name", "member", "--network", "dtest", "busybox", "sleep", "60")
		out = d.mustDocker("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "dtest")
		if !strings.HasPrefix(out, "member "+sub.Prefix) {
			t.Errorf("network inspect members: %q", out)
		}
		out = d.mustDocker("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}}{{end}}", "member")
		if !strings.HasPrefix(out, "dtest "+sub.Prefix) {
			t.Errorf("container inspect networks: %q", out)
		}
		_, stderr, err = d.docker("network", "rm", "dtest")
		if exitCode(err) != 1 || !strings.Contains(stderr, "active endpoints") {
			t.Errorf("network rm while in use: %v %q", err, stderr)
		}
		d.mustDocker("rm", "-f", "member")
	} else {
		t.Log("CNI plugins not installed: not running a container on the network")
	}

	if out := d.mustDocker("network", "rm", "dtest"); out != "dtest\n" {
		t.Errorf("network rm: %q", out)
	}
	if out := d.mustDocker("network", "ls", "-q", "--filter", "name=dtest"); out != "" {
		t.Errorf("network ls after rm: %q", out)
	}
	_, stderr, err = d.docker("network", "rm", "none")
	if exitCode(err) != 1 || !strings.Contains(stderr, "pre-defined") {
		t.Errorf("network rm none: %v %q", err, stderr)
	}
}
