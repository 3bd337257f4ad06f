package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/berthrun/berth/manager/internal/image"
)

var pullCommand = &cli.Command{
	Name:      "pull",
	Usage:     "download an image from a registry",
	ArgsUsage: "NAME[:TAG|@DIGEST]\n\nEXAMPLE:\n   mgr pull 127.0.0.1:5000/team/app:1.2",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress verbose output"},
		&cli.StringFlag{Name: "platform", Usage: "accepted for docker compatibility; only this host's platform (linux/" + hostArch() + ") is pulled"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, 1); err != nil {
			return err
		}
		if p := c.String("platform"); p != "" && p != "linux/"+hostArch() {
			return fmt.Errorf("--platform %s: only linux/%s can run here", p, hostArch())
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		ref := c.Args().First()
		named, err := image.Normalize(ref)
		if err != nil {
			return err
		}
		quiet := c.Bool("quiet")
		if !quiet && !strings.ContainsAny(lastPathElem(ref), ":@") {
			fmt.Println("Using default tag: latest")
		}
		before, _ := e.Images.Get(c.Context, ref)
		after, err := e.Images.Pull(c.Context, ref, e.Registries(), progressPrinter(quiet))
		if err != nil {
			return err
		}
		if !quiet {
			fmt.Println(image.PullStatus(before, after, image.Familiar(named.String())))
		}
		fmt.Println(image.Familiar(named.String()))
		return nil
	},
}

// progressPrinter prints docker's plain progress lines ("id: status").
func progressPrinter(quiet bool) image.Progress {
	if quiet {
		return func(string, string) {}
	}
	return progressTo(os.Stdout)
}

// progressTo prints docker's progress: on a terminal, one line per layer
// redrawn in place (with a download bar); otherwise plain lines, without
// the byte counts.
func progressTo(w io.Writer) image.Progress {
	var mu sync.Mutex
	f, isFile := w.(*os.File)
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return func(id, status string) {
			if strings.HasPrefix(status, image.Downloading) {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if id == "" {
				fmt.Fprintln(w, status)
				return
			}
			fmt.Fprintf(w, "%s: %s\n", id, status)
		}
	}
	var order []string // layer lines, top to bottom
	return func(id, status string) {
		mu.Lock()
		defer mu.Unlock()
		if id == "" {
			fmt.Fprintln(w, status)
			order = nil // lines above are final
			return
		}
		i := slices.Index(order, id)
		if i < 0 {
			order = append(order, id)
			fmt.Fprintf(w, "%s: %s\n", id, status)
			return
		}
		up := len(order) - i
		// Up to the layer's line, clear it, write, back down.
		fmt.Fprintf(w, "\x1b[%dA\r\x1b[2K%s: %s\r\x1b[%dB", up, id, status, up)
	}
}

func lastPathElem(ref string) string {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		return ref[i+1:]
	}
	return ref
}
