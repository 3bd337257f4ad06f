package main

import (
	"github.com/urfave/cli/v2"
)

var pushCommand = &cli.Command{
	Name:      "push",
	Usage:     "upload an image to a registry",
	ArgsUsage: "NAME[:TAG]\n\nEXAMPLE:\n   mgr tag busybox 127.0.0.1:5000/team/busybox:1 && mgr push 127.0.0.1:5000/team/busybox:1",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress verbose output"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, 1); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		_, err = e.Images.Push(c.Context, c.Args().First(), e.Registries(), progressPrinter(c.Bool("quiet")))
		return err
	},
}
