package main

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/cgroupwarm"
	"github.com/berthrun/berth/runtime/internal/launch"
	"github.com/berthrun/berth/runtime/internal/libct"
)

// Flags shared by create and run.
func bundleFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the root of the bundle directory, defaults to the current directory"},
		&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		&cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot root to jail process inside rootfs; needed when the rootfs is on a ramdisk"},
		&cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring for the container; the container inherits the calling process's keyring"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
		&cli.StringFlag{Name: "pidfd-socket", Hidden: true, Usage: "not supported"},
	}
}

// startContainer creates the container from the bundle and launches its
// init: blocked until `start` (create) or running (run).
func startContainer(c *cli.Context, action launch.Action) (int, error) {
	// The init's cgroup attach comes after the bundle is loaded and the
	// container set up: let its kernel wait pass meanwhile.
	cgroupwarm.New().Begin()
	id := c.Args().First()
	if id == "" {
		return -1, libct.ErrEmptyID
	}
	pidFile, err := absPath(c.String("pid-file"))
	if err != nil {
		return -1, err
	}
	if b := c.String("bundle"); b != "" {
		if err := os.Chdir(b); err != nil {
			return -1, err
		}
	}
	spec, err := libct.LoadSpec(".")
	if err != nil {
		return -1, err
	}
	rootless, err := rootlessCgroups(c)
	if err != nil {
		return -1, err
	}
	ct, err := libct.Create(c.String("root"), id, spec, libct.CreateOpts{
		SystemdCgroup:   c.Bool("systemd-cgroup"),
		NoPivotRoot:     c.Bool("no-pivot"),
		NoNewKeyring:    c.Bool("no-new-keyring"),
		RootlessCgroups: rootless,
		SeccompCache:    c.String("seccomp-cache"),
	})
	if err != nil {
		return -1, err
	}
	return launch.Launch(spec.Process, launch.Options{
		Container:     ct,
		Action:        action,
		Init:          true,
		Detach:        c.Bool("detach"),
		Destroy:       !c.Bool("keep"),
		Subreaper:     !c.Bool("no-subreaper"),
		PidFile:       pidFile,
		ConsoleSocket: c.String("console-socket"),
		PreserveFDs:   c.Int("preserve-fds"),
		ListenFDs:     listenFDs(),
	})
}

func absPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	return filepath.Abs(p)
}

// rootlessCgroups resolves --rootless: "auto" means rootless when not root.
func rootlessCgroups(c *cli.Context) (bool, error) {
	switch v := c.String("rootless"); v {
	case "", "auto":
		return os.Geteuid() != 0, nil
	default:
		return strconv.ParseBool(v)
	}
}

// listenFDs returns the sockets passed by systemd-style socket activation
// (LISTEN_FDS for this pid), so they are handed on to the container.
func listenFDs() []*os.File {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return nil
	}
	files := make([]*os.File, 0, n)
	for fd := 3; fd < 3+n; fd++ {
		files = append(files, os.NewFile(uintptr(fd), "LISTEN_FD_"+strconv.Itoa(fd)))
	}
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	return files
}
