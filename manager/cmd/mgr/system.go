package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/docker/go-units"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/container"
)

var versionCommand = &cli.Command{
	Name:  "version",
	Usage: "show the mgr version information",
	Action: func(c *cli.Context) error {
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		rtVersion := firstLine(exec.Command(e.Runtime, "--version").Output())
		fmt.Printf("Client/Engine: berth mgr (embedded engine, no daemon)\n")
		fmt.Printf(" Version:       %s\n", c.App.Version)
		fmt.Printf(" Go version:    %s\n", runtime.Version())
		fmt.Printf(" OS/Arch:       %s/%s\n", runtime.GOOS, runtime.GOARCH)
		fmt.Printf(" OCI runtime:   %s (%s)\n", rtVersion, e.Runtime)
		fmt.Printf(" Runtime spec:  %s\n", specs.Version)
		fmt.Printf(" Shim:          %s\n", e.Shim)
		return nil
	},
}

func firstLine(out []byte, err error) string {
	if err != nil {
		return "unavailable: " + err.Error()
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return line
}

var infoCommand = &cli.Command{
	Name:  "info",
	Usage: "display system-wide information",
	Action: func(c *cli.Context) error {
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		ctrs, err := e.Containers.List(c.Context)
		if err != nil {
			return err
		}
		var running, paused, stopped int
		for _, ctr := range ctrs {
			switch ctr.State.Status {
			case container.StatusRunning:
				running++
			case container.StatusPaused:
				paused++
			default:
				stopped++
			}
		}
		imgs, err := e.Images.List(c.Context)
		if err != nil {
			return err
		}
		var uts unix.Utsname
		_ = unix.Uname(&uts)
		cgroup := "1 (hybrid: v1 controllers, cgroup2 at /sys/fs/cgroup/unified)"
		var st unix.Statfs_t
		if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			cgroup = "2"
		} else if _, err := os.Stat("/sys/fs/cgroup/unified"); err != nil {
			cgroup = "1"
		}
		var si unix.Sysinfo_t
		_ = unix.Sysinfo(&si)
		fmt.Printf("Containers: %d\n Running: %d\n Paused: %d\n Stopped: %d\n", len(ctrs), running, paused, stopped)
		fmt.Printf("Images: %d\n", len(imgs))
		fmt.Printf("Server Version: %s (embedded engine)\n", c.App.Version)
		fmt.Printf("Storage Driver: overlay\n")
		fmt.Printf("Logging Driver: json-file (max-size 10m, max-file 3)\n")
		fmt.Printf("Cgroup Driver: cgroupfs\nCgroup Version: %s\n", cgroup)
		fmt.Printf("Network: bridge (CNI, default), none, host, and every conflist in %s\n", e.CNIConfigDir)
		fmt.Printf("Runtimes: rt (%s)\nDefault Runtime: rt\n", e.Runtime)
		fmt.Printf("Security Options:\n seccomp\n  Profile: builtin (docker's default)\n")
		fmt.Printf("Kernel Version: %s\n", unix.ByteSliceToString(uts.Release[:]))
		fmt.Printf("Operating System: %s\n", osName())
		fmt.Printf("Architecture: %s\nCPUs: %d\nTotal Memory: %s\n", runtime.GOARCH, runtime.NumCPU(), units.BytesSize(float64(si.Totalram)*float64(si.Unit)))
		fmt.Printf("Docker Root Dir: %s\nRuntime State Dir: %s\n", e.Root, e.RunRoot)
		return nil
	},
}

func osName() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "unknown"
}

var containerCommand = &cli.Command{
	Name:  "container",
	Usage: "manage containers",
	Subcommands: []*cli.Command{
		{Name: "ls", Aliases: []string{"list", "ps"}, Usage: psCommand.Usage, Flags: psCommand.Flags, Action: psCommand.Action},
		{Name: "prune", Usage: "remove all stopped containers", Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
		}, Action: pruneContainers},
		runCommand, createCommand, startCommand, stopCommand, restartCommand, killCommand,
		{Name: "rm", Aliases: []string{"remove"}, Usage: rmCommand.Usage, ArgsUsage: rmCommand.ArgsUsage, Flags: rmCommand.Flags, Action: rmCommand.Action},
		logsCommand, waitCommand, pauseCommand, unpauseCommand, renameCommand, execCommand, attachCommand,
		topCommand, statsCommand, cpCommand, cleanupCommand,
		{Name: "inspect", Usage: "display detailed information on one or more containers", ArgsUsage: "CONTAINER [CONTAINER...]", Action: func(c *cli.Context) error {
			_ = c.Set("type", "container")
			return inspectCommand.Action(c)
		}, Flags: inspectCommand.Flags},
	},
}

func pruneContainers(c *cli.Context) error {
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	ids, freed, err := e.PruneContainers(c.Context)
	fmt.Println("Deleted Containers:")
	for _, id := range ids {
		fmt.Println(id)
	}
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println("Total reclaimed space:", units.HumanSize(float64(freed)))
	return nil
}

// cleanupCommand is what a container's shim runs when the container exits
// (its exit command): tear down the network and rootfs now, and remove the
// container when it was started detached with --rm.
var cleanupCommand = &cli.Command{
	Name:      "cleanup",
	Usage:     "tear down an exited container's network and rootfs (run by its shim)",
	ArgsUsage: "CONTAINER",
	Hidden:    true,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "rm", Usage: "remove the container too"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, 1); err != nil {
			return err
		}
		// Removed meanwhile (or its whole data root was): nothing to clean,
		// and opening the engine would make the root again.
		if _, err := os.Stat(container.DataDir(c.String("root"), c.Args().First())); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		// Get reconciles: the exit is recorded, the network and rootfs go.
		ctr, err := e.Containers.Get(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		if c.Bool("rm") && !ctr.Running() {
			return removeWithVolumes(c.Context, e, ctr)
		}
		return nil
	},
}
