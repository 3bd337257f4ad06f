package container

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	nettypes "github.com/moby/moby/api/types/network"
)

// Inspect returns docker's `inspect` document for c.
func (s *Service) Inspect(ctx context.Context, c *Container) (*ctypes.InspectResponse, error) {
	img, err := s.images.Get(ctx, c.Config.Image.String())
	var args []string
	if err == nil {
		args = Args(c.Config, img)
	} else {
		args = append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...)
	}
	resp := &ctypes.InspectResponse{
		ID:             c.ID,
		Created:        c.Created.Format(time.RFC3339Nano),
		Image:          c.Config.Image.String(),
		Name:           "/" + c.Name,
		ResolvConfPath: s.dataDir(c.ID) + "/resolv.conf",
		HostnamePath:   s.dataDir(c.ID) + "/hostname",
		HostsPath:      s.dataDir(c.ID) + "/hosts",
		LogPath:        s.logPath(c.ID),
		RestartCount:   c.State.RestartCount,
		Driver:         "overlay",
		Platform:       "linux",
		State: &ctypes.State{
			Status:     ctypes.ContainerState(c.State.Status),
			Running:    c.Running(),
			Paused:     c.State.Status == StatusPaused,
			OOMKilled:  c.State.OOMKilled,
			Dead:       c.State.Status == StatusDead,
			Pid:        c.State.Pid,
			ExitCode:   c.State.ExitCode,
			Error:      c.State.Error,
			StartedAt:  dockerTime(c.State.StartedAt),
			FinishedAt: dockerTime(c.State.FinishedAt),
		},
		Config: &ctypes.Config{
			Hostname:    s.hostname(c),
			User:        c.Config.User,
			Tty:         c.Config.Tty,
			OpenStdin:   c.Config.OpenStdin,
			Env:         c.Config.Env,
			Cmd:         c.Config.Cmd,
			Image:       c.Config.ImageRef,
			WorkingDir:  c.Config.WorkingDir,
			Entrypoint:  c.Config.Entrypoint,
			Labels:      c.Config.Labels,
			StopSignal:  c.Config.StopSignal,
			StopTimeout: c.Config.StopTimeout,
		},
		HostConfig: &ctypes.HostConfig{
			NetworkMode:    ctypes.NetworkMode(c.Config.NetworkMode),
			RestartPolicy:  ctypes.RestartPolicy{Name: ctypes.RestartPolicyMode(c.Config.Restart.Name), MaximumRetryCount: c.Config.Restart.MaxRetry},
			AutoRemove:     c.Config.AutoRemove,
			CapAdd:         c.Config.Security.CapAdd,
			CapDrop:        c.Config.Security.CapDrop,
			Privileged:     c.Config.Security.Privileged,
			ReadonlyRootfs: c.Config.Security.ReadOnlyRootfs,
			Init:           &c.Config.Init,
			Resources: ctypes.Resources{
				Memory:   c.Config.Resources.Memory,
				NanoCPUs: int64(c.Config.Resources.CPUs * 1e9),
			},
		},
		Mounts:          []ctypes.MountPoint{},
		NetworkSettings: &ctypes.NetworkSettings{SandboxKey: c.State.NetNS, Ports: nettypes.PortMap{}, Networks: map[string]*nettypes.EndpointSettings{}},
	}
	for _, a := range c.State.Networks {
		ep := &nettypes.EndpointSettings{NetworkID: a.Network, Aliases: a.Aliases, IPPrefixLen: a.PrefixLen}
		ep.IPAddress, _ = netip.ParseAddr(a.IPAddress)
		ep.Gateway, _ = netip.ParseAddr(a.Gateway)
		if mac, err := net.ParseMAC(a.MAC); err == nil {
			ep.MacAddress = nettypes.HardwareAddr(mac)
		}
		resp.NetworkSettings.Networks[a.Network] = ep
		for _, p := range a.Ports {
			port, err := nettypes.ParsePort(fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol))
			if err != nil {
				continue
			}
			hostIP, _ := netip.ParseAddr(hostIPOr(p.HostIP))
			resp.NetworkSettings.Ports[port] = append(resp.NetworkSettings.Ports[port], nettypes.PortBinding{HostIP: hostIP, HostPort: strconv.Itoa(p.HostPort)})
		}
	}
	if c.Config.Resources.PidsLimit != 0 {
		resp.HostConfig.Resources.PidsLimit = &c.Config.Resources.PidsLimit
	}
	if len(args) > 0 {
		resp.Path, resp.Args = args[0], args[1:]
	}
	for _, m := range c.Config.Mounts {
		src := m.Source
		if m.Type == "volume" {
			src = s.volumes.Path(m.Name)
		}
		resp.Mounts = append(resp.Mounts, ctypes.MountPoint{Type: mount.Type(m.Type), Name: m.Name, Source: src, Destination: m.Destination, RW: !m.ReadOnly})
	}
	return resp, nil
}

func dockerTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// StatusLine is docker's human status: "Up 3 minutes", "Exited (0) 2
// seconds ago", "Created".
func StatusLine(c *Container) string {
	switch c.State.Status {
	case StatusRunning:
		return "Up " + units.HumanDuration(time.Since(c.State.StartedAt))
	case StatusPaused:
		return "Up " + units.HumanDuration(time.Since(c.State.StartedAt)) + " (Paused)"
	case StatusExited:
		return fmt.Sprintf("Exited (%d) %s ago", c.State.ExitCode, units.HumanDuration(time.Since(c.State.FinishedAt)))
	case StatusCreated:
		return "Created"
	}
	return strings.ToUpper(c.State.Status[:1]) + c.State.Status[1:]
}
