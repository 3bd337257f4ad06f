//go:build integration && linux

package network

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freeHostPort asks the kernel for a TCP port nobody uses on the host.
func freeHostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// get fetches http://127.0.0.1:port/file from the host, retrying while
// the container's httpd starts. Only 127.0.0.1 is ever dialled.
func get(t *testing.T, port int) string {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/file", port)
	var last error
	var body string
	if pollOK(func() bool {
		resp, err := c.Get(url)
		if err != nil {
			last = err
			return false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			last = fmt.Errorf("status %d, %v", resp.StatusCode, err)
			return false
		}
		body = string(b)
		return true
	}) {
		return strings.TrimSpace(body)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

var portLine = regexp.MustCompile(`^80/tcp -> 0\.0\.0\.0:(\d+)$`)

// TestPublishedPorts: a published port answers on 127.0.0.1:hostPort from
// the host, with an explicit host port, with -p 80 (random) and with -P
// (the image's EXPOSE); `mgr port` prints docker's formats.
func TestPublishedPorts(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	m.Must("load", "-i", exposeTar)

	t.Run("explicit", func(t *testing.T) {
		hp := freeHostPort(t)
		m.RunD(append([]string{"--name", "fixed", "-p", fmt.Sprintf("%d:80", hp), "busybox"}, serveScript("fixed-port")...)...)
		if got := get(t, hp); got != "fixed-port" {
			t.Errorf("127.0.0.1:%d/file = %q, want fixed-port", hp, got)
		}
		if out := m.Must("port", "fixed").Stdout; out != fmt.Sprintf("80/tcp -> 0.0.0.0:%d\n", hp) {
			t.Errorf("mgr port fixed = %q", out)
		}
		if out := m.Must("port", "fixed", "80").Stdout; out != fmt.Sprintf("0.0.0.0:%d\n", hp) {
			t.Errorf("mgr port fixed 80 = %q", out)
		}
		if out := m.Must("port", "fixed", "80/tcp").Stdout; out != fmt.Sprintf("0.0.0.0:%d\n", hp) {
			t.Errorf("mgr port fixed 80/tcp = %q", out)
		}
		m.MustFail(125, []string{"no public port '81/tcp'"}, "port", "fixed", "81")
	})

	t.Run("host-ip", func(t *testing.T) {
		hp := freeHostPort(t)
		m.RunD(append([]string{"--name", "lo-only", "-p", fmt.Sprintf("127.0.0.1:%d:80", hp), "busybox"}, serveScript("loopback-only")...)...)
		if got := get(t, hp); got != "loopback-only" {
			t.Errorf("127.0.0.1:%d/file = %q, want loopback-only", hp, got)
		}
		if out := m.Must("port", "lo-only", "80").Stdout; out != fmt.Sprintf("127.0.0.1:%d\n", hp) {
			t.Errorf("mgr port lo-only 80 = %q", out)
		}
	})

	for _, tc := range []struct{ name, flag, image string }{
		{"random", "-p=80", "busybox"},
		{"publish-all", "-P", "busybox-expose"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.RunD(append([]string{"--name", tc.name, tc.flag, tc.image}, serveScript(tc.name)...)...)
			out := m.Must("port", tc.name).Stdout
			mm := portLine.FindStringSubmatch(strings.TrimSpace(out))
			if mm == nil {
				t.Fatalf("mgr port %s = %q, want one line 80/tcp -> 0.0.0.0:PORT", tc.name, out)
			}
			hp, _ := strconv.Atoi(mm[1])
			if hp < 1024 {
				t.Errorf("random host port %d is privileged", hp)
			}
			if one := m.Must("port", tc.name, "80").Stdout; one != "0.0.0.0:"+mm[1]+"\n" {
				t.Errorf("mgr port %s 80 = %q, want 0.0.0.0:%s", tc.name, one, mm[1])
			}
			if got := get(t, hp); got != tc.name {
				t.Errorf("127.0.0.1:%d/file = %q, want %s", hp, got, tc.name)
			}
		})
	}

	t.Run("no-ports", func(t *testing.T) {
		m.RunD("--name", "quiet", "busybox", "sleep", "300")
		if out := m.Must("port", "quiet").Stdout; out != "" {
			t.Errorf("mgr port of a container with no published port = %q, want nothing", out)
		}
	})
}
