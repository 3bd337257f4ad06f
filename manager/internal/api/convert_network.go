package api

import (
	"net"
	"net/netip"
	"time"

	nettypes "github.com/moby/moby/api/types/network"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/network"
)

// builtinNetworks are docker's predefined networks that are not CNI
// networks: a container's own stack (none) and the host's.
var builtinNetworks = []string{"host", "none"}

// apiNetwork is a network in docker's shape; n is nil for host and none.
func apiNetwork(name string, n *network.Network) nettypes.Network {
	out := nettypes.Network{
		Name:       name,
		ID:         network.ID(name),
		Created:    time.Unix(0, 0).UTC(),
		Scope:      "local",
		Driver:     name,
		EnableIPv4: name != "none",
		IPAM:       nettypes.IPAM{Driver: "default", Options: map[string]string{}, Config: []nettypes.IPAMConfig{}},
		Options:    map[string]string{},
		Labels:     map[string]string{},
	}
	if n == nil {
		if name == "none" {
			out.Driver = "null"
		}
		return out
	}
	out.Driver = n.Driver
	out.Internal = n.Internal
	out.Attachable = true
	if n.Labels != nil {
		out.Labels = n.Labels
	}
	if n.Bridge != "" {
		out.Options["com.docker.network.bridge.name"] = n.Bridge
	}
	for i, s := range n.Subnets {
		cfg := nettypes.IPAMConfig{}
		cfg.Subnet, _ = netip.ParsePrefix(s)
		if i < len(n.Gateways) {
			cfg.Gateway, _ = netip.ParseAddr(n.Gateways[i])
		}
		out.IPAM.Config = append(out.IPAM.Config, cfg)
	}
	return out
}

// endpoints lists what members hold on network name.
func endpoints(name string, members []*container.Container) map[string]nettypes.EndpointResource {
	out := map[string]nettypes.EndpointResource{}
	for _, c := range members {
		for _, a := range c.State.Networks {
			if a.Network != name {
				continue
			}
			ep := nettypes.EndpointResource{Name: c.Name, EndpointID: network.ID(c.ID + "/" + name)}
			if ip, err := netip.ParseAddr(a.IPAddress); err == nil {
				ep.IPv4Address = netip.PrefixFrom(ip, a.PrefixLen)
			}
			if mac, err := net.ParseMAC(a.MAC); err == nil {
				ep.MacAddress = nettypes.HardwareAddr(mac)
			}
			out[c.ID] = ep
		}
	}
	return out
}
