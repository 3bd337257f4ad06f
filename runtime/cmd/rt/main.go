// Command rt is an OCI runtime with runc's command line, built on runc's
// libcontainer. Engines that drive runc can drive rt instead.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	// Registers the cgroup device filter that libcontainer's cgroup
	// managers use to enforce linux.resources.devices.
	_ "github.com/opencontainers/cgroups/devices"
)

// version is set by the Makefile (-X main.version=...).
var version = "dev"

const usage = `an OCI runtime (runc-compatible command line)

rt turns an OCI bundle (a directory with config.json and a root filesystem)
into a running container. Its commands, flags, output and exit codes are
runc's, so engines and shims that drive runc can drive rt instead.

To run a container from a bundle:

    # rt run [ -b bundle ] <container-id>`

func main() {
	app := newApp()
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		fatal(err)
	}
}

func newApp() *cli.App {
	cli.VersionPrinter = printVersion
	return &cli.App{
		Name:                      "rt",
		Usage:                     usage,
		Version:                   version,
		DisableSliceFlagSeparator: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
			&cli.StringFlag{Name: "log", Usage: "set the log file to write rt logs to (default is '/dev/stderr')"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "set the log format ('text' (default), or 'json')"},
			&cli.StringFlag{Name: "root", Value: "/run/rt", Usage: "root directory for storage of container state (this should be located in tmpfs)"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "use the systemd cgroup driver; cgroupsPath must then be \"slice:prefix:name\" (fails clearly when systemd is not running)"},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "ignore cgroup permission errors ('true', 'false', or 'auto')"},
			&cli.StringFlag{Name: "seccomp-cache", EnvVars: []string{"RT_SECCOMP_CACHE"}, Usage: "directory of compiled seccomp filters, one per distinct profile: a container start loads its filter from there instead of compiling it; it must be rt's user's own and writable by nobody else (not in runc; ignored by an rt not built with runtime/patches; default: none)"},
			&cli.StringFlag{Name: "criu", Hidden: true, Usage: "accepted for runc compatibility; checkpoint/restore is not supported"},
		},
		Commands: []*cli.Command{
			createCommand,
			deleteCommand,
			eventsCommand,
			execCommand,
			featuresCommand,
			killCommand,
			listCommand,
			pauseCommand,
			psCommand,
			resumeCommand,
			runCommand,
			specCommand,
			startCommand,
			stateCommand,
			updateCommand,
		},
		Before: func(c *cli.Context) error {
			if c.IsSet("root") {
				root, err := filepath.Abs(c.String("root"))
				if err != nil {
					return err
				}
				if root == "/" {
					return errors.New("option --root argument should not be set to /")
				}
				if err := c.Set("root", root); err != nil {
					return err
				}
			}
			if dir := c.String("seccomp-cache"); dir != "" {
				// create and run work from the bundle directory
				abs, err := filepath.Abs(dir)
				if err != nil {
					return err
				}
				if err := c.Set("seccomp-cache", abs); err != nil {
					return err
				}
			}
			return configureLogging(c)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // errors reach fatal() in main
		Writer:         os.Stdout,
		ErrWriter:      os.Stderr,
	}
}

func printVersion(c *cli.Context) {
	w := c.App.Writer
	fmt.Fprintln(w, "rt version", c.App.Version)
	fmt.Fprintln(w, "spec:", specs.Version)
	fmt.Fprintln(w, "go:", runtime.Version())
	if major, minor, micro := seccomp.Version(); major+minor+micro > 0 {
		fmt.Fprintf(w, "libseccomp: %d.%d.%d\n", major, minor, micro)
	}
}

func configureLogging(c *cli.Context) error {
	if c.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	switch f := c.String("log-format"); f {
	case "", "text":
	case "json":
		logrus.SetFormatter(new(logrus.JSONFormatter))
	default:
		return fmt.Errorf("invalid log-format: %s", f)
	}
	if path := c.String("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return err
		}
		logrus.SetOutput(f)
	}
	return nil
}

// fatal reports err the way runc does: as a log entry (so a shim reading
// --log sees it) and, when the log is not stderr, also as a plain line on
// stderr. Then it exits 1.
func fatal(err error) { fatalWithCode(err, 1) }

func fatalWithCode(err error, code int) {
	var ec cli.ExitCoder
	if errors.As(err, &ec) && ec.ExitCode() != 1 {
		code = ec.ExitCode()
	}
	logrus.Error(err)
	if !logsToStderr() {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

func logsToStderr() bool {
	out, ok := logrus.StandardLogger().Out.(*os.File)
	return ok && out.Fd() == os.Stderr.Fd()
}
