package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

var saveCommand = &cli.Command{
	Name:      "save",
	Usage:     "save one or more images to a tar archive (streamed to STDOUT by default)",
	ArgsUsage: "IMAGE [IMAGE...]\n\nThe archive is both a docker-archive (docker load) and an OCI image layout.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file, instead of STDOUT"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, -1); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		out := c.String("output")
		if out == "" {
			if term.IsTerminal(int(os.Stdout.Fd())) {
				return errors.New("refusing to write an archive to a terminal: use -o FILE or redirect")
			}
			return e.Images.Save(c.Context, os.Stdout, c.Args().Slice())
		}
		// Write beside the target and rename, so a failed save never
		// leaves a truncated archive under the name asked for.
		tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		defer os.Remove(tmp.Name())
		err = e.Images.Save(c.Context, tmp, c.Args().Slice())
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), out)
	},
}

var loadCommand = &cli.Command{
	Name:      "load",
	Usage:     "load an image from a tar archive or STDIN (docker save output or an OCI image layout)",
	ArgsUsage: " ",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read from tar archive file, instead of STDIN"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the load output"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 0, 0); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		var in io.Reader = os.Stdin
		if p := c.String("input"); p != "" {
			f, err := os.Open(p)
			if err != nil {
				return fmt.Errorf("load: %w", err)
			}
			defer f.Close()
			in = f
		} else if term.IsTerminal(int(os.Stdin.Fd())) {
			return errors.New("requested load from stdin, but stdin is empty: use -i FILE or redirect")
		}
		names, err := e.Images.Load(c.Context, in)
		if err != nil {
			return err
		}
		for _, n := range names {
			if len(n) > 7 && n[:7] == "sha256:" {
				fmt.Println("Loaded image ID:", n)
			} else {
				fmt.Println("Loaded image:", n)
			}
		}
		return nil
	},
}
