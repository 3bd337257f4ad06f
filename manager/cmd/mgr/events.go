package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/template"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/events"
)

var eventsCommand = &cli.Command{
	Name:  "events",
	Usage: "show what happens to containers, images, networks and volumes (from the data root's journal, daemon or not)",
	ArgsUsage: "\n\nEXAMPLES:\n   mgr events                                  (new events until ^C)\n" +
		"   mgr events --since 10m --until 0s --filter type=container --filter event=die\n" +
		"   mgr events --format '{{json .}}'",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "since", Usage: "show events since a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)"},
		&cli.StringFlag{Name: "until", Usage: "stream events until a timestamp or relative time (0s: now); without it, follow"},
		&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output (type=, event=, container=, image=, network=, volume=, label=)"},
		&cli.StringFlag{Name: "format", Usage: "format output using a Go template ('{{json .}}' for JSON lines)"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 0, 0); err != nil {
			return err
		}
		filters := map[string][]string{}
		for _, f := range c.StringSlice("filter") {
			k, v, ok := strings.Cut(f, "=")
			if !ok || k == "" {
				return fmt.Errorf("invalid filter %q (want KEY=VALUE): %w", f, errdefs.ErrInvalidArgument)
			}
			filters[k] = append(filters[k], v)
		}
		match, err := events.Match(filters)
		if err != nil {
			return fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
		}
		sel := events.Filter{Since: time.Now(), Match: match}
		if v := c.String("since"); v != "" {
			if sel.Since, err = parseSince(v); err != nil {
				return err
			}
		}
		if v := c.String("until"); v != "" {
			if sel.Until, err = parseSince(v); err != nil {
				return err
			}
		}
		print, err := eventPrinter(c.String("format"))
		if err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		out := bufio.NewWriter(os.Stdout)
		defer out.Flush()
		follow := sel.Until.IsZero() || sel.Until.After(time.Now())
		// c.Context ends on SIGINT/SIGTERM (main): following stops cleanly.
		return e.Events.Read(c.Context, sel, follow, func(m eventtypes.Message) error {
			if err := print(out, m); err != nil {
				return err
			}
			return out.Flush()
		})
	},
}

// eventPrinter prints an event as docker's CLI does by default
// ("TIME TYPE ACTION ID (k=v, ...)"), or with a template.
func eventPrinter(format string) (func(*bufio.Writer, eventtypes.Message) error, error) {
	if format == "" {
		return func(w *bufio.Writer, m eventtypes.Message) error {
			keys := make([]string, 0, len(m.Actor.Attributes))
			for k := range m.Actor.Attributes {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			attrs := make([]string, len(keys))
			for i, k := range keys {
				attrs[i] = k + "=" + m.Actor.Attributes[k]
			}
			_, err := fmt.Fprintf(w, "%s %s %s %s (%s)\n", time.Unix(0, m.TimeNano).Format(time.RFC3339Nano), m.Type, m.Action, m.Actor.ID, strings.Join(attrs, ", "))
			return err
		}, nil
	}
	tmpl, err := template.New("format").Funcs(template.FuncMap{"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	}}).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("invalid --format: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	return func(w *bufio.Writer, m eventtypes.Message) error {
		if err := tmpl.Execute(w, m); err != nil {
			return err
		}
		return w.WriteByte('\n')
	}, nil
}
