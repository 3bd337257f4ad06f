package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

var psCommand = &cli.Command{
	Name:  "ps",
	Usage: "list containers",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display container IDs"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
		&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output: status=, name=, label=KEY[=VALUE], id=, ancestor="},
		&cli.StringFlag{Name: "format", Usage: "format output using a Go template, e.g. '{{.ID}} {{.Names}} {{.Status}}'"},
		&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "show the latest created container"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 0, 0); err != nil {
			return err
		}
		filters, err := parseFilters(c.StringSlice("filter"))
		if err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		list, err := e.Containers.List(c.Context)
		if err != nil {
			return err
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Created.After(list[j].Created) })
		var rows []psRow
		for _, ctr := range list {
			if !c.Bool("all") && !ctr.Running() && len(filters["status"]) == 0 {
				continue
			}
			if !filters.match(ctr) {
				continue
			}
			rows = append(rows, newPSRow(ctr, c.Bool("no-trunc")))
			if c.Bool("latest") {
				break
			}
		}
		return printPS(rows, c)
	},
}

// psRow has docker's template field names.
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Status, State, Ports, Names, Size, Mounts, Networks string
	Labels                                                                                         string
	labels                                                                                         map[string]string
}

// Label returns one label's value, for {{.Label "key"}}.
func (r psRow) Label(k string) string { return r.labels[k] }

func newPSRow(ctr *container.Container, noTrunc bool) psRow {
	id := ctr.ID
	cmd := strings.Join(append(append([]string{}, ctr.Config.Entrypoint...), ctr.Config.Cmd...), " ")
	if !noTrunc {
		id = id[:12]
		cmd = strconv.Quote(truncate(cmd, 20))
	} else {
		cmd = strconv.Quote(cmd)
	}
	var labels []string
	for k, v := range ctr.Config.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	return psRow{
		ID: id, Image: ctr.Config.ImageRef, Command: cmd,
		CreatedAt:  ctr.Created.Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: units.HumanDuration(time.Since(ctr.Created)) + " ago",
		Status:     container.StatusLine(ctr), State: ctr.State.Status,
		Names: ctr.Name, Networks: ctr.Config.NetworkMode,
		Labels: strings.Join(labels, ","), labels: ctr.Config.Labels,
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func printPS(rows []psRow, c *cli.Context) error {
	if c.Bool("quiet") {
		for _, r := range rows {
			fmt.Println(r.ID)
		}
		return nil
	}
	if f := c.String("format"); f != "" {
		f = strings.TrimPrefix(f, "table ")
		tmpl, err := template.New("format").Parse(f)
		if err != nil {
			return fmt.Errorf("--format: %w: %w", err, errdefs.ErrInvalidArgument)
		}
		for _, r := range rows {
			if err := tmpl.Execute(os.Stdout, r); err != nil {
				return err
			}
			fmt.Println()
		}
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names)
	}
	return w.Flush()
}

// psFilters are docker's --filter key=value pairs, ORed within a key and
// ANDed across keys.
type psFilters map[string][]string

func parseFilters(in []string) (psFilters, error) {
	f := psFilters{}
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		switch k {
		case "status", "name", "label", "id", "ancestor":
		default:
			return nil, fmt.Errorf("invalid filter %q: %w", kv, errdefs.ErrInvalidArgument)
		}
		if !ok {
			return nil, fmt.Errorf("invalid filter %q: want KEY=VALUE: %w", kv, errdefs.ErrInvalidArgument)
		}
		f[k] = append(f[k], v)
	}
	return f, nil
}

func (f psFilters) match(ctr *container.Container) bool {
	any := func(key string, pred func(string) bool) bool {
		vals := f[key]
		if len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			if pred(v) {
				return true
			}
		}
		return false
	}
	return any("status", func(v string) bool { return ctr.State.Status == v }) &&
		any("name", func(v string) bool { return strings.Contains(ctr.Name, strings.TrimPrefix(v, "/")) }) &&
		any("id", func(v string) bool { return strings.HasPrefix(ctr.ID, v) }) &&
		any("ancestor", func(v string) bool {
			return ctr.Config.ImageRef == v || strings.HasPrefix(ctr.Config.Image.Encoded(), v)
		}) &&
		any("label", func(v string) bool {
			k, val, hasVal := strings.Cut(v, "=")
			got, ok := ctr.Config.Labels[k]
			return ok && (!hasVal || got == val)
		})
}
