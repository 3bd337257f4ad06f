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
	shimapi "github.com/berthrun/berth/shim/api"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "execute a command in a running container",
	ArgsUsage: "CONTAINER COMMAND [ARG...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detached mode: run command in the background"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID (format: <name|uid>[:<group|gid>])"},
		&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to the command"},
		&cli.StringFlag{Name: "detach-keys", Value: "ctrl-p,ctrl-q", Usage: "key sequence for detaching"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 2, -1); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		ctr, err := e.Containers.Get(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		keys, err := detachkeys.Parse(c.String("detach-keys"))
		if err != nil {
			return err
		}
		stream, err := e.Containers.Exec(c.Context, ctr, container.ExecOptions{
			Cmd:        c.Args().Slice()[1:],
			Env:        c.StringSlice("env"),
			WorkingDir: c.String("workdir"),
			User:       c.String("user"),
			Tty:        c.Bool("tty"),
			Privileged: c.Bool("privileged"),
		})
		if err != nil {
			var se *container.StartError
			if errors.As(err, &se) {
				return cli.Exit(se.Msg, se.Code)
			}
			return err
		}
		if c.Bool("detach") {
			return stream.Close()
		}
		code, err := pipeStream(c.Context, stream, c.Bool("interactive"), c.Bool("tty"), keys)
		if err != nil {
			return err
		}
		return exitWith(code)
	},
}

// pipeStream connects mgr's stdio to a shim stream until the process exits
// (its status) or the user types the detach keys (0).
func pipeStream(ctx context.Context, stream *shimapi.Stream, stdin, tty bool, keys []byte) (int, error) {
	defer stream.Close()
	term, err := setupTerminal(ctx, tty, func(w, h uint16) { _ = stream.Resize(w, h) })
	if err != nil {
		return 0, err
	}
	defer term.restore()
	detached := make(chan struct{})
	if stdin {
		go func() {
			var in io.Reader = os.Stdin
			if tty {
				in = detachkeys.NewReader(os.Stdin, keys, func() { close(detached) })
			}
			_, _ = io.Copy(stream, in)
			_ = stream.CloseStdin()
		}()
	}
	type result struct {
		st  *shimapi.ExitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := stream.Copy(os.Stdout, os.Stderr)
		done <- result{st, err}
	}()
	select {
	case <-detached:
		term.restore()
		fmt.Fprintln(os.Stderr)
		return 0, nil
	case r := <-done:
		term.restore()
		if r.err != nil {
			return 0, r.err
		}
		return r.st.ExitCode, nil
	}
}

var attachCommand = &cli.Command{
	Name:      "attach",
	Usage:     "attach local standard input, output, and error streams to a running container",
	ArgsUsage: "CONTAINER",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "no-stdin", Usage: "do not attach STDIN"},
		&cli.StringFlag{Name: "detach-keys", Value: "ctrl-p,ctrl-q", Usage: "key sequence for detaching a container"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, 1); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		ctr, err := e.Containers.Get(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		if !ctr.Running() {
			return fmt.Errorf("you cannot attach to a stopped container, start it first")
		}
		keys, err := detachkeys.Parse(c.String("detach-keys"))
		if err != nil {
			return err
		}
		stdin := ctr.Config.OpenStdin && !c.Bool("no-stdin")
		stream, err := e.Containers.Attach(c.Context, ctr, stdin)
		if err != nil {
			return err
		}
		code, err := pipeStream(c.Context, stream, stdin, ctr.Config.Tty, keys)
		if err != nil {
			return err
		}
		return exitWith(code)
	},
}
