package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/opencontainers/runc/types"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/internal/libct"
)

var eventsCommand = &cli.Command{
	Name:  "events",
	Usage: "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
	ArgsUsage: `<container-id>

EXAMPLE:
       # rt events --stats web1`,
	Description: `The events command prints one JSON object per line: "stats" every --interval
and "oom" when the kernel OOM-kills a process in the container. With --stats it
prints one stats event and exits.`,
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "set the stats collection interval"},
		&cli.BoolFlag{Name: "stats", Usage: "display the container's stats then exit"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		interval := c.Duration("interval")
		if interval <= 0 {
			return errors.New("duration interval must be greater than 0")
		}
		status, err := ct.Status()
		if err != nil {
			return err
		}
		if status == libct.Stopped {
			return fmt.Errorf("container with id %s is not running", ct.ID())
		}
		enc := json.NewEncoder(os.Stdout)
		if c.Bool("stats") {
			s, err := libct.Stats(ct)
			if err != nil {
				return err
			}
			return enc.Encode(&types.Event{Type: "stats", ID: ct.ID(), Data: s})
		}
		oom, err := ct.NotifyOOM()
		if err != nil {
			return err
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case _, ok := <-oom:
				if !ok {
					// The channel closes when the container's cgroup goes away.
					return nil
				}
				if err := enc.Encode(&types.Event{Type: "oom", ID: ct.ID()}); err != nil {
					return err
				}
			case <-tick.C:
				s, err := libct.Stats(ct)
				if err != nil {
					logrus.Error(err)
					continue
				}
				if err := enc.Encode(&types.Event{Type: "stats", ID: ct.ID(), Data: s}); err != nil {
					return err
				}
			}
		}
	},
}
