// Command mgr is berth's manager: images, containers and networks, in the
// spelling of docker's CLI. It runs its engine in-process (no daemon needed).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/engine"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/runtime/cgroupwarm"
)

// version is set by the Makefile.
var version = "dev"

// Exit codes, as docker's: 125 when mgr itself fails.
const exitMgrError = 125

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	err := newApp().RunContext(ctx, os.Args)
	stop()
	if err != nil {
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			if msg := err.Error(); msg != "" {
				fmt.Fprintln(os.Stderr, "mgr:", msg)
			}
			os.Exit(ec.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "mgr:", err)
		os.Exit(exitMgrError)
	}
}

func newApp() *cli.App {
	// docker's -h is --hostname; help is --help only.
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"}
	home, _ := os.UserHomeDir()
	app := &cli.App{
		UseShortOptionHandling:    true, // -it, -aq
		Name:                      "mgr",
		Usage:                     "manage images, containers and networks (docker's commands, no daemon needed)",
		Version:                   version,
		DisableSliceFlagSeparator: true,
		HideHelpCommand:           true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: "/var/lib/mgr", EnvVars: []string{"MGR_ROOT"}, Usage: "data root: images, layers, metadata"},
			&cli.StringFlag{Name: "runroot", Value: "/run/mgr", EnvVars: []string{"MGR_RUNROOT"}, Usage: "runtime state root"},
			&cli.StringFlag{Name: "config", Value: filepath.Join(home, ".mgr"), EnvVars: []string{"MGR_CONFIG"}, Usage: "client config dir (registry credentials in config.json)"},
			&cli.StringSliceFlag{Name: "insecure-registry", EnvVars: []string{"MGR_INSECURE_REGISTRIES"}, Usage: "registry host[:port] allowed plain HTTP (localhost and 127.0.0.1 always are)"},
			&cli.StringFlag{Name: "cni-config-dir", Value: "/etc/cni/net.d", EnvVars: []string{"MGR_CNI_CONFIG_DIR"}, Usage: "CNI network configs (conflists)"},
			&cli.StringSliceFlag{Name: "cni-bin-dir", Value: cli.NewStringSlice("/opt/cni/bin"), EnvVars: []string{"MGR_CNI_BIN_DIR"}, Usage: "CNI plugin binaries"},
			&cli.BoolFlag{Name: "no-cgroup-warm", EnvVars: []string{"MGR_NO_CGROUP_WARM"}, Usage: "do not move mgr into its own cgroup ahead of a container start (which spares the runtime's cgroup attach a kernel wait of 8-20 ms)"},
			&cli.BoolFlag{Name: "debug", Aliases: []string{"D"}, Usage: "debug output"},
		},
		Commands: []*cli.Command{
			runCommand,
			buildCommand,
			createCommand,
			startCommand,
			stopCommand,
			restartCommand,
			killCommand,
			rmCommand,
			psCommand,
			logsCommand,
			inspectCommand,
			waitCommand,
			pauseCommand,
			unpauseCommand,
			renameCommand,
			execCommand,
			attachCommand,
			topCommand,
			statsCommand,
			cpCommand,
			containerCommand,
			portCommand,
			networkCommand,
			volumeCommand,
			versionCommand,
			daemonCommand,
			infoCommand,
			eventsCommand,
			imagesCommand,
			pullCommand,
			pushCommand,
			tagCommand,
			rmiCommand,
			historyCommand,
			saveCommand,
			loadCommand,
			importCommand,
			loginCommand,
			logoutCommand,
			imageCommand,
		},
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   usageError,
	}
	app.Flags = append(app.Flags, clientFlags()...)
	setUsageError(app.Commands)
	routeRemote(app.Commands)
	return app
}

// usageError makes a bad flag an mgr error: one line, exit 125, as docker.
func usageError(c *cli.Context, err error, _ bool) error {
	return cli.Exit(err.Error()+"\nSee 'mgr "+c.Command.FullName()+" --help'.", exitMgrError)
}

func setUsageError(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = usageError
		setUsageError(c.Subcommands)
	}
}

// openEngine opens the in-process engine from the global flags.
func openEngine(c *cli.Context) (*engine.Engine, error) {
	return openEngineWarm(c, cgroupWarmer(c))
}

// cgroupWarmer warms the kernel's cgroup attach up before container starts
// (see cgroupwarm); nil with --no-cgroup-warm.
func cgroupWarmer(c *cli.Context) *cgroupwarm.Warmer {
	if c.Bool("no-cgroup-warm") {
		return nil
	}
	return cgroupwarm.New()
}

// openEngineWarm is openEngine with the warmer the caller already began.
func openEngineWarm(c *cli.Context, warm *cgroupwarm.Warmer) (*engine.Engine, error) {
	return engine.Open(engine.Options{
		Manager:          managerCommand(c),
		Root:             c.String("root"),
		RunRoot:          c.String("runroot"),
		ConfigDir:        c.String("config"),
		InsecureRegistry: c.StringSlice("insecure-registry"),
		CNIConfigDir:     c.String("cni-config-dir"),
		CNIBinDirs:       c.StringSlice("cni-bin-dir"),
		CgroupWarm:       warm,
	})
}

// managerCommand is how a shim calls this mgr back: the same binary with
// the same roots, so its cleanup acts on the same store.
func managerCommand(c *cli.Context) []string {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	cmd := []string{self, "--root", c.String("root"), "--runroot", c.String("runroot"), "--config", c.String("config"),
		"--cni-config-dir", c.String("cni-config-dir")}
	for _, d := range c.StringSlice("cni-bin-dir") {
		cmd = append(cmd, "--cni-bin-dir", d)
	}
	return cmd
}

// needArgs checks the argument count and says what is missing, as docker does.
func needArgs(c *cli.Context, min, max int) error {
	n := c.NArg()
	if n < min || (max >= 0 && n > max) {
		want := fmt.Sprintf("at least %d", min)
		switch {
		case min == max:
			want = fmt.Sprintf("exactly %d", min)
		case max >= 0:
			want = fmt.Sprintf("at least %d and at most %d", min, max)
		}
		return fmt.Errorf("%q requires %s argument(s)\nUsage: mgr %s %s: %w", c.Command.FullName(), want, c.Command.FullName(), c.Command.ArgsUsage, errdefs.ErrInvalidArgument)
	}
	return nil
}
