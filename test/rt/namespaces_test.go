//go:build integration && linux

package rt

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/test/internal/harness"
)

// nsFiles maps runtime-spec namespace types to their /proc/<pid>/ns names.
var nsFiles = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.MountNamespace:   "mnt",
	specs.CgroupNamespace:  "cgroup",
}

// containerNamespaces runs a container that prints its own /proc/self/ns
// links and returns them by name.
func containerNamespaces(t *testing.T, opts ...harness.SpecOpt) map[string]string {
	t.Helper()
	r := harness.NewRuntime(t)
	var script strings.Builder
	for _, n := range nsFiles {
		fmt.Fprintf(&script, "echo %s $(readlink /proc/self/ns/%s); ", n, n)
	}
	b := harness.NewBundle(t, append(opts, harness.WithShell(script.String()))...)
	res := r.Run("run", "--bundle", b.Dir, harness.ID(t))
	if res.ExitCode != 0 {
		t.Fatalf("run: %s", res)
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			got[f[0]] = f[1]
		}
	}
	return got
}

// TestNamespaces: every namespace in the config is a new one; one removed
// from the config is the host's. Table: which namespace is left out.
func TestNamespaces(t *testing.T) {
	t.Parallel()
	cases := []specs.LinuxNamespaceType{"", specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.PIDNamespace}
	for _, shared := range cases {
		name := "all-private"
		if shared != "" {
			name = "host-" + string(shared)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := []harness.SpecOpt{harness.WithNamespace(specs.CgroupNamespace, "")}
			if shared != "" {
				opts = append(opts, harness.WithoutNamespace(shared))
				if shared == specs.UTSNamespace {
					opts = append(opts, harness.WithHostname(""))
				}
			}
			got := containerNamespaces(t, opts...)
			for typ, file := range nsFiles {
				host := harness.MustNamespace(t, "self", file)
				if got[file] == "" {
					t.Errorf("container printed no %s namespace", file)
					continue
				}
				if typ == shared && got[file] != host {
					t.Errorf("%s: container %s, want the host's %s", file, got[file], host)
				}
				if typ != shared && got[file] == host {
					t.Errorf("%s: container shares the host's %s, want a new namespace", file, host)
				}
			}
		})
	}
}

// TestNamespaceJoinPath: a namespace with a path joins that namespace (here
// another container's network and IPC namespaces).
func TestNamespaceJoinPath(t *testing.T) {
	t.Parallel()
	_, _, st, _ := sleeper(t)
	netPath := fmt.Sprintf("/proc/%d/ns/net", st.Pid)
	ipcPath := fmt.Sprintf("/proc/%d/ns/ipc", st.Pid)
	got := containerNamespaces(t,
		harness.WithNamespace(specs.NetworkNamespace, netPath),
		harness.WithNamespace(specs.IPCNamespace, ipcPath))
	if want := harness.MustNamespace(t, st.Pid, "net"); got["net"] != want {
		t.Errorf("net namespace %s, want the other container's %s", got["net"], want)
	}
	if want := harness.MustNamespace(t, st.Pid, "ipc"); got["ipc"] != want {
		t.Errorf("ipc namespace %s, want the other container's %s", got["ipc"], want)
	}
	if other := harness.MustNamespace(t, st.Pid, "uts"); got["uts"] == other {
		t.Errorf("uts namespace was joined too (%s)", other)
	}
}

// TestNetworkNamespaceIsolated: a new network namespace has only a
// loopback interface, and it is down until someone brings it up.
func TestNetworkNamespaceIsolated(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithShell(`ls /sys/class/net`))
	res := r.Run("run", "--bundle", b.Dir, harness.ID(t))
	if res.ExitCode != 0 {
		t.Fatalf("run: %s", res)
	}
	if got := strings.Fields(res.Stdout); len(got) != 1 || got[0] != "lo" {
		t.Errorf("interfaces %q, want only lo", got)
	}
}
