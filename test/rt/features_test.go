//go:build integration && linux

package rt

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/berthrun/berth/test/internal/harness"
)

var semverRe = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$`)

// versionLess compares x.y.z[-pre] versions (a pre-release sorts before
// its release).
func versionLess(a, b string) bool {
	ma, mb := semverRe.FindStringSubmatch(a), semverRe.FindStringSubmatch(b)
	for i := 1; i <= 3; i++ {
		x, _ := strconv.Atoi(ma[i])
		y, _ := strconv.Atoi(mb[i])
		if x != y {
			return x < y
		}
	}
	return ma[4] != "" && (mb[4] == "" || ma[4] < mb[4])
}

// TestFeatures: features prints a runtime-spec features document: version
// range, hooks, mount options, namespaces, capabilities and cgroup support.
func TestFeatures(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	res := r.MustRun("features")
	dec := json.NewDecoder(strings.NewReader(res.Stdout))
	var f features.Features
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("features is not a features document: %v\n%s", err, res.Stdout)
	}
	if dec.More() {
		t.Errorf("trailing data after the features document")
	}

	for name, v := range map[string]string{"ociVersionMin": f.OCIVersionMin, "ociVersionMax": f.OCIVersionMax} {
		if !semverRe.MatchString(v) {
			t.Fatalf("%s %q is not a semantic version", name, v)
		}
	}
	if versionLess(f.OCIVersionMax, f.OCIVersionMin) {
		t.Errorf("ociVersionMax %s < ociVersionMin %s", f.OCIVersionMax, f.OCIVersionMin)
	}
	if versionLess(f.OCIVersionMin, "1.0.0") || !versionLess(f.OCIVersionMin, "2.0.0") {
		t.Errorf("ociVersionMin %s outside 1.x", f.OCIVersionMin)
	}

	need := func(what string, have []string, want ...string) {
		for _, w := range want {
			if !slices.Contains(have, w) {
				t.Errorf("%s lacks %q: %v", what, w, have)
			}
		}
	}
	need("hooks", f.Hooks, "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
	// every mount flag the default spec and the harness use
	need("mountOptions", f.MountOptions, "bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec", "relatime", "strictatime", "rprivate")
	if f.Linux == nil {
		t.Fatalf("no linux section:\n%s", res.Stdout)
	}
	need("linux.namespaces", f.Linux.Namespaces, "cgroup", "ipc", "mount", "network", "pid", "user", "uts")
	need("linux.capabilities", f.Linux.Capabilities, "CAP_SYS_ADMIN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE", "CAP_CHOWN")
	for _, c := range f.Linux.Capabilities {
		if !strings.HasPrefix(c, "CAP_") {
			t.Errorf("capability %q lacks the CAP_ prefix", c)
		}
	}
	if f.Linux.Cgroup == nil || f.Linux.Cgroup.V1 == nil || !*f.Linux.Cgroup.V1 || f.Linux.Cgroup.V2 == nil || !*f.Linux.Cgroup.V2 {
		t.Errorf("linux.cgroup should report v1 and v2 support: %s", harness.PrettyJSON(f.Linux.Cgroup))
	}
}
