package main

import (
	"github.com/urfave/cli/v2"
)

var pauseCommand = &cli.Command{
	Name:  "pause",
	Usage: "pause suspends all processes inside the container",
	ArgsUsage: `<container-id>

EXAMPLE:
       # rt pause web1`,
	Description: `The pause command suspends all processes in the container (cgroup freezer).`,
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		return ct.Pause()
	},
}

var resumeCommand = &cli.Command{
	Name:  "resume",
	Usage: "resumes all processes that have been previously paused",
	ArgsUsage: `<container-id>

EXAMPLE:
       # rt resume web1`,
	Description: `The resume command thaws all processes in a paused container.`,
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		return ct.Resume()
	},
}
