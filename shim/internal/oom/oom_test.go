//go:build linux

package oom

import "testing"

func TestFind(t *testing.T) {
	mountinfo := `25 30 0:22 / /sys rw - sysfs sysfs rw
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 /nested /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`
	tests := []struct {
		name, cgroup, want string
	}{
		{"v1", "4:memory:/a/b\n0::/x\n", "/sys/fs/cgroup/memory/a/b/memory.oom_control"},
		{"v2 with mount root", "0::/nested/c1\n", "/sys/fs/cgroup/unified/c1/memory.events"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := find([]byte(tc.cgroup), []byte(mountinfo))
			if err != nil || got != tc.want {
				t.Errorf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
	if _, err := find([]byte("0::/elsewhere\n"), []byte(mountinfo)); err == nil {
		t.Error("cgroup outside the mount root accepted")
	}
}

func TestValue(t *testing.T) {
	n, ok := Value([]byte("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), "oom_kill")
	if !ok || n != 3 {
		t.Errorf("%d %v", n, ok)
	}
}
