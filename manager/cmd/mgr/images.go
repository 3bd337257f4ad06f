package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/image"
)

var imagesCommand = &cli.Command{
	Name:      "images",
	Usage:     "list images",
	ArgsUsage: "[REPOSITORY[:TAG]]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
		&cli.BoolFlag{Name: "digests", Usage: "show digests"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all images (default hides a build's intermediate images)"},
		&cli.StringFlag{Name: "format", Usage: "format output using a Go template, e.g. '{{.Repository}}:{{.Tag}} {{.ID}}'"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 0, 1); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		list, err := e.Images.List(c.Context)
		if err != nil {
			return err
		}
		if !c.Bool("all") {
			list = withoutIntermediate(list)
		}
		rows := imageRows(list, c.Args().First(), c.Bool("no-trunc"))
		return printImageRows(rows, c)
	},
}

// imageRow is one line of `images`; the field names are docker's template names.
type imageRow struct {
	Repository, Tag, ID, Digest, CreatedSince, CreatedAt, Size string
}

func imageRows(list []*image.Image, filter string, noTrunc bool) []imageRow {
	var rows []imageRow
	for _, img := range list {
		id := img.ID.String()
		if !noTrunc {
			id = img.ID.Encoded()[:12]
		}
		base := imageRow{
			ID:           id,
			Digest:       "<none>",
			CreatedSince: units.HumanDuration(time.Since(img.Created)) + " ago",
			CreatedAt:    img.Created.Format("2006-01-02 15:04:05 -0700 MST"),
			Size:         units.HumanSizeWithPrecision(float64(img.Size), 3),
		}
		if len(img.RepoDigests) > 0 {
			_, base.Digest, _ = strings.Cut(img.RepoDigests[0], "@")
		}
		if len(img.Names) == 0 {
			r := base
			r.Repository, r.Tag = "<none>", "<none>"
			if filter == "" {
				rows = append(rows, r)
			}
			continue
		}
		for _, n := range img.Names {
			r := base
			r.Repository, r.Tag = image.SplitFamiliar(n)
			if filter != "" && filter != r.Repository && filter != r.Repository+":"+r.Tag {
				continue
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func printImageRows(rows []imageRow, c *cli.Context) error {
	if c.Bool("quiet") {
		seen := map[string]bool{}
		for _, r := range rows {
			if !seen[r.ID] {
				seen[r.ID] = true
				fmt.Println(r.ID)
			}
		}
		return nil
	}
	if f := c.String("format"); f != "" {
		tmpl, err := template.New("format").Parse(f)
		if err != nil {
			return fmt.Errorf("--format: %w", err)
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
	if c.Bool("digests") {
		fmt.Fprintln(w, "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE")
	} else {
		fmt.Fprintln(w, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	}
	for _, r := range rows {
		if c.Bool("digests") {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Repository, r.Tag, r.Digest, r.ID, r.CreatedSince, r.Size)
		} else {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size)
		}
	}
	return w.Flush()
}

// withoutIntermediate hides unnamed images that other images were built
// from: a build's intermediate steps, as `docker images` hides them.
func withoutIntermediate(list []*image.Image) []*image.Image {
	parents := map[string]bool{}
	for _, img := range list {
		if img.Parent != "" {
			parents[img.Parent.String()] = true
		}
	}
	out := list[:0:0]
	for _, img := range list {
		if len(img.Names) == 0 && parents[img.ID.String()] {
			continue
		}
		out = append(out, img)
	}
	return out
}
