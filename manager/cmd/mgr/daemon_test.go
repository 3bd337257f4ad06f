package main

import (
	"errors"
	"os"
	"testing"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

func TestParseHosts(t *testing.T) {
	got, err := parseHosts(nil, "/run/mgr", false)
	if err != nil || len(got) != 1 || got[0].String() != "unix:///run/mgr/mgr.sock" {
		t.Errorf("default: %v %v", got, err)
	}
	got, err = parseHosts([]string{"unix:///a.sock", "tcp://127.0.0.1", "tcp://127.0.0.1:9999", "tcp://[::1]"}, "/run/mgr", true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"unix:///a.sock", "tcp://127.0.0.1:2376", "tcp://127.0.0.1:9999", "tcp://[::1]:2376"}
	for i, h := range got {
		if h.String() != want[i] {
			t.Errorf("host %d: %s, want %s", i, h, want[i])
		}
	}
	if got, _ := parseHosts([]string{"tcp://127.0.0.1"}, "", false); got[0].addr != "127.0.0.1:2375" {
		t.Errorf("plain TCP default port: %s", got[0].addr)
	}
	for _, bad := range []string{"127.0.0.1:2376", "unix://rel.sock", "http://x", "tcp://:2376"} {
		if _, err := parseHosts([]string{bad}, "", true); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: %v, want invalid argument", bad, err)
		}
	}
	if _, err := parseHosts([]string{"ssh://me@host"}, "", true); !errors.Is(err, errdefs.ErrNotImplemented) {
		t.Errorf("ssh: %v, want not implemented", err)
	}
}

func TestServerTLSNeedsFiles(t *testing.T) {
	if _, err := serverTLS("", "cert", "key"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("no CA: %v", err)
	}
	if _, err := serverTLS("/nonexistent/ca", "/nonexistent/cert", "/nonexistent/key"); err == nil {
		t.Errorf("missing files accepted")
	}
}

func TestLoadDaemonConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, body string
		named      bool
		wantErr    bool
	}{
		{"good", `{"hosts": ["unix:///x.sock"], "log-format": "json", "log-level": "warn", "tlsverify": true}`, true, false},
		{"unknown key", `{"hostz": ["unix:///x.sock"]}`, true, true},
		{"bad level", `{"log-level": "loud"}`, true, true},
		{"bad format", `{"log-format": "xml"}`, true, true},
		{"not json", `hosts = 1`, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadDaemonConfig(write(tc.name+".json", tc.body), tc.named)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("err = %v, want invalid argument", err)
			}
		})
	}
	if _, err := loadDaemonConfig(dir+"/missing.json", false); err != nil {
		t.Errorf("missing default config: %v", err)
	}
	if _, err := loadDaemonConfig(dir+"/missing.json", true); err == nil {
		t.Error("missing named config accepted")
	}
	cfg, _ := loadDaemonConfig(write("r.json", `{"hosts": ["unix:///a"], "log-level": "debug"}`), true)
	next := cfg
	next.LogLevel = "info"
	if got := cfg.needsRestart(next); len(got) != 0 {
		t.Errorf("a log-level change needs a restart: %v", got)
	}
	next.Hosts = []string{"unix:///b"}
	if got := cfg.needsRestart(next); len(got) != 1 || got[0] != "hosts" {
		t.Errorf("a hosts change: %v, want [hosts]", got)
	}
}
