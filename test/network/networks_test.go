//go:build integration && linux

package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestNetworkVerbs: network ls and inspect show the subnet, gateway and
// the containers with their addresses; rm is refused (125) while a running
// container uses the network and works after; prune removes every unused
// network (their conflists and bridges) and keeps the used one and the
// default.
func TestNetworkVerbs(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	used, prefix := m.CreateNetwork("used", "--label", "team=net")
	idle1, _ := m.CreateNetwork("idle1")
	idle2, _ := m.CreateNetwork("idle2", "--internal")

	ls := m.Must("network", "ls").Stdout
	lines := strings.Split(strings.TrimSpace(ls), "\n")
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "NAME DRIVER SUBNET CONFIG" {
		t.Errorf("network ls header %q", lines[0])
	}
	for _, want := range [][]string{
		{"bridge", "bridge", m.Subnet, filepath.Join(m.CNIDir, "10-bridge.conflist")},
		{used, "bridge", prefix + "0/24", filepath.Join(m.CNIDir, "90-mgr-"+used+".conflist")},
	} {
		found := false
		for _, l := range lines[1:] {
			found = found || strings.Join(strings.Fields(l), " ") == strings.Join(want, " ")
		}
		if !found {
			t.Errorf("network ls has no line %v:\n%s", want, ls)
		}
	}
	if q := strings.Fields(m.Must("network", "ls", "-q").Stdout); len(q) != 4 {
		t.Errorf("network ls -q = %v, want bridge and the 3 networks", q)
	}

	id := m.RunD("--name", "member", "--network", used, "--network-alias", "mem", "busybox", "sleep", "300")
	masq := func() int {
		n := 0
		for _, r := range harness.AllIptablesRules() {
			if strings.Contains(r, "-s "+prefix+"0/24") && strings.Contains(r, "mgr masquerade "+used) {
				n++
			}
		}
		return n
	}
	if n := masq(); n != 1 {
		t.Errorf("%d masquerade rules for %s while a container is on it, want 1", n, used)
	}
	// The rule is ensured once per boot: more containers add no copies.
	m.Must("run", "--rm", "--network", used, "busybox", "true")
	if n := masq(); n != 1 {
		t.Errorf("%d masquerade rules for %s after a second container, want 1", n, used)
	}
	ip := ipv4Of(m.Exec("member", "ip", "-o", "-4", "addr", "show"), "eth0")
	insp := m.NetworkInspect(used)
	if insp.Name != used || insp.Driver != "bridge" || len(insp.IPAM.Config) != 1 ||
		insp.IPAM.Config[0].Subnet != prefix+"0/24" || insp.IPAM.Config[0].Gateway != prefix+"1" {
		t.Errorf("network inspect %s: name/driver/IPAM %+v", used, insp)
	}
	c, ok := insp.Containers[id]
	if !ok || c.Name != "member" || c.IPv4Address != ip+"/24" || !strings.HasPrefix(ip, prefix) || c.MacAddress == "" || len(c.Aliases) != 1 || c.Aliases[0] != "mem" {
		t.Errorf("network inspect %s: container entry %+v (want member at %s/24 with alias mem)", used, insp.Containers, ip)
	}
	if in := m.NetworkInspect(idle2); !in.Internal {
		t.Errorf("--internal network inspects as Internal=false")
	}
	m.MustFail(125, []string{"not found"}, "network", "inspect", "no-such-net")

	m.MustFail(125, []string{"active endpoints", "member"}, "network", "rm", used)
	if _, err := os.Stat(insp.ConfigFile); err != nil {
		t.Errorf("refused rm removed the conflist: %v", err)
	}
	m.MustFail(125, []string{"pre-defined"}, "network", "rm", "bridge")

	out := m.Must("network", "prune", "-f").Stdout
	pruned := strings.Fields(strings.TrimPrefix(out, "Deleted Networks:"))
	if len(pruned) != 2 || !contains(pruned, idle1) || !contains(pruned, idle2) {
		t.Errorf("network prune -f printed %q, want %s and %s", out, idle1, idle2)
	}
	q := strings.Fields(m.Must("network", "ls", "-q").Stdout)
	if len(q) != 2 || !contains(q, "bridge") || !contains(q, used) {
		t.Errorf("after prune, network ls -q = %v, want bridge and %s", q, used)
	}

	m.Must("rm", "-f", "member")
	if got := strings.TrimSpace(m.Must("network", "rm", used).Stdout); got != used {
		t.Errorf("network rm printed %q", got)
	}
	if _, err := os.Stat(insp.ConfigFile); err == nil {
		t.Errorf("network rm left %s", insp.ConfigFile)
	}
	if _, err := os.Stat(filepath.Join("/sys/class/net", insp.Bridge)); err == nil {
		t.Errorf("network rm left bridge %s", insp.Bridge)
	}
	if n := masq(); n != 0 {
		t.Errorf("network rm left %d masquerade rules", n)
	}
	m.MustFail(125, []string{"not found"}, "network", "rm", used)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
