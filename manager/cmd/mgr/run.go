package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/detachkeys"
	"github.com/berthrun/berth/manager/internal/engine"
	"github.com/berthrun/berth/manager/internal/errdefs"
	shimapi "github.com/berthrun/berth/shim/api"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and run a new container from an image",
	ArgsUsage: "IMAGE [COMMAND] [ARG...]\n\nEXAMPLES:\n   mgr run --rm busybox echo hello\n   mgr run -d --name web busybox httpd -f -p 8080\n   mgr run -it busybox sh      (detach with ctrl-p ctrl-q)",
	Flags: append(createFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run container in background and print container ID"},
		&cli.StringFlag{Name: "detach-keys", Value: "ctrl-p,ctrl-q", Usage: "key sequence for detaching a container"},
	),
	Action: func(c *cli.Context) error {
		// First thing: its kernel wait passes while mgr reads the flags,
		// the image and the record (see cgroupwarm).
		warm := cgroupWarmer(c)
		warm.Begin()
		if err := needArgs(c, 1, -1); err != nil {
			return err
		}
		cfg, err := configFromFlags(c)
		if err != nil {
			return err
		}
		e, err := openEngineWarm(c, warm)
		if err != nil {
			return err
		}
		ctr, err := createPulling(c, e, cfg)
		if err != nil {
			return err
		}
		if c.Bool("detach") {
			if err := e.Containers.Start(c.Context, ctr); err != nil {
				return startFailed(c.Context, e, ctr, err)
			}
			fmt.Println(ctr.ID)
			return nil
		}
		keys, err := detachkeys.Parse(c.String("detach-keys"))
		if err != nil {
			return err
		}
		code, err := runAttached(c.Context, e, ctr, keys)
		if err != nil {
			return err
		}
		return exitWith(code)
	},
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a new container",
	ArgsUsage: "IMAGE [COMMAND] [ARG...]",
	Flags:     createFlags(),
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, -1); err != nil {
			return err
		}
		cfg, err := configFromFlags(c)
		if err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		ctr, err := createPulling(c, e, cfg)
		if err != nil {
			return err
		}
		fmt.Println(ctr.ID)
		return nil
	},
}

// createPulling creates the container; with --pull missing (docker's
// default) an image that is missing locally is pulled first, with always it
// is pulled anyway, with never it is an error.
func createPulling(c *cli.Context, e *engine.Engine, cfg container.Config) (*container.Container, error) {
	policy := c.String("pull")
	switch policy {
	case "missing", "never":
	case "always":
		if _, err := e.Images.Pull(c.Context, cfg.ImageRef, e.Registries(), progressTo(os.Stderr)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("invalid --pull %q: missing, always or never: %w", policy, errdefs.ErrInvalidArgument)
	}
	ctr, err := e.Containers.Create(c.Context, c.String("name"), cfg)
	if err == nil || policy != "missing" || !errdefs.IsNotFound(err) {
		return ctr, err
	}
	fmt.Fprintf(os.Stderr, "Unable to find image '%s' locally\n", cfg.ImageRef)
	if _, perr := e.Images.Pull(c.Context, cfg.ImageRef, e.Registries(), progressTo(os.Stderr)); perr != nil {
		return nil, perr
	}
	return e.Containers.Create(c.Context, c.String("name"), cfg)
}

// startFailed reports a container that would not start, with docker's exit
// status, and removes it when --rm asked for that.
func startFailed(ctx context.Context, e *engine.Engine, ctr *container.Container, err error) error {
	if ctr.Config.AutoRemove {
		if rerr := removeWithVolumes(context.WithoutCancel(ctx), e, ctr); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	var se *container.StartError
	if errors.As(err, &se) {
		return cli.Exit("failed to start container: "+se.Msg, se.Code)
	}
	return err
}

// runAttached runs ctr in the foreground: stdio attached before it starts,
// a raw terminal with -t, detach keys, and its exit status at the end.
func runAttached(ctx context.Context, e *engine.Engine, ctr *container.Container, keys []byte) (int, error) {
	// Without a terminal the container starts at once, its output held
	// by the shim for the attach that follows; a terminal gets its size
	// before the container starts.
	var stream *shimapi.Stream
	var err error
	if ctr.Config.Tty {
		err = e.Containers.Prepare(ctx, ctr)
	} else {
		stream, err = e.Containers.Run(ctx, ctr, ctr.Config.OpenStdin)
	}
	if err != nil {
		return 0, startFailed(ctx, e, ctr, err)
	}
	started := stream != nil
	if !started {
		if stream, err = e.Containers.Attach(ctx, ctr, ctr.Config.OpenStdin); err != nil {
			return 0, err
		}
	}
	defer stream.Close()
	term, err := setupTerminal(ctx, ctr.Config.Tty, func(w, h uint16) { _ = stream.Resize(w, h) })
	if err != nil {
		return 0, err
	}
	defer term.restore()
	if !started {
		if err := e.Containers.Start(ctx, ctr); err != nil {
			term.restore()
			return 0, startFailed(ctx, e, ctr, err)
		}
	}
	detached := make(chan struct{})
	if ctr.Config.OpenStdin {
		go func() {
			var in io.Reader = os.Stdin
			if ctr.Config.Tty {
				in = detachkeys.NewReader(os.Stdin, keys, func() { close(detached) })
			}
			_, _ = io.Copy(stream, in)
			if !ctr.Config.Tty {
				_ = stream.CloseStdin()
			}
		}()
	}
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		exit, err := stream.Copy(os.Stdout, os.Stderr)
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{code: exit.ExitCode}
	}()
	select {
	case <-detached:
		term.restore()
		fmt.Fprintln(os.Stderr)
		return 0, nil
	case r := <-done:
		term.restore()
		ctx := context.WithoutCancel(ctx)
		switch {
		case r.err != nil:
			// The stream broke (shim died?): the record knows the truth.
			st, werr := e.Containers.Wait(ctx, ctr)
			if werr != nil {
				return 0, errors.Join(r.err, werr)
			}
			r.code = st.ExitCode
		case ctr.Config.AutoRemove:
			// Straight to the removal, which overlaps the shim's last step.
			if err := e.Containers.RemoveExited(ctx, ctr); err != nil {
				return r.code, err
			}
			return r.code, e.Containers.RemoveAnonymousVolumes(ctx, ctr)
		default:
			if _, err := e.Containers.Wait(ctx, ctr); err != nil {
				return 0, err
			}
		}
		if ctr.Config.AutoRemove {
			if err := removeWithVolumes(ctx, e, ctr); err != nil {
				return r.code, err
			}
		}
		return r.code, nil
	}
}

// exitWith ends mgr with the container's status (0 is success).
func exitWith(code int) error {
	if code == 0 {
		return nil
	}
	return cli.Exit("", code)
}

// removeWithVolumes is --rm's removal: the container and its anonymous
// volumes, as docker does.
func removeWithVolumes(ctx context.Context, e *engine.Engine, ctr *container.Container) error {
	if err := e.Containers.Remove(ctx, ctr, true); err != nil {
		return err
	}
	return e.Containers.RemoveAnonymousVolumes(ctx, ctr)
}
