//go:build integration && linux

package daemon

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCopyRenamePause drives `docker cp` both ways (files, directories, a
// missing path), rename, pause/unpause, system df and the container and
// image prunes through the daemon.
func TestCopyRenamePause(t *testing.T) {
	d := startDaemon(t)
	host := t.TempDir()
	d.mustDocker("run", "-d", "--name", "box", "--network", "none", "busybox", "sleep", "300")

	// host -> container: a file into a directory, a directory to a new name.
	if err := os.WriteFile(filepath.Join(host, "in.txt"), []byte("hello-cp\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(host, "dir", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "dir", "sub", "a"), []byte("deep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.mustDocker("cp", filepath.Join(host, "in.txt"), "box:/tmp/")
	d.mustDocker("cp", filepath.Join(host, "dir"), "box:/tmp/newdir")
	if out := d.mustDocker("exec", "box", "sh", "-c", "cat /tmp/in.txt /tmp/newdir/sub/a; stat -c %a /tmp/in.txt"); out != "hello-cp\ndeep\n640\n" {
		t.Errorf("after cp into the container: %q", out)
	}

	// container -> host: a directory into a directory, a file to a new name.
	d.mustDocker("exec", "box", "sh", "-c", "mkdir -p /out/x && echo from-box > /out/x/f")
	d.mustDocker("cp", "box:/out", host+"/")
	d.mustDocker("cp", "box:/out/x/f", filepath.Join(host, "g"))
	for file, want := range map[string]string{"out/x/f": "from-box\n", "g": "from-box\n"} {
		if data, err := os.ReadFile(filepath.Join(host, file)); err != nil || string(data) != want {
			t.Errorf("%s after cp from the container: %q, %v", file, data, err)
		}
	}
	_, stderr, err := d.docker("cp", "box:/no/such/file", host)
	if exitCode(err) != 1 || !strings.Contains(stderr, "/no/such/file") {
		t.Errorf("cp of a missing path: exit %d, %q", exitCode(err), stderr)
	}

	// rename, pause, unpause.
	d.mustDocker("rename", "box", "box2")
	if out := d.mustDocker("ps", "--format", "{{.Names}}"); out != "box2\n" {
		t.Errorf("ps after rename: %q", out)
	}
	d.mustDocker("pause", "box2")
	if out := d.mustDocker("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "box2"); out != "paused true\n" {
		t.Errorf("after pause: %q", out)
	}
	d.mustDocker("unpause", "box2")
	if out := d.mustDocker("exec", "box2", "echo", "thawed"); out != "thawed\n" {
		t.Errorf("exec after unpause: %q", out)
	}

	// system df: one image, used by the running container and one exited.
	d.mustDocker("run", "--name", "done", "--network", "none", "busybox", "sh", "-c", "head -c 100000 /dev/zero > /blob")
	out := d.mustDocker("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}")
	for _, want := range []string{"Images 1 1", "Containers 2 1", "Local Volumes 0 0"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("system df lacks %q:\n%s", want, out)
		}
	}
	out = d.mustDocker("system", "df", "-v", "--format", "{{range .Containers}}{{.Names}} {{.Size}}\n{{end}}")
	if !regexp.MustCompile(`(?m)^done [0-9.]+kB`).MatchString(out) {
		t.Errorf("system df -v: the exited container's 100 kB writable layer is missing:\n%s", out)
	}

	// Prunes: the exited container goes, the running one and its image stay.
	doneID := strings.TrimSpace(d.mustDocker("inspect", "-f", "{{.Id}}", "done"))
	out = d.mustDocker("container", "prune", "-f")
	if !strings.Contains(out, doneID) || strings.Contains(out, "box2") {
		t.Errorf("container prune:\n%s", out)
	}
	if out := d.mustDocker("ps", "-a", "--format", "{{.Names}}"); out != "box2\n" {
		t.Errorf("ps -a after prune: %q", out)
	}
	d.mustDocker("image", "prune", "-a", "-f")
	if out := d.mustDocker("images", "--format", "{{.Repository}}"); out != "busybox\n" {
		t.Errorf("image prune -a removed the image a container uses: %q", out)
	}
	_, stderr, err = d.docker("rmi", "busybox")
	if exitCode(err) != 1 || !strings.Contains(stderr, "being used by running container") {
		t.Errorf("rmi of an image in use: exit %d, %q", exitCode(err), stderr)
	}
}
