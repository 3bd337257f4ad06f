package main

import (
	"github.com/urfave/cli/v2"
)

var topCommand = &cli.Command{
	Name:      "top",
	Usage:     "display the running processes of a container",
	ArgsUsage: "CONTAINER [ps OPTIONS]",
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, -1); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		ctr, err := e.Containers.Get(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		out, err := e.Containers.Top(c.Context, ctr, c.Args().Slice()[1:])
		if err != nil {
			return err
		}
		_, err = c.App.Writer.Write(out)
		return err
	},
}
