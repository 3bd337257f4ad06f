package api

import (
	"fmt"
	"maps"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	nettypes "github.com/moby/moby/api/types/network"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/network"
)

// containerConfig turns docker's create request into the container
// service's Config.
func containerConfig(req *ctypes.CreateRequest) (container.Config, error) {
	if req.Config == nil {
		return container.Config{}, invalidf("config cannot be empty in order to create a container")
	}
	c := req.Config
	cfg := container.Config{
		ImageRef:    c.Image,
		Entrypoint:  c.Entrypoint,
		Cmd:         c.Cmd,
		Env:         c.Env,
		WorkingDir:  c.WorkingDir,
		User:        c.User,
		Hostname:    c.Hostname,
		Tty:         c.Tty,
		OpenStdin:   c.OpenStdin,
		Labels:      c.Labels,
		StopSignal:  c.StopSignal,
		StopTimeout: c.StopTimeout,
	}
	if cfg.ImageRef == "" {
		return cfg, invalidf("no image given")
	}
	hc := req.HostConfig
	if hc == nil {
		hc = &ctypes.HostConfig{}
	}
	cfg.AutoRemove = hc.AutoRemove
	cfg.NetworkMode = string(hc.NetworkMode)
	if cfg.NetworkMode == "" || cfg.NetworkMode == "default" {
		cfg.NetworkMode = "bridge"
	}
	if strings.HasPrefix(cfg.NetworkMode, "container:") {
		return cfg, errNotImplemented("--network container:")
	}
	cfg.Restart = container.RestartPolicy{Name: string(hc.RestartPolicy.Name), MaxRetry: hc.RestartPolicy.MaximumRetryCount}
	cfg.Resources = container.Resources{Memory: hc.Memory, CPUs: float64(hc.NanoCPUs) / 1e9}
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		cfg.Resources.PidsLimit = *hc.PidsLimit
	}
	cfg.Security = container.Security{
		Privileged:     hc.Privileged,
		ReadOnlyRootfs: hc.ReadonlyRootfs,
		CapAdd:         hc.CapAdd,
		CapDrop:        hc.CapDrop,
	}
	for _, opt := range hc.SecurityOpt {
		k, v, _ := strings.Cut(opt, "=")
		if k == "seccomp" && v == "unconfined" {
			cfg.Security.Seccomp = "unconfined"
		} else if strings.HasPrefix(opt, "no-new-privileges") && v != "false" {
			cfg.Security.NoNewPrivileges = true
		}
	}
	if hc.Init != nil {
		cfg.Init = *hc.Init
	}
	cfg.DNS = netipStrings(hc.DNS)
	cfg.AddHosts = hc.ExtraHosts
	for _, b := range hc.Binds {
		m, err := container.ParseVolumeSpec(b)
		if err != nil {
			return cfg, err
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	for _, m := range hc.Mounts {
		switch m.Type {
		case mount.TypeBind:
			cfg.Mounts = append(cfg.Mounts, container.Mount{Type: "bind", Source: m.Source, Destination: m.Target, ReadOnly: m.ReadOnly})
		case mount.TypeVolume:
			cfg.Mounts = append(cfg.Mounts, container.Mount{Type: "volume", Name: m.Source, Destination: m.Target, ReadOnly: m.ReadOnly, Anonymous: m.Source == ""})
		default:
			return cfg, errNotImplemented("mounts of type " + string(m.Type))
		}
	}
	// -v /path (no source) arrives as Config.Volumes: an anonymous volume
	// unless a bind or mount covers the path.
	for _, dst := range slices.Sorted(maps.Keys(c.Volumes)) {
		m, err := container.ParseVolumeSpec(dst)
		if err != nil {
			return cfg, err
		}
		if !slices.ContainsFunc(cfg.Mounts, func(o container.Mount) bool { return path.Clean(o.Destination) == m.Destination }) {
			cfg.Mounts = append(cfg.Mounts, m)
		}
	}
	cfg.PublishAll = hc.PublishAllPorts
	for port, bindings := range hc.PortBindings {
		if len(bindings) == 0 {
			bindings = []nettypes.PortBinding{{}}
		}
		for _, b := range bindings {
			host := 0
			if b.HostPort != "" {
				p, err := strconv.Atoi(b.HostPort)
				if err != nil {
					return cfg, invalidf("invalid host port %q (ranges are not supported yet)", b.HostPort)
				}
				host = p
			}
			ps := container.PortSpec{HostPort: host, ContainerPort: int(port.Num()), Protocol: string(port.Proto())}
			if b.HostIP.IsValid() {
				ps.HostIP = b.HostIP.String()
			}
			cfg.Ports = append(cfg.Ports, ps)
		}
	}
	if req.NetworkingConfig != nil {
		if ep := req.NetworkingConfig.EndpointsConfig[cfg.NetworkMode]; ep != nil {
			cfg.Aliases = ep.Aliases
			if ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address.IsValid() {
				cfg.IP = ep.IPAMConfig.IPv4Address.String()
			}
		}
	}
	return cfg, nil
}

func netipStrings(in []netip.Addr) []string {
	var out []string
	for _, a := range in {
		out = append(out, a.String())
	}
	return out
}

// containerSummary is c as `GET /containers/json` lists it.
func containerSummary(c *container.Container, args []string) ctypes.Summary {
	sum := ctypes.Summary{
		ID:      c.ID,
		Names:   []string{"/" + c.Name},
		Image:   c.Config.ImageRef,
		ImageID: c.Config.Image.String(),
		Command: strings.Join(args, " "),
		Created: c.Created.Unix(),
		Ports:   []ctypes.PortSummary{},
		Labels:  c.Config.Labels,
		State:   ctypes.ContainerState(c.State.Status),
		Status:  container.StatusLine(c),
		Mounts:  []ctypes.MountPoint{},
		NetworkSettings: &ctypes.NetworkSettingsSummary{
			Networks: map[string]*nettypes.EndpointSettings{},
		},
	}
	if sum.Labels == nil {
		sum.Labels = map[string]string{}
	}
	sum.HostConfig.NetworkMode = c.Config.NetworkMode
	for _, a := range c.State.Networks {
		ep := &nettypes.EndpointSettings{NetworkID: network.ID(a.Network), IPPrefixLen: a.PrefixLen, Aliases: a.Aliases}
		ep.IPAddress, _ = netip.ParseAddr(a.IPAddress)
		ep.Gateway, _ = netip.ParseAddr(a.Gateway)
		sum.NetworkSettings.Networks[a.Network] = ep
		for _, p := range a.Ports {
			ps := ctypes.PortSummary{PrivatePort: uint16(p.ContainerPort), PublicPort: uint16(p.HostPort), Type: p.Protocol}
			ps.IP, _ = netip.ParseAddr(hostIPOr(p.HostIP))
			sum.Ports = append(sum.Ports, ps)
		}
	}
	for _, m := range c.Config.Mounts {
		sum.Mounts = append(sum.Mounts, ctypes.MountPoint{Type: mount.Type(m.Type), Source: m.Source, Destination: m.Destination, RW: !m.ReadOnly})
	}
	return sum
}

func hostIPOr(ip string) string {
	if ip == "" {
		return "0.0.0.0"
	}
	return ip
}

// matchContainer applies `ps` filters: id, name, status, label, exited,
// ancestor, network.
func matchContainer(c *container.Container, f map[string][]string) bool {
	any := func(key string, ok func(string) bool) bool {
		vals := f[key]
		if len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			if ok(v) {
				return true
			}
		}
		return false
	}
	return any("id", func(v string) bool { return strings.HasPrefix(c.ID, v) }) &&
		any("name", func(v string) bool { return strings.Contains(c.Name, strings.TrimPrefix(v, "/")) }) &&
		any("status", func(v string) bool { return v == c.State.Status }) &&
		any("exited", func(v string) bool {
			return c.State.Status == container.StatusExited && v == strconv.Itoa(c.State.ExitCode)
		}) &&
		any("ancestor", func(v string) bool {
			return v == c.Config.ImageRef || strings.HasPrefix(c.Config.Image.Encoded(), strings.TrimPrefix(v, "sha256:"))
		}) &&
		any("network", func(v string) bool { return v == c.Config.NetworkMode }) &&
		matchLabels(c.Config.Labels, f["label"])
}

// matchLabels checks label filters: "key" or "key=value", all must match.
func matchLabels(labels map[string]string, want []string) bool {
	for _, w := range want {
		k, v, hasValue := strings.Cut(w, "=")
		got, ok := labels[k]
		if !ok || (hasValue && got != v) {
			return false
		}
	}
	return true
}

// globMatch is path.Match, false on a bad pattern.
func globMatch(pattern, s string) bool {
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// topResponse parses ps(1) output into docker's titles and rows; the last
// column (the command) keeps its spaces.
func topResponse(out []byte) (ctypes.TopResponse, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return ctypes.TopResponse{}, fmt.Errorf("top: no output from ps")
	}
	resp := ctypes.TopResponse{Titles: strings.Fields(lines[0]), Processes: [][]string{}}
	n := len(resp.Titles)
	for _, l := range lines[1:] {
		fields := strings.Fields(l)
		if len(fields) == 0 {
			continue
		}
		if len(fields) > n {
			fields = append(fields[:n-1], strings.Join(fields[n-1:], " "))
		}
		resp.Processes = append(resp.Processes, fields)
	}
	return resp, nil
}
