package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "ps displays the processes running inside a container",
	ArgsUsage: `<container-id> [ps options]`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: `select one of: table or json (default: "table")`},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		pids, err := ct.Processes()
		if err != nil {
			return err
		}
		switch c.String("format") {
		case "table":
		case "json":
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(os.Stdout).Encode(pids)
		default:
			return errors.New("invalid format option")
		}
		args := c.Args().Slice()[1:]
		if len(args) == 0 {
			args = []string{"-ef"}
		}
		out, err := exec.Command("ps", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		lines := strings.Split(string(out), "\n")
		col := slices.Index(strings.Fields(lines[0]), "PID")
		if col < 0 {
			return errors.New("couldn't find PID field in ps output")
		}
		fmt.Println(lines[0])
		for _, line := range lines[1:] {
			fields := strings.Fields(line)
			if len(fields) <= col {
				continue
			}
			pid, err := strconv.Atoi(fields[col])
			if err != nil {
				return fmt.Errorf("unable to parse pid: %w", err)
			}
			if slices.Contains(pids, pid) {
				fmt.Println(line)
			}
		}
		return nil
	},
}
