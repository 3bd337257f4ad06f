package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"
)

var importCommand = &cli.Command{
	Name:      "import",
	Usage:     "import the contents from a tarball to create a filesystem image",
	ArgsUsage: "FILE|- [REPOSITORY[:TAG]]",
	Flags: []cli.Flag{
		&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "apply a Dockerfile instruction to the image: CMD, ENTRYPOINT (JSON form), ENV K=V, WORKDIR, USER"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, 2); err != nil {
			return err
		}
		cfg, err := parseChanges(c.StringSlice("change"))
		if err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		var in io.Reader = os.Stdin
		if p := c.Args().First(); p != "-" {
			f, err := os.Open(p)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			defer f.Close()
			in = f
		}
		img, err := e.Images.Import(c.Context, in, c.Args().Get(1), cfg)
		if err != nil {
			return err
		}
		fmt.Println(img.ID)
		return nil
	},
}

// parseChanges reads the few Dockerfile instructions `import --change` takes.
func parseChanges(changes []string) (ocispec.ImageConfig, error) {
	var cfg ocispec.ImageConfig
	for _, ch := range changes {
		instr, arg, _ := strings.Cut(strings.TrimSpace(ch), " ")
		arg = strings.TrimSpace(arg)
		switch strings.ToUpper(instr) {
		case "CMD":
			cfg.Cmd = execForm(arg)
		case "ENTRYPOINT":
			cfg.Entrypoint = execForm(arg)
		case "ENV":
			cfg.Env = append(cfg.Env, arg)
		case "WORKDIR":
			cfg.WorkingDir = arg
		case "USER":
			cfg.User = arg
		default:
			return cfg, fmt.Errorf("--change %q: only CMD, ENTRYPOINT, ENV, WORKDIR and USER are supported", ch)
		}
	}
	return cfg, nil
}

// execForm accepts ["a","b"] or a shell string (run with /bin/sh -c).
func execForm(arg string) []string {
	if strings.HasPrefix(arg, "[") {
		var out []string
		if err := jsonUnmarshal(arg, &out); err == nil {
			return out
		}
	}
	return []string{"/bin/sh", "-c", arg}
}
