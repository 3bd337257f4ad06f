package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/runtime/internal/libct"
)

var deleteCommand = &cli.Command{
	Name:  "delete",
	Usage: "delete any resources held by the container often used with detached container",
	ArgsUsage: `<container-id>

EXAMPLE:
       # rt delete web1`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "forcibly deletes the container if it is still running (uses SIGKILL)"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		id := c.Args().First()
		force := c.Bool("force")
		ct, err := loadContainer(c)
		if err != nil {
			if errors.Is(err, libct.ErrNotExist) {
				// A state dir left half-written by a crash is not a
				// container but must still go.
				path := filepath.Join(c.String("root"), id)
				if e := os.RemoveAll(path); e != nil {
					fmt.Fprintf(os.Stderr, "remove %s: %v\n", path, e)
				}
				if force {
					return nil
				}
			}
			return err
		}
		if force {
			return killAndDestroy(ct)
		}
		status, err := ct.Status()
		if err != nil {
			return err
		}
		switch status {
		case libct.Stopped:
			return ct.Destroy()
		case libct.Created:
			return killAndDestroy(ct)
		default:
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", id, status)
		}
	},
}

// killAndDestroy SIGKILLs the container and destroys it once init is gone.
// An init that is PID 1 of its namespace finishes exiting only when every
// process in the namespace is reaped; a detached exec'd process belongs to
// whoever adopted it (a subreaper, or the host's init, which may reap late),
// so this waits up to 10 s, as runc does.
func killAndDestroy(ct *libct.Container) error {
	_ = ct.Signal(unix.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := ct.Signal(unix.Signal(0)); err != nil {
			return ct.Destroy()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("container init still running")
}
