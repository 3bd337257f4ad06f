//go:build integration && linux

package harness

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// ProcessGone reports whether pid no longer runs (absent, or a zombie that
// its new parent has not reaped yet).
func ProcessGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// the state follows the parenthesised comm, which may contain spaces
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] == 'Z' || s[i+2] == 'X'
}

// WaitProcessGone fails the test if pid is still alive after a while.
func WaitProcessGone(t testing.TB, pid int) {
	t.Helper()
	if !Poll(20*time.Second, func() bool { return ProcessGone(pid) }) {
		t.Errorf("process %d still runs", pid)
	}
}

// Cmdline returns /proc/<pid>/cmdline as arguments.
func Cmdline(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), nil
}

// Namespace returns the namespace identity ("net:[4026531840]") of pid
// ("self" allowed) for kind (net, uts, ipc, pid, mnt, cgroup, user, time).
func Namespace(pid any, kind string) (string, error) {
	return os.Readlink(fmt.Sprintf("/proc/%v/ns/%s", pid, kind))
}

// MustNamespace is Namespace that fails the test on error.
func MustNamespace(t testing.TB, pid any, kind string) string {
	t.Helper()
	ns, err := Namespace(pid, kind)
	if err != nil {
		t.Fatalf("namespace %s of %v: %v", kind, pid, err)
	}
	return ns
}

// StatusField returns a field of /proc/<pid>/status (e.g. "CapEff") from
// the content of that file.
func StatusField(status, field string) (string, bool) {
	for _, l := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok && k == field {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
