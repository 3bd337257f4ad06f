//go:build integration && linux

package network

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestNameResolution: two containers on a user network talk by name and
// by a --network-alias: busybox httpd serves a file in one, wget in the
// other fetches it as http://NAME/file and http://ALIAS/file.
func TestNameResolution(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	net, prefix := m.CreateNetwork("dns")
	content := fmt.Sprintf("served-%08x", rand.Uint32())
	m.RunD(append([]string{"--name", "web", "--network", net, "--network-alias", "webalias", "busybox"}, serveScript(content)...)...)

	for _, host := range []string{"web", "webalias"} {
		out := m.Must(append([]string{"run", "--rm", "--network", net, "busybox"}, fetchScript("http://"+host+"/file")...)...).Stdout
		if strings.TrimSpace(out) != content {
			t.Errorf("wget http://%s/file from a peer printed %q, want %q", host, out, content)
		}
	}
	// The name came from /etc/hosts with the server's address on the network.
	hosts := m.Must("run", "--rm", "--network", net, "busybox", "cat", "/etc/hosts").Stdout
	if !hostsLine(hosts, prefix, "web", "webalias") {
		t.Errorf("a peer's /etc/hosts has no %s* line naming web and webalias:\n%s", prefix, hosts)
	}
	// A container on another network (the test's bridge) does not resolve it.
	res := m.Run("run", "--rm", "busybox", "timeout", "3", "wget", "-qO-", "http://web/file")
	if res.Code == 0 {
		t.Errorf("a container outside the network resolved web: %s", res)
	}
}

// hostsLine reports whether hosts has a line with an address starting with
// prefix that names every one of names.
func hostsLine(hosts, prefix string, names ...string) bool {
	for _, l := range strings.Split(hosts, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		all := true
		for _, n := range names {
			found := false
			for _, g := range f[1:] {
				found = found || g == n
			}
			all = all && found
		}
		if all {
			return true
		}
	}
	return false
}

// TestConnectDisconnect: `network connect` gives a running container a new
// interface (eth1 inside) and makes it resolvable by the network's members
// (their /etc/hosts, rewritten in place, and a real fetch by name);
// `network disconnect` takes both away again.
func TestConnectDisconnect(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	netB, prefixB := m.CreateNetwork("conn")
	// c1 is on the test's bridge only; peer is on B and serves a file.
	m.RunD("--name", "c1", "busybox", "sleep", "300")
	m.RunD(append([]string{"--name", "peer", "--network", netB, "busybox"}, serveScript("from-peer")...)...)

	links := m.Exec("c1", "ip", "-o", "link")
	if !strings.Contains(links, " eth0") || strings.Contains(links, " eth1") {
		t.Fatalf("before connect, want eth0 and no eth1 in c1:\n%s", links)
	}
	if hostsLine(m.Exec("peer", "cat", "/etc/hosts"), prefixB, "c1") {
		t.Fatalf("peer resolves c1 before it is connected")
	}

	m.Must("network", "connect", "--alias", "c1alias", netB, "c1")
	addr := m.Exec("c1", "ip", "-o", "-4", "addr", "show")
	ip := ipv4Of(addr, "eth1")
	if !strings.HasPrefix(ip, prefixB) {
		t.Fatalf("after connect, want eth1 with an address in %s0/24 in c1:\n%s", prefixB, addr)
	}
	hosts := m.Exec("peer", "cat", "/etc/hosts")
	if !hostsLine(hosts, ip, "c1", "c1alias") {
		t.Errorf("after connect, peer's /etc/hosts has no %s c1 c1alias line:\n%s", ip, hosts)
	}
	// and c1 reaches peer by name over the new interface
	if out := m.Must(append([]string{"exec", "c1"}, fetchScript("http://peer/file")...)...).Stdout; strings.TrimSpace(out) != "from-peer" {
		t.Errorf("c1 fetched %q from http://peer/file after connect, want from-peer", out)
	}
	insp := m.NetworkInspect(netB)
	if !inspectHas(insp, "c1", ip) {
		t.Errorf("network inspect %s does not list c1 at %s: %+v", netB, ip, insp.Containers)
	}

	m.Must("network", "disconnect", netB, "c1")
	if links := m.Exec("c1", "ip", "-o", "link"); strings.Contains(links, " eth1") || !strings.Contains(links, " eth0") {
		t.Errorf("after disconnect, want eth0 and no eth1 in c1:\n%s", links)
	}
	if hosts := m.Exec("peer", "cat", "/etc/hosts"); hostsNames(hosts, "c1") {
		t.Errorf("after disconnect, peer's /etc/hosts still names c1:\n%s", hosts)
	}
	if hosts := m.Exec("c1", "cat", "/etc/hosts"); hostsNames(hosts, "peer") {
		t.Errorf("after disconnect, c1's /etc/hosts still names peer:\n%s", hosts)
	}
	if l := m.Leases(netB); len(l) != 1 {
		t.Errorf("after disconnect, want only peer's lease on %s, got %v", netB, l)
	}
	// A second disconnect is refused.
	m.MustFail(125, []string{"not connected"}, "network", "disconnect", netB, "c1")
}

// inspectHas reports whether a network's inspect lists the container name
// at ip.
func inspectHas(n NetInspect, name, ip string) bool {
	for _, c := range n.Containers {
		if c.Name == name && strings.HasPrefix(c.IPv4Address, ip+"/") {
			return true
		}
	}
	return false
}

// pollOK retries cond for a few seconds (a server that is just starting).
func pollOK(cond func() bool) bool { return harness.Poll(10*time.Second, cond) }

// hostsNames reports whether a hosts file maps name (a whole field, not a
// substring: random hostnames like 842a2c10977c contain "c1").
func hostsNames(hosts, name string) bool {
	for _, line := range strings.Split(hosts, "\n") {
		fields := strings.Fields(line)
		for _, f := range fields[min(1, len(fields)):] {
			if f == name {
				return true
			}
		}
	}
	return false
}
