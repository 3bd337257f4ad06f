//go:build integration && linux

package build

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// imageConfig is the part of `mgr image inspect` these tests read.
type imageConfig struct {
	ID     string
	Config struct {
		Cmd, Env, OnBuild, Shell []string
		WorkingDir, User         string
		Healthcheck              *struct {
			Test     []string
			Interval time.Duration
			Retries  int
		}
	}
}

func (m *mgr) inspectImage(ref string) imageConfig {
	m.t.Helper()
	var out []imageConfig
	if err := json.Unmarshal([]byte(m.ok("image", "inspect", ref).stdout), &out); err != nil || len(out) != 1 {
		m.t.Fatalf("image inspect %s: %v", ref, err)
	}
	return out[0]
}

// TestDockerConfigFields: HEALTHCHECK, ONBUILD and SHELL land in the image
// config as docker writes them; a build FROM that image runs the ONBUILD
// trigger once and the child image does not carry it on; RUN uses SHELL.
func TestDockerConfigFields(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	base := buildContext(t, map[string]string{"Dockerfile": `FROM busybox
SHELL ["/bin/sh", "-ec"]
RUN echo "$0 $-" > /shell-flags
HEALTHCHECK --interval=5s --retries=2 CMD wget -q -O- http://127.0.0.1/ || exit 1
ONBUILD RUN echo triggered > /trigger
`})
	m.ok("build", "-t", "base:1", base)
	cfg := m.inspectImage("base:1").Config
	if hc := cfg.Healthcheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD-SHELL", "wget -q -O- http://127.0.0.1/ || exit 1"}) || hc.Interval != 5*time.Second || hc.Retries != 2 {
		t.Errorf("Healthcheck = %+v", hc)
	}
	if !slices.Equal(cfg.OnBuild, []string{"RUN echo triggered > /trigger"}) {
		t.Errorf("OnBuild = %q", cfg.OnBuild)
	}
	if !slices.Equal(cfg.Shell, []string{"/bin/sh", "-ec"}) {
		t.Errorf("Shell = %q", cfg.Shell)
	}
	// busybox sh reports the flags it runs with in $-: e from -ec.
	if out := m.ok("run", "--rm", "--network", "none", "base:1", "cat", "/shell-flags").stdout; !strings.HasPrefix(out, "/bin/sh ") || !strings.Contains(strings.Fields(out)[1], "e") {
		t.Errorf("RUN under SHELL [/bin/sh -ec] saw %q", out)
	}
	if h := m.ok("history", "--no-trunc", "base:1").stdout; !strings.Contains(h, "HEALTHCHECK --interval=5s --retries=2 CMD wget") || !strings.Contains(h, "ONBUILD RUN echo triggered") {
		t.Errorf("history lacks HEALTHCHECK or ONBUILD:\n%s", h)
	}

	child := buildContext(t, map[string]string{"Dockerfile": "FROM base:1\nRUN cat /trigger > /seen\n"})
	r := m.ok("build", "-t", "child:1", child)
	if !strings.Contains(r.stdout, "# Executing 1 build trigger") {
		t.Errorf("no trigger ran:\n%s", r)
	}
	if out := m.ok("run", "--rm", "--network", "none", "child:1", "cat", "/seen").stdout; out != "triggered\n" {
		t.Errorf("child /seen = %q", out)
	}
	if ob := m.inspectImage("child:1").Config.OnBuild; len(ob) != 0 {
		t.Errorf("child still carries OnBuild %q", ob)
	}
	if m.inspectImage("child:1").Config.Healthcheck == nil {
		t.Errorf("child lost the inherited Healthcheck")
	}

	bad := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nONBUILD FROM busybox\n"})
	if r := m.run("build", bad); r.code != 1 || !strings.Contains(r.stderr, "FROM") {
		t.Errorf("ONBUILD FROM accepted\n%s", r)
	}
}

// TestPushPull: a built image pushed to the test registry and pulled into
// another store (by a build's --pull) has the same image ID and runs the
// same: config and layers survive the round trip.
func TestPushPull(t *testing.T) {
	t.Parallel()
	reg := harness.StartRegistry(t, "", "")
	m := newMgr(t)
	ref := reg.Host + "/built/app:1"
	ctx := buildContext(t, map[string]string{
		"Dockerfile": `FROM busybox AS tools
RUN mkdir -p /out && echo made-in-stage-one > /out/artefact
FROM busybox
COPY --from=tools /out/artefact /app/artefact
WORKDIR /app
ENV GREETING=hello
USER 1000:1000
CMD ["sh", "-c", "echo $GREETING $(cat artefact) $(pwd) $(id -u)"]
`})
	m.ok("build", "-t", ref, ctx)
	want := "hello made-in-stage-one /app 1000\n"
	if out := m.ok("run", "--rm", "--network", "none", ref).stdout; out != want {
		t.Fatalf("built image printed %q, want %q", out, want)
	}
	built := m.inspectImage(ref)
	m.ok("push", ref)

	// Another store builds on it: with MGR_PULL=never a missing base is an
	// error; --pull fetches it.
	other := newMgr(t)
	derived := buildContext(t, map[string]string{"Dockerfile": "FROM " + ref + "\nUSER 0\nRUN cat artefact > again\n"})
	if r := other.run("build", "-t", "derived:1", derived); r.code != 1 || !strings.Contains(r.stderr, "FROM "+ref) {
		t.Errorf("FROM a missing image under MGR_PULL=never\n%s", r)
	}
	other.ok("build", "--pull", "-t", "derived:1", derived)
	if out := other.ok("run", "--rm", "--network", "none", "derived:1", "cat", "again").stdout; out != "made-in-stage-one\n" {
		t.Errorf("derived image: %q", out)
	}
	pulled := other.inspectImage(ref)
	if pulled.ID != built.ID {
		t.Errorf("pulled image ID %s, built %s", pulled.ID, built.ID)
	}
	if out := other.ok("run", "--rm", "--network", "none", ref).stdout; out != want {
		t.Errorf("pulled image printed %q, want %q", out, want)
	}
	if h := other.ok("history", "--no-trunc", ref).stdout; !strings.Contains(h, "WORKDIR /app") || !strings.Contains(h, "COPY") {
		t.Errorf("pulled history:\n%s", h)
	}
}

// TestRunNetwork: RUN steps join the default network, as docker's classic
// builder's do (an address in the test's own subnet, and no veth left on
// its bridge once the build is done); --network none gives them only lo.
func TestRunNetwork(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN ip -4 -o addr show eth0 > /addr; ls /sys/class/net > /ifs\n"})
	m.ok("build", "-t", "net:1", ctx)
	if out := m.ok("run", "--rm", "--network", "none", "net:1", "cat", "/addr").stdout; !strings.Contains(out, "inet "+m.network.Prefix) {
		t.Errorf("RUN on the default network: eth0 is %q, want an address in %s", out, m.network.Subnet)
	}
	if ports, err := os.ReadDir(filepath.Join("/sys/class/net", m.network.Bridge, "brif")); err != nil || len(ports) != 0 {
		t.Errorf("bridge %s after the build: ports %v (%v)", m.network.Bridge, ports, err)
	}
	m.ok("build", "--network", "none", "-t", "net:2", "--no-cache", ctx)
	if out := m.ok("run", "--rm", "--network", "none", "net:2", "cat", "/ifs").stdout; out != "lo\n" {
		t.Errorf("RUN --network none saw interfaces %q", out)
	}
}
