package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/internal/libct"
)

var listCommand = &cli.Command{
	Name:  "list",
	Usage: "lists containers started by rt with the given root",
	ArgsUsage: `

EXAMPLE:
       # rt --root /run/rt list --format json`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "select one of: table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "display only container IDs"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 0); err != nil {
			return err
		}
		states, err := listContainers(c)
		if err != nil {
			return err
		}
		if c.Bool("quiet") {
			for _, s := range states {
				fmt.Println(s.ID)
			}
			return nil
		}
		switch c.String("format") {
		case "table":
			w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.InitProcessPid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return w.Flush()
		case "json":
			if states == nil {
				states = []containerState{} // "[]" rather than "null", like runc's tools expect
			}
			return json.NewEncoder(os.Stdout).Encode(states)
		default:
			return errors.New("invalid format option")
		}
	},
}

// listContainers loads every container under --root. One broken entry is
// reported and skipped rather than hiding the others.
func listContainers(c *cli.Context) ([]containerState, error) {
	root := c.String("root")
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !c.IsSet("root") {
			return nil, nil
		}
		return nil, err
	}
	var states []containerState
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed while we listed
		}
		ct, err := libct.Load(root, e.Name())
		if err != nil {
			fmt.Fprintf(os.Stderr, "load container %s: %v\n", e.Name(), err)
			continue
		}
		s, err := stateOf(ct)
		if err != nil {
			fmt.Fprintf(os.Stderr, "state of %s: %v\n", e.Name(), err)
			continue
		}
		s.Owner = ownerName(info.Sys().(*syscall.Stat_t).Uid)
		states = append(states, *s)
	}
	return states, nil
}

func ownerName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return "#" + id
}
