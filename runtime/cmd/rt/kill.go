package main

import (
	"errors"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/runtime/internal/libct"
	"github.com/berthrun/berth/runtime/signalname"
)

var killCommand = &cli.Command{
	Name:  "kill",
	Usage: "kill sends the specified signal (default: SIGTERM) to the container's init process",
	ArgsUsage: `<container-id> [signal]

Where "[signal]" is a name (KILL, SIGKILL) or a number (9).

EXAMPLE:
       # rt kill web1 KILL`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "send the signal to all processes in the container"},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		if err := maxArgs(c, 2); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		raw := c.Args().Get(1)
		if raw == "" {
			raw = "SIGTERM"
		}
		sig, err := signalname.Parse(raw)
		if err != nil {
			return err
		}
		if c.Bool("all") {
			return signalAll(ct, sig)
		}
		return ct.Signal(sig)
	},
}

// signalAll sends sig to every process in the container's cgroup. For
// SIGKILL libcontainer already kills the whole cgroup; for other signals it
// would only reach init. A container that is not running is not an error,
// as with runc.
func signalAll(ct *libct.Container, sig unix.Signal) error {
	if sig == unix.SIGKILL {
		err := ct.Signal(sig)
		if errors.Is(err, libct.ErrNotRunning) {
			return nil
		}
		return err
	}
	pids, err := ct.Processes()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}
