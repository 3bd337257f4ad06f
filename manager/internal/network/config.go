package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containernetworking/cni/libcni"

	cniconfig "github.com/berthrun/berth/cni-config"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

// Network is one CNI network as mgr sees it.
type Network struct {
	Name     string
	File     string // conflist path; "" for the embedded default
	Driver   string // first plugin's type
	Subnets  []string
	Gateways []string
	Internal bool
	// Masquerade: mgr keeps one MASQUERADE rule for the whole subnet
	// instead of the bridge plugin's chain per container (ipMasq).
	Masquerade bool
	Bridge     string // the Linux bridge of a bridge network
	Labels     map[string]string
	list       *libcni.NetworkConfigList
}

// load reads every network in the config dir, plus the embedded default
// when the dir has no network of that name.
func (m *Manager) load() (map[string]*Network, error) {
	nets := map[string]*Network{}
	files, err := libcni.ConfFiles(m.confDir, []string{".conflist", ".conf", ".json"})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read CNI config dir %s: %w", m.confDir, err)
	}
	slices.Sort(files)
	for _, f := range files {
		var list *libcni.NetworkConfigList
		if strings.HasSuffix(f, ".conflist") {
			list, err = libcni.ConfListFromFile(f)
		} else {
			var conf *libcni.NetworkConfig
			conf, err = libcni.ConfFromFile(f)
			if err == nil {
				list, err = libcni.ConfListFromConf(conf)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("CNI config %s: %w: %w", f, err, errdefs.ErrInvalidArgument)
		}
		if _, dup := nets[list.Name]; dup {
			continue // the first file wins, as in libcni's LoadConfList
		}
		n, err := describe(list)
		if err != nil {
			return nil, fmt.Errorf("CNI config %s: %w", f, err)
		}
		n.File = f
		nets[list.Name] = n
	}
	if _, ok := nets[cniconfig.DefaultNetwork]; !ok {
		list, err := libcni.ConfListFromBytes(cniconfig.DefaultConfList)
		if err != nil {
			return nil, err
		}
		n, err := describe(list)
		if err != nil {
			return nil, err
		}
		nets[list.Name] = n
	}
	return nets, nil
}

// pluginConf is the part of a plugin config mgr reads.
type pluginConf struct {
	Type      string            `json:"type"`
	Bridge    string            `json:"bridge"`
	IsGateway *bool             `json:"isGateway"`
	Labels    map[string]string `json:"mgr.labels"`
	Internal  bool              `json:"mgr.internal"`
	Masq      bool              `json:"mgr.masquerade"`
	IPAM      struct {
		Type    string `json:"type"`
		Subnet  string `json:"subnet"`
		Gateway string `json:"gateway"`
		Ranges  [][]struct {
			Subnet  string `json:"subnet"`
			Gateway string `json:"gateway"`
		} `json:"ranges"`
	} `json:"ipam"`
}

func describe(list *libcni.NetworkConfigList) (*Network, error) {
	n := &Network{Name: list.Name, list: list}
	for i, p := range list.Plugins {
		var pc pluginConf
		if err := json.Unmarshal(p.Bytes, &pc); err != nil {
			return nil, err
		}
		if i == 0 {
			n.Driver = pc.Type
			n.Bridge = pc.Bridge
			if n.Driver == "bridge" && n.Bridge == "" {
				n.Bridge = "cni0" // the bridge plugin's default
			}
			n.Labels = pc.Labels
			n.Internal = pc.Internal
			n.Masquerade = pc.Masq
		}
		if pc.IPAM.Subnet != "" {
			n.Subnets = append(n.Subnets, pc.IPAM.Subnet)
			n.Gateways = append(n.Gateways, pc.IPAM.Gateway)
		}
		for _, set := range pc.IPAM.Ranges {
			for _, r := range set {
				n.Subnets = append(n.Subnets, r.Subnet)
				n.Gateways = append(n.Gateways, r.Gateway)
			}
		}
	}
	return n, nil
}

// overlaps reports whether two CIDRs share addresses.
func overlaps(a, b string) bool {
	_, na, err1 := net.ParseCIDR(a)
	_, nb, err2 := net.ParseCIDR(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return na.Contains(nb.IP) || nb.Contains(na.IP)
}

// forAttach is the network's conflist as one attachment runs it: host-local
// IPAM points at mgr's own lease dir (unless the config names one), so
// leases live under mgr's data root; without published ports the portmap
// plugin is left out (it would only run iptables to find nothing to do),
// and so is a tuning plugin with nothing to tune (an exec each for ADD and
// DEL that change nothing). libcni caches the list it ran, so DEL runs the
// same.
func (m *Manager) forAttach(list *libcni.NetworkConfigList, ports bool) (*libcni.NetworkConfigList, error) {
	var raw map[string]any
	if err := json.Unmarshal(list.Bytes, &raw); err != nil {
		return nil, err
	}
	plugins, _ := raw["plugins"].([]any)
	changed := false
	kept := plugins[:0:0]
	for _, p := range plugins {
		pm, _ := p.(map[string]any)
		if (pm["type"] == "portmap" && !ports) || (pm["type"] == "tuning" && idleTuning(pm)) {
			changed = true
			continue
		}
		kept = append(kept, p)
	}
	plugins = kept
	raw["plugins"] = plugins
	for _, p := range plugins {
		pm, _ := p.(map[string]any)
		ipam, _ := pm["ipam"].(map[string]any)
		if ipam != nil && ipam["type"] == "host-local" && ipam["dataDir"] == nil {
			ipam["dataDir"] = filepath.Join(m.dataDir, "networks")
			changed = true
		}
	}
	if !changed {
		return list, nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromBytes(data)
}

// idleTuning reports a tuning plugin configured to change nothing: no
// sysctls, no link settings, no runtime capabilities.
func idleTuning(pm map[string]any) bool {
	for k := range pm {
		switch k {
		case "type", "name", "cniVersion":
		default:
			return false
		}
	}
	return true
}

// PluginTypes lists the plugins the network runs, in order.
func (n *Network) PluginTypes() []string {
	var out []string
	for _, p := range n.list.Plugins {
		out = append(out, p.Network.Type)
	}
	return out
}
