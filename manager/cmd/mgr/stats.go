package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/container"
)

var statsCommand = &cli.Command{
	Name:      "stats",
	Usage:     "display a live stream of container(s) resource usage statistics",
	ArgsUsage: "[CONTAINER...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "no-stream", Usage: "disable streaming stats and only pull the first result"},
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate output"},
	},
	Action: func(c *cli.Context) error {
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		var ctrs []*container.Container
		if c.NArg() == 0 {
			list, err := e.Containers.List(c.Context)
			if err != nil {
				return err
			}
			for _, ctr := range list {
				if ctr.Running() || c.Bool("all") {
					ctrs = append(ctrs, ctr)
				}
			}
		} else {
			for _, ref := range c.Args().Slice() {
				ctr, err := e.Containers.Get(c.Context, ref)
				if err != nil {
					return err
				}
				ctrs = append(ctrs, ctr)
			}
		}
		prev := map[string]*container.Stats{}
		for first := true; ; first = false {
			if first {
				for _, ctr := range ctrs {
					st, err := e.Containers.Stats(c.Context, ctr, nil)
					if err != nil {
						return err
					}
					prev[ctr.ID] = st
				}
				time.Sleep(500 * time.Millisecond)
			}
			if !c.Bool("no-stream") {
				fmt.Print("\033[2J\033[H") // clear the screen, as docker does
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
			fmt.Fprintln(w, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
			for _, ctr := range ctrs {
				st, err := e.Containers.Stats(c.Context, ctr, prev[ctr.ID])
				if err != nil {
					return err
				}
				prev[ctr.ID] = st
				id := ctr.ID
				if !c.Bool("no-trunc") {
					id = id[:12]
				}
				fmt.Fprintf(w, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%s\t%s / %s\t%d\n", id, ctr.Name, st.CPUPercent,
					units.BytesSize(float64(st.MemUsage)), units.BytesSize(float64(st.MemLimit)), st.MemPercent,
					units.HumanSize(float64(st.NetRx))+" / "+units.HumanSize(float64(st.NetTx)), units.HumanSize(float64(st.BlockRead)), units.HumanSize(float64(st.BlockWrite)), st.Pids)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if c.Bool("no-stream") {
				return nil
			}
			select {
			case <-c.Context.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
	},
}
