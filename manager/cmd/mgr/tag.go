package main

import "github.com/urfave/cli/v2"

var tagCommand = &cli.Command{
	Name:      "tag",
	Usage:     "create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
	ArgsUsage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 2, 2); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		return e.Images.Tag(c.Context, c.Args().Get(0), c.Args().Get(1))
	},
}
