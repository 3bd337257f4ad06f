//go:build integration && linux

package daemon

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersionInfo(t *testing.T) {
	d := startDaemon(t)
	out := d.mustDocker("version")
	for _, want := range []string{"Server: berth", "API version:      1.50 (minimum version 1.24)", "OS/Arch:          linux/"} {
		if !strings.Contains(out, want) {
			t.Errorf("docker version: missing %q in\n%s", want, out)
		}
	}
	out = d.mustDocker("version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}")
	if strings.TrimSpace(out) != "1.50 linux" {
		t.Errorf("docker version --format: %q, want \"1.50 linux\"", out)
	}
	out = d.mustDocker("info")
	for _, want := range []string{"Images: 1", "Containers: 0", "Storage Driver: overlay", "Logging Driver: json-file", "OSType: linux", "Docker Root Dir: " + d.dir + "/root"} {
		if !strings.Contains(out, want) {
			t.Errorf("docker info: missing %q in\n%s", want, out)
		}
	}
}

// TestPingAndErrors speaks HTTP to the socket: the _ping headers, a JSON
// 404 for unknown objects and paths, and the version bounds.
func TestPingAndErrors(t *testing.T) {
	d := startDaemon(t)
	client := &http.Client{Transport: &http.Transport{Dial: func(string, string) (net.Conn, error) { return net.Dial("unix", d.socket) }}}
	get := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://api.moby.localhost"+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp, b.String()
	}
	resp, body := get("HEAD", "/_ping")
	if resp.StatusCode != 200 || resp.Header.Get("Api-Version") != "1.50" || resp.Header.Get("Ostype") != "linux" || !strings.HasPrefix(resp.Header.Get("Server"), "Docker/") || body != "" {
		t.Errorf("HEAD /_ping: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = get("GET", "/_ping")
	if resp.StatusCode != 200 || body != "OK" || resp.Header.Get("Docker-Experimental") != "false" {
		t.Errorf("GET /_ping: %d %q", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		message      string
	}{
		{"GET", "/v1.50/containers/nosuch/json", 404, "nosuch"},
		{"GET", "/v1.50/images/nosuch/json", 404, "nosuch"},
		{"GET", "/v1.50/networks/nosuch", 404, "nosuch"},
		{"GET", "/v1.50/volumes/x", 404, "no such volume"},
		{"GET", "/v1.50/plugins/x/json", 404, "page not found"},
		{"GET", "/v1.99/version", 400, "client version 1.99 is too new. Maximum supported API version is 1.50"},
		{"GET", "/v1.12/version", 400, "client version 1.12 is too old"},
		{"POST", "/containers/create", 400, "config cannot be empty"},
	} {
		resp, body := get(tc.method, tc.path)
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, `"message":`) || !strings.Contains(body, tc.message) {
			t.Errorf("%s %s: %d %q %s, want %d with a JSON message containing %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, tc.message)
		}
	}
	fi, err := os.Stat(d.socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want 0660", fi.Mode().Perm())
	}
}

// TestDaemonHostFlag: plain tcp:// without --tlsverify or --insecure-tcp
// is refused with a clear error.
func TestDaemonHostFlag(t *testing.T) {
	d := startDaemon(t)
	out, err := d.mgr("daemon", "--host", "unix://"+filepath.Join(d.dir, "other.sock"), "--host", "tcp://127.0.0.1:2375")
	if exitCode(err) <= 0 || !strings.Contains(out, "without --tlsverify") || !strings.Contains(out, "--insecure-tcp") {
		t.Errorf("mgr daemon --host tcp:// (no TLS): err=%v out=%q, want a refusal naming --tlsverify and --insecure-tcp", err, out)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "other.sock")); err == nil {
		t.Errorf("the refused daemon created its unix socket")
	}
	// A second daemon on a live socket is refused too.
	out, err = d.mgr("daemon", "--host", "unix://"+d.socket)
	if err == nil || !strings.Contains(out, "another daemon is serving it") {
		t.Errorf("second mgr daemon on %s: err=%v out=%q", d.socket, err, out)
	}
}
