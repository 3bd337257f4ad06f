package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/api"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

var daemonCommand = &cli.Command{
	Name:  "daemon",
	Usage: "serve the Docker Engine API (1.50) on a unix socket, so the docker CLI works against berth",
	ArgsUsage: "\n\nEXAMPLES:\n   mgr daemon                                   (socket: $MGR_RUNROOT/mgr.sock)\n" +
		"   mgr daemon --host unix:///run/berth.sock\n   DOCKER_HOST=unix:///run/mgr/mgr.sock docker run --rm busybox echo hi",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "host", Aliases: []string{"H"}, Usage: "socket to listen on, unix:///path (default unix://<runroot>/mgr.sock)"},
		&cli.StringFlag{Name: "group", Usage: "group owning the socket (default: root's)"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 0, 0); err != nil {
			return err
		}
		path, err := socketPath(c.String("host"), c.String("runroot"))
		if err != nil {
			return err
		}
		log := logrus.New()
		log.SetOutput(os.Stderr)
		if c.Bool("debug") {
			log.SetLevel(logrus.DebugLevel)
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		l, err := listenUnix(path, c.String("group"))
		if err != nil {
			return err
		}
		srv := api.New(e, api.Options{Version: c.App.Version, Log: logrus.NewEntry(log)})
		if err := srv.Start(c.Context); err != nil {
			l.Close()
			return err
		}
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second}
		done := make(chan error, 1)
		go func() { done <- hs.Serve(l) }()
		log.WithField("socket", path).Info("mgr daemon serving the Docker API " + api.APIVersion)
		select {
		case err = <-done:
		case <-c.Context.Done():
			log.Info("shutting down (containers keep running under their shims)")
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), 10*time.Second)
			err = hs.Shutdown(ctx)
			cancel()
		}
		_ = srv.Close()
		_ = os.Remove(path)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		return err
	},
}

// socketPath reads --host: unix:///path only; TCP (and TLS) is not served yet.
func socketPath(host, runroot string) (string, error) {
	if host == "" {
		return filepath.Join(runroot, "mgr.sock"), nil
	}
	scheme, rest, ok := strings.Cut(host, "://")
	if !ok {
		return "", fmt.Errorf("invalid --host %q: want unix:///path: %w", host, errdefs.ErrInvalidArgument)
	}
	switch scheme {
	case "unix":
		if !filepath.IsAbs(rest) {
			return "", fmt.Errorf("invalid --host %q: the socket path must be absolute: %w", host, errdefs.ErrInvalidArgument)
		}
		return rest, nil
	case "tcp", "fd", "ssh":
		return "", fmt.Errorf("--host %s: only unix sockets are served yet (TCP and TLS are not implemented; an unauthenticated TCP socket would give root to anyone who reaches it): %w", host, errdefs.ErrNotImplemented)
	}
	return "", fmt.Errorf("invalid --host %q: unknown scheme %q: %w", host, scheme, errdefs.ErrInvalidArgument)
}

// listenUnix listens on path (mode 0660, its directory 0700 when created):
// a socket left by a dead daemon is replaced, a live one is an error.
func listenUnix(path, group string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
		conn.Close()
		return nil, fmt.Errorf("%s: another daemon is serving it: %w", path, errdefs.ErrConflict)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, err
	}
	if group != "" {
		gid, err := lookupGroup(group)
		if err != nil {
			l.Close()
			return nil, err
		}
		if err := os.Chown(path, 0, gid); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func lookupGroup(name string) (int, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		if gid, aerr := strconv.Atoi(name); aerr == nil {
			return gid, nil
		}
		return 0, fmt.Errorf("--group %s: %w", name, err)
	}
	return strconv.Atoi(g.Gid)
}
