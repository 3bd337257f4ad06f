package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// defaultDaemonConfig is read when it exists and --config-file is not given.
const defaultDaemonConfig = "/etc/mgr/daemon.json"

// daemonConfig is the daemon's config file: docker's daemon.json keys for
// what mgr daemon has. Flags given on the command line win over it.
type daemonConfig struct {
	Hosts       []string `json:"hosts,omitempty"`
	Group       string   `json:"group,omitempty"`
	TLSVerify   bool     `json:"tlsverify,omitempty"`
	TLSCACert   string   `json:"tlscacert,omitempty"`
	TLSCert     string   `json:"tlscert,omitempty"`
	TLSKey      string   `json:"tlskey,omitempty"`
	InsecureTCP bool     `json:"insecure-tcp,omitempty"`
	Debug       bool     `json:"debug,omitempty"`
	LogLevel    string   `json:"log-level,omitempty"`  // debug, info, warn, error
	LogFormat   string   `json:"log-format,omitempty"` // text, json
}

// loadDaemonConfig reads path; a missing default file is an empty config,
// a missing named one an error. Unknown keys are refused, as dockerd does:
// a misspelt key would otherwise be silently ignored.
func loadDaemonConfig(path string, named bool) (daemonConfig, error) {
	var cfg daemonConfig
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !named {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("daemon config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("daemon config %s: %w: %w", path, err, errdefs.ErrInvalidArgument)
	}
	if _, err := cfg.logLevel(); err != nil {
		return cfg, fmt.Errorf("daemon config %s: %w", path, err)
	}
	switch cfg.LogFormat {
	case "", "text", "json":
	default:
		return cfg, fmt.Errorf("daemon config %s: log-format %q: want text or json: %w", path, cfg.LogFormat, errdefs.ErrInvalidArgument)
	}
	return cfg, nil
}

// merge lays the flags the user gave over the file's values.
func (cfg daemonConfig) merge(c *cli.Context) daemonConfig {
	if c.IsSet("host") {
		cfg.Hosts = c.StringSlice("host")
	}
	for name, dst := range map[string]*string{"group": &cfg.Group, "tlscacert": &cfg.TLSCACert, "tlscert": &cfg.TLSCert, "tlskey": &cfg.TLSKey, "log-level": &cfg.LogLevel, "log-format": &cfg.LogFormat} {
		if c.IsSet(name) {
			*dst = c.String(name)
		}
	}
	for name, dst := range map[string]*bool{"tlsverify": &cfg.TLSVerify, "insecure-tcp": &cfg.InsecureTCP, "debug": &cfg.Debug} {
		if c.IsSet(name) {
			*dst = c.Bool(name)
		}
	}
	return cfg
}

func (cfg daemonConfig) logLevel() (logrus.Level, error) {
	switch {
	case cfg.Debug:
		return logrus.DebugLevel, nil
	case cfg.LogLevel == "":
		return logrus.InfoLevel, nil
	}
	l, err := logrus.ParseLevel(cfg.LogLevel)
	if err != nil {
		return 0, fmt.Errorf("log-level %q: %w", cfg.LogLevel, errdefs.ErrInvalidArgument)
	}
	return l, nil
}

// applyLogging sets the logger's level and format from cfg.
func (cfg daemonConfig) applyLogging(log *logrus.Logger) error {
	level, err := cfg.logLevel()
	if err != nil {
		return err
	}
	log.SetLevel(level)
	if cfg.LogFormat == "json" {
		log.SetFormatter(&logrus.JSONFormatter{})
	} else {
		log.SetFormatter(&logrus.TextFormatter{})
	}
	return nil
}

// needsRestart reports what a SIGHUP cannot change without a restart.
func (cfg daemonConfig) needsRestart(next daemonConfig) []string {
	var out []string
	if strings.Join(cfg.Hosts, ",") != strings.Join(next.Hosts, ",") {
		out = append(out, "hosts")
	}
	if cfg.Group != next.Group {
		out = append(out, "group")
	}
	if cfg.TLSVerify != next.TLSVerify || cfg.TLSCACert != next.TLSCACert || cfg.TLSCert != next.TLSCert || cfg.TLSKey != next.TLSKey {
		out = append(out, "tls")
	}
	if cfg.InsecureTCP != next.InsecureTCP {
		out = append(out, "insecure-tcp")
	}
	return out
}
