//go:build integration && linux

package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// BridgeNetwork is a test's own default ("bridge") network: the shape of
// mgr's embedded conflist with a Linux bridge and a /24 of its own, so
// parallel tests and suites never share addresses or firewall rules.
type BridgeNetwork struct {
	Bridge   string // the Linux bridge, ≤ 15 bytes
	Subnet   string // "10.X.Y.0/24"
	Prefix   string // "10.X.Y.": the first three octets and a dot
	Conflist string // the "bridge" network's conflist
}

var subnetSeq atomic.Uint32

// NewBridgeNetwork picks a /24 in 10.first.0.0 to 10.(first+n-1).255.0
// that no host address is in; its bridge is named tag plus hex digits.
// Suites take disjoint ranges and tags.
func NewBridgeNetwork(t testing.TB, tag string, first, n uint32) BridgeNetwork {
	t.Helper()
	addrs, _ := net.InterfaceAddrs()
	for range 64 {
		slot := (uint32(os.Getpid())*37 + subnetSeq.Add(1)*7) % (n * 256)
		prefix := fmt.Sprintf("10.%d.%d.", first+slot/256, slot%256)
		_, sub, _ := net.ParseCIDR(prefix + "0/24")
		used := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (sub.Contains(ipn.IP) || ipn.Contains(sub.IP)) {
				used = true
			}
		}
		if used {
			continue
		}
		bn := BridgeNetwork{
			Bridge: fmt.Sprintf("%s%x%03x", tag, os.Getpid()&0xfff, slot),
			Subnet: prefix + "0/24",
			Prefix: prefix,
		}
		bn.Conflist = fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "bridge", "plugins": [
  {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false, "mgr.masquerade": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": %q, "gateway": %q}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "tuning"}
]}
`, bn.Bridge, bn.Subnet, prefix+"1")
		return bn
	}
	t.Fatalf("no free /24 in 10.%d.0.0-10.%d.255.0", first, first+n-1)
	return BridgeNetwork{}
}

// Write puts the conflist into cniDir as 10-bridge.conflist.
func (bn BridgeNetwork) Write(t testing.TB, cniDir string) {
	t.Helper()
	if err := os.MkdirAll(cniDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cniDir, "10-bridge.conflist"), []byte(bn.Conflist), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Remove deletes what outlives the network's containers by design (mgr
// never removes its default network): the masquerade rule mgr keeps for
// it, and the bridge, which the bridge plugin never deletes. Call it once
// the test's containers are gone.
func (bn BridgeNetwork) Remove(t testing.TB) {
	for exec.Command("iptables", "-w", "-t", "nat", "-D", "POSTROUTING", "-s", bn.Subnet, "!", "-d", bn.Subnet,
		"-m", "comment", "--comment", "mgr masquerade bridge", "-j", "MASQUERADE").Run() == nil {
	}
	if _, err := os.Stat(filepath.Join("/sys/class/net", bn.Bridge)); errors.Is(err, fs.ErrNotExist) {
		return
	}
	if out, err := exec.Command("ip", "link", "del", bn.Bridge).CombinedOutput(); err != nil {
		t.Errorf("delete bridge %s: %v: %s", bn.Bridge, err, out)
	}
}
