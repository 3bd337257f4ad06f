package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	ctypes "github.com/moby/moby/api/types/container"
	nettypes "github.com/moby/moby/api/types/network"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

func TestHTTPStatus(t *testing.T) {
	for class, want := range map[error]int{
		errdefs.ErrNotFound:        404,
		errdefs.ErrConflict:        409,
		errdefs.ErrAlreadyExists:   409,
		errdefs.ErrInvalidArgument: 400,
		errdefs.ErrUnauthorized:    401,
		errdefs.ErrUnavailable:     503,
		errdefs.ErrNotImplemented:  501,
		errdefs.ErrDataCorrupt:     500,
		errors.New("other"):        500,
	} {
		err := fmt.Errorf("container x: %w", class)
		if got := httpStatus(err); got != want {
			t.Errorf("httpStatus(%v) = %d, want %d", err, got, want)
		}
	}
	if got := message(fmt.Errorf("no such container: x: %w", errdefs.ErrNotFound)); got != "no such container: x" {
		t.Errorf("message = %q", got)
	}
}

func TestWriteError(t *testing.T) {
	s := New(nil, Options{})
	rec := httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("GET", "/x", nil), fmt.Errorf("no such image: y: %w", errdefs.ErrNotFound))
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/json" || rec.Body.String() != "{\"message\":\"no such image: y\"}\n" {
		t.Errorf("writeError: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
}

func TestVersionPrefix(t *testing.T) {
	s := New(nil, Options{Version: "test"})
	for path, want := range map[string]int{
		"/_ping":        200,
		"/v1.50/_ping":  200,
		"/v1.44/_ping":  200,
		"/v1.51/_ping":  400,
		"/v1.23/_ping":  400,
		"/v1.50/nosuch": 404,
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d (%s)", path, rec.Code, want, rec.Body)
		}
		if rec.Header().Get("Api-Version") != APIVersion || rec.Header().Get("Ostype") != "linux" || rec.Header().Get("Server") != "Docker/test (linux)" {
			t.Errorf("GET %s: headers %v", path, rec.Header())
		}
	}
}

func TestFilters(t *testing.T) {
	r := &http.Request{URL: &url.URL{RawQuery: url.Values{"filters": {`{"status":{"exited":true},"label":{"a=b":true}}`}}.Encode()}}
	f, err := filters(r)
	if err != nil || len(f["status"]) != 1 || f["status"][0] != "exited" || f["label"][0] != "a=b" {
		t.Errorf("filters: %v %v", f, err)
	}
	r.URL.RawQuery = url.Values{"filters": {`{"name":["web"]}`}}.Encode()
	if f, err := filters(r); err != nil || f["name"][0] != "web" {
		t.Errorf("legacy filters: %v %v", f, err)
	}
}

func TestContainerConfig(t *testing.T) {
	init := true
	pids := int64(50)
	req := &ctypes.CreateRequest{
		Config: &ctypes.Config{Image: "busybox", Cmd: []string{"sh"}, Env: []string{"A=1"}, Tty: true, Labels: map[string]string{"k": "v"}},
		HostConfig: &ctypes.HostConfig{
			NetworkMode:  "default",
			AutoRemove:   true,
			Binds:        []string{"/tmp:/data:ro"},
			PortBindings: nettypes.PortMap{nettypes.MustParsePort("80/tcp"): {{HostPort: "8080"}}},
			Init:         &init,
			Resources:    ctypes.Resources{Memory: 64 << 20, NanoCPUs: 1_500_000_000, PidsLimit: &pids},
		},
	}
	cfg, err := containerConfig(req)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NetworkMode != "bridge" || !cfg.AutoRemove || !cfg.Init || cfg.Resources.CPUs != 1.5 || cfg.Resources.PidsLimit != 50 ||
		len(cfg.Mounts) != 1 || !cfg.Mounts[0].ReadOnly || cfg.Mounts[0].Destination != "/data" ||
		len(cfg.Ports) != 1 || cfg.Ports[0].HostPort != 8080 || cfg.Ports[0].ContainerPort != 80 || cfg.Ports[0].Protocol != "tcp" {
		t.Errorf("containerConfig: %+v", cfg)
	}
	req.HostConfig.Binds = []string{"named:/data:ro", "/anon"}
	cfg, err = containerConfig(req)
	if err != nil || len(cfg.Mounts) != 2 || cfg.Mounts[0].Type != "volume" || cfg.Mounts[0].Name != "named" || !cfg.Mounts[0].ReadOnly ||
		!cfg.Mounts[1].Anonymous || cfg.Mounts[1].Destination != "/anon" {
		t.Errorf("named and anonymous volumes: %+v, %v", cfg.Mounts, err)
	}
	req.HostConfig.Binds = []string{"bad name!:/data"}
	if _, err := containerConfig(req); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad volume name: %v", err)
	}
}

func TestTopResponse(t *testing.T) {
	resp, err := topResponse([]byte("UID PID PPID CMD\nroot 1 0 sh -c sleep 1\n"))
	if err != nil || len(resp.Titles) != 4 || len(resp.Processes) != 1 || resp.Processes[0][3] != "sh -c sleep 1" {
		t.Errorf("topResponse: %+v %v", resp, err)
	}
}
