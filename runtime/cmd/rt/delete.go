package main

import (
	"errors"
	"fmt"
	"io"
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
		&cli.BoolFlag{Name: "wait-stdin", Usage: "(rt extension) wait for a byte on stdin, then load the container, wait for a second byte, then delete it as --force does; stdin closing first deletes nothing. A monitor starts the delete early so that little of it is left once the container exits"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		id := c.Args().First()
		if c.Bool("wait-stdin") {
			return deleteWhenTold(c, os.Stdin)
		}
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

// deleteWhenTold is delete --wait-stdin: rt's start and the state's load
// are done before the monitor's go-ahead, leaving it the kill and destroy.
// The load waits for a first byte since the container may not exist yet
// when the monitor starts this (beside the runtime's create). The status
// is judged when the go-ahead comes, not at the load.
func deleteWhenTold(c *cli.Context, in io.Reader) error {
	if err := await(in, "load"); err != nil {
		return err
	}
	ct, err := loadContainer(c)
	if err != nil {
		return err
	}
	if err := await(in, "delete"); err != nil {
		return err
	}
	return killAndDestroy(ct)
}

// await reads one byte from in: the monitor's go-ahead for step.
func await(in io.Reader, step string) error {
	var b [1]byte
	if n, err := in.Read(b[:]); n == 1 {
		return nil
	} else if err != nil && err != io.EOF {
		return fmt.Errorf("wait for the go-ahead to %s: %w", step, err)
	}
	return fmt.Errorf("stdin closed before the go-ahead to %s: container left as it is", step)
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
