package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/internal/libct"
)

var specCommand = &cli.Command{
	Name:  "spec",
	Usage: "create a new specification file",
	ArgsUsage: `

EXAMPLE:
       # mkdir -p bundle/rootfs && tar -C bundle/rootfs -xf busybox.tar
       # cd bundle && rt spec && rt run demo`,
	Description: `The spec command writes a default config.json (the same as runc's) into the
bundle directory: a shell on a terminal, with the usual namespaces, mounts,
capabilities, masked and read-only paths. Edit it to suit.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the root of the bundle directory"},
		&cli.BoolFlag{Name: "rootless", Usage: "generate a configuration for a rootless container"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 0); err != nil {
			return err
		}
		spec := specconv.Example()
		if c.Bool("rootless") {
			specconv.ToRootless(spec)
		}
		if b := c.String("bundle"); b != "" {
			if err := os.Chdir(b); err != nil {
				return err
			}
		}
		if _, err := os.Stat(libct.SpecFile); err == nil {
			return fmt.Errorf("file %s exists, remove it first", libct.SpecFile)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		data, err := json.MarshalIndent(spec, "", "\t")
		if err != nil {
			return err
		}
		return os.WriteFile(libct.SpecFile, data, 0o666)
	},
}
