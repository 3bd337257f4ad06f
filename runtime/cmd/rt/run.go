package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/internal/launch"
)

var runCommand = &cli.Command{
	Name:  "run",
	Usage: "create and run a container",
	ArgsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

EXAMPLE:
       # rt run --bundle /srv/bundles/busybox demo`,
	Description: `The run command creates an instance of a container for a bundle and starts it.
In the foreground rt forwards signals to the container and exits with its exit
status; with --detach it returns once the container runs.`,
	Flags: append(bundleFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "disable the use of the subreaper used to reap reparented processes"},
	),
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		status, err := startContainer(c, launch.Run)
		if err != nil {
			return err
		}
		// The container's status is rt's; runc exits with it directly.
		os.Exit(status)
		return nil
	},
}
