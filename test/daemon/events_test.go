//go:build integration && linux

package daemon

import (
	"bufio"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEvents: docker events replays a time window with filters, and
// follows live events as they happen; mgr events (no daemon) reads the
// same journal.
func TestEvents(t *testing.T) {
	d := startDaemon(t)
	since := fmt.Sprintf("%d", time.Now().Add(-time.Second).Unix())
	if _, _, err := d.docker("run", "--name", "evd", "--network", "none", "--label", "team=a", "busybox", "sh", "-c", "exit 2"); exitCode(err) != 2 {
		t.Fatalf("run exit 2: %v", err)
	}
	d.mustDocker("rm", "evd")
	d.mustDocker("tag", "busybox", "evtag:1")
	until := fmt.Sprintf("%.3f", float64(time.Now().Add(time.Second).UnixNano())/1e9)

	out := d.mustDocker("events", "--since", since, "--until", until, "--filter", "container=evd",
		"--format", `{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{index .Actor.Attributes "exitCode"}} {{.Actor.Attributes.team}}`)
	want := "container create evd  a\ncontainer start evd  a\ncontainer die evd 2 a\ncontainer destroy evd  a\n"
	if out != want {
		t.Errorf("docker events --filter container=evd:\n%s\nwant:\n%s", out, want)
	}
	out = d.mustDocker("events", "--since", since, "--until", until, "--filter", "type=image", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
	if !strings.Contains(out, "tag evtag:1\n") {
		t.Errorf("docker events --filter type=image:\n%s", out)
	}

	// Live: events arrive while docker events follows.
	cmd := exec.Command(dockerBinary, "events", "--filter", "event=die", "--format", "{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}")
	cmd.Env = d.dockerEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(300 * time.Millisecond) // let it subscribe: only new events follow
	if _, _, err := d.docker("run", "--rm", "--name", "live", "--network", "none", "busybox", "sh", "-c", "exit 5"); exitCode(err) != 5 {
		t.Errorf("run exit 5: %v", err)
	}
	select {
	case l := <-lines:
		if l != "live 5" {
			t.Errorf("followed event: %q, want \"live 5\"", l)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("docker events saw no die event within 20s")
	}

	// The embedded CLI reads the same journal.
	res, err := d.mgr("events", "--since", since, "--until", "0s", "--filter", "event=die", "--format", "{{.Actor.Attributes.name}}")
	if err != nil || res != "evd\nlive\n" {
		t.Errorf("mgr events: %v %q, want evd and live", err, res)
	}
}

// TestShutdownWithStreams: SIGTERM ends a daemon cleanly (status 0) while
// clients follow its events and a container's logs: the streams end with
// it instead of holding the shutdown until its deadline.
func TestShutdownWithStreams(t *testing.T) {
	d := startDaemon(t)
	d.mustDocker("run", "-d", "--name", "talker", "--network", "none", "busybox", "sh", "-c", "while true; do echo tick; sleep 0.2; done")
	var followers []*exec.Cmd
	for _, args := range [][]string{{"events"}, {"logs", "-f", "talker"}} {
		cmd := exec.Command(dockerBinary, args...)
		cmd.Env = d.dockerEnv()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		followers = append(followers, cmd)
	}
	defer func() {
		for _, f := range followers {
			_ = f.Process.Kill()
			_ = f.Wait()
		}
	}()
	time.Sleep(500 * time.Millisecond) // the streams are open
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-d.exited
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("daemon exited %d on SIGTERM with streams open, want 0:\n%s", code, d.log)
	}
	d.spawn() // for the cleanup, which removes the container through it
}
