package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
)

var historyCommand = &cli.Command{
	Name:      "history",
	Usage:     "show the history of an image",
	ArgsUsage: "IMAGE",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, 1); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		items, err := e.Images.History(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
		if !c.Bool("quiet") {
			fmt.Fprintln(w, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
		}
		for _, h := range items {
			id := h.ID
			if !c.Bool("no-trunc") && len(id) > 19 {
				id = id[7:19]
			}
			if c.Bool("quiet") {
				fmt.Fprintln(w, id)
				continue
			}
			createdBy := h.CreatedBy
			if !c.Bool("no-trunc") && len(createdBy) > 45 {
				createdBy = createdBy[:44] + "…"
			}
			fmt.Fprintf(w, "%s\t%s ago\t%s\t%s\t%s\n", id, units.HumanDuration(time.Since(time.Unix(h.Created, 0))), createdBy, units.HumanSizeWithPrecision(float64(h.Size), 3), h.Comment)
		}
		return w.Flush()
	},
}
