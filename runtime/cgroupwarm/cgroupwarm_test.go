package cgroupwarm

import (
	"os"
	"reflect"
	"testing"
	"time"
)

func TestProcsFiles(t *testing.T) {
	for _, tc := range []struct {
		name, cgroup string
		want         []string
	}{
		{
			name:   "cgroup v2",
			cgroup: "0::/user.slice/session-1.scope\n",
			want: []string{
				"/sys/fs/cgroup/user.slice/session-1.scope/cgroup.procs",
				"/sys/fs/cgroup/unified/user.slice/session-1.scope/cgroup.procs",
			},
		},
		{
			name: "hybrid: unified first, named hierarchies skipped",
			cgroup: "10:hugetlb:/\n9:name=systemd:/\n8:pids:/\n4:memory:/process_api/efe8\n" +
				"1:cpu,cpuacct:/\n0::/\n",
			want: []string{
				"/sys/fs/cgroup/cgroup.procs",
				"/sys/fs/cgroup/unified/cgroup.procs",
				"/sys/fs/cgroup/hugetlb/cgroup.procs",
				"/sys/fs/cgroup/pids/cgroup.procs",
				"/sys/fs/cgroup/memory/process_api/efe8/cgroup.procs",
				"/sys/fs/cgroup/cpu,cpuacct/cgroup.procs",
			},
		},
		{
			name:   "v1 only",
			cgroup: "3:devices:/docker/abc\n",
			want:   []string{"/sys/fs/cgroup/devices/docker/abc/cgroup.procs"},
		},
		{
			name:   "nothing usable: malformed lines, relative paths",
			cgroup: "garbage\n2:cpu\n1:cpu:relative\n\n",
			want:   nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := procsFiles("/sys/fs/cgroup", []byte(tc.cgroup))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("procsFiles:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// The move is to where the process is: its cgroups are the same after.
func TestBeginMovesNowhere(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to write cgroup.procs")
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	w := New()
	w.done = make(chan error, 1)
	if !w.Begin() {
		t.Fatal("Begin did not begin")
	}
	select {
	case err := <-w.done:
		if err != nil {
			t.Fatalf("move: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("move did not return")
	}
	after, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("cgroups changed:\n%s\n->\n%s", before, after)
	}
	if !w.Begin() { // done: a later start warms again
		t.Fatal("second Begin did not begin")
	}
	if err := <-w.done; err != nil {
		t.Fatalf("second move: %v", err)
	}
}

// One move at a time: a Begin while one is under way does nothing.
func TestBeginWhileBusy(t *testing.T) {
	w := New()
	w.busy.Store(true)
	if w.Begin() {
		t.Fatal("Begin began a second move")
	}
}

func TestNilWarmer(t *testing.T) {
	var w *Warmer
	if w.Begin() {
		t.Fatal("a nil Warmer began a move")
	}
}
