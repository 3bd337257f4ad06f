package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

var inspectCommand = &cli.Command{
	Name:      "inspect",
	Usage:     "return low-level information on containers or images",
	ArgsUsage: "NAME|ID [NAME|ID...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "type", Usage: "only inspect objects of the given type: container or image"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, -1); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		var out []any
		var errs []error
		for _, ref := range c.Args().Slice() {
			if c.String("type") != "image" {
				if ctr, err := e.Containers.Get(c.Context, ref); err == nil {
					resp, err := e.Containers.Inspect(c.Context, ctr)
					if err != nil {
						return err
					}
					out = append(out, resp)
					continue
				} else if !errdefs.IsNotFound(err) {
					return err
				}
			}
			if c.String("type") != "container" {
				if resp, err := e.Images.Inspect(c.Context, ref); err == nil {
					out = append(out, resp)
					continue
				} else if !errdefs.IsNotFound(err) {
					return err
				}
			}
			errs = append(errs, errors.New("no such object: "+ref))
		}
		if out == nil {
			out = []any{}
		}
		if err := printJSON(out); err != nil {
			return err
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		return nil
	},
}
