package container

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/image"
	"github.com/berthrun/berth/runtime/oci"
)

// initPaths are static init programs (PID 1 that forwards signals and reaps
// zombies) that --init mounts into the container, first found wins.
var initPaths = []string{"/usr/bin/catatonit", "/usr/bin/tini-static"}

// Args is the command a container runs: the entrypoint and cmd merged as
// docker does (--entrypoint resets the image's cmd).
func Args(cfg Config, img *image.Image) []string {
	ep, cmd := img.Config.Config.Entrypoint, img.Config.Config.Cmd
	if len(cfg.Entrypoint) > 0 {
		ep, cmd = cfg.Entrypoint, nil
	}
	if len(cfg.Cmd) > 0 {
		cmd = cfg.Cmd
	}
	return append(append([]string{}, ep...), cmd...)
}

// buildSpec makes the OCI spec for one run of c over its mounted rootfs.
func (s *Service) buildSpec(c *Container, img *image.Image, etc map[string]string) (*specs.Spec, error) {
	cfg := c.Config
	rootfs := s.rootfs(c.ID)
	args := Args(cfg, img)
	if len(args) == 0 {
		return nil, fmt.Errorf("no command specified: %w", errdefs.ErrInvalidArgument)
	}
	userSpec := cfg.User
	if userSpec == "" {
		userSpec = img.Config.Config.User
	}
	uid, gid, groups, home, err := resolveUser(rootfs, userSpec)
	if err != nil {
		return nil, err
	}
	workdir := cfg.WorkingDir
	if workdir == "" {
		workdir = img.Config.Config.WorkingDir
	}
	env := []string{oci.DefaultPath, "HOSTNAME=" + s.hostname(c)}
	if home != "" {
		env = append(env, "HOME="+home)
	}
	env = append(env, img.Config.Config.Env...)
	env = append(env, cfg.Env...)

	var mounts []specs.Mount
	for _, dst := range []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"} {
		mounts = append(mounts, specs.Mount{Destination: dst, Type: "bind", Source: etc[dst], Options: []string{"rbind", "rprivate"}})
	}
	for _, m := range cfg.Mounts {
		opts := []string{"rbind", "rprivate"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		src := m.Source
		if m.Type == "volume" {
			src = s.volumes.Path(m.Name)
		}
		mounts = append(mounts, specs.Mount{Destination: m.Destination, Type: "bind", Source: src, Options: opts})
	}
	if cfg.Init {
		initBin, err := findInit()
		if err != nil {
			return nil, err
		}
		mounts = append(mounts, specs.Mount{Destination: "/dev/init", Type: "bind", Source: initBin, Options: []string{"bind", "ro"}})
		args = append([]string{"/dev/init", "--"}, args...)
	}

	opts := []oci.SpecOpt{
		oci.WithArgs(args...),
		oci.WithEnv(env),
		oci.WithCwd(workdir),
		oci.WithUser(uid, gid, groups),
		oci.WithHostname(s.hostname(c)),
		oci.WithTTY(cfg.Tty),
		oci.WithMounts(mounts),
		oci.WithReadonlyRootfs(cfg.Security.ReadOnlyRootfs),
		oci.WithMemoryLimit(cfg.Resources.Memory),
		oci.WithCPUs(cfg.Resources.CPUs),
		oci.WithPidsLimit(cfg.Resources.PidsLimit),
		oci.WithNoNewPrivileges(cfg.Security.NoNewPrivileges),
	}
	switch {
	case cfg.NetworkMode == "host":
		opts = append(opts, oci.WithHostNetwork())
	case c.State.NetNS != "":
		opts = append(opts, oci.WithNetNS(c.State.NetNS))
	}
	for _, u := range cfg.Ulimits {
		opts = append(opts, oci.WithRlimit(u.Name, u.Soft, u.Hard))
	}
	if cfg.Security.Privileged {
		opts = append(opts, oci.WithPrivileged())
	} else {
		opts = append(opts, oci.WithCapabilities(cfg.Security.CapAdd, cfg.Security.CapDrop))
		switch cfg.Security.Seccomp {
		case "":
			opts = append(opts, oci.WithDefaultSeccomp())
		case "unconfined":
			opts = append(opts, oci.WithoutSeccomp())
		default:
			opts = append(opts, oci.WithSeccompProfile([]byte(cfg.Security.Seccomp)))
		}
	}
	return oci.New(rootfs, opts...)
}

func findInit() (string, error) {
	for _, p := range initPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("--init needs a static init program (%s); install catatonit: %w", strings.Join(initPaths, " or "), errors.Join(errdefs.ErrNotFound))
}
