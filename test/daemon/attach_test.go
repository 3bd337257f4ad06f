//go:build integration && linux

package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawAttach opens an attach session (stdout, stderr) to ref through the
// API itself, as the CLI does before it starts a container.
func (d *daemon) rawAttach(t *testing.T, ref string) *bufio.Reader {
	t.Helper()
	conn, err := net.Dial("unix", d.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1.50/containers/%s/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: mgr\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", ref)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("attach to %s: %v %v", ref, resp, err)
	}
	return br
}

// TestAttachBeforeStart: the attach a client makes before starting a
// container (docker run, start -a) waits for the start, which launches the
// container with its output held for it: nothing is lost, however fast the
// process, and a second attach, a start without the daemon, a failed start
// and a removal all end or serve the waiting session.
func TestAttachBeforeStart(t *testing.T) {
	d := startDaemon(t)

	out := d.mustDocker("run", "--rm", "--network", "none", "busybox", "seq", "1", "200000")
	if got := lines(out); len(got) != 200000 || got[0] != "1" || got[len(got)-1] != "200000" {
		t.Errorf("run of seq 1 200000: %d lines", len(got))
	}

	d.mustDocker("create", "--name", "later", "--network", "none", "busybox", "echo", "created, then started")
	if out := d.mustDocker("start", "-a", "later"); out != "created, then started\n" {
		t.Errorf("start -a: %q", out)
	}

	// Two sessions before the start: both see all of the output.
	d.mustDocker("create", "--name", "two", "--network", "none", "busybox", "sh", "-c", "echo first; sleep 0.2; echo second")
	first, second := d.rawAttach(t, "two"), d.rawAttach(t, "two")
	d.mustDocker("start", "two")
	for i, br := range []*bufio.Reader{first, second} {
		if got, err := readUntil(br, "second", 10*time.Second); err != nil || !strings.Contains(got, "first") {
			t.Errorf("attach %d: %q, %v", i+1, got, err)
		}
	}

	// Started by mgr without the daemon: the session joins the running
	// container.
	d.mustDocker("create", "--name", "elsewhere", "--network", "none", "busybox", "sh", "-c", "sleep 1; echo late")
	waiting := d.rawAttach(t, "elsewhere")
	if out, err := d.mgr("start", "elsewhere"); err != nil {
		t.Fatalf("mgr start: %v: %s", err, out)
	}
	if got, err := readUntil(waiting, "late", 10*time.Second); err != nil {
		t.Errorf("attach to a container mgr started: %q, %v", got, err)
	}

	// A start that fails (no such command) and a removal end the session.
	d.mustDocker("create", "--name", "broken", "--network", "none", "busybox", "no-such-command")
	broken := d.rawAttach(t, "broken")
	if _, stderr, err := d.docker("start", "broken"); exitCode(err) == 0 || !strings.Contains(stderr, "executable file not found") {
		t.Errorf("start of a missing command: %v %q", err, stderr)
	}
	if got, err := readUntil(broken, "\x00never", 10*time.Second); !errors.Is(err, io.EOF) {
		t.Errorf("session after a failed start: %q, %v", got, err)
	}
	d.mustDocker("create", "--name", "gone", "--network", "none", "busybox", "true")
	gone := d.rawAttach(t, "gone")
	d.mustDocker("rm", "gone")
	if got, err := readUntil(gone, "\x00never", 10*time.Second); !errors.Is(err, io.EOF) {
		t.Errorf("session after the container's removal: %q, %v", got, err)
	}
	// ... removed by mgr without the daemon, too.
	d.mustDocker("create", "--name", "gone-too", "--network", "none", "busybox", "true")
	goneToo := d.rawAttach(t, "gone-too")
	if out, err := d.mgr("rm", "gone-too"); err != nil {
		t.Fatalf("mgr rm: %v: %s", err, out)
	}
	if got, err := readUntil(goneToo, "\x00never", 10*time.Second); !errors.Is(err, io.EOF) {
		t.Errorf("session after the container's removal by mgr: %q, %v", got, err)
	}
}

// TestAttachWaitsPastTheWindow: an attach whose start comes after the
// pending window takes the usual way and still gets the output.
func TestAttachWaitsPastTheWindow(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("create", "--name", "slow", "--network", "none", "busybox", "echo", "started at last")
	br := d.rawAttach(t, "slow")
	time.Sleep(11 * time.Second) // past the 10 s pending window
	d.mustDocker("start", "slow")
	if got, err := readUntil(br, "started at last", 10*time.Second); err != nil {
		t.Errorf("attach before a late start: %q, %v", got, err)
	}
}
