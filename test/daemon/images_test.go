//go:build integration && linux

package daemon

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

func TestImages(t *testing.T) {
	d := startDaemon(t)
	out := d.mustDocker("images")
	rows := lines(out)
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "REPOSITORY") || !strings.HasPrefix(rows[1], "busybox ") || !strings.Contains(rows[1], " latest ") {
		t.Fatalf("docker images:\n%s", out)
	}
	id := strings.TrimSpace(d.mustDocker("image", "inspect", "-f", "{{.Id}}", "busybox"))
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("image inspect Id = %q", id)
	}
	if got := strings.TrimSpace(d.mustDocker("images", "-q")); got != id[7:19] {
		t.Errorf("docker images -q = %q, want %q", got, id[7:19])
	}

	d.mustDocker("tag", "busybox", "localhost:5000/team/bb:v1")
	out = d.mustDocker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	want := "busybox:latest " + id[7:19] + "\nlocalhost:5000/team/bb:v1 " + id[7:19]
	if got := strings.Join(sortedLines(out), "\n"); got != want {
		t.Errorf("images after tag:\n%s\nwant:\n%s", got, want)
	}
	if got := strings.TrimSpace(d.mustDocker("inspect", "-f", "{{.Id}}", "localhost:5000/team/bb:v1")); got != id {
		t.Errorf("inspect of the new tag: %q, want %q", got, id)
	}
	out = d.mustDocker("rmi", "localhost:5000/team/bb:v1")
	if strings.TrimSpace(out) != "Untagged: localhost:5000/team/bb:v1" {
		t.Errorf("rmi of one of two tags: %q", out)
	}
	_, stderr, err := d.docker("rmi", "nosuch:1")
	if exitCode(err) != 1 || !strings.Contains(stderr, "Error response from daemon: ") || !strings.Contains(stderr, "nosuch") {
		t.Errorf("rmi nosuch: %v %q", err, stderr)
	}

	// save, delete, load: the same image comes back.
	tar := filepath.Join(d.dir, "save.tar")
	d.mustDocker("save", "-o", tar, "busybox")
	if fi, err := os.Stat(tar); err != nil || fi.Size() < 100000 {
		t.Fatalf("docker save wrote %v %v", fi, err)
	}
	out = d.mustDocker("rmi", "busybox")
	if !strings.Contains(out, "Untagged: busybox:latest") || !strings.Contains(out, "Deleted: "+id) {
		t.Errorf("rmi busybox: %q", out)
	}
	if rows := lines(d.mustDocker("images")); len(rows) != 1 {
		t.Errorf("images after rmi: %q", rows)
	}
	_, stderr, err = d.docker("image", "inspect", "busybox")
	if exitCode(err) != 1 || !strings.Contains(stderr, "No such image") && !strings.Contains(stderr, "no such image") {
		t.Errorf("inspect of a removed image: %v %q", err, stderr)
	}
	out = d.mustDocker("load", "-i", tar)
	if strings.TrimSpace(out) != "Loaded image: busybox:latest" {
		t.Errorf("docker load: %q", out)
	}
	if got := strings.TrimSpace(d.mustDocker("inspect", "-f", "{{.Id}}", "busybox")); got != id {
		t.Errorf("reloaded image id %q, want %q", got, id)
	}
	// An image a container uses is refused (409) unless forced.
	d.mustDocker("create", "--network", "none", "--name", "user", "busybox", "true")
	_, stderr, err = d.docker("rmi", "busybox")
	if exitCode(err) != 1 || !strings.Contains(stderr, "must force") {
		t.Errorf("rmi of an image in use: %v %q", err, stderr)
	}
	// A created, never started container is removed.
	if out := d.mustDocker("rm", "user"); out != "user\n" {
		t.Errorf("rm of a created container: %q", out)
	}
}

func sortedLines(s string) []string {
	l := lines(s)
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j] < l[j-1]; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
	return l
}

// TestPushPull: docker push to the test registry and docker pull back into
// another daemon give the same image, with docker's progress lines.
func TestPushPull(t *testing.T) {
	reg := harness.StartRegistry(t, "", "")
	d := startDaemon(t)
	ref := reg.Host + "/team/busybox:1"
	d.mustDocker("tag", "busybox", ref)
	out := d.mustDocker("push", ref)
	pushed := regexp.MustCompile(`(?m)^1: digest: (sha256:[0-9a-f]{64}) size: [0-9]+$`).FindStringSubmatch(out)
	if pushed == nil || !strings.Contains(out, "The push refers to repository ["+reg.Host+"/team/busybox]") {
		t.Fatalf("docker push:\n%s", out)
	}
	if served := reg.ManifestDigest("team/busybox", "1"); served != pushed[1] {
		t.Errorf("push printed digest %s, the registry serves %s", pushed[1], served)
	}
	id := strings.TrimSpace(d.mustDocker("image", "inspect", "-f", "{{.Id}}", "busybox"))

	other := startDaemon(t)
	out = other.mustDocker("pull", ref)
	if !strings.Contains(out, "Digest: "+pushed[1]) || !strings.Contains(out, "Status: Downloaded newer image for "+ref) {
		t.Errorf("docker pull:\n%s", out)
	}
	if got := strings.TrimSpace(other.mustDocker("image", "inspect", "-f", "{{.Id}} {{index .RepoDigests 0}}", ref)); got != id+" "+reg.Host+"/team/busybox@"+pushed[1] {
		t.Errorf("pulled image: %q, want id %s", got, id)
	}
	if out := other.mustDocker("run", "--rm", "--network", "none", ref, "echo", "pulled"); out != "pulled\n" {
		t.Errorf("run of the pulled image: %q", out)
	}
	if out := other.mustDocker("pull", ref); !strings.Contains(out, "Image is up to date for "+ref) {
		t.Errorf("second pull:\n%s", out)
	}
	_, stderr, err := other.docker("pull", reg.Host+"/team/nosuch:1")
	if exitCode(err) != 1 || !strings.Contains(stderr, "nosuch") {
		t.Errorf("pull of a missing repository: exit %d, %q", exitCode(err), stderr)
	}
}

// TestLogin: docker login is checked against a registry that demands
// basic auth; the CLI's stored credentials then let push through, and
// without them the push is refused. Search answers with a clear error.
func TestLogin(t *testing.T) {
	reg := harness.StartRegistry(t, "alice", "s3cret-pw")
	d := startDaemon(t)
	_, stderr, err := d.dockerIn([]byte("wrong\n"), "login", "-u", "alice", "--password-stdin", reg.Host)
	if exitCode(err) != 1 || !strings.Contains(stderr, "wrong username or password") {
		t.Errorf("login with a wrong password: exit %d, %q", exitCode(err), stderr)
	}
	out, stderr, err := d.dockerIn([]byte("s3cret-pw\n"), "login", "-u", "alice", "--password-stdin", reg.Host)
	if err != nil || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("login: %v\n%s%s", err, out, stderr)
	}
	ref := reg.Host + "/private/busybox:1"
	d.mustDocker("tag", "busybox", ref)
	if out := d.mustDocker("push", ref); !strings.Contains(out, "1: digest: sha256:") {
		t.Errorf("push with the CLI's credentials:\n%s", out)
	}
	d.mustDocker("logout", reg.Host)
	d.mustDocker("rmi", ref)
	_, stderr, err = d.docker("pull", ref)
	if exitCode(err) != 1 || !strings.Contains(stderr, "denied") && !strings.Contains(stderr, "unauthorized") {
		t.Errorf("pull after logout: exit %d, %q", exitCode(err), stderr)
	}
	_, stderr, err = d.docker("search", "busybox")
	if exitCode(err) != 1 || !strings.Contains(stderr, "Docker Hub") {
		t.Errorf("search: exit %d, %q", exitCode(err), stderr)
	}
}
