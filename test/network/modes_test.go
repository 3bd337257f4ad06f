//go:build integration && linux

package network

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNetworkNone: --network none has only lo, up.
func TestNetworkNone(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	out := m.Must("run", "--rm", "--network", "none", "busybox", "cat", "/proc/net/dev").Stdout
	if got := ifNames(out); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("--network none: interfaces %v, want [lo]:\n%s", got, out)
	}
	if l := m.NetNSFiles(); len(l) != 0 {
		t.Errorf("--network none left namespaces %v", l)
	}
}

// TestNetworkHost: --network host sees exactly the host's interfaces.
// Not parallel: other tests add and remove veths. Other test packages run
// at the same time and do too, so a run during which the host's
// interfaces changed proves nothing and is made again.
func TestNetworkHost(t *testing.T) {
	m := newMgr(t)
	var before, got []string
	for attempt := 1; ; attempt++ {
		before = hostIfNames(t)
		out := m.Must("run", "--rm", "--network", "host", "busybox", "cat", "/proc/net/dev").Stdout
		after := hostIfNames(t)
		got = ifNames(out)
		if slices.Equal(before, after) {
			break
		}
		if attempt == 10 {
			t.Fatalf("the host's interfaces kept changing meanwhile: %v -> %v", before, after)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !slices.Equal(got, before) {
		t.Errorf("--network host: interfaces %v, host has %v", got, before)
	}
	if len(got) < 2 {
		t.Errorf("--network host: want more than lo, got %v", got)
	}
	if l := m.NetNSFiles(); len(l) != 0 {
		t.Errorf("--network host left namespaces %v", l)
	}
}

func hostIfNames(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	return ifNames(string(b))
}

// TestDefaultBridge: a container on the default network (the test's own
// "bridge" conflist) has lo (up: 127.0.0.1 answers) and eth0 with an
// address in the test's subnet, whose host side is a port of the test's
// bridge while it runs, and gone after.
func TestDefaultBridge(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	out := m.Must("run", "--rm", "busybox", "sh", "-c",
		"cat /proc/net/dev; echo ===; ip -o -4 addr show; echo ===; ip -o route; echo ===; ping -c1 -W2 127.0.0.1 >/dev/null && echo lo-ok").Stdout
	parts := strings.Split(out, "===")
	if len(parts) != 4 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	if got := ifNames(parts[0]); !slices.Equal(got, []string{"eth0", "lo"}) {
		t.Errorf("interfaces %v, want [eth0 lo]", got)
	}
	if ip := ipv4Of(parts[1], "eth0"); !strings.HasPrefix(ip, m.Prefix) || ip == m.Prefix+"1" {
		t.Errorf("eth0 address %q is not a host address in %s:\n%s", ip, m.Subnet, parts[1])
	}
	if !strings.Contains(parts[2], "default via "+m.Prefix+"1") {
		t.Errorf("no default route via the gateway %s1:\n%s", m.Prefix, parts[2])
	}
	if !strings.Contains(parts[3], "lo-ok") {
		t.Errorf("127.0.0.1 does not answer inside (lo down?):\n%s", out)
	}

	m.RunD("--name", "held", "busybox", "sleep", "300")
	if p := BridgePorts(m.Bridge); len(p) != 1 || !strings.HasPrefix(p[0], "veth") {
		t.Errorf("a running container: bridge %s ports %v, want one veth", m.Bridge, p)
	}
	if n := m.NetNSFiles(); len(n) != 1 {
		t.Errorf("a running container: namespaces %v, want one", n)
	}
	m.Must("rm", "-f", "held")
	if p := BridgePorts(m.Bridge); len(p) != 0 {
		t.Errorf("after rm -f: bridge %s still has ports %v", m.Bridge, p)
	}
	if l := m.Leases("bridge"); len(l) != 0 {
		t.Errorf("after rm -f: leases left %v", l)
	}
}

// TestThirdPartyConflist: a conflist mgr did not write (ptp + host-local)
// is a network by its name. The container gets an address in its subnet,
// and since ptp routes that address to the host side of its veth, the host
// fetches a file from the container's own address.
func TestThirdPartyConflist(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	sub := newSubnet(t, "")
	prefix, cidr := sub.Prefix, sub.Subnet
	name := "ptp-" + strings.ReplaceAll(strings.TrimSuffix(prefix, "."), ".", "-")
	m.WriteConflist("50-ptp.conflist", fmt.Sprintf(`{"cniVersion": "1.0.0", "name": %q, "plugins": [
  {"type": "ptp", "ipMasq": false, "mtu": 1400,
   "ipam": {"type": "host-local", "subnet": %q, "routes": [{"dst": "0.0.0.0/0"}]}}
]}
`, name, cidr), "", prefix)

	ls := m.Must("network", "ls").Stdout
	if !strings.Contains(ls, name) || !strings.Contains(ls, cidr) || !strings.Contains(ls, "ptp") {
		t.Errorf("network ls does not list %s (ptp, %s):\n%s", name, cidr, ls)
	}
	m.RunD(append([]string{"--name", "p2p", "--network", name, "busybox"}, serveScript("over-ptp")...)...)
	addr := m.Exec("p2p", "ip", "-o", "-4", "addr", "show")
	ip := ipv4Of(addr, "eth0")
	if !strings.HasPrefix(ip, prefix) {
		t.Fatalf("eth0 on %s: want an address in %s:\n%s", name, cidr, addr)
	}
	if mtu := m.Exec("p2p", "cat", "/sys/class/net/eth0/mtu"); strings.TrimSpace(mtu) != "1400" {
		t.Errorf("eth0 mtu %q, want the conflist's 1400", mtu)
	}
	// the container the test made, at its own address
	c := &http.Client{Timeout: 2 * time.Second}
	var body string
	if !pollOK(func() bool {
		resp, err := c.Get("http://" + ip + "/file")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = strings.TrimSpace(string(b))
		return resp.StatusCode == 200
	}) || body != "over-ptp" {
		t.Errorf("GET http://%s/file from the host = %q, want over-ptp", ip, body)
	}
	insp := m.NetworkInspect(name)
	if insp.Driver != "ptp" || !inspectHas(insp, "p2p", ip) {
		t.Errorf("network inspect %s: %+v", name, insp)
	}
	m.Must("rm", "-f", "p2p")
	if l := m.Leases(name); len(l) != 0 {
		t.Errorf("after rm -f: leases left on %s: %v", name, l)
	}
}
