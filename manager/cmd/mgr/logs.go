package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

var logsCommand = &cli.Command{
	Name:      "logs",
	Usage:     "fetch the logs of a container",
	ArgsUsage: "CONTAINER",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output"},
		&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of lines to show from the end of the logs"},
		&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show timestamps"},
		&cli.StringFlag{Name: "since", Usage: "show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, 1); err != nil {
			return err
		}
		opts := container.LogOptions{Follow: c.Bool("follow"), Tail: -1}
		if t := c.String("tail"); t != "all" {
			n, err := strconv.Atoi(t)
			if err != nil || n < 0 {
				return fmt.Errorf("invalid --tail %q: %w", t, errdefs.ErrInvalidArgument)
			}
			opts.Tail = n
		}
		if s := c.String("since"); s != "" {
			t, err := parseSince(s)
			if err != nil {
				return err
			}
			opts.Since = t
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		ctr, err := e.Containers.Get(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		ts := c.Bool("timestamps")
		return e.Containers.Logs(c.Context, ctr, opts, func(le container.LogEntry) error {
			out := os.Stdout
			if le.Stream == "stderr" {
				out = os.Stderr
			}
			if ts {
				fmt.Fprint(out, le.Time.UTC().Format(time.RFC3339Nano)+" ")
			}
			_, err := fmt.Fprint(out, le.Log)
			return err
		})
	},
}

func parseSince(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("invalid --since %q: %w", s, errdefs.ErrInvalidArgument)
}
