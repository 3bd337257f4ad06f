//go:build integration && linux

// Package build holds the end-to-end tests of `mgr build`: multi-stage
// builds, ARG/ENV substitution, .dockerignore, USER and WORKDIR at run
// time, the step cache, --target and a failing RUN that leaves nothing
// behind. They run <repo>/bin/mgr as root, each test with its own data
// root, runtime root, config dir and default network (its own bridge and
// /24), and only the busybox image from hack/mkimage.sh (MGR_PULL=never:
// no pulls from outside).
package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

var (
	mgrBinary  string // <repo>/bin/mgr
	busyboxTar string // docker-archive of busybox:latest
)

func TestMain(m *testing.M) {
	var s harness.MgrSuite
	harness.MgrMain(m, "build", &s, nil, func(s *harness.MgrSuite) error {
		mgrBinary, busyboxTar = s.Mgr, s.BusyboxTar
		return nil
	})
}

// mgr runs bin/mgr over roots of its own, busybox loaded.
type mgr struct {
	t                             testing.TB
	root, runroot, config, cniDir string
	network                       harness.BridgeNetwork // the default network RUN steps use
}

func newMgr(t testing.TB) *mgr {
	t.Helper()
	dir := t.TempDir()
	// The runtime root stays short: shim sockets live under it.
	runroot, err := os.MkdirTemp("/tmp", "mgrb")
	if err != nil {
		t.Fatal(err)
	}
	m := &mgr{t: t, root: filepath.Join(dir, "root"), runroot: runroot, config: filepath.Join(dir, "config"), cniDir: filepath.Join(dir, "cni")}
	// 10.250.0.0-10.251.255.0: test/mgr and test/network take 10.200-10.249.
	m.network = harness.NewBridgeNetwork(t, "bb", 250, 2)
	m.network.Write(t, m.cniDir)
	t.Cleanup(func() {
		for _, mp := range harness.MountsReferencing(t, m.root) {
			t.Errorf("mount left under the data root: %s", mp)
		}
		for _, mp := range harness.MountsReferencing(t, m.runroot) {
			t.Errorf("mount left under the runtime root: %s", mp)
		}
		m.network.Remove(t)
		_ = os.RemoveAll(runroot)
	})
	m.ok("load", "-i", busyboxTar)
	return m
}

type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return "mgr " + strings.Join(r.args, " ") + ": exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "stderr:\n" + r.stderr
}

func (m *mgr) run(args ...string) result {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, mgrBinary, args...)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "MGR_") })
	c.Env = append(env, "MGR_ROOT="+m.root, "MGR_RUNROOT="+m.runroot, "MGR_CONFIG="+m.config, "MGR_CNI_CONFIG_DIR="+m.cniDir, "MGR_PULL=never")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	c.WaitDelay = 5 * time.Second
	err := c.Run()
	res := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		m.t.Fatalf("no answer within 2 minutes\n%s", res)
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		m.t.Fatalf("mgr %s: %v", strings.Join(args, " "), err)
	}
	return res
}

func (m *mgr) ok(args ...string) result {
	m.t.Helper()
	r := m.run(args...)
	if r.code != 0 {
		m.t.Fatalf("want success\n%s", r)
	}
	return r
}

// context writes a build context: file name -> content.
func buildContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
