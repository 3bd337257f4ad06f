package network

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/vishvananda/netlink"

	cniconfig "github.com/berthrun/berth/cni-config"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

// CreateOptions are `network create`'s settings.
type CreateOptions struct {
	Name     string
	Driver   string // bridge (default), macvlan, ipvlan
	Subnet   string // CIDR; "" picks a free /24 from 10.78.0.0/16
	Gateway  string
	Internal bool   // no gateway, no masquerade: containers reach only each other
	Parent   string // host interface for macvlan/ipvlan (default: the default route's)
	Labels   map[string]string
}

var validNetworkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Create writes a conflist for a new network into the config dir.
func (m *Manager) Create(o CreateOptions) (*Network, error) {
	if !validNetworkName.MatchString(o.Name) {
		return nil, fmt.Errorf("invalid network name %q: %w", o.Name, errdefs.ErrInvalidArgument)
	}
	nets, err := m.load()
	if err != nil {
		return nil, err
	}
	if _, ok := nets[o.Name]; ok {
		return nil, fmt.Errorf("network with name %s already exists: %w", o.Name, errdefs.ErrConflict)
	}
	if o.Driver == "" {
		o.Driver = "bridge"
	}
	var used []string
	for _, n := range nets {
		used = append(used, n.Subnets...)
	}
	if o.Subnet == "" {
		if o.Subnet, err = freeSubnet(used); err != nil {
			return nil, err
		}
	} else {
		ip, cidr, err := net.ParseCIDR(o.Subnet)
		if err != nil {
			return nil, fmt.Errorf("invalid subnet %q: %w", o.Subnet, errdefs.ErrInvalidArgument)
		}
		if !ip.Equal(cidr.IP) {
			return nil, fmt.Errorf("invalid subnet %q: host bits set (did you mean %s?): %w", o.Subnet, cidr, errdefs.ErrInvalidArgument)
		}
		for _, u := range used {
			if overlaps(o.Subnet, u) {
				return nil, fmt.Errorf("subnet %s overlaps with %s of an existing network: %w", o.Subnet, u, errdefs.ErrConflict)
			}
		}
	}
	_, cidr, _ := net.ParseCIDR(o.Subnet)
	if o.Gateway == "" {
		gw := append(net.IP(nil), cidr.IP.To4()...)
		if gw == nil {
			return nil, fmt.Errorf("subnet %s: only IPv4 subnets are supported: %w", o.Subnet, errdefs.ErrNotImplemented)
		}
		gw[3]++
		o.Gateway = gw.String()
	} else if gw := net.ParseIP(o.Gateway); gw == nil || !cidr.Contains(gw) {
		return nil, fmt.Errorf("gateway %s is not in subnet %s: %w", o.Gateway, o.Subnet, errdefs.ErrInvalidArgument)
	}
	ipam := map[string]any{
		"type":   "host-local",
		"ranges": [][]map[string]string{{{"subnet": o.Subnet, "gateway": o.Gateway}}},
	}
	if !o.Internal {
		ipam["routes"] = []map[string]string{{"dst": "0.0.0.0/0"}}
	}
	var first map[string]any
	switch o.Driver {
	case "bridge":
		first = map[string]any{
			"type":        "bridge",
			"bridge":      bridgeName(o.Name),
			"isGateway":   !o.Internal,
			"ipMasq":      false, // mgr's one rule per network instead (masquerade.go)
			"hairpinMode": true,
			"ipam":        ipam,
		}
		if !o.Internal {
			first["mgr.masquerade"] = true
		}
	case "macvlan", "ipvlan":
		first = map[string]any{"type": o.Driver, "master": o.Parent, "ipam": ipam}
		if o.Parent == "" {
			delete(first, "master") // the plugins default to the default route's interface
		}
	default:
		return nil, fmt.Errorf("network driver %q: bridge, macvlan or ipvlan: %w", o.Driver, errdefs.ErrInvalidArgument)
	}
	if len(o.Labels) > 0 {
		first["mgr.labels"] = o.Labels
	}
	if o.Internal {
		first["mgr.internal"] = true
	}
	plugins := []any{first}
	if o.Driver == "bridge" {
		plugins = append(plugins,
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
			map[string]any{"type": "tuning"}) // no firewall: see cni-config's package doc
	}
	data, err := json.MarshalIndent(map[string]any{"cniVersion": "1.0.0", "name": o.Name, "plugins": plugins}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(m.confDir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(m.confDir, "90-mgr-"+o.Name+".conflist")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return nil, fmt.Errorf("write network config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	n, err := m.Get(o.Name)
	if err == nil {
		m.events.Record(eventtypes.NetworkEventType, eventtypes.ActionCreate, ID(n.Name), map[string]string{"name": n.Name, "type": n.Driver})
	}
	return n, err
}

// bridgeName is the Linux bridge for a user network: "mgr-" and a hash,
// within IFNAMSIZ (15).
func bridgeName(network string) string {
	sum := sha256.Sum256([]byte(network))
	return "mgr-" + hex.EncodeToString(sum[:])[:10]
}

// freeSubnet picks the first 10.78.N.0/24 no network uses.
func freeSubnet(used []string) (string, error) {
	for n := 0; n < 256; n++ {
		cand := fmt.Sprintf("10.78.%d.0/24", n)
		free := true
		for _, u := range used {
			if overlaps(cand, u) {
				free = false
				break
			}
		}
		if free {
			return cand, nil
		}
	}
	return "", errors.New("no free subnet left in 10.78.0.0/16; give --subnet")
}

// Remove deletes a network's config; the caller checks it is unused.
// Only networks mgr created (or any file in the config dir) can go; the
// embedded default cannot.
func (m *Manager) Remove(name string) error {
	n, err := m.Get(name)
	if err != nil {
		return err
	}
	// The default network stays even when the config dir overrides it
	// (as docker's bridge, and as `network prune` already treats it):
	// removing the override would silently move every later container
	// onto the embedded mgr0.
	if n.File == "" || name == cniconfig.DefaultNetwork {
		return fmt.Errorf("%s is a pre-defined network and cannot be removed: %w", name, errdefs.ErrConflict)
	}
	if err := os.Remove(n.File); err != nil {
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	if n.Masquerade {
		removeMasquerade(context.Background(), n, m.masqueradeDir())
	}
	// The bridge plugin never deletes its bridge; an unused network's
	// bridge would otherwise stay on the host for ever.
	if n.Bridge != "" {
		if link, err := netlink.LinkByName(n.Bridge); err == nil {
			if err := netlink.LinkDel(link); err != nil {
				return fmt.Errorf("remove bridge %s of network %s: %w", n.Bridge, name, err)
			}
		}
	}
	// host-local's lease dir for the network.
	_ = os.RemoveAll(filepath.Join(m.dataDir, "networks", name))
	m.events.Record(eventtypes.NetworkEventType, eventtypes.ActionDestroy, ID(name), map[string]string{"name": name, "type": n.Driver})
	return nil
}
