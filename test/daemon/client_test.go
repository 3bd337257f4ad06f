//go:build integration && linux

package daemon

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
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
	// build: the context goes to the daemon's builder.
	bctx := t.TempDir()
	if err := os.WriteFile(filepath.Join(bctx, "Dockerfile"), []byte("FROM busybox\nARG X=1\nRUN echo built-$X > /b\nCMD [\"cat\", \"/b\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := must("build", "-t", "remote:1", "--build-arg", "X=7", bctx); !strings.Contains(out, "Successfully tagged remote:1") {
		t.Errorf("build through the daemon:\n%s", out)
	}
	if out := must("run", "--rm", "--network", "none", "remote:1"); out != "built-7\n" {
		t.Errorf("run of the image built through the daemon: %q", out)
	}
	if err := os.WriteFile(filepath.Join(bctx, "Dockerfile"), []byte("FROM busybox\nRUN exit 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := mgr("build", bctx); exitCode(err) != 4 || !strings.Contains(out, "returned a non-zero code: 4") {
		t.Errorf("failing build through the daemon: exit %d\n%s", exitCode(err), out)
	}
	// No client mode: a clear refusal, not a local action, and never the
	// container verb of the same name (volume rm is not rm).
	if out, err := mgr("volume", "ls"); exitCode(err) != 125 || !strings.Contains(out, "not available through a daemon") {
		t.Errorf("volume ls through --host: exit %d, %q", exitCode(err), out)
	}
	d.mustDocker("create", "--name", "db", "--network", "none", "busybox", "true")
	if out, err := mgr("volume", "rm", "-f", "db"); exitCode(err) != 125 || !strings.Contains(out, "mgr volume rm is not available") {
		t.Errorf("volume rm through --host: exit %d, %q", exitCode(err), out)
	}
	if out := d.mustDocker("ps", "-aq", "--filter", "name=db"); out == "" {
		t.Errorf("mgr --host volume rm -f db removed the container db")
	}
	d.mustDocker("rm", "db")
	// MGR_HOST works like --host; a dead daemon is a clear error.
	if out, err := d.mgrClient("--host", "unix://"+d.dir+"/nobody.sock", "ps"); exitCode(err) != 125 || !strings.Contains(out, "cannot connect to the mgr daemon") {
		t.Errorf("ps against no daemon: exit %d, %q", exitCode(err), out)
	}
}

// TestMgrClientTTY: mgr --host run -it is a terminal session through the
// daemon: the window size reaches the container, ctrl-p ctrl-q detaches
// and leaves it running, exec -it gets a shell in it with its exit status,
// and a second run -it --rm exits with its shell's status.
func TestMgrClientTTY(t *testing.T) {
	d := startDaemon(t)
	local := t.TempDir()
	mgrTTY := func(args ...string) *harness.TTYSession {
		return harness.StartTTY(t, 60*time.Second, func(ctx context.Context) *exec.Cmd {
			cmd := exec.CommandContext(ctx, mgrBinary, append([]string{"--host", "unix://" + d.socket}, args...)...)
			env := slices.DeleteFunc(slices.Clone(os.Environ()), func(kv string) bool { return strings.HasPrefix(kv, "MGR_") })
			cmd.Env = append(env, "MGR_ROOT="+local+"/root", "MGR_RUNROOT="+local+"/run")
			return cmd
		})
	}
	s := mgrTTY("run", "-it", "--name", "tt", "--network", "none", "busybox", "sh")
	s.Expect("# ")
	s.Send("echo hi-$((1+1)); stty size; echo end-$((9*9))\r")
	out := harness.NormalizeTTY(s.Expect("end-81"))
	if !strings.Contains(out, "\nhi-2\n") || !strings.Contains(out, "\n40 120\n") {
		t.Errorf("run -it through the daemon: %q", out)
	}
	s.Send("\x10\x11")
	if code := s.Exit(); code != 0 {
		t.Errorf("mgr --host run -it exited %d after ctrl-p ctrl-q, want 0", code)
	}
	if out := d.mustDocker("inspect", "-f", "{{.State.Running}}", "tt"); out != "true\n" {
		t.Errorf("after detaching: running = %q", out)
	}
	e := mgrTTY("exec", "-it", "tt", "sh")
	e.Expect("# ")
	e.Send("echo ex-$((2*4)); exit 2\r")
	e.Expect("ex-8")
	if code := e.Exit(); code != 2 {
		t.Errorf("mgr --host exec -it exited %d, want 2", code)
	}
	s = mgrTTY("run", "-it", "--rm", "--network", "none", "busybox", "sh")
	s.Expect("# ")
	s.Send("exit 6\r")
	if code := s.Exit(); code != 6 {
		t.Errorf("mgr --host run -it --rm exited %d, want the shell's 6", code)
	}
	if entries, _ := os.ReadDir(local); len(entries) != 0 {
		t.Errorf("client mode wrote to its local roots: %v", entries)
	}
}
