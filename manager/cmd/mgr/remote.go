package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

// Client mode: with --host (MGR_HOST) the mgr CLI talks to a daemon, local
// or remote, through the Docker API instead of opening an engine of its
// own. Each command keeps its flags; the ones listed in remoteActions run
// against the daemon, every other one refuses with a clear error rather
// than acting on a local store the user did not mean.

// remoteActions are the commands that work through a daemon.
var remoteActions = map[string]func(c *cli.Context, api *client.Client) error{
	"version": remoteVersion,
	"info":    remoteInfo,
	"ps":      remotePs,
	"images":  remoteImages,
	"pull":    remotePull,
	"run":     remoteRun,
	"start":   remoteStart,
	"stop":    remoteStop,
	"rm":      remoteRm,
	"logs":    remoteLogs,
	"inspect": remoteInspect,
	"exec":    remoteExec,
	"build":   remoteBuild,
}

// localOnly are commands that never go to a daemon: the daemon itself,
// and the cleanup a shim runs against its own store.
var localOnly = map[string]bool{"daemon": true, "cleanup": true}

func clientFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "host", Aliases: []string{"H"}, EnvVars: []string{"MGR_HOST"}, Usage: "talk to a daemon at unix:///path or tcp://host:port instead of running the engine in-process"},
		&cli.BoolFlag{Name: "tlsverify", EnvVars: []string{"MGR_TLS_VERIFY"}, Usage: "with a tcp:// --host: use TLS and verify the daemon against --tlscacert"},
		&cli.StringFlag{Name: "tlscacert", EnvVars: []string{"MGR_TLS_CACERT"}, Usage: "CA certificate (PEM) the daemon's certificate must chain to"},
		&cli.StringFlag{Name: "tlscert", EnvVars: []string{"MGR_TLS_CERT"}, Usage: "client certificate (PEM)"},
		&cli.StringFlag{Name: "tlskey", EnvVars: []string{"MGR_TLS_KEY"}, Usage: "client private key (PEM)"},
	}
}

// routeRemote wraps the action of every command, subcommands included: in
// client mode it runs the remote version of the command path that was
// invoked (remoteActions) or refuses. A command shared by two paths (run
// and container run) is wrapped twice; the outer wrapper decides, from
// the path it was invoked by.
func routeRemote(cmds []*cli.Command) {
	for _, cmd := range cmds {
		if localOnly[cmd.Name] {
			continue
		}
		routeRemote(cmd.Subcommands)
		if cmd.Action == nil {
			continue
		}
		local := cmd.Action
		cmd.Action = func(c *cli.Context) error {
			// No other command has a flag of this name: the lookup finds
			// the global one.
			if c.String("host") == "" {
				return local(c)
			}
			path := commandPath(c)
			remote := remoteActions[path]
			if remote == nil {
				return fmt.Errorf("mgr %s is not available through a daemon (--host/MGR_HOST) yet: run it on the daemon's host without --host, or use the docker CLI with DOCKER_HOST: %w", path, errdefs.ErrNotImplemented)
			}
			api, err := dialDaemon(c)
			if err != nil {
				return err
			}
			defer api.Close()
			return daemonError(remote(c, api))
		}
	}
}

// commandPath is the command as invoked: "run", "volume rm". (urfave/cli's
// FullName is the command's own name only.)
func commandPath(c *cli.Context) string {
	var names []string
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.Command.Name != "" && (ctx.App == nil || ctx.Command.Name != ctx.App.Name) {
			names = append([]string{ctx.Command.Name}, names...)
		}
	}
	return strings.Join(names, " ")
}

// dialDaemon makes the API client from the global client flags.
func dialDaemon(c *cli.Context) (*client.Client, error) {
	root := c
	host := root.String("host")
	if !strings.HasPrefix(host, "unix://") && !strings.HasPrefix(host, "tcp://") {
		return nil, fmt.Errorf("--host %q: want unix:///path or tcp://host:port: %w", host, errdefs.ErrInvalidArgument)
	}
	opts := []client.Opt{client.WithHost(host), client.WithAPIVersionNegotiation()}
	if root.Bool("tlsverify") || root.String("tlscert") != "" {
		if !strings.HasPrefix(host, "tcp://") {
			return nil, fmt.Errorf("--tlsverify is for tcp:// hosts: %w", errdefs.ErrInvalidArgument)
		}
		opts = append(opts, client.WithTLSClientConfig(root.String("tlscacert"), root.String("tlscert"), root.String("tlskey")))
	}
	api, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("daemon client: %w", err)
	}
	return api, nil
}

// daemonError keeps mgr's exit codes: a container's status passes through,
// the daemon's errors become mgr errors (125) in docker's words.
func daemonError(err error) error {
	var ec cli.ExitCoder
	if err == nil || errors.As(err, &ec) || errdefs.IsClassified(err) {
		return err // a container's status, or mgr's own error
	}
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("cannot connect to the mgr daemon: %w: %w", err, errdefs.ErrUnavailable)
	}
	return fmt.Errorf("Error response from daemon: %w", err)
}

// apiCreateOptions turns the config `mgr run/create` flags make into
// docker's create request: the daemon turns it back, so a run through
// --host means what it means locally.
func apiCreateOptions(name string, cfg container.Config) (client.ContainerCreateOptions, error) {
	conf := &ctypes.Config{
		Image: cfg.ImageRef, Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, Env: cfg.Env, WorkingDir: cfg.WorkingDir,
		User: cfg.User, Hostname: cfg.Hostname, Tty: cfg.Tty, OpenStdin: cfg.OpenStdin, StdinOnce: cfg.OpenStdin,
		AttachStdin: cfg.OpenStdin, AttachStdout: true, AttachStderr: true,
		Labels: cfg.Labels, StopSignal: cfg.StopSignal, StopTimeout: cfg.StopTimeout,
	}
	hc := &ctypes.HostConfig{
		AutoRemove:      cfg.AutoRemove,
		NetworkMode:     ctypes.NetworkMode(cfg.NetworkMode),
		RestartPolicy:   ctypes.RestartPolicy{Name: ctypes.RestartPolicyMode(cfg.Restart.Name), MaximumRetryCount: cfg.Restart.MaxRetry},
		Privileged:      cfg.Security.Privileged,
		ReadonlyRootfs:  cfg.Security.ReadOnlyRootfs,
		CapAdd:          cfg.Security.CapAdd,
		CapDrop:         cfg.Security.CapDrop,
		PublishAllPorts: cfg.PublishAll,
		ExtraHosts:      cfg.AddHosts,
	}
	hc.Memory = cfg.Resources.Memory
	hc.NanoCPUs = int64(cfg.Resources.CPUs * 1e9)
	if cfg.Resources.PidsLimit > 0 {
		hc.PidsLimit = &cfg.Resources.PidsLimit
	}
	if cfg.Init {
		hc.Init = &cfg.Init
	}
	if cfg.Security.NoNewPrivileges {
		hc.SecurityOpt = append(hc.SecurityOpt, "no-new-privileges")
	}
	switch cfg.Security.Seccomp {
	case "":
	case "unconfined":
		hc.SecurityOpt = append(hc.SecurityOpt, "seccomp=unconfined")
	default:
		return client.ContainerCreateOptions{}, fmt.Errorf("--security-opt seccomp=FILE through --host: %w", errdefs.ErrNotImplemented)
	}
	if len(cfg.Ulimits) > 0 || cfg.IP != "" || len(cfg.Aliases) > 0 {
		return client.ContainerCreateOptions{}, fmt.Errorf("--ulimit, --ip and --network-alias through --host: %w", errdefs.ErrNotImplemented)
	}
	for _, d := range cfg.DNS {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return client.ContainerCreateOptions{}, fmt.Errorf("--dns %q: %w", d, errdefs.ErrInvalidArgument)
		}
		hc.DNS = append(hc.DNS, a)
	}
	for _, m := range cfg.Mounts {
		src := m.Source
		if m.Type == "volume" {
			src = m.Name
		}
		if m.Anonymous || src == "" {
			if conf.Volumes == nil {
				conf.Volumes = map[string]struct{}{}
			}
			conf.Volumes[m.Destination] = struct{}{}
			continue
		}
		b := src + ":" + m.Destination
		if m.ReadOnly {
			b += ":ro"
		}
		hc.Binds = append(hc.Binds, b)
	}
	for _, p := range cfg.Ports {
		port, err := network.ParsePort(strconv.Itoa(p.ContainerPort) + "/" + p.Protocol)
		if err != nil {
			return client.ContainerCreateOptions{}, err
		}
		if conf.ExposedPorts == nil {
			conf.ExposedPorts = network.PortSet{}
			hc.PortBindings = network.PortMap{}
		}
		conf.ExposedPorts[port] = struct{}{}
		b := network.PortBinding{}
		if p.HostPort != 0 {
			b.HostPort = strconv.Itoa(p.HostPort)
		}
		if p.HostIP != "" {
			if b.HostIP, err = netip.ParseAddr(p.HostIP); err != nil {
				return client.ContainerCreateOptions{}, fmt.Errorf("-p host address %q: %w", p.HostIP, errdefs.ErrInvalidArgument)
			}
		}
		hc.PortBindings[port] = append(hc.PortBindings[port], b)
	}
	return client.ContainerCreateOptions{Name: name, Config: conf, HostConfig: hc}, nil
}

// stdout and stderr are where remote commands print; a var for nothing
// but readability of the callers.
var stdout, stderr = os.Stdout, os.Stderr

func eachRef(c *cli.Context, fn func(ctx context.Context, ref string) error) error {
	var errs []error
	for _, ref := range c.Args().Slice() {
		if err := fn(c.Context, ref); err != nil {
			errs = append(errs, daemonError(err))
			continue
		}
		fmt.Fprintln(stdout, ref)
	}
	return errors.Join(errs...)
}
