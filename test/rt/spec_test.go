//go:build integration && linux

package rt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

func readSpec(t *testing.T, path string) *specs.Spec {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s is not a runtime-spec config: %v", path, err)
	}
	return &s
}

// TestSpecDefault: spec writes runc's default config.json into the current
// directory; it matches the harness's DefaultSpec field by field, so the
// bundles every other test uses are the runtime's own defaults.
//
// runc 1.1 also filled the ambient capability set; runc ≥1.2 (and so rt)
// leaves it empty. Ambient caps and ociVersion are therefore not compared.
func TestSpecDefault(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	dir := t.TempDir()
	if res := r.RunWith(harness.Opts{Dir: dir}, "spec"); res.ExitCode != 0 {
		t.Fatalf("spec: %s", res)
	}
	got, want := readSpec(t, filepath.Join(dir, "config.json")), harness.DefaultSpec()

	if got.Version == "" {
		t.Errorf("ociVersion is empty")
	}
	if got.Process == nil || got.Root == nil || got.Linux == nil {
		t.Fatalf("spec lacks process, root or linux:\n%s", harness.PrettyJSON(got))
	}
	compare := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s:\n got %s\nwant %s", name, harness.PrettyJSON(a), harness.PrettyJSON(b))
		}
	}
	compare("root", got.Root, want.Root)
	compare("process.args", got.Process.Args, want.Process.Args)
	compare("process.env", got.Process.Env, want.Process.Env)
	compare("process.cwd", got.Process.Cwd, want.Process.Cwd)
	compare("process.terminal", got.Process.Terminal, want.Process.Terminal)
	compare("process.user", got.Process.User, want.Process.User)
	compare("process.noNewPrivileges", got.Process.NoNewPrivileges, want.Process.NoNewPrivileges)
	compare("process.rlimits", got.Process.Rlimits, want.Process.Rlimits)
	compare("capabilities.bounding", got.Process.Capabilities.Bounding, want.Process.Capabilities.Bounding)
	compare("capabilities.effective", got.Process.Capabilities.Effective, want.Process.Capabilities.Effective)
	compare("capabilities.permitted", got.Process.Capabilities.Permitted, want.Process.Capabilities.Permitted)
	compare("hostname", got.Hostname, want.Hostname)
	compare("mounts", got.Mounts, want.Mounts)
	compare("linux.namespaces", got.Linux.Namespaces, want.Linux.Namespaces)
	compare("linux.maskedPaths", got.Linux.MaskedPaths, want.Linux.MaskedPaths)
	compare("linux.readonlyPaths", got.Linux.ReadonlyPaths, want.Linux.ReadonlyPaths)
	compare("linux.resources", got.Linux.Resources, want.Linux.Resources)
}

// TestSpecRefusesExisting: spec never overwrites an existing config.json.
func TestSpecRefusesExisting(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	const keep = `{"keep":"me"}`
	if err := os.WriteFile(path, []byte(keep), 0o644); err != nil {
		t.Fatal(err)
	}
	harness.OneLineError(t, r.RunWith(harness.Opts{Dir: dir}, "spec"))
	harness.OneLineError(t, r.Run("spec", "--bundle", dir))
	if data, _ := os.ReadFile(path); string(data) != keep {
		t.Errorf("config.json was changed to %q", data)
	}
}

// TestSpecBundleFlag: spec --bundle writes into that directory, not the
// current one.
func TestSpecBundleFlag(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	cwd, dir := t.TempDir(), t.TempDir()
	if res := r.RunWith(harness.Opts{Dir: cwd}, "spec", "--bundle", dir); res.ExitCode != 0 {
		t.Fatalf("spec --bundle: %s", res)
	}
	readSpec(t, filepath.Join(dir, "config.json"))
	if _, err := os.Stat(filepath.Join(cwd, "config.json")); err == nil {
		t.Errorf("spec --bundle also wrote config.json into the working directory")
	}
}

// TestSpecRootless: spec --rootless adds a user namespace mapping the
// caller and drops the network namespace.
func TestSpecRootless(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	dir := t.TempDir()
	if res := r.Run("spec", "--rootless", "--bundle", dir); res.ExitCode != 0 {
		t.Fatalf("spec --rootless: %s", res)
	}
	s := readSpec(t, filepath.Join(dir, "config.json"))
	var types []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		types = append(types, ns.Type)
	}
	if !slices.Contains(types, specs.UserNamespace) || slices.Contains(types, specs.NetworkNamespace) {
		t.Errorf("namespaces %v: want user, no network", types)
	}
	if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0].HostID != uint32(os.Geteuid()) || s.Linux.UIDMappings[0].ContainerID != 0 {
		t.Errorf("uidMappings %+v, want container 0 → host %d", s.Linux.UIDMappings, os.Geteuid())
	}
	if len(s.Linux.GIDMappings) != 1 || s.Linux.GIDMappings[0].HostID != uint32(os.Getegid()) {
		t.Errorf("gidMappings %+v, want container 0 → host %d", s.Linux.GIDMappings, os.Getegid())
	}
}

// TestSpecIsRunnable: the generated config runs as is, given a rootfs and
// a non-interactive process.
func TestSpecIsRunnable(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	dir := t.TempDir()
	if res := r.Run("spec", "--bundle", dir); res.ExitCode != 0 {
		t.Fatalf("spec: %s", res)
	}
	if err := harness.BuildRootfs(filepath.Join(dir, "rootfs")); err != nil {
		t.Fatal(err)
	}
	s := readSpec(t, filepath.Join(dir, "config.json"))
	s.Process.Terminal = false
	s.Process.Args = []string{"hostname"}
	data, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	id := harness.ID(t)
	res := r.Run("run", "--bundle", dir, id)
	if res.ExitCode != 0 || strings.TrimSpace(res.Stdout) != s.Hostname {
		t.Errorf("want exit 0 printing hostname %q: %s", s.Hostname, res)
	}
	harness.AssertNothingLeft(t, r, id, dir)
}
