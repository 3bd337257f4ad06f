package main

import (
	"fmt"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
)

var imageCommand = &cli.Command{
	Name:  "image",
	Usage: "manage images",
	Subcommands: []*cli.Command{
		{Name: "inspect", Usage: "display detailed information on one or more images", ArgsUsage: "IMAGE [IMAGE...]", Action: inspectImages},
		{Name: "ls", Aliases: []string{"list"}, Usage: imagesCommand.Usage, ArgsUsage: imagesCommand.ArgsUsage, Flags: imagesCommand.Flags, Action: imagesCommand.Action},
		{Name: "rm", Aliases: []string{"remove"}, Usage: rmiCommand.Usage, ArgsUsage: rmiCommand.ArgsUsage, Flags: rmiCommand.Flags, Action: removeImages},
		{Name: "prune", Usage: "remove unused images", Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused images, not just dangling ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
		}, Action: pruneImages},
		pullCommand, pushCommand, tagCommand, historyCommand, saveCommand, loadCommand, importCommand,
	},
}

func inspectImages(c *cli.Context) error {
	if err := needArgs(c, 1, -1); err != nil {
		return err
	}
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	var out []any
	for _, ref := range c.Args().Slice() {
		resp, err := e.Images.Inspect(c.Context, ref)
		if err != nil {
			return err
		}
		out = append(out, resp)
	}
	return printJSON(out)
}

func pruneImages(c *cli.Context) error {
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	deleted, freed, err := e.Images.Prune(c.Context, c.Bool("all"), e.Containers.ImageUser)
	if len(deleted) > 0 {
		fmt.Println("Deleted Images:")
		for _, d := range deleted {
			if d.Untagged != "" {
				fmt.Println("untagged:", d.Untagged)
			}
			if d.Deleted != "" {
				fmt.Println("deleted:", d.Deleted)
			}
		}
		fmt.Println()
	}
	fmt.Println("Total reclaimed space:", units.HumanSize(float64(freed)))
	return err
}
