package main

import (
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/internal/launch"
)

var createCommand = &cli.Command{
	Name:  "create",
	Usage: "create a container",
	ArgsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

EXAMPLE:
       # rt create --bundle /srv/bundles/busybox web1 && rt start web1`,
	Description: `The create command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem. The container's process is set up and blocked until "rt start".`,
	Flags: bundleFlags(),
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		status, err := startContainer(c, launch.Create)
		if err == nil {
			// Engines read create's exit code; any non-zero status is an error.
			if status != 0 {
				return cli.Exit("", status)
			}
		}
		return err
	},
}
