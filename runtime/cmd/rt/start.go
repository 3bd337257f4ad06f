package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/internal/libct"
)

var startCommand = &cli.Command{
	Name:  "start",
	Usage: "executes the user defined process in a created container",
	ArgsUsage: `<container-id>

EXAMPLE:
       # rt start web1`,
	Description: `The start command lets the process of a created container run.`,
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		status, err := ct.Status()
		if err != nil {
			return err
		}
		switch status {
		case libct.Created:
			return ct.Exec()
		case libct.Stopped:
			return errors.New("cannot start a container that has stopped")
		case libct.Running:
			return errors.New("cannot start an already running container")
		default:
			return fmt.Errorf("cannot start a container in the %s state", status)
		}
	},
}
