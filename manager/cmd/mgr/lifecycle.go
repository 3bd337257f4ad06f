package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/detachkeys"
	"github.com/berthrun/berth/manager/internal/engine"
	"github.com/berthrun/berth/runtime/signalname"
)

// eachContainer runs fn for every container argument, printing each
// argument on success as docker does, and joins the errors.
func eachContainer(c *cli.Context, echo bool, fn func(e *engine.Engine, ctr *container.Container) error) error {
	if err := needArgs(c, 1, -1); err != nil {
		return err
	}
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range c.Args().Slice() {
		ctr, err := e.Containers.Get(c.Context, ref)
		if err == nil {
			err = fn(e, ctr)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if echo {
			fmt.Println(ref)
		}
	}
	return errors.Join(errs...)
}

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start one or more stopped containers",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach STDOUT/STDERR and forward signals"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach container's STDIN"},
		&cli.StringFlag{Name: "detach-keys", Value: "ctrl-p,ctrl-q", Usage: "key sequence for detaching a container"},
	},
	Action: func(c *cli.Context) error {
		if c.Bool("attach") || c.Bool("interactive") {
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
			keys, err := detachkeys.Parse(c.String("detach-keys"))
			if err != nil {
				return err
			}
			if !c.Bool("interactive") {
				ctr.Config.OpenStdin = false
			}
			code, err := runAttached(c.Context, e, ctr, keys)
			if err != nil {
				return err
			}
			return exitWith(code)
		}
		return eachContainer(c, true, func(e *engine.Engine, ctr *container.Container) error {
			if err := e.Containers.Start(c.Context, ctr); err != nil {
				return startFailed(c.Context, e, ctr, err)
			}
			return nil
		})
	},
}

var stopCommand = &cli.Command{
	Name:      "stop",
	Usage:     "stop one or more running containers (stop signal, then SIGKILL after the timeout)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Usage: "seconds to wait before killing the container (default: the container's --stop-timeout, else 10)"},
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "signal to send to the container"},
	},
	Action: func(c *cli.Context) error {
		return eachContainer(c, true, func(e *engine.Engine, ctr *container.Container) error {
			var timeout *time.Duration
			if c.IsSet("time") {
				d := time.Duration(c.Int("time")) * time.Second
				timeout = &d
			}
			if s := c.String("signal"); s != "" {
				ctr.Config.StopSignal = s
			}
			return e.Containers.Stop(c.Context, ctr, timeout)
		})
	},
}

var restartCommand = &cli.Command{
	Name:      "restart",
	Usage:     "restart one or more containers",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Usage: "seconds to wait before killing the container"},
	},
	Action: func(c *cli.Context) error {
		return eachContainer(c, true, func(e *engine.Engine, ctr *container.Container) error {
			var timeout *time.Duration
			if c.IsSet("time") {
				d := time.Duration(c.Int("time")) * time.Second
				timeout = &d
			}
			if err := e.Containers.Stop(c.Context, ctr, timeout); err != nil {
				return err
			}
			if err := e.Containers.Start(c.Context, ctr); err != nil {
				return startFailed(c.Context, e, ctr, err)
			}
			return nil
		})
	},
}

var killCommand = &cli.Command{
	Name:      "kill",
	Usage:     "kill one or more running containers",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "signal to send to the container"},
	},
	Action: func(c *cli.Context) error {
		sig, err := signalname.Parse(c.String("signal"))
		if err != nil {
			return err
		}
		return eachContainer(c, true, func(e *engine.Engine, ctr *container.Container) error {
			return e.Containers.Kill(c.Context, ctr, sig)
		})
	},
}

var rmCommand = &cli.Command{
	Name:      "rm",
	Usage:     "remove one or more containers",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force the removal of a running container (uses SIGKILL)"},
		&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove anonymous volumes associated with the container"},
	},
	Action: func(c *cli.Context) error {
		return eachContainer(c, true, func(e *engine.Engine, ctr *container.Container) error {
			if err := e.Containers.Remove(c.Context, ctr, c.Bool("force")); err != nil {
				return err
			}
			if c.Bool("volumes") {
				return e.Containers.RemoveAnonymousVolumes(c.Context, ctr)
			}
			return nil
		})
	},
}

var waitCommand = &cli.Command{
	Name:      "wait",
	Usage:     "block until one or more containers stop, then print their exit codes",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Action: func(c *cli.Context) error {
		return eachContainer(c, false, func(e *engine.Engine, ctr *container.Container) error {
			st, err := e.Containers.Wait(c.Context, ctr)
			if err != nil {
				return err
			}
			fmt.Println(st.ExitCode)
			return nil
		})
	},
}

var pauseCommand = &cli.Command{
	Name:      "pause",
	Usage:     "pause all processes within one or more containers",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Action: func(c *cli.Context) error {
		return eachContainer(c, true, func(e *engine.Engine, ctr *container.Container) error {
			return e.Containers.Pause(c.Context, ctr)
		})
	},
}

var unpauseCommand = &cli.Command{
	Name:      "unpause",
	Usage:     "unpause all processes within one or more containers",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Action: func(c *cli.Context) error {
		return eachContainer(c, true, func(e *engine.Engine, ctr *container.Container) error {
			return e.Containers.Unpause(c.Context, ctr)
		})
	},
}

var renameCommand = &cli.Command{
	Name:      "rename",
	Usage:     "rename a container",
	ArgsUsage: "CONTAINER NEW_NAME",
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 2, 2); err != nil {
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
		return e.Containers.Rename(c.Context, ctr, c.Args().Get(1))
	},
}
