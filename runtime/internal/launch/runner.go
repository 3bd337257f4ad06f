package launch

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/runtime/internal/libct"
)

// Action says what a Launch does with its process.
type Action int

const (
	// Create starts the init and leaves it blocked until `rt start`.
	Create Action = iota + 1
	// Run starts the init (or, with Init false, an exec) and lets it run.
	Run
)

// Options for one launch; they mirror runc's create/run/exec flags.
type Options struct {
	Container     *libct.Container
	Action        Action
	Init          bool // the container's first process, not an exec
	Detach        bool
	Destroy       bool // destroy the container when the process ends or launch fails
	Subreaper     bool
	PidFile       string
	ConsoleSocket string
	PreserveFDs   int
	ListenFDs     []*os.File // socket activation fds passed on to the process
}

// Launch starts process spec in the container. When rt stays in the
// foreground it returns the process's exit status; detached, it returns 0
// as soon as the process runs.
func Launch(spec *specs.Process, o Options) (status int, retErr error) {
	defer func() {
		if retErr != nil && o.Destroy {
			destroy(o.Container)
		}
	}()
	detach := o.Detach || o.Action == Create
	if detach && spec.Terminal && o.ConsoleSocket == "" {
		return -1, errors.New("cannot allocate tty if rt will detach without setting console socket")
	}
	if (!detach || !spec.Terminal) && o.ConsoleSocket != "" {
		return -1, errors.New("cannot use console socket if rt will not detach or allocate tty")
	}

	p, late, err := libct.NewProcess(spec, o.Init)
	if err != nil {
		return -1, err
	}
	p.LogLevel = strconv.Itoa(int(logrus.GetLevel()))
	p.Init = o.Init
	if len(o.ListenFDs) > 0 {
		p.Env = append(p.Env, "LISTEN_FDS="+strconv.Itoa(len(o.ListenFDs)), "LISTEN_PID=1")
		p.ExtraFiles = append(p.ExtraFiles, o.ListenFDs...)
	}
	base := 3 + len(p.ExtraFiles)
	for fd := base; fd < base+o.PreserveFDs; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return -1, fmt.Errorf("preserved fd %d (of %d) is not open: %w", fd-base, o.PreserveFDs, err)
		}
		p.ExtraFiles = append(p.ExtraFiles, os.NewFile(uintptr(fd), "preserved-fd-"+strconv.Itoa(fd)))
	}

	// In the foreground, catch signals before the process exists so that
	// neither its exit nor a signal meant for it is lost.
	var fwd *forwarder
	if !detach {
		fwd = newForwarder(o.Subreaper)
		defer fwd.stop()
	}
	io, err := setupStdio(p, o.Container, spec.Terminal, detach, o.ConsoleSocket)
	if err != nil {
		return -1, err
	}
	defer io.Close()

	switch {
	case o.Action == Run && !o.Init:
		err = o.Container.Run(p) // an exec: all its rlimits are set before it runs
	case o.Action == Create || o.Action == Run:
		// The init is set up and waits to exec its process: give it the
		// late rlimits now, then let it exec (run) or leave it (create).
		if err = o.Container.Start(p); err != nil {
			break
		}
		var pid int
		if pid, err = p.Pid(); err == nil {
			err = libct.ApplyRlimits(pid, late)
		}
		if err == nil && o.Action == Run {
			err = o.Container.Exec()
		}
		if err != nil {
			terminate(p)
		}
	default:
		return -1, fmt.Errorf("unknown launch action %d", o.Action)
	}
	if err != nil {
		return -1, err
	}
	if err := io.waitConsole(); err != nil {
		terminate(p)
		return -1, err
	}
	io.closePostStart()
	if o.PidFile != "" {
		pid, err := p.Pid()
		if err == nil {
			err = writePidFile(o.PidFile, pid)
		}
		if err != nil {
			terminate(p)
			return -1, fmt.Errorf("write pid file: %w", err)
		}
	}
	if detach {
		return 0, nil
	}
	status, err = fwd.forward(p, io)
	if err != nil {
		terminate(p)
		return -1, err
	}
	if o.Destroy {
		destroy(o.Container)
	}
	return status, nil
}

func terminate(p *libct.Process) {
	_ = p.Signal(unix.SIGKILL)
	_, _ = p.Wait()
}

func destroy(c *libct.Container) {
	if err := c.Destroy(); err != nil {
		logrus.Warnf("destroy container: %v", err)
	}
}
