package container

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	eventtypes "github.com/moby/moby/api/types/events"

	cniconfig "github.com/berthrun/berth/cni-config"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/network"
)

// setupNetwork gives c a persistent network namespace and attaches it to
// its networks (CNI ADD), with its published ports on the first one.
func (s *Service) setupNetwork(ctx context.Context, c *Container) error {
	c.State.Networks, c.State.NetNS = nil, ""
	if !c.usesCNI() {
		return nil
	}
	ports, err := s.resolvePorts(ctx, c)
	if err != nil {
		return err
	}
	path := s.networks.NetNSPath(c.ID)
	_ = network.RemoveNetNS(path) // a stale one from a crash
	if err := network.NewNetNS(path); err != nil {
		return err
	}
	var reqs []network.Request
	for i, name := range c.State.NetworkNames {
		r := network.Request{Network: name, IfName: "eth" + strconv.Itoa(i)}
		if i == 0 {
			r.Ports, r.IP = ports, c.Config.IP
		}
		if name != cniconfig.DefaultNetwork {
			r.Aliases = c.Config.Aliases
		}
		reqs = append(reqs, r)
	}
	atts, err := s.networks.Attach(ctx, c.ID, path, reqs)
	if err != nil {
		_ = network.RemoveNetNS(path)
		return err
	}
	c.State.Networks, c.State.NetNS = atts, path
	for _, a := range atts {
		s.networkEvent(c, eventtypes.ActionConnect, a.Network)
	}
	return nil
}

// teardownNetwork detaches c from every network it is on (from libcni's
// cache, so it works after a crash too) and removes its namespace.
func (s *Service) teardownNetwork(ctx context.Context, c *Container) error {
	if !c.usesCNI() {
		return nil
	}
	had := c.State.Networks
	if err := s.networks.Cleanup(ctx, c.ID); err != nil {
		return err
	}
	c.State.Networks, c.State.NetNS = nil, ""
	for _, a := range had {
		s.networkEvent(c, eventtypes.ActionDisconnect, a.Network)
	}
	// Peers on user networks must forget this container's name.
	for _, a := range had {
		if a.Network != cniconfig.DefaultNetwork {
			if err := s.refreshPeers(ctx, a.Network, c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolvePorts turns -p/-P into concrete mappings: free host ports for
// those left to chance, and a refusal for a port already published or in
// use on the host.
func (s *Service) resolvePorts(ctx context.Context, c *Container) ([]network.PortMapping, error) {
	specs := slices.Clone(c.Config.Ports)
	if c.Config.PublishAll {
		img, err := s.images.Get(ctx, c.Config.Image.String())
		if err != nil {
			return nil, err
		}
		for p := range img.Config.Config.ExposedPorts {
			num, proto, _ := strings.Cut(p, "/")
			n, err := strconv.Atoi(num)
			if err != nil {
				continue
			}
			if proto == "" {
				proto = "tcp"
			}
			specs = append(specs, PortSpec{ContainerPort: n, Protocol: proto})
		}
	}
	if len(specs) == 0 {
		return nil, nil
	}
	others, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	taken := map[string]string{} // proto/port -> container name
	for _, o := range others {
		if o.ID == c.ID || !o.Running() {
			continue
		}
		for _, a := range o.State.Networks {
			for _, p := range a.Ports {
				taken[p.Protocol+"/"+strconv.Itoa(p.HostPort)] = o.Name
			}
		}
	}
	var out []network.PortMapping
	for _, p := range specs {
		if p.HostPort == 0 {
			port, err := freePort(p.Protocol, p.HostIP)
			if err != nil {
				return nil, err
			}
			p.HostPort = port
		} else {
			key := p.Protocol + "/" + strconv.Itoa(p.HostPort)
			if owner, ok := taken[key]; ok {
				return nil, fmt.Errorf("bind for %s:%d failed: port is already allocated (container %s): %w", hostIPOr(p.HostIP), p.HostPort, owner, errdefs.ErrConflict)
			}
			if err := portFree(p.Protocol, p.HostIP, p.HostPort); err != nil {
				return nil, err
			}
		}
		out = append(out, network.PortMapping{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Protocol, HostIP: p.HostIP})
	}
	return out, nil
}

func hostIPOr(ip string) string {
	if ip == "" {
		return "0.0.0.0"
	}
	return ip
}

// freePort asks the kernel for an unused port.
func freePort(proto, hostIP string) (int, error) {
	addr := net.JoinHostPort(hostIP, "0")
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree refuses a host port a host process listens on: the DNAT rule
// would silently take its traffic.
func portFree(proto, hostIP string, port int) error {
	addr := net.JoinHostPort(hostIP, strconv.Itoa(port))
	var err error
	if proto == "udp" {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp", addr); err == nil {
			c.Close()
		}
	} else {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			l.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("bind for %s:%d failed: %w: %w", hostIPOr(hostIP), port, err, errdefs.ErrConflict)
	}
	return nil
}

// Connect attaches a running container to another network.
func (s *Service) Connect(ctx context.Context, c *Container, name string, aliases []string) error {
	if _, err := s.networks.Get(name); err != nil {
		return err
	}
	if slices.Contains(c.State.NetworkNames, name) {
		return fmt.Errorf("container %s is already connected to network %s: %w", c.Name, name, errdefs.ErrConflict)
	}
	if !c.usesCNI() {
		return fmt.Errorf("container %s uses --network %s and cannot join CNI networks: %w", c.Name, c.Config.NetworkMode, errdefs.ErrConflict)
	}
	c.State.NetworkNames = append(c.State.NetworkNames, name)
	if c.Running() {
		ifName := "eth" + strconv.Itoa(nextIfIndex(c.State.Networks))
		atts, err := s.networks.Attach(ctx, c.ID, c.State.NetNS, []network.Request{{Network: name, IfName: ifName, Aliases: aliases}})
		if err != nil {
			return err
		}
		c.State.Networks = append(c.State.Networks, atts...)
		s.networkEvent(c, eventtypes.ActionConnect, name)
	}
	if err := s.setState(ctx, c); err != nil {
		return err
	}
	return s.refreshPeers(ctx, name, "")
}

func nextIfIndex(atts []network.Attachment) int {
	n := 0
	for _, a := range atts {
		if i, err := strconv.Atoi(strings.TrimPrefix(a.IfName, "eth")); err == nil && i >= n {
			n = i + 1
		}
	}
	return n
}

// Disconnect detaches c from a network.
func (s *Service) Disconnect(ctx context.Context, c *Container, name string) error {
	i := slices.Index(c.State.NetworkNames, name)
	if i < 0 {
		return fmt.Errorf("container %s is not connected to network %s: %w", c.Name, name, errdefs.ErrNotFound)
	}
	c.State.NetworkNames = slices.Delete(c.State.NetworkNames, i, i+1)
	if j := slices.IndexFunc(c.State.Networks, func(a network.Attachment) bool { return a.Network == name }); j >= 0 {
		a := c.State.Networks[j]
		if err := s.networks.Detach(ctx, c.ID, c.State.NetNS, []network.Request{{Network: name, IfName: a.IfName}}); err != nil {
			return err
		}
		c.State.Networks = slices.Delete(c.State.Networks, j, j+1)
		s.networkEvent(c, eventtypes.ActionDisconnect, name)
	}
	if err := s.setState(ctx, c); err != nil {
		return err
	}
	// c's own hosts file must drop its address on the network and the
	// peers it reached there; refreshPeers skips c.
	if c.Running() {
		if err := s.writeHosts(ctx, c); err != nil {
			return err
		}
	}
	return s.refreshPeers(ctx, name, c.ID)
}

// NetworkUsers lists the containers joined to a network.
func (s *Service) NetworkUsers(ctx context.Context, name string) ([]*Container, error) {
	list, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	return onNetwork(list, name), nil
}

// members lists a network's containers as recorded, without reconciling:
// it is called while reconciling, and a member that exited meanwhile is
// reconciled on its own next read.
func (s *Service) members(ctx context.Context, name string) ([]*Container, error) {
	recs, err := s.records.List(ctx)
	if err != nil {
		return nil, err
	}
	var list []*Container
	for _, r := range recs {
		c, err := decode(r)
		if err != nil {
			return nil, err
		}
		list = append(list, c)
	}
	return onNetwork(list, name), nil
}

func onNetwork(list []*Container, name string) []*Container {
	var out []*Container
	for _, c := range list {
		if slices.Contains(c.State.NetworkNames, name) {
			out = append(out, c)
		}
	}
	return out
}

// Name resolution on user networks: every member's /etc/hosts lists the
// others by name (and aliases). The files are bind-mounted, so rewriting
// them in place (same inode) updates running containers at once. This was
// chosen over a DNS responder per network: no daemon needed (mgr has none
// by default), nothing to keep alive, and busybox's resolver reads
// /etc/hosts.

// refreshHosts rewrites c's /etc/hosts and those of its peers.
func (s *Service) refreshHosts(ctx context.Context, c *Container) error {
	if err := s.writeHosts(ctx, c); err != nil {
		return err
	}
	for _, a := range c.State.Networks {
		if a.Network != cniconfig.DefaultNetwork {
			if err := s.refreshPeers(ctx, a.Network, c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// refreshPeers rewrites the hosts files of the running members of a
// network, except skip.
func (s *Service) refreshPeers(ctx context.Context, networkName, skip string) error {
	members, err := s.members(ctx, networkName)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range members {
		if m.ID != skip && m.Running() {
			errs = append(errs, s.writeHosts(ctx, m))
		}
	}
	return errors.Join(errs...)
}

// writeHosts writes c's hosts file: localhost, itself, --add-host entries
// and its peers on user networks.
func (s *Service) writeHosts(ctx context.Context, c *Container) error {
	var b strings.Builder
	b.WriteString(baseHosts)
	if c.Config.NetworkMode == "host" {
		if h, err := os.ReadFile("/etc/hosts"); err == nil {
			b.Reset()
			b.Write(h)
		}
	}
	for _, h := range c.Config.AddHosts {
		name, ip, _ := strings.Cut(h, ":")
		fmt.Fprintf(&b, "%s\t%s\n", ip, name)
	}
	self := s.hostname(c)
	for _, a := range c.State.Networks {
		if a.IPAddress != "" {
			fmt.Fprintf(&b, "%s\t%s\n", a.IPAddress, strings.Join(dedupe(append([]string{self, c.Name}, a.Aliases...)), " "))
		}
	}
	peers := map[string]bool{}
	for _, a := range c.State.Networks {
		if a.Network == cniconfig.DefaultNetwork {
			continue
		}
		members, err := s.members(ctx, a.Network)
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.ID == c.ID || !m.Running() || peers[m.ID] {
				continue
			}
			for _, ma := range m.State.Networks {
				if ma.Network == a.Network && ma.IPAddress != "" {
					peers[m.ID] = true
					fmt.Fprintf(&b, "%s\t%s\n", ma.IPAddress, strings.Join(dedupe(append([]string{m.Name, s.hostname(m)}, ma.Aliases...)), " "))
				}
			}
		}
	}
	path := s.dataDir(c.ID) + "/hosts"
	// In place: the file is bind-mounted into the container by inode.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write hosts of %.12s: %w", c.ID, err)
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

const baseHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
