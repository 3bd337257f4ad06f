//go:build integration && linux

package mgr

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestRunOptions: each of run's options changes what the process inside
// sees (its output is the oracle), with docker's defaults as the baseline.
func TestRunOptions(t *testing.T) {
	t.Parallel()
	m := newMgr(t)

	envFile := filepath.Join(m.Dir, "env.list")
	if err := os.WriteFile(envFile, []byte("# a comment\nA=1\nB=two words\n\nC=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const dockerDefaultCaps = 0xa80425fb // docker's 14 default capabilities
	capEff := func(t *testing.T, out string) uint64 {
		t.Helper()
		v, err := strconv.ParseUint(statusField(t, out, "CapEff"), 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	hostIfaces := netDevNames(t, readFile(t, "/proc/net/dev"))
	hostNetns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		args  []string // run --rm ARGS
		check func(t *testing.T, out string)
		want  string // exact stdout, when check is nil
	}{
		{name: "env", args: []string{"-e", "FOO=bar", "-e", "EMPTY=", "busybox", "sh", "-c", `echo "$FOO|${EMPTY-unset}|$PATH"`},
			want: "bar||/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"},
		{name: "env-file", args: []string{"--env-file", envFile, "busybox", "sh", "-c", `echo "$A|$B|${C-unset}"`},
			want: "1|two words|\n"},
		{name: "env overrides env-file", args: []string{"--env-file", envFile, "-e", "A=9", "busybox", "sh", "-c", `echo "$A"`},
			want: "9\n"},
		{name: "workdir created", args: []string{"-w", "/srv/app", "busybox", "pwd"}, want: "/srv/app\n"},
		{name: "user nobody", args: []string{"-u", "nobody", "busybox", "sh", "-c", "id -u; id -g"}, want: "65534\n65534\n"},
		{name: "user uid:gid", args: []string{"-u", "1234:5678", "busybox", "sh", "-c", "id -u; id -g"}, want: "1234\n5678\n"},
		{name: "default user root", args: []string{"busybox", "id"},
			check: func(t *testing.T, out string) {
				if !strings.HasPrefix(out, "uid=0(root) gid=0(root)") {
					t.Errorf("id = %q, want root", out)
				}
			}},
		// the shim holds the output of a container started before mgr
		// attached: none of it is lost, however fast the exit
		{name: "output of a fast exit is whole", args: []string{"busybox", "sh", "-c", "seq 1 200000"},
			check: func(t *testing.T, out string) {
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				if len(lines) != 200000 || lines[0] != "1" || lines[len(lines)-1] != "200000" {
					t.Errorf("got %d lines (%q ... %q), want 1 ... 200000", len(lines), lines[0], lines[len(lines)-1])
				}
			}},
		{name: "entrypoint", args: []string{"--entrypoint", "echo", "busybox", "from", "entrypoint"}, want: "from entrypoint\n"},
		// docker: --entrypoint clears the image's Cmd
		{name: "entrypoint drops image cmd", args: []string{"--entrypoint", "/bin/echo", "busybox"}, want: "\n"},
		{name: "hostname", args: []string{"--hostname", "berth-h1", "busybox", "sh", "-c", "hostname; cat /etc/hostname"}, want: "berth-h1\nberth-h1\n"},
		{name: "hostname -h", args: []string{"-h", "berth-h2", "busybox", "hostname"}, want: "berth-h2\n"},
		{name: "default caps", args: []string{"busybox", "cat", "/proc/self/status"}, check: func(t *testing.T, out string) {
			if c := capEff(t, out); c != dockerDefaultCaps {
				t.Errorf("default CapEff %016x, want docker's %016x", c, dockerDefaultCaps)
			}
		}},
		{name: "cap-drop ALL", args: []string{"--cap-drop", "ALL", "busybox", "cat", "/proc/self/status"}, check: func(t *testing.T, out string) {
			if c := capEff(t, out); c != 0 {
				t.Errorf("CapEff %016x, want 0", c)
			}
		}},
		{name: "cap-add", args: []string{"--cap-add", "SYS_ADMIN", "busybox", "cat", "/proc/self/status"}, check: func(t *testing.T, out string) {
			if c := capEff(t, out); c != dockerDefaultCaps|1<<21 {
				t.Errorf("CapEff %016x, want default plus SYS_ADMIN (bit 21)", c)
			}
		}},
		{name: "privileged", args: []string{"--privileged", "busybox", "cat", "/proc/self/status"}, check: func(t *testing.T, out string) {
			if c := capEff(t, out); c <= dockerDefaultCaps || c&(1<<21) == 0 {
				t.Errorf("CapEff %016x, want more than the default, SYS_ADMIN included", c)
			}
			if s := statusField(t, out, "Seccomp"); s != "0" {
				t.Errorf("--privileged: Seccomp %s, want 0 (docker runs privileged unconfined)", s)
			}
		}},
		{name: "default seccomp and nnp", args: []string{"busybox", "cat", "/proc/self/status"}, check: func(t *testing.T, out string) {
			if s := statusField(t, out, "Seccomp"); s != "2" {
				t.Errorf("Seccomp %s, want 2 (filter mode)", s)
			}
			if s := statusField(t, out, "NoNewPrivs"); s != "0" {
				t.Errorf("NoNewPrivs %s by default, want 0", s)
			}
		}},
		{name: "no-new-privileges", args: []string{"--security-opt", "no-new-privileges", "busybox", "cat", "/proc/self/status"}, check: func(t *testing.T, out string) {
			if s := statusField(t, out, "NoNewPrivs"); s != "1" {
				t.Errorf("NoNewPrivs %s, want 1", s)
			}
		}},
		{name: "seccomp unconfined", args: []string{"--security-opt", "seccomp=unconfined", "busybox", "cat", "/proc/self/status"}, check: func(t *testing.T, out string) {
			if s := statusField(t, out, "Seccomp"); s != "0" {
				t.Errorf("Seccomp %s, want 0", s)
			}
		}},
		{name: "default network bridge", args: []string{"busybox", "sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/dev; ip -4 -o addr show eth0"}, check: func(t *testing.T, out string) {
			if strings.HasPrefix(out, hostNetns) {
				t.Errorf("the default network shares the host's netns %s", hostNetns)
			}
			if got := netDevNames(t, out); strings.Join(got, ",") != "eth0,lo" {
				t.Errorf("interfaces %v, want eth0 and lo", got)
			}
			if !strings.Contains(out, "inet "+m.SubnetPrefix) {
				t.Errorf("eth0 has no address in the test's network %s: %q", m.Subnet, out)
			}
		}},
		{name: "network none", args: []string{"--network", "none", "busybox", "sh", "-c", "cat /proc/net/dev; ip link"}, check: func(t *testing.T, out string) {
			if got := netDevNames(t, out); strings.Join(got, ",") != "lo" {
				t.Errorf("interfaces %v, want only lo", got)
			}
			if !strings.Contains(out, "lo: <LOOPBACK") {
				t.Errorf("ip link shows no lo: %q", out)
			}
		}},
		{name: "network host", args: []string{"--network", "host", "busybox", "sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/dev"}, check: func(t *testing.T, out string) {
			if !strings.HasPrefix(out, hostNetns+"\n") {
				t.Errorf("--network host: netns %q, want the host's %s", strings.SplitN(out, "\n", 2)[0], hostNetns)
			}
			got := strings.Join(netDevNames(t, out), ",")
			// Other tests' (and suites') veths and bridges come and go:
			// only interfaces the host had before and still has count.
			now := "," + strings.Join(netDevNames(t, readFile(t, "/proc/net/dev")), ",") + ","
			for _, i := range hostIfaces {
				if !strings.Contains(now, ","+i+",") {
					continue
				}
				if !strings.Contains(","+got+",", ","+i+",") {
					t.Errorf("host interface %s not seen with --network host (seen: %s)", i, got)
				}
			}
		}},
		{name: "ulimit", args: []string{"--ulimit", "nofile=1024:2048", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn"}, want: "1024\n2048\n"},
		{name: "read-only rootfs", args: []string{"--read-only", "busybox", "sh", "-c", "touch /x 2>&1; echo rc=$?"}, check: func(t *testing.T, out string) {
			if !strings.Contains(out, "Read-only file system") || !strings.Contains(out, "rc=1") {
				t.Errorf("touch / under --read-only: %q, want a Read-only file system failure", out)
			}
		}},
		{name: "writable rootfs by default", args: []string{"busybox", "sh", "-c", "touch /x && echo ok"}, want: "ok\n"},
		{name: "init", args: []string{"--init", "busybox", "sh", "-c", "cat /proc/1/comm; echo $$"}, check: func(t *testing.T, out string) {
			lines := strings.Fields(out)
			if len(lines) != 2 || lines[0] == "sh" || lines[1] == "1" {
				t.Errorf("--init: pid 1 comm and the shell's pid = %q, want an init as pid 1 and sh elsewhere", out)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := m.T(t)
			res := m.Run(append([]string{"run", "--rm"}, tc.args...)...)
			if res.Code != 0 {
				t.Fatalf("unexpected failure: %s", res)
			}
			if tc.check != nil {
				tc.check(t, res.Stdout)
			} else if res.Stdout != tc.want {
				t.Errorf("stdout %q, want %q (stderr %q)", res.Stdout, tc.want, res.Stderr)
			}
		})
	}
}

// TestBindMounts: data written through -v outlives the container; :ro and
// --mount readonly refuse writes.
func TestBindMounts(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	data := filepath.Join(m.Dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "from-host"), []byte("host data\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	res := m.Must("run", "--name", "writer", "-v", data+":/data", "busybox", "sh", "-c", "cat /data/from-host; echo persisted > /data/f")
	if res.Stdout != "host data\n" {
		t.Errorf("container read %q from the bind mount, want %q", res.Stdout, "host data\n")
	}
	m.Must("rm", "writer")
	if got := readFile(t, filepath.Join(data, "f")); got != "persisted\n" {
		t.Errorf("host file after rm: %q, want %q", got, "persisted\n")
	}

	for _, ro := range [][]string{
		{"-v", data + ":/data:ro"},
		{"--mount", "type=bind,source=" + data + ",target=/data,readonly"},
	} {
		args := append(append([]string{"run", "--rm"}, ro...), "busybox", "sh", "-c", "cat /data/f; echo x > /data/g 2>&1; echo rc=$?")
		res := m.Run(args...)
		all := res.Stdout + res.Stderr
		if res.Code != 0 || !strings.HasPrefix(res.Stdout, "persisted\n") || !strings.Contains(all, "Read-only file system") {
			t.Errorf("%v: want the file readable and writes refused: %s", ro, res)
		}
		if _, err := os.Stat(filepath.Join(data, "g")); err == nil {
			t.Errorf("%v: a write reached the host", ro)
			os.Remove(filepath.Join(data, "g"))
		}
	}

	// rw --mount: writes reach the host
	m.Must("run", "--rm", "--mount", "type=bind,source="+data+",target=/mnt/d", "busybox", "sh", "-c", "echo via-mount > /mnt/d/h")
	if got := readFile(t, filepath.Join(data, "h")); got != "via-mount\n" {
		t.Errorf("host file written through --mount: %q", got)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// netDevNames returns the interface names of a /proc/net/dev dump (lines
// "  eth0: 1234 5 ..."; other output mixed in is ignored).
func netDevNames(t *testing.T, dump string) []string {
	t.Helper()
	var names []string
	for _, l := range strings.Split(dump, "\n") {
		name, rest, ok := strings.Cut(l, ":")
		name = strings.TrimSpace(name)
		f := strings.Fields(rest)
		if !ok || name == "" || strings.ContainsAny(name, " |/") || len(f) < 8 {
			continue
		}
		if _, err := strconv.ParseUint(f[0], 10, 64); err != nil {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
