package main

import (
	"errors"
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
