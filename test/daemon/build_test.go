//go:build integration && linux

package daemon

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBuild drives `docker build` (the classic builder's /build endpoint)
// against the daemon: build args, .dockerignore, the step cache, -q, and
// a failing RUN that exits with its code and leaves nothing behind.
func TestBuild(t *testing.T) {
	d := startDaemon(t)
	ctx := t.TempDir()
	for name, content := range map[string]string{
		"Dockerfile":    "FROM busybox\nARG GREETING=hi\nRUN echo \"$GREETING\" > /g\nCOPY . /ctx/\nCMD [\"sh\", \"-c\", \"cat /g; ls /ctx\"]\n",
		".dockerignore": "secret\n",
		"file":          "content\n",
		"secret":        "do not ship\n",
	} {
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := d.mustDocker("build", "-t", "built:1", "--build-arg", "GREETING=hello", ctx)
	for _, want := range []string{"Step 1/5 : FROM busybox", "Step 3/5 : RUN echo \"$GREETING\" > /g", "Successfully tagged built:1"} {
		if !strings.Contains(out, want) {
			t.Errorf("docker build output lacks %q:\n%s", want, out)
		}
	}
	built := regexp.MustCompile(`Successfully built ([0-9a-f]{12})`).FindStringSubmatch(out)
	if built == nil {
		t.Fatalf("no image id in:\n%s", out)
	}
	if got := d.mustDocker("run", "--rm", "--network", "none", "built:1"); got != "hello\nDockerfile\nfile\n" {
		t.Errorf("run of the built image: %q", got)
	}
	out = d.mustDocker("build", "-t", "built:2", "--build-arg", "GREETING=hello", ctx)
	if strings.Count(out, "Using cache") != 4 || !strings.Contains(out, "Successfully built "+built[1]) {
		t.Errorf("rebuild: want 4 steps from the cache and the same image:\n%s", out)
	}
	id := strings.TrimSpace(d.mustDocker("build", "-q", "--build-arg", "GREETING=hello", ctx))
	if want := strings.TrimSpace(d.mustDocker("image", "inspect", "-f", "{{.Id}}", "built:1")); id != want {
		t.Errorf("build -q printed %q, want %s", id, want)
	}

	failing := t.TempDir()
	if err := os.WriteFile(filepath.Join(failing, "Dockerfile"), []byte("FROM busybox\nRUN echo failing-step; exit 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := d.docker("build", "-t", "broken:1", failing)
	if exitCode(err) != 3 || !strings.Contains(out, "failing-step") || !strings.Contains(stderr, "returned a non-zero code: 3") {
		t.Errorf("failing build: exit %d\nstdout: %s\nstderr: %s", exitCode(err), out, stderr)
	}
	if out := d.mustDocker("ps", "-aq"); out != "" {
		t.Errorf("containers left by the failed build: %q", out)
	}
	if out := d.mustDocker("images", "-q", "broken"); out != "" {
		t.Errorf("the failed build tagged an image: %q", out)
	}
	_, stderr, err = d.docker("build", "-f", "../escape", failing)
	if exitCode(err) == 0 {
		t.Errorf("a Dockerfile outside the context was accepted: %q", stderr)
	}
}
