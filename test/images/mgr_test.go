//go:build integration && linux

package images

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mgr runs bin/mgr over a data root, runtime root and credentials dir of
// its own, passed through MGR_ROOT, MGR_RUNROOT and MGR_CONFIG.
type mgr struct {
	t                     testing.TB
	root, runroot, config string
}

func newMgr(t testing.TB) *mgr {
	t.Helper()
	dir := t.TempDir()
	return &mgr{t: t, root: filepath.Join(dir, "root"), runroot: filepath.Join(dir, "run"), config: filepath.Join(dir, "config")}
}

type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return "mgr " + strings.Join(r.args, " ") + ": exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "stderr:\n" + r.stderr
}

func (m *mgr) env() []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "MGR_") })
	return append(env, "MGR_ROOT="+m.root, "MGR_RUNROOT="+m.runroot, "MGR_CONFIG="+m.config)
}

// cmd prepares mgr args with a generous deadline: it guards against hangs,
// no assertion depends on it.
func (m *mgr) cmd(ctx context.Context, stdin string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	c := exec.CommandContext(ctx, mgrBinary, args...)
	c.Env = m.env()
	c.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	c.WaitDelay = 5 * time.Second
	return c, &stdout, &stderr
}

func (m *mgr) runStdin(stdin string, args ...string) result {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, stdout, stderr := m.cmd(ctx, stdin, args...)
	err := c.Run()
	res := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		m.t.Fatalf("mgr %s: no answer within 2 minutes\n%s", strings.Join(args, " "), res)
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		m.t.Fatalf("mgr %s: %v", strings.Join(args, " "), err)
	}
	return res
}

func (m *mgr) run(args ...string) result {
	m.t.Helper()
	return m.runStdin("", args...)
}

// must runs mgr and fails the test unless it exits 0; it returns stdout.
func (m *mgr) must(args ...string) string {
	m.t.Helper()
	res := m.run(args...)
	if res.code != 0 {
		m.t.Fatalf("%s", res)
	}
	return res.stdout
}

// fails checks that res is a failure of mgr itself (exit 125) explained
// by one line on stderr that contains want.
func fails(t testing.TB, res result, want string) {
	t.Helper()
	if res.code != 125 {
		t.Fatalf("want exit 125, got %s", res)
	}
	lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "mgr: ") {
		t.Errorf("want one line \"mgr: ...\" on stderr, got %s", res)
	}
	if !strings.Contains(res.stderr, want) {
		t.Errorf("stderr does not say %q: %s", want, res)
	}
}

// inspection is the part of `image inspect` the tests look at.
type inspection struct {
	ID          string
	RepoTags    []string
	RepoDigests []string
	Config      struct{ Cmd, Env []string }
	RootFS      struct{ Layers []string }
	Descriptor  struct {
		Digest string
		Size   int64
	}
}

func (m *mgr) inspect(ref string) inspection {
	m.t.Helper()
	var out []inspection
	if err := json.Unmarshal([]byte(m.must("image", "inspect", ref)), &out); err != nil || len(out) != 1 {
		m.t.Fatalf("image inspect %s: %v (%d documents)", ref, err, len(out))
	}
	return out[0]
}

// images is `images` as sorted "repo:tag id digest" lines: a fingerprint
// of what the store holds.
func (m *mgr) images() []string {
	m.t.Helper()
	out := m.must("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}")
	lines := strings.Fields(strings.ReplaceAll(out, " ", "|"))
	slices.Sort(lines)
	return lines
}

// list returns the names in dir (none when it does not exist).
func list(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func (m *mgr) blobs() []string     { return list(m.t, filepath.Join(m.root, "content", "blobs", "sha256")) }
func (m *mgr) snapshots() []string { return list(m.t, filepath.Join(m.root, "snapshots")) }

// storeState is everything a failed or concurrent operation must leave
// consistent: names, blobs, unpacked layers, and no temp files.
type storeState struct {
	images, blobs, snapshots []string
}

func (m *mgr) state() storeState {
	m.t.Helper()
	return storeState{images: m.images(), blobs: m.blobs(), snapshots: m.snapshots()}
}

func (m *mgr) assertState(want storeState) {
	m.t.Helper()
	got := m.state()
	if !slices.Equal(got.images, want.images) {
		m.t.Errorf("images changed:\n got %q\nwant %q", got.images, want.images)
	}
	if !slices.Equal(got.blobs, want.blobs) {
		m.t.Errorf("content blobs changed:\n got %q\nwant %q", got.blobs, want.blobs)
	}
	if !slices.Equal(got.snapshots, want.snapshots) {
		m.t.Errorf("snapshots changed:\n got %q\nwant %q", got.snapshots, want.snapshots)
	}
	m.assertNoTemp()
}

// assertNoTemp: no half-written blob or half-unpacked layer left behind.
func (m *mgr) assertNoTemp() {
	m.t.Helper()
	if l := list(m.t, filepath.Join(m.root, "content", "ingest")); len(l) > 0 {
		m.t.Errorf("content/ingest not empty: %q", l)
	}
	for _, s := range m.snapshots() {
		if strings.HasPrefix(s, "tmp-") {
			m.t.Errorf("temporary snapshot dir left: %s", s)
		}
	}
}
