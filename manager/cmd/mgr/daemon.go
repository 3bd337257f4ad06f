package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/api"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

var daemonCommand = &cli.Command{
	Name:  "daemon",
	Usage: "serve the Docker Engine API (1.50) on a unix socket and/or TCP with mutual TLS, so the docker CLI works against berth",
	ArgsUsage: "\n\nEXAMPLES:\n   mgr daemon                                   (socket: $MGR_RUNROOT/mgr.sock)\n" +
		"   mgr daemon --host unix:///run/berth.sock\n   DOCKER_HOST=unix:///run/mgr/mgr.sock docker run --rm busybox echo hi\n" +
		"   mgr daemon -H unix:///run/mgr/mgr.sock -H tcp://127.0.0.1:2376 --tlsverify --tlscacert ca.pem --tlscert server.pem --tlskey server-key.pem",
	Flags: []cli.Flag{
		&cli.StringSliceFlag{Name: "host", Aliases: []string{"H"}, Usage: "address to listen on, unix:///path or tcp://host[:port] (repeatable; default unix://<runroot>/mgr.sock)"},
		&cli.StringFlag{Name: "group", Usage: "group owning the unix socket (default: root's)"},
		&cli.BoolFlag{Name: "tlsverify", Usage: "serve TCP over TLS 1.2+ and require client certificates signed by --tlscacert"},
		&cli.StringFlag{Name: "tlscacert", Usage: "CA certificate (PEM) that client certificates must chain to"},
		&cli.StringFlag{Name: "tlscert", Usage: "server certificate (PEM)"},
		&cli.StringFlag{Name: "tlskey", Usage: "server private key (PEM)"},
		&cli.BoolFlag{Name: "insecure-tcp", Usage: "allow plain TCP without TLS: anyone who reaches the port gets root (DANGEROUS)"},
		&cli.StringFlag{Name: "config-file", Usage: "daemon config, docker's daemon.json keys (hosts, group, tls*, insecure-tcp, debug, log-level, log-format); flags win; SIGHUP reloads the logging settings (default " + defaultDaemonConfig + " if it exists)"},
		&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error (default info)"},
		&cli.StringFlag{Name: "log-format", Usage: "text or json (default text)"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 0, 0); err != nil {
			return err
		}
		cfgPath, named := defaultDaemonConfig, c.IsSet("config-file")
		if named {
			cfgPath = c.String("config-file")
		}
		fileCfg, err := loadDaemonConfig(cfgPath, named)
		if err != nil {
			return err
		}
		cfg := fileCfg.merge(c)
		hosts, err := parseHosts(cfg.Hosts, c.String("runroot"), cfg.TLSVerify)
		if err != nil {
			return err
		}
		var tlsCfg *tls.Config
		if cfg.TLSVerify {
			if tlsCfg, err = serverTLS(cfg.TLSCACert, cfg.TLSCert, cfg.TLSKey); err != nil {
				return err
			}
		}
		log := logrus.New()
		log.SetOutput(os.Stderr)
		if err := cfg.applyLogging(log); err != nil {
			return err
		}
		for _, h := range hosts {
			if h.network == "tcp" && tlsCfg == nil {
				if !cfg.InsecureTCP {
					return fmt.Errorf("--host tcp://%s without --tlsverify: an unauthenticated TCP socket gives root to anyone who reaches it; "+
						"use --tlsverify --tlscacert --tlscert --tlskey, or --insecure-tcp to accept the risk: %w", h.addr, errdefs.ErrInvalidArgument)
				}
				log.Warnf("!!! INSECURE: serving the Docker API on plain TCP %s without TLS or authentication: anyone who can reach it has root on this host !!!", h.addr)
			}
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		var ls []net.Listener
		closeAll := func() {
			for _, l := range ls {
				l.Close()
			}
		}
		for _, h := range hosts {
			l, err := h.listen(cfg.Group, tlsCfg)
			if err != nil {
				closeAll()
				return err
			}
			ls = append(ls, l)
		}
		srv := api.New(e, api.Options{Version: c.App.Version, Log: logrus.NewEntry(log)})
		if err := srv.Start(c.Context); err != nil {
			closeAll()
			return err
		}
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second}
		stopReload := reloadOnHUP(c, cfgPath, named, cfg, log)
		defer stopReload()
		done := make(chan error, len(ls))
		for i, l := range ls {
			go func() { done <- hs.Serve(l) }()
			log.WithField("host", hosts[i].String()).Info("mgr daemon serving the Docker API " + api.APIVersion)
		}
		select {
		case err = <-done:
			_ = hs.Close()
		case <-c.Context.Done():
			log.Info("shutting down (containers keep running under their shims)")
			_ = srv.Close() // ends the streams that would hold Shutdown (events)
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), 10*time.Second)
			err = hs.Shutdown(ctx)
			cancel()
		}
		_ = srv.Close()
		for _, h := range hosts {
			if h.network == "unix" {
				_ = os.Remove(h.addr)
			}
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		return err
	},
}

// daemonHost is one parsed --host.
type daemonHost struct {
	network string // unix or tcp
	addr    string // socket path or host:port
}

func (h daemonHost) String() string { return h.network + "://" + h.addr }

func (h daemonHost) listen(group string, tlsCfg *tls.Config) (net.Listener, error) {
	if h.network == "unix" {
		return listenUnix(h.addr, group)
	}
	l, err := net.Listen("tcp", h.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on tcp://%s: %w", h.addr, err)
	}
	if tlsCfg != nil {
		l = tls.NewListener(l, tlsCfg)
	}
	return l, nil
}

// parseHosts reads the --host values: unix:///path and tcp://host[:port]
// (port 2376 with TLS, 2375 without, as docker's defaults).
func parseHosts(values []string, runroot string, tlsVerify bool) ([]daemonHost, error) {
	if len(values) == 0 {
		return []daemonHost{{network: "unix", addr: filepath.Join(runroot, "mgr.sock")}}, nil
	}
	var out []daemonHost
	for _, host := range values {
		scheme, rest, ok := strings.Cut(host, "://")
		if !ok {
			return nil, fmt.Errorf("invalid --host %q: want unix:///path or tcp://host:port: %w", host, errdefs.ErrInvalidArgument)
		}
		switch scheme {
		case "unix":
			if !filepath.IsAbs(rest) {
				return nil, fmt.Errorf("invalid --host %q: the socket path must be absolute: %w", host, errdefs.ErrInvalidArgument)
			}
			out = append(out, daemonHost{network: "unix", addr: rest})
		case "tcp":
			rest = strings.TrimSuffix(rest, "/")
			if _, _, err := net.SplitHostPort(rest); err != nil {
				port := "2375"
				if tlsVerify {
					port = "2376"
				}
				rest = net.JoinHostPort(strings.Trim(rest, "[]"), port)
			}
			h, p, err := net.SplitHostPort(rest)
			if err != nil || p == "" {
				return nil, fmt.Errorf("invalid --host %q: %w", host, errdefs.ErrInvalidArgument)
			}
			if h == "" {
				return nil, fmt.Errorf("invalid --host %q: give the address to listen on (e.g. tcp://127.0.0.1:2376): %w", host, errdefs.ErrInvalidArgument)
			}
			out = append(out, daemonHost{network: "tcp", addr: rest})
		case "fd", "ssh":
			return nil, fmt.Errorf("--host %s: %s:// is not served: %w", host, scheme, errdefs.ErrNotImplemented)
		default:
			return nil, fmt.Errorf("invalid --host %q: unknown scheme %q: %w", host, scheme, errdefs.ErrInvalidArgument)
		}
	}
	return out, nil
}

// serverTLS is the mutual-TLS configuration of the TCP listeners: TLS 1.2
// or newer, and a client certificate chaining to caFile is required.
func serverTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" || certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("--tlsverify needs --tlscacert, --tlscert and --tlskey: %w", errdefs.ErrInvalidArgument)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load --tlscert %s / --tlskey %s: %w", certFile, keyFile, err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read --tlscacert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("--tlscacert %s: no PEM certificate in it: %w", caFile, errdefs.ErrInvalidArgument)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
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

// reloadOnHUP re-reads the config file on SIGHUP and applies what can
// change while serving (logging); it says which other changes wait for a
// restart. Without it SIGHUP would end the daemon.
func reloadOnHUP(c *cli.Context, path string, named bool, running daemonConfig, log *logrus.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, unix.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-hup:
			}
			fileCfg, err := loadDaemonConfig(path, named)
			if err != nil {
				log.WithError(err).Error("SIGHUP: config not reloaded")
				continue
			}
			next := fileCfg.merge(c)
			if err := next.applyLogging(log); err != nil {
				log.WithError(err).Error("SIGHUP: config not reloaded")
				continue
			}
			entry := log.WithField("config", path)
			if later := running.needsRestart(next); len(later) > 0 {
				entry = entry.WithField("needs-restart", strings.Join(later, ","))
			}
			entry.Info("SIGHUP: config reloaded")
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}
