package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

var volumeCommand = &cli.Command{
	Name:  "volume",
	Usage: "manage volumes",
	Subcommands: []*cli.Command{
		{
			Name: "create", Usage: "create a volume", ArgsUsage: "[VOLUME]",
			Flags: []cli.Flag{&cli.StringSliceFlag{Name: "label", Usage: "set metadata for a volume"}},
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 0, 1); err != nil {
					return err
				}
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				labels := map[string]string{}
				for _, l := range c.StringSlice("label") {
					k, v, _ := strings.Cut(l, "=")
					labels[k] = v
				}
				v, err := e.Volumes.Create(c.Context, c.Args().First(), labels, false)
				if err != nil {
					return err
				}
				fmt.Println(v.Name)
				return nil
			},
		},
		{
			Name: "ls", Aliases: []string{"list"}, Usage: "list volumes",
			Flags: []cli.Flag{&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display volume names"}},
			Action: func(c *cli.Context) error {
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				vols, err := e.Volumes.List(c.Context)
				if err != nil {
					return err
				}
				sort.Slice(vols, func(i, j int) bool { return vols[i].Name < vols[j].Name })
				w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
				if !c.Bool("quiet") {
					fmt.Fprintln(w, "DRIVER\tVOLUME NAME")
				}
				for _, v := range vols {
					if c.Bool("quiet") {
						fmt.Fprintln(w, v.Name)
					} else {
						fmt.Fprintf(w, "local\t%s\n", v.Name)
					}
				}
				return w.Flush()
			},
		},
		{
			Name: "inspect", Usage: "display detailed information on one or more volumes", ArgsUsage: "VOLUME [VOLUME...]",
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 1, -1); err != nil {
					return err
				}
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				var out []any
				for _, name := range c.Args().Slice() {
					v, err := e.Volumes.Get(c.Context, name)
					if err != nil {
						return err
					}
					out = append(out, map[string]any{
						"Name": v.Name, "Driver": "local", "Mountpoint": v.Mountpoint, "Scope": "local",
						"CreatedAt": v.Created.Format(time.RFC3339), "Labels": v.Labels,
						"UsageData": map[string]int64{"Size": e.Volumes.Size(v.Name)},
					})
				}
				return printJSON(out)
			},
		},
		{
			Name: "rm", Aliases: []string{"remove"}, Usage: "remove one or more volumes (refused while a container uses one)", ArgsUsage: "VOLUME [VOLUME...]",
			Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not fail on a missing volume"}},
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 1, -1); err != nil {
					return err
				}
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				var errs []error
				for _, name := range c.Args().Slice() {
					err := e.Containers.RemoveVolume(c.Context, name)
					if err != nil && !(c.Bool("force") && errdefs.IsNotFound(err)) {
						errs = append(errs, err)
						continue
					}
					fmt.Println(name)
				}
				return errors.Join(errs...)
			},
		},
		{
			Name: "prune", Usage: "remove unused anonymous volumes (all unused with --all)",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused volumes, not just anonymous ones"},
				&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			},
			Action: func(c *cli.Context) error {
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				names, freed, err := e.Containers.PruneVolumes(c.Context, c.Bool("all"))
				fmt.Println("Deleted Volumes:")
				for _, n := range names {
					fmt.Println(n)
				}
				fmt.Println()
				fmt.Println("Total reclaimed space:", units.HumanSize(float64(freed)))
				return err
			},
		},
	},
}
