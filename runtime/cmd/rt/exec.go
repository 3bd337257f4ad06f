package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/cgroupwarm"
	"github.com/berthrun/berth/runtime/internal/launch"
	"github.com/berthrun/berth/runtime/internal/libct"
)

var execCommand = &cli.Command{
	Name:  "exec",
	Usage: "execute new process inside the container",
	ArgsUsage: `<container-id> <command> [command options]  || -p process.json <container-id>

Where "<command>" is the command to run in the container; it may be omitted
only when -p gives a process.json.

EXAMPLE:
       # rt exec web1 ps`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		&cli.StringFlag{Name: "cwd", Usage: "current working directory in the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "UID (format: <uid>[:<gid>])"},
		&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional gids"},
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "path to the process.json"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
		&cli.StringFlag{Name: "process-label", Usage: "set the asm process label for the process commonly used with selinux"},
		&cli.StringFlag{Name: "apparmor", Usage: "set the apparmor profile for the process"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set the no new privileges value for the process"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability to the bounding set for the process"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		cgroupwarm.New().Begin() // the process joins the container's cgroups (see startContainer)
		status, err := execProcess(c)
		if err != nil {
			// runc's exit code for a failed exec; engines tell it apart
			// from the process's own status this way.
			fatalWithCode(fmt.Errorf("exec failed: %w", err), 255)
		}
		os.Exit(status)
		return nil
	},
}

func execProcess(c *cli.Context) (int, error) {
	ct, err := loadContainer(c)
	if err != nil {
		return -1, err
	}
	status, err := ct.Status()
	if err != nil {
		return -1, err
	}
	switch {
	case status == libct.Stopped:
		return -1, errors.New("cannot exec in a stopped container")
	case status == libct.Paused && !c.Bool("ignore-paused"):
		return -1, errors.New("cannot exec in a paused container (use --ignore-paused to override)")
	}
	p, err := execSpec(c, ct)
	if err != nil {
		return -1, err
	}
	pidFile, err := absPath(c.String("pid-file"))
	if err != nil {
		return -1, err
	}
	return launch.Launch(p, launch.Options{
		Container:     ct,
		Action:        launch.Run,
		Detach:        c.Bool("detach"),
		PidFile:       pidFile,
		ConsoleSocket: c.String("console-socket"),
		PreserveFDs:   c.Int("preserve-fds"),
	})
}

// execSpec builds the exec'd process: from --process, or from the bundle's
// process with the command line's overrides.
func execSpec(c *cli.Context, ct *libct.Container) (*specs.Process, error) {
	if path := c.String("process"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		return &p, libct.ValidateProcess(&p)
	}
	if c.NArg() < 2 {
		return nil, errors.New("exec args cannot be empty")
	}
	bundle, ok := utils.SearchLabels(ct.Config().Labels, "bundle")
	if !ok {
		return nil, errors.New("bundle not found in labels")
	}
	spec, err := libct.LoadSpec(bundle)
	if err != nil {
		return nil, err
	}
	p := spec.Process
	p.Args = c.Args().Slice()[1:]
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if v := c.String("apparmor"); v != "" {
		p.ApparmorProfile = v
	}
	if v := c.String("process-label"); v != "" {
		p.SelinuxLabel = v
	}
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		for _, cp := range caps {
			p.Capabilities.Bounding = append(p.Capabilities.Bounding, cp)
			p.Capabilities.Effective = append(p.Capabilities.Effective, cp)
			p.Capabilities.Permitted = append(p.Capabilities.Permitted, cp)
			if p.Capabilities.Inheritable != nil {
				p.Capabilities.Ambient = append(p.Capabilities.Ambient, cp)
			}
		}
	}
	p.Env = append(p.Env, c.StringSlice("env")...)
	p.Terminal = c.Bool("tty")
	if c.IsSet("no-new-privs") {
		p.NoNewPrivileges = c.Bool("no-new-privs")
	}
	if u := c.String("user"); u != "" {
		uid, gid, hasGID := strings.Cut(u, ":")
		if hasGID {
			g, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("bad gid %q: %w", gid, err)
			}
			p.User.GID = uint32(g)
		}
		n, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad uid %q: %w", uid, err)
		}
		p.User.UID = uint32(n)
	}
	for _, g := range c.Int64Slice("additional-gids") {
		if g < 0 {
			return nil, fmt.Errorf("additional-gids must be a positive number %d", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	return p, libct.ValidateProcess(p)
}
