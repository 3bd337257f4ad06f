// Package network gives containers their networks the way orchestrators
// do: a persistent network namespace per container, configured by CNI
// plugins from conflist files through libcni. Any conflist in the config
// dir is a network mgr can use by its name; `network create` writes new
// ones. Results are cached by libcni under mgr's data root, so a container
// whose manager or shim died is still torn down (CNI DEL from the cache).
package network

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/events"
)

// Options locate the CNI configs, plugins and mgr's network state.
type Options struct {
	ConfDir  string          // conflists (default /etc/cni/net.d)
	BinDirs  []string        // plugin binaries (default /opt/cni/bin)
	DataDir  string          // libcni result cache and host-local leases: <root>/cni
	NetnsDir string          // persistent namespaces: <runroot>/netns
	Events   *events.Journal // create and destroy are recorded here; nil: nowhere
}

// Manager attaches containers to CNI networks.
type Manager struct {
	confDir  string
	dataDir  string
	netnsDir string
	cni      *libcni.CNIConfig
	events   *events.Journal
}

// New returns a network manager.
func New(o Options) *Manager {
	return &Manager{
		confDir:  o.ConfDir,
		dataDir:  o.DataDir,
		netnsDir: o.NetnsDir,
		events:   o.Events,
		cni:      libcni.NewCNIConfigWithCacheDir(o.BinDirs, filepath.Join(o.DataDir, "cache"), nil),
	}
}

// ConfDir is where networks are defined.
func (m *Manager) ConfDir() string { return m.confDir }

// NetNSPath is where a container's namespace is mounted.
func (m *Manager) NetNSPath(containerID string) string {
	return filepath.Join(m.netnsDir, containerID[:12])
}

// PortMapping is one published port (portmap's capability arguments).
type PortMapping struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// Request is one network to attach a container to.
type Request struct {
	Network string
	IfName  string
	Ports   []PortMapping
	IP      string // a fixed address (ipRanges capability), "" for any
	Aliases []string
}

// Attachment is what a container got on one network.
type Attachment struct {
	Network   string        `json:"network"`
	IfName    string        `json:"ifName"`
	IPAddress string        `json:"ipAddress,omitempty"`
	PrefixLen int           `json:"prefixLen,omitempty"`
	Gateway   string        `json:"gateway,omitempty"`
	MAC       string        `json:"mac,omitempty"`
	Ports     []PortMapping `json:"ports,omitempty"`
	Aliases   []string      `json:"aliases,omitempty"`
}

// Get returns a network by name.
func (m *Manager) Get(name string) (*Network, error) {
	nets, err := m.load()
	if err != nil {
		return nil, err
	}
	n, ok := nets[name]
	if !ok {
		return nil, fmt.Errorf("network %s not found: %w", name, errdefs.ErrNotFound)
	}
	return n, nil
}

// List returns every network.
func (m *Manager) List() ([]*Network, error) {
	nets, err := m.load()
	if err != nil {
		return nil, err
	}
	out := make([]*Network, 0, len(nets))
	for _, n := range nets {
		out = append(out, n)
	}
	return out, nil
}

func (m *Manager) runtimeConf(containerID, netns string, r Request) *libcni.RuntimeConf {
	rc := &libcni.RuntimeConf{
		ContainerID: containerID,
		NetNS:       netns,
		IfName:      r.IfName,
		Args:        [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAME", containerID[:12]}},
		CapabilityArgs: map[string]any{
			"portMappings": r.Ports,
		},
	}
	if r.IP != "" {
		rc.CapabilityArgs["ipRanges"] = [][]map[string]string{{{"subnet": singleHost(r.IP)}}}
		rc.Args = append(rc.Args, [2]string{"IP", r.IP})
	}
	if r.Ports == nil {
		rc.CapabilityArgs["portMappings"] = []PortMapping{}
	}
	return rc
}

func singleHost(ip string) string {
	if strings.Contains(ip, ":") {
		return ip + "/128"
	}
	return ip + "/32"
}

// Attach runs CNI ADD for each request in the namespace at netns. On error
// it undoes what it did, so nothing is left half-configured.
func (m *Manager) Attach(ctx context.Context, containerID, netns string, reqs []Request) ([]Attachment, error) {
	var done []Request
	var out []Attachment
	for _, r := range reqs {
		n, err := m.Get(r.Network)
		if err != nil {
			_ = m.Detach(ctx, containerID, netns, done)
			return nil, err
		}
		list, err := m.forAttach(n.list, len(r.Ports) > 0)
		if err != nil {
			_ = m.Detach(ctx, containerID, netns, done)
			return nil, err
		}
		if n.Masquerade {
			if err := ensureMasquerade(ctx, n, m.masqueradeDir()); err != nil {
				_ = m.Detach(ctx, containerID, netns, done)
				return nil, err
			}
		}
		rc := m.runtimeConf(containerID, netns, r)
		// Record the intent first: libcni caches a result only once the
		// whole ADD succeeded, and a manager killed half way would leave
		// a lease and rules nothing knows how to tear down.
		if err := m.writeIntent(list, rc); err != nil {
			_ = m.Detach(ctx, containerID, netns, done)
			return nil, err
		}
		res, err := m.cni.AddNetworkList(ctx, list, rc)
		if err == nil {
			m.dropIntent(rc.ContainerID, list.Name, rc.IfName)
		}
		if err != nil {
			// ADD may have got half way (a veth, a lease): DEL cleans up.
			if m.del(context.WithoutCancel(ctx), list, rc) == nil {
				m.dropIntent(rc.ContainerID, list.Name, rc.IfName)
			}
			_ = m.Detach(ctx, containerID, netns, done)
			return nil, fmt.Errorf("attach to network %s: %w", r.Network, pluginError(err))
		}
		done = append(done, r)
		a := Attachment{Network: r.Network, IfName: r.IfName, Ports: r.Ports, Aliases: r.Aliases}
		if r100, err := types100.NewResultFromResult(res); err == nil {
			for _, ip := range r100.IPs {
				if ip.Interface != nil && *ip.Interface < len(r100.Interfaces) && r100.Interfaces[*ip.Interface].Sandbox == "" {
					continue
				}
				if ip.Address.IP.To4() == nil && a.IPAddress != "" {
					continue // prefer IPv4 for the primary address
				}
				ones, _ := ip.Address.Mask.Size()
				a.IPAddress, a.PrefixLen = ip.Address.IP.String(), ones
				if ip.Gateway != nil {
					a.Gateway = ip.Gateway.String()
				}
			}
			for _, itf := range r100.Interfaces {
				if itf.Sandbox != "" && itf.Name == r.IfName {
					a.MAC = itf.Mac
				}
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// Detach runs CNI DEL for each request; it keeps going past errors so one
// broken network does not leak the others, and reports them all.
func (m *Manager) Detach(ctx context.Context, containerID, netns string, reqs []Request) error {
	var errs []error
	for _, r := range reqs {
		rc := m.runtimeConf(containerID, netns, r)
		list, err := m.cachedList(containerID, r.Network, r.IfName)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if list == nil {
			continue // never attached, or already detached
		}
		if err := m.del(ctx, list, rc); err != nil {
			errs = append(errs, fmt.Errorf("detach from network %s: %w", r.Network, pluginError(err)))
		}
	}
	return errors.Join(errs...)
}

// del runs CNI DEL over list. libcni stops at the first plugin that
// fails, in reverse order, so a plugin that is not installed (the one a
// failed ADD stopped at, or one removed since) would keep the plugins
// before it from ever tearing down: a bridge's lease and masquerade chain
// leaked. DEL then runs again over the plugins that are installed; a
// missing plugin cannot be asked to undo anything, so that counts as done.
func (m *Manager) del(ctx context.Context, list *libcni.NetworkConfigList, rc *libcni.RuntimeConf) error {
	err := m.cni.DelNetworkList(ctx, list, rc)
	if err == nil {
		return nil
	}
	var present []*libcni.NetworkConfig
	for _, p := range list.Plugins {
		if _, ferr := invoke.FindInPath(p.Network.Type, m.cni.Path); ferr == nil {
			present = append(present, p)
		}
	}
	if len(present) == len(list.Plugins) {
		return err
	}
	installed := *list
	installed.Plugins = present
	return m.cni.DelNetworkList(ctx, &installed, rc)
}

// cachedList is the config the container was attached with (from libcni's
// cache), so DEL works even if the network was edited or deleted since.
func (m *Manager) cachedList(containerID, network, ifName string) (*libcni.NetworkConfigList, error) {
	atts, err := m.cni.GetCachedAttachments(containerID)
	if err != nil {
		return nil, err
	}
	for _, a := range atts {
		if a.Network == network && a.IfName == ifName {
			return libcni.ConfListFromBytes(a.Config)
		}
	}
	return nil, nil
}

// Cleanup detaches a container from every network the cache says it is
// on and removes its namespace: the recovery path after a crash.
func (m *Manager) Cleanup(ctx context.Context, containerID string) error {
	atts, err := m.cni.GetCachedAttachments(containerID)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range atts {
		list, err := libcni.ConfListFromBytes(a.Config)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rc := &libcni.RuntimeConf{ContainerID: a.ContainerID, NetNS: a.NetNS, IfName: a.IfName, Args: a.CniArgs, CapabilityArgs: a.CapabilityArgs}
		if err := m.del(ctx, list, rc); err != nil {
			errs = append(errs, fmt.Errorf("detach %.12s from %s: %w", containerID, a.Network, pluginError(err)))
		}
	}
	// ADDs that never finished (the manager died during them).
	intents, err := m.intents(containerID)
	if err != nil {
		errs = append(errs, err)
	}
	for _, in := range intents {
		list, err := libcni.ConfListFromBytes(in.Config)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rc := &libcni.RuntimeConf{ContainerID: in.ContainerID, NetNS: in.NetNS, IfName: in.IfName, Args: in.Args, CapabilityArgs: in.CapabilityArgs}
		if err := m.del(ctx, list, rc); err != nil {
			errs = append(errs, fmt.Errorf("undo the unfinished attach of %.12s to %s: %w", containerID, in.Network, pluginError(err)))
			continue
		}
		m.dropIntent(in.ContainerID, in.Network, in.IfName)
	}
	if len(containerID) >= 12 {
		if err := RemoveNetNS(m.NetNSPath(containerID)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Attached lists the IDs of containers with cached attachments.
func (m *Manager) Attached() ([]string, error) {
	atts, err := m.cni.GetCachedAttachments("")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	intents, err := m.intents("")
	if err != nil {
		return nil, err
	}
	for _, in := range intents {
		if !seen[in.ContainerID] {
			seen[in.ContainerID] = true
			ids = append(ids, in.ContainerID)
		}
	}
	for _, a := range atts {
		if !seen[a.ContainerID] {
			seen[a.ContainerID] = true
			ids = append(ids, a.ContainerID)
		}
	}
	return ids, nil
}

// NetNSFiles lists the namespace files under the netns dir (by short ID).
func (m *Manager) NetNSFiles() ([]string, error) {
	entries, err := os.ReadDir(m.netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out, nil
}

// pluginError makes a plugin's error say which plugin is missing when that
// is the cause, instead of libcni's bare "failed to find plugin".
func pluginError(err error) error {
	if strings.Contains(err.Error(), "failed to find plugin") {
		return fmt.Errorf("%w (are the CNI plugins installed? run `mgr network check`)", err)
	}
	return err
}

// parseIP validates a fixed address.
func parseIP(s string) (net.IP, error) {
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("invalid IP address %q: %w", s, errdefs.ErrInvalidArgument)
	}
	return ip, nil
}

// ID is a network's stable docker-style ID: CNI networks have only names,
// so it is derived from the name.
func ID(name string) string {
	sum := sha256.Sum256([]byte("berth-network:" + name))
	return hex.EncodeToString(sum[:])
}

// masqueradeDir holds the markers of the masquerade rules ensured this boot.
func (m *Manager) masqueradeDir() string { return filepath.Join(m.dataDir, "masquerade") }
