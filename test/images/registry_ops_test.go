//go:build integration && linux

package images

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

var pushedDigest = regexp.MustCompile(`digest: (sha256:[0-9a-f]{64}) size: \d+`)

// push pushes ref and returns the manifest digest mgr reports.
func (m *mgr) push(ref string) string {
	m.t.Helper()
	out := m.must("push", ref)
	d := pushedDigest.FindStringSubmatch(out)
	if d == nil {
		m.t.Fatalf("push %s printed no digest:\n%s", ref, out)
	}
	return d[1]
}

// TestPushPullRoundTrip: an image loaded from an archive, pushed, removed and
// pulled back is the same image (ID, layers) under the manifest digest the
// registry itself computes, shown by images --digests and image inspect.
func TestPushPullRoundTrip(t *testing.T) {
	t.Parallel()
	reg := harness.StartRegistry(t, "", "")
	m := newMgr(t)
	m.must("load", "-i", busyboxTar)
	loaded := m.inspect("busybox")
	ref := reg.Host + "/team/busybox:1.0"
	m.must("tag", "busybox", ref)
	pushed := m.push(ref)
	if served := reg.ManifestDigest("team/busybox", "1.0"); served != pushed {
		t.Fatalf("push reported %s, registry serves %s", pushed, served)
	}
	if got := m.inspect(ref).RepoDigests; !slices.Contains(got, reg.Host+"/team/busybox@"+pushed) {
		t.Errorf("after push, RepoDigests = %q, want %s@%s", got, reg.Host+"/team/busybox", pushed)
	}

	m.must("rmi", ref, "busybox")
	if imgs := m.images(); len(imgs) != 0 {
		t.Fatalf("images after rmi: %q", imgs)
	}
	if b, s := m.blobs(), m.snapshots(); len(b)+len(s) != 0 {
		t.Fatalf("after rmi of the last name: blobs %q, snapshots %q", b, s)
	}

	out := m.must("pull", ref)
	if !strings.Contains(out, "Digest: "+pushed) {
		t.Errorf("pull does not print Digest: %s:\n%s", pushed, out)
	}
	pulled := m.inspect(ref)
	if pulled.ID != loaded.ID {
		t.Errorf("pulled image ID %s, loaded %s", pulled.ID, loaded.ID)
	}
	if !slices.Equal(pulled.RootFS.Layers, loaded.RootFS.Layers) {
		t.Errorf("pulled layers %q, loaded %q", pulled.RootFS.Layers, loaded.RootFS.Layers)
	}
	if pulled.Descriptor.Digest != pushed {
		t.Errorf("pulled Descriptor.Digest %s, pushed %s", pulled.Descriptor.Digest, pushed)
	}
	if want := reg.Host + "/team/busybox@" + pushed; !slices.Equal(pulled.RepoDigests, []string{want}) {
		t.Errorf("RepoDigests %q, want [%s]", pulled.RepoDigests, want)
	}
	listed := m.must("images", "--digests", "--no-trunc", "--format", "{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}")
	if want := reg.Host + "/team/busybox 1.0 " + pushed + " " + loaded.ID + "\n"; listed != want {
		t.Errorf("images --digests:\n got %q\nwant %q", listed, want)
	}
	// by digest too
	if got := m.inspect(reg.Host + "/team/busybox@" + pushed).ID; got != loaded.ID {
		t.Errorf("inspect by repo digest: %s, want %s", got, loaded.ID)
	}
}

var progressLine = regexp.MustCompile(`(?m)^([0-9a-f]{12}): (.*)$`)

// TestPullTwiceFetchesNothing: the second pull of an image already present
// says "Already exists" for every layer, makes the registry serve no blob,
// and writes nothing to the content store.
func TestPullTwiceFetchesNothing(t *testing.T) {
	t.Parallel()
	reg := harness.StartRegistry(t, "", "")
	ref := reg.Host + "/layered:1"
	pusher := newMgr(t)
	layered := layeredArchive(t, t.TempDir(), ref)
	pusher.must("load", "-i", layered)
	pusher.push(ref)

	m := newMgr(t)
	before := len(reg.BlobGETs())
	first := m.must("pull", ref)
	fetched := reg.BlobGETs()[before:]
	if len(fetched) != 3 { // config + 2 layers
		t.Fatalf("first pull fetched %d blobs, want 3 (config and 2 layers): %q\n%s", len(fetched), fetched, first)
	}
	files := contentFiles(t, m)

	second := m.must("pull", ref)
	lines := progressLine.FindAllStringSubmatch(second, -1)
	if len(lines) != 2 {
		t.Fatalf("second pull: want a progress line for each of 2 layers:\n%s", second)
	}
	for _, l := range lines {
		if l[2] != "Already exists" {
			t.Errorf("second pull, layer %s: %q, want \"Already exists\"", l[1], l[2])
		}
	}
	if again := reg.BlobGETs()[before+len(fetched):]; len(again) != 0 {
		t.Errorf("second pull fetched blobs %q, want none", again)
	}
	if after := contentFiles(t, m); !slices.Equal(after, files) {
		t.Errorf("content store changed by the second pull:\nbefore %q\nafter  %q", files, after)
	}
	if got, want := m.inspect(ref).ID, pusher.inspect(ref).ID; got != want {
		t.Errorf("pulled ID %s, pushed %s", got, want)
	}
}

// contentFiles lists every file under the content store with its size and
// modification time, so a rewrite shows as a change.
func contentFiles(t testing.TB, m *mgr) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(filepath.Join(m.root, "content"), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			out = append(out, p+" "+fi.ModTime().String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLoginLogout: against a registry demanding htpasswd auth, a wrong
// password fails and stores nothing; the right one is checked, stored 0600
// and not in clear, and lets push and pull through; logout forgets it, and
// an anonymous pull is refused with a message that says why.
func TestLoginLogout(t *testing.T) {
	t.Parallel()
	const user, password = "berth", "s3cret-Pa55word"
	reg := harness.StartRegistry(t, user, password)
	m := newMgr(t)
	cfgFile := filepath.Join(m.config, "config.json")
	ref := reg.Host + "/private/busybox:1"
	m.must("load", "-i", busyboxTar)
	m.must("tag", "busybox", ref)

	fails(t, m.run("push", ref), "access denied")

	res := m.runStdin("wrong-password\n", "login", "-u", user, "--password-stdin", reg.Host)
	fails(t, res, "wrong username or password")
	if _, err := os.Stat(cfgFile); err == nil {
		t.Errorf("failed login stored %s", cfgFile)
	}

	res = m.runStdin(password+"\n", "login", "-u", user, "--password-stdin", reg.Host)
	if res.code != 0 || strings.TrimSpace(res.stdout) != "Login Succeeded" {
		t.Fatalf("login: %s", res)
	}
	fi, err := os.Stat(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", cfgFile, fi.Mode().Perm())
	}
	data, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), password) {
		t.Errorf("%s holds the password in clear:\n%s", cfgFile, data)
	}
	var cfg struct {
		Auths map[string]struct{ Auth string }
	}
	if err := json.Unmarshal(data, &cfg); err != nil || cfg.Auths[reg.Host].Auth == "" {
		t.Errorf("%s has no auths entry for %s (%v):\n%s", cfgFile, reg.Host, err, data)
	}

	id := m.inspect(ref).ID
	m.push(ref)
	m.must("rmi", ref, "busybox")
	m.must("pull", ref)
	if got := m.inspect(ref).ID; got != id {
		t.Errorf("pulled %s, pushed %s", got, id)
	}

	if out := m.must("logout", reg.Host); !strings.Contains(out, "Removing login credentials for "+reg.Host) {
		t.Errorf("logout said %q", out)
	}
	data, _ = os.ReadFile(cfgFile)
	if strings.Contains(string(data), reg.Host) {
		t.Errorf("%s still mentions %s after logout:\n%s", cfgFile, reg.Host, data)
	}
	m.must("rmi", ref)
	fails(t, m.run("pull", ref), "access denied")
	if imgs := m.images(); len(imgs) != 0 {
		t.Errorf("a refused pull left images: %q", imgs)
	}
	if out := m.must("logout", reg.Host); !strings.Contains(out, "Not logged in to "+reg.Host) {
		t.Errorf("second logout said %q", out)
	}
}
