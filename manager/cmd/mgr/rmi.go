package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

var rmiCommand = &cli.Command{
	Name:      "rmi",
	Usage:     "remove one or more images",
	ArgsUsage: "IMAGE [IMAGE...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force removal of the image"},
	},
	Action: removeImages,
}

func removeImages(c *cli.Context) error {
	if err := needArgs(c, 1, -1); err != nil {
		return err
	}
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range c.Args().Slice() {
		out, err := e.Images.Remove(c.Context, ref, c.Bool("force"), e.Containers.ImageUser)
		for _, r := range out {
			if r.Untagged != "" {
				fmt.Println("Untagged:", r.Untagged)
			}
			if r.Deleted != "" {
				fmt.Println("Deleted:", r.Deleted)
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
