package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/internal/libct"
)

// Argument-count checks, worded as runc's so scripts matching them still work.
func exactArgs(c *cli.Context, n int) error {
	if c.NArg() != n {
		return usageError(c, fmt.Errorf("rt: %q requires exactly %d argument(s)", c.Command.Name, n))
	}
	return nil
}

func minArgs(c *cli.Context, n int) error {
	if c.NArg() < n {
		return usageError(c, fmt.Errorf("rt: %q requires a minimum of %d argument(s)", c.Command.Name, n))
	}
	return nil
}

func maxArgs(c *cli.Context, n int) error {
	if c.NArg() > n {
		return usageError(c, fmt.Errorf("rt: %q requires a maximum of %d argument(s)", c.Command.Name, n))
	}
	return nil
}

func usageError(c *cli.Context, err error) error {
	fmt.Fprintf(c.App.Writer, "Incorrect Usage.\n\n")
	_ = cli.ShowSubcommandHelp(c)
	return err
}

// loadContainer opens the container named by the first argument.
func loadContainer(c *cli.Context) (*libct.Container, error) {
	return libct.Load(c.String("root"), c.Args().First())
}
