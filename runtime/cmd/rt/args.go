package main

import (
	"fmt"
	"strings"

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

// reorderArgs moves a command's flags in front of its positional arguments,
// so "rt delete web1 --force" works as it does with runc, whose CLI
// library reordered arguments. exec and ps are left alone: what follows
// their container id is the command line to run, flags included.
func reorderArgs(app *cli.App, args []string) []string {
	i := commandIndex(app, args)
	if i < 0 {
		return args
	}
	cmd := app.Command(args[i])
	if cmd.Name == "exec" || cmd.Name == "ps" {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			positional = append(positional, rest[j:]...)
			j = len(rest)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if _, _, hasValue := strings.Cut(name, "="); !hasValue && takesValue[name] && j+1 < len(rest) {
				j++
				flags = append(flags, rest[j])
			}
		default:
			positional = append(positional, a)
		}
	}
	out := append([]string{}, args[:i+1]...)
	out = append(out, flags...)
	return append(out, positional...)
}

// commandIndex finds the verb in args, skipping global flags and their values.
func commandIndex(app *cli.App, args []string) int {
	takesValue := map[string]bool{}
	for _, f := range app.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	for j := 1; j < len(args); j++ {
		a := args[j]
		if len(a) > 1 && a[0] == '-' {
			name := strings.TrimLeft(a, "-")
			if _, _, hasValue := strings.Cut(name, "="); !hasValue && takesValue[name] {
				j++
			}
			continue
		}
		if app.Command(a) != nil {
			return j
		}
		return -1
	}
	return -1
}
