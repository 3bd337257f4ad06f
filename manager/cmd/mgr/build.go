package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/build"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/image"
)

// exitBuildFailed is docker build's status for any failed build.
const exitBuildFailed = 1

var buildCommand = &cli.Command{
	Name:      "build",
	Usage:     "build an image from a Dockerfile (docker's classic builder)",
	ArgsUsage: "PATH\n\nEXAMPLES:\n   mgr build -t app:1 .\n   mgr build -f ci/Dockerfile --build-arg VERSION=2 --target test .",
	Flags: []cli.Flag{
		&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "name and optionally a tag (name:tag)"},
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "name of the Dockerfile (default: PATH/Dockerfile)"},
		&cli.StringSliceFlag{Name: "build-arg", Usage: "set a build-time variable (KEY=VALUE)"},
		&cli.StringFlag{Name: "target", Usage: "set the target build stage to build"},
		&cli.BoolFlag{Name: "no-cache", Usage: "do not use cache when building the image"},
		&cli.BoolFlag{Name: "pull", Usage: "always pull the base images (without it, only missing ones, unless MGR_PULL=never)"},
		&cli.StringFlag{Name: "network", Value: "default", Usage: "network for the RUN steps: default (the default bridge network), none, host or a network's name"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the build output and print image ID on success"},
		&cli.StringSliceFlag{Name: "label", Usage: "set metadata for an image (KEY=VALUE)"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, 1); err != nil {
			return cli.Exit(err.Error(), exitBuildFailed)
		}
		args, labels, err := buildKeyValues(c)
		if err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		b := build.New(e.Images, e.Containers, filepath.Join(e.Root, "build-cache"), filepath.Join(e.RunRoot, "build"))
		var pull func(context.Context, string) (*image.Image, error)
		if c.Bool("pull") || os.Getenv("MGR_PULL") != "never" {
			pull = func(ctx context.Context, ref string) (*image.Image, error) {
				return e.Images.Pull(ctx, ref, e.Registries(), progressPrinter(c.Bool("quiet")))
			}
		}
		img, err := b.Build(c.Context, build.Options{
			Pull:       pull,
			ContextDir: c.Args().First(),
			Dockerfile: c.String("file"),
			Tags:       c.StringSlice("tag"),
			BuildArgs:  args,
			Target:     c.String("target"),
			NoCache:    c.Bool("no-cache"),
			Network:    buildNetwork(c.String("network")),
			PullAlways: c.Bool("pull"),
			Labels:     labels,
			Quiet:      c.Bool("quiet"),
			Out:        os.Stdout,
			Stderr:     os.Stderr,
		})
		if err != nil {
			return cli.Exit(err.Error(), exitBuildFailed)
		}
		if c.Bool("quiet") {
			fmt.Println(img.ID)
		}
		return nil
	},
}

// buildKeyValues parses --build-arg and --label, failing as docker build
// fails (status 1).
func buildKeyValues(c *cli.Context) (args, labels map[string]string, err error) {
	if args, err = keyValues(c.StringSlice("build-arg"), true); err != nil {
		return nil, nil, cli.Exit(err.Error(), exitBuildFailed)
	}
	if labels, err = keyValues(c.StringSlice("label"), false); err != nil {
		return nil, nil, cli.Exit(err.Error(), exitBuildFailed)
	}
	return args, labels, nil
}

// keyValues parses KEY=VALUE flags; with fromEnv a bare KEY takes its
// value from mgr's environment, as docker's --build-arg does.
func keyValues(list []string, fromEnv bool) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid KEY=VALUE %q: %w", kv, errdefs.ErrInvalidArgument)
		}
		if !ok {
			if !fromEnv {
				v = ""
			} else if ev, set := os.LookupEnv(k); set {
				v = ev
			} else {
				continue
			}
		}
		out[k] = v
	}
	return out, nil
}

// buildNetwork maps docker build's --network values to a container's
// network mode: "default" is the default network.
func buildNetwork(v string) string {
	if v == "default" {
		return ""
	}
	return v
}
