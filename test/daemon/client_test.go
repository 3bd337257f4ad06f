//go:build integration && linux

package daemon

import (
	"regexp"
	"strings"
	"testing"
)

// TestMgrClient: mgr --host (and MGR_HOST) drives a daemon: version, ps,
// images, run (foreground with the exit status, and -d), exec, logs,
// inspect, stop, rm; commands without a client mode refuse clearly, and
// a dead daemon is a clear error. Nothing runs against a local store.
func TestMgrClient(t *testing.T) {
	d := startDaemon(t)
	host := "unix://" + d.socket
	mgr := func(args ...string) (string, error) { return d.mgrClient(append([]string{"--host", host}, args...)...) }
	must := func(args ...string) string {
		t.Helper()
		out, err := mgr(args...)
		if err != nil {
			t.Fatalf("mgr --host %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	if out := must("version"); !strings.Contains(out, "Server: berth") || !strings.Contains(out, "API version: 1.50") {
		t.Errorf("version:\n%s", out)
	}
	if out := must("images", "-q"); len(strings.TrimSpace(out)) != 12 {
		t.Errorf("images -q: %q", out)
	}
	out, err := mgr("run", "--rm", "--network", "none", "-e", "X=1", "busybox", "sh", "-c", `echo "out $X"; echo err >&2; exit 3`)
	if exitCode(err) != 3 || len(out) != len("out 1\nerr\n") || !strings.Contains(out, "out 1\n") || !strings.Contains(out, "err\n") {
		t.Errorf("run: exit %d, %q", exitCode(err), out)
	}
	id := strings.TrimSpace(must("run", "-d", "--name", "cl", "--network", "none", "busybox", "sh", "-c", "echo started; sleep 300"))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d printed %q", id)
	}
	// The daemon's own view agrees.
	if out := d.mustDocker("ps", "--format", "{{.Names}}"); out != "cl\n" {
		t.Errorf("docker ps after mgr --host run -d: %q", out)
	}
	if out := must("ps", "-q"); out != id[:12]+"\n" {
		t.Errorf("ps -q: %q", out)
	}
	out, err = mgr("exec", "cl", "sh", "-c", "echo in; exit 4")
	if exitCode(err) != 4 || out != "in\n" {
		t.Errorf("exec: exit %d, %q", exitCode(err), out)
	}
	eventually(t, "logs", func() (bool, string) { out, _ := mgr("logs", "cl"); return out == "started\n", out })
	if out := must("inspect", "cl"); !strings.Contains(out, `"Id": "`+id+`"`) {
		t.Errorf("inspect:\n%s", out)
	}
	if out := must("stop", "-t", "1", "cl"); out != "cl\n" {
		t.Errorf("stop: %q", out)
	}
	if out := must("rm", "cl"); out != "cl\n" {
		t.Errorf("rm: %q", out)
	}
	if out := d.mustDocker("ps", "-aq"); out != "" {
		t.Errorf("containers after mgr --host rm: %q", out)
	}
	// No client mode: a clear refusal, not a local action.
	if out, err := mgr("volume", "ls"); exitCode(err) != 125 || !strings.Contains(out, "not available through a daemon") {
		t.Errorf("volume ls through --host: exit %d, %q", exitCode(err), out)
	}
	// MGR_HOST works like --host; a dead daemon is a clear error.
	if out, err := d.mgrClient("--host", "unix://"+d.dir+"/nobody.sock", "ps"); exitCode(err) != 125 || !strings.Contains(out, "cannot connect to the mgr daemon") {
		t.Errorf("ps against no daemon: exit %d, %q", exitCode(err), out)
	}
}
