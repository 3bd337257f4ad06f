//go:build integration && linux

package network

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

// snapshot is the per-test state a failed command must leave as it was.
type snapshot struct {
	netns, cache, leases, bridgePorts, running string
}

func (m *Mgr) snapshot(network, bridge string) snapshot {
	m.t.Helper()
	return snapshot{
		netns:       strings.Join(m.NetNSFiles(), ","),
		cache:       strings.Join(m.CacheEntries(), ","),
		leases:      strings.Join(m.Leases(network), ","),
		bridgePorts: strings.Join(BridgePorts(bridge), ","),
		running:     strings.TrimSpace(m.Must("ps", "-q", "--no-trunc").Stdout),
	}
}

// TestOverlappingSubnet: a subnet overlapping an existing network's is
// refused with 125 and a message naming both, and no conflist is written.
func TestOverlappingSubnet(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	net1, prefix := m.CreateNetwork("first")
	for _, sub := range []string{prefix + "128/25", prefix + "0/24", m.Prefix + "0/25"} {
		conflicting := prefix + "0/24"
		if strings.HasPrefix(sub, m.Prefix) {
			conflicting = m.Subnet
		}
		before := dirEntries(m.CNIDir)
		name := "second-" + strings.NewReplacer(".", "-", "/", "-").Replace(sub)
		m.MustFail(125, []string{"subnet " + sub + " overlaps with " + conflicting}, "network", "create", "--subnet", sub, name)
		if after := dirEntries(m.CNIDir); strings.Join(after, ",") != strings.Join(before, ",") {
			t.Errorf("refused create changed the config dir: %v -> %v", before, after)
		}
		if res := m.Run("network", "inspect", name); res.Code == 0 {
			t.Errorf("refused network exists: %s", res)
		}
	}
	_ = net1
	m.MustFail(125, []string{"host bits set"}, "network", "create", "--subnet", "10.249.1.1/24", "hostbits")
	m.MustFail(125, []string{"already exists"}, "network", "create", net1)
}

// TestUnknownPlugin: a network whose conflist names a plugin that is not
// installed makes run fail with 125 and a message naming the plugin, and
// leaves nothing half-configured: no netns, no veth on the bridge, no
// lease, no CNI cache entry, no masquerade rule, no running container.
// The unknown plugin comes after bridge, so bridge's ADD has run (veth,
// lease, iptables) and must be undone.
func TestUnknownPlugin(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	sub := newSubnet(t, "bx")
	prefix, cidr, bridge := sub.Prefix, sub.Subnet, sub.Bridge
	m.WriteConflist("20-broken.conflist", fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "broken", "plugins": [
  {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]]}},
  {"type": "no-such-plugin-xyz"}
]}
`, bridge, cidr), bridge, prefix)
	m.WriteConflist("21-broken-first.conflist", `{"cniVersion": "1.0.0", "name": "broken-first", "plugins": [
  {"type": "no-such-plugin-xyz"}
]}
`, "", "")
	// One healthy container on the test's bridge, to show it is untouched.
	m.RunD("--name", "ok", "busybox", "sleep", "300")
	for _, net := range []string{"broken", "broken-first"} {
		before := m.snapshot("broken", bridge)
		for _, verb := range []string{"run", "create"} {
			name := verb + "-" + net
			args := []string{verb, "--name", name, "--network", net, "busybox", "sleep", "300"}
			if verb == "run" {
				args = append(args[:1], append([]string{"-d"}, args[1:]...)...)
				m.MustFail(125, []string{`"no-such-plugin-xyz"`, "attach to network " + net}, args...)
			} else {
				// create does not attach; start does, and fails the same way.
				m.Must(args...)
				m.MustFail(125, []string{`"no-such-plugin-xyz"`}, "start", name)
			}
			if after := m.snapshot("broken", bridge); after != before {
				t.Errorf("%s on %s: state changed:\n before %+v\n after  %+v", verb, net, before, after)
			}
			if m.Running(name) {
				t.Errorf("%s on %s: container %s is running", verb, net, name)
			}
			for _, l := range harness.IptablesRules() {
				if strings.Contains(l, prefix) {
					t.Errorf("%s on %s: iptables rule left: %s", verb, net, l)
				}
			}
		}
	}
	if !m.Running("ok") || len(m.Leases("bridge")) != 1 {
		t.Errorf("the healthy container lost its network: leases %v", m.Leases("bridge"))
	}
}

// TestPortConflicts: a host port already published by another container,
// or one a host process listens on, makes run fail with 125 and leaves
// nothing half-configured.
func TestPortConflicts(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	hp := freeHostPort(t)
	m.RunD("--name", "owner", "-p", fmt.Sprintf("%d:80", hp), "busybox", "sleep", "300")
	before := m.snapshot("bridge", m.Bridge)
	m.MustFail(125, []string{fmt.Sprintf("bind for 0.0.0.0:%d failed: port is already allocated", hp), "owner"},
		"run", "-d", "--name", "second", "-p", fmt.Sprintf("%d:80", hp), "busybox", "sleep", "300")
	if after := m.snapshot("bridge", m.Bridge); after != before {
		t.Errorf("published-port conflict changed state:\n before %+v\n after  %+v", before, after)
	}
	if m.Running("second") {
		t.Errorf("container second is running")
	}

	// a host process listening on 127.0.0.1:P
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	for _, spec := range []string{fmt.Sprintf("%d:80", busy), fmt.Sprintf("127.0.0.1:%d:80", busy)} {
		name := "third-" + strings.NewReplacer(".", "-", ":", "-").Replace(spec)
		m.MustFail(125, []string{fmt.Sprintf(":%d failed", busy), "address already in use"},
			"run", "-d", "--name", name, "-p", spec, "busybox", "sleep", "300")
		if after := m.snapshot("bridge", m.Bridge); after != before {
			t.Errorf("-p %s on a host-bound port changed state:\n before %+v\n after  %+v", spec, before, after)
		}
		if m.Running(name) {
			t.Errorf("container %s is running", name)
		}
	}
	if _, err := os.Stat(filepath.Join(m.RunRoot, "netns")); err != nil {
		t.Errorf("netns dir: %v", err)
	}
}
