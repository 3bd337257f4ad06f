package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/volume"
)

// createFlags are the flags of run and create, in docker's spelling.
func createFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "name", Usage: "assign a name to the container"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.BoolFlag{Name: "rm", Usage: "automatically remove the container when it exits"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables (KEY=VALUE, or KEY to take it from mgr's environment)"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "read in a file of environment variables"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID (format: <name|uid>[:<group|gid>])"},
		&cli.StringFlag{Name: "entrypoint", Usage: "overwrite the default ENTRYPOINT of the image"},
		&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "container host name"},
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount a volume (HOST-DIR:CONTAINER-DIR[:ro])"},
		&cli.StringSliceFlag{Name: "mount", Usage: "attach a filesystem mount (type=bind,source=...,target=...[,readonly])"},
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (e.g. 32m, 1g)"},
		&cli.Float64Flag{Name: "cpus", Usage: "number of CPUs (e.g. 0.5)"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "tune container pids limit (-1 for unlimited)"},
		&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem as read only"},
		&cli.StringSliceFlag{Name: "cap-add", Usage: "add Linux capabilities"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop Linux capabilities"},
		&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to this container"},
		&cli.StringSliceFlag{Name: "security-opt", Usage: "security options: no-new-privileges, seccomp=unconfined, seccomp=FILE"},
		&cli.StringSliceFlag{Name: "ulimit", Usage: "ulimit options (e.g. nofile=1024:2048)"},
		&cli.BoolFlag{Name: "init", Usage: "run an init inside the container that forwards signals and reaps processes"},
		&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set meta data on a container (KEY=VALUE)"},
		&cli.StringFlag{Name: "restart", Value: "no", Usage: "restart policy: no, always, on-failure[:max-retries], unless-stopped (honoured by mgr daemon)"},
		&cli.StringFlag{Name: "stop-signal", Usage: "signal to stop the container"},
		&cli.IntFlag{Name: "stop-timeout", Usage: "timeout (in seconds) to stop a container"},
		&cli.StringFlag{Name: "pull", Value: "missing", EnvVars: []string{"MGR_PULL"}, Usage: "pull image before running: missing, always, never"},
		&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Value: "bridge", Usage: "connect a container to a network: bridge (default), none, host, or a network's name"},
		&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a container's port(s) to the host: [hostIP:][hostPort:]containerPort[/tcp|udp]"},
		&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "publish all exposed ports to random ports"},
		&cli.StringFlag{Name: "ip", Usage: "IPv4 address (e.g., 10.78.0.20)"},
		&cli.StringSliceFlag{Name: "dns", Usage: "set custom DNS servers"},
		&cli.StringSliceFlag{Name: "add-host", Usage: "add a custom host-to-IP mapping (host:ip)"},
		&cli.StringSliceFlag{Name: "network-alias", Usage: "add network-scoped alias for the container"},
	}
}

// configFromFlags turns run/create flags into a container config.
func configFromFlags(c *cli.Context) (container.Config, error) {
	args := c.Args().Slice()
	cfg := container.Config{
		ImageRef:    args[0],
		Cmd:         args[1:],
		WorkingDir:  c.String("workdir"),
		User:        c.String("user"),
		Hostname:    c.String("hostname"),
		Tty:         c.Bool("tty"),
		OpenStdin:   c.Bool("interactive"),
		AutoRemove:  c.Bool("rm"),
		StopSignal:  c.String("stop-signal"),
		Init:        c.Bool("init"),
		NetworkMode: c.String("network"),
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf(format+": %w", append(a, errdefs.ErrInvalidArgument)...)
	}
	if cfg.NetworkMode == "default" || cfg.NetworkMode == "" {
		cfg.NetworkMode = "bridge"
	}
	for _, p := range c.StringSlice("publish") {
		ps, err := parsePublish(p)
		if err != nil {
			return cfg, err
		}
		cfg.Ports = append(cfg.Ports, ps...)
	}
	cfg.PublishAll = c.Bool("publish-all")
	if ip := c.String("ip"); ip != "" {
		if net.ParseIP(ip) == nil {
			return cfg, bad("invalid --ip %q", ip)
		}
		cfg.IP = ip
	}
	for _, d := range c.StringSlice("dns") {
		if net.ParseIP(d) == nil {
			return cfg, bad("invalid --dns %q: an IP address", d)
		}
		cfg.DNS = append(cfg.DNS, d)
	}
	for _, h := range c.StringSlice("add-host") {
		name, ip, ok := strings.Cut(h, ":")
		if !ok || name == "" || net.ParseIP(ip) == nil {
			return cfg, bad("invalid --add-host %q: want host:ip", h)
		}
		cfg.AddHosts = append(cfg.AddHosts, h)
	}
	cfg.Aliases = c.StringSlice("network-alias")
	if ep := c.String("entrypoint"); c.IsSet("entrypoint") {
		cfg.Entrypoint = []string{ep}
		if ep == "" {
			cfg.Entrypoint = nil
		}
	}
	if c.IsSet("stop-timeout") {
		t := c.Int("stop-timeout")
		cfg.StopTimeout = &t
	}
	for _, f := range c.StringSlice("env-file") {
		env, err := readEnvFile(f)
		if err != nil {
			return cfg, err
		}
		cfg.Env = append(cfg.Env, env...)
	}
	for _, e := range c.StringSlice("env") {
		if !strings.Contains(e, "=") {
			v, ok := os.LookupEnv(e)
			if !ok {
				continue
			}
			e += "=" + v
		}
		cfg.Env = append(cfg.Env, e)
	}
	labels := map[string]string{}
	for _, l := range c.StringSlice("label") {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
	}
	if len(labels) > 0 {
		cfg.Labels = labels
	}
	for _, v := range c.StringSlice("volume") {
		m, err := parseVolume(v)
		if err != nil {
			return cfg, err
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	for _, v := range c.StringSlice("mount") {
		m, err := parseMount(v)
		if err != nil {
			return cfg, err
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	if m := c.String("memory"); m != "" {
		n, err := units.RAMInBytes(m)
		if err != nil || n <= 0 {
			return cfg, bad("invalid --memory %q", m)
		}
		if n < 6<<20 {
			return cfg, bad("minimum memory limit allowed is 6MB")
		}
		cfg.Resources.Memory = n
	}
	if n := c.Float64("cpus"); c.IsSet("cpus") {
		if n <= 0 {
			return cfg, bad("invalid --cpus %v: must be positive", n)
		}
		cfg.Resources.CPUs = n
	}
	cfg.Resources.PidsLimit = c.Int64("pids-limit")
	cfg.Security = container.Security{
		ReadOnlyRootfs: c.Bool("read-only"),
		Privileged:     c.Bool("privileged"),
		CapAdd:         c.StringSlice("cap-add"),
		CapDrop:        c.StringSlice("cap-drop"),
	}
	for _, o := range c.StringSlice("security-opt") {
		switch k, v, _ := strings.Cut(o, "="); {
		case o == "no-new-privileges" || (k == "no-new-privileges" && v == "true"):
			cfg.Security.NoNewPrivileges = true
		case k == "no-new-privileges" && v == "false":
		case k == "seccomp" && v == "unconfined":
			cfg.Security.Seccomp = "unconfined"
		case k == "seccomp" && v != "":
			data, err := os.ReadFile(v)
			if err != nil {
				return cfg, bad("--security-opt seccomp: %v", err)
			}
			cfg.Security.Seccomp = string(data)
		default:
			return cfg, bad("invalid --security-opt %q", o)
		}
	}
	for _, u := range c.StringSlice("ulimit") {
		ul, err := units.ParseUlimit(u)
		if err != nil {
			return cfg, bad("invalid --ulimit %q: %v", u, err)
		}
		cfg.Ulimits = append(cfg.Ulimits, container.Ulimit{Name: ul.Name, Soft: uint64(ul.Soft), Hard: uint64(ul.Hard)})
	}
	rp, err := parseRestart(c.String("restart"))
	if err != nil {
		return cfg, err
	}
	cfg.Restart = rp
	if cfg.AutoRemove && rp.Name != "no" {
		return cfg, bad("conflicting options: --restart and --rm")
	}
	return cfg, nil
}

// parsePublish reads -p [hostIP:][hostPort:]containerPort[/proto], with
// port ranges (8000-8001:80-81).
func parsePublish(s string) ([]container.PortSpec, error) {
	bad := fmt.Errorf("invalid -p %q: want [hostIP:][hostPort:]containerPort[/tcp|udp]: %w", s, errdefs.ErrInvalidArgument)
	spec, proto, _ := strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return nil, bad
	}
	var hostIP, hostPart, ctrPart string
	parts := strings.Split(spec, ":")
	switch len(parts) {
	case 1:
		ctrPart = parts[0]
	case 2:
		hostPart, ctrPart = parts[0], parts[1]
	case 3:
		hostIP, hostPart, ctrPart = parts[0], parts[1], parts[2]
		if net.ParseIP(hostIP) == nil {
			return nil, bad
		}
	default:
		return nil, bad
	}
	c0, c1, err := portRange(ctrPart)
	if err != nil {
		return nil, bad
	}
	h0, h1 := 0, 0
	if hostPart != "" {
		if h0, h1, err = portRange(hostPart); err != nil || h1-h0 != c1-c0 {
			return nil, bad
		}
	}
	var out []container.PortSpec
	for i := 0; i <= c1-c0; i++ {
		hp := 0
		if hostPart != "" {
			hp = h0 + i
		}
		out = append(out, container.PortSpec{HostIP: hostIP, HostPort: hp, ContainerPort: c0 + i, Protocol: proto})
	}
	return out, nil
}

func portRange(s string) (int, int, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil || lo < 1 || lo > 65535 {
		return 0, 0, errdefs.ErrInvalidArgument
	}
	if !isRange {
		return lo, lo, nil
	}
	hi, err := strconv.Atoi(b)
	if err != nil || hi < lo || hi > 65535 {
		return 0, 0, errdefs.ErrInvalidArgument
	}
	return lo, hi, nil
}

func parseRestart(s string) (container.RestartPolicy, error) {
	name, max, hasMax := strings.Cut(s, ":")
	rp := container.RestartPolicy{Name: name}
	switch name {
	case "", "no":
		rp.Name = "no"
	case "always", "unless-stopped":
	case "on-failure":
		if hasMax {
			n, err := strconv.Atoi(max)
			if err != nil || n < 0 {
				return rp, fmt.Errorf("invalid restart policy %q: %w", s, errdefs.ErrInvalidArgument)
			}
			rp.MaxRetry = n
		}
		return rp, nil
	default:
		return rp, fmt.Errorf("invalid restart policy %q: %w", s, errdefs.ErrInvalidArgument)
	}
	if hasMax {
		return rp, fmt.Errorf("invalid restart policy %q: maximum retries only with on-failure: %w", s, errdefs.ErrInvalidArgument)
	}
	return rp, nil
}

// parseVolume reads -v; a bind mount's host path must exist.
func parseVolume(v string) (container.Mount, error) {
	m, err := container.ParseVolumeSpec(v)
	if err != nil || m.Type != "bind" {
		return m, err
	}
	return m, checkMount(m, v)
}

func parseMount(v string) (container.Mount, error) {
	m := container.Mount{Type: "bind"}
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "type":
			switch val {
			case "bind", "volume":
				m.Type = val
			default:
				return m, fmt.Errorf("--mount %q: type must be bind or volume: %w", v, errdefs.ErrInvalidArgument)
			}
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Destination = val
		case "readonly", "ro":
			m.ReadOnly = val == "" || val == "true" || val == "1"
		default:
			return m, fmt.Errorf("--mount %q: unknown key %q: %w", v, k, errdefs.ErrInvalidArgument)
		}
	}
	if m.Type == "volume" {
		m.Name, m.Source = m.Source, ""
		if m.Name == "" {
			m.Anonymous = true
		} else if !volume.ValidName(m.Name) {
			return m, fmt.Errorf("--mount %q: invalid volume name: %w", v, errdefs.ErrInvalidArgument)
		}
		if !filepath.IsAbs(m.Destination) {
			return m, fmt.Errorf("invalid mount %q: the container path must be absolute: %w", v, errdefs.ErrInvalidArgument)
		}
		return m, nil
	}
	return m, checkMount(m, v)
}

func checkMount(m container.Mount, v string) error {
	if !filepath.IsAbs(m.Destination) {
		return fmt.Errorf("invalid mount %q: the container path must be absolute: %w", v, errdefs.ErrInvalidArgument)
	}
	if _, err := os.Stat(m.Source); err != nil {
		return fmt.Errorf("invalid mount %q: bind source path does not exist: %s: %w", v, m.Source, errdefs.ErrInvalidArgument)
	}
	return nil
}

func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--env-file: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "=") {
			v, ok := os.LookupEnv(line)
			if !ok {
				continue
			}
			line += "=" + v
		}
		out = append(out, line)
	}
	return out, sc.Err()
}
