//go:build integration && linux

package mgr

import (
	"strings"
	"testing"
)

// TestExitCodes checks docker's exit statuses: the container's own code,
// 127 and 126 when its command cannot run, 125 for every error of mgr
// itself. Each error is one clear line on stderr and leaves `ps -a` as it
// was: no half-created container.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	// "taken" holds a name and is running (for the conflict cases)
	taken := m.RunD("--name", "taken", "busybox", "sleep", "1000")

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string // substrings of the one-line error; nil: stderr empty
	}{
		{"container exit status", []string{"run", "--rm", "busybox", "sh", "-c", "exit 3"}, 3, nil},
		{"unknown command", []string{"run", "--rm", "busybox", "nosuchcmd"}, 127, []string{"nosuchcmd", "not found"}},
		{"not executable", []string{"run", "--rm", "busybox", "/etc/passwd"}, 126, []string{"/etc/passwd", "permission denied"}},
		{"unknown command without --rm", []string{"run", "busybox", "nosuchcmd2"}, 127, []string{"nosuchcmd2"}},
		{"unknown image", []string{"run", "--rm", "nosuchimage:1.0", "true"}, 125, []string{"nosuchimage"}},
		{"unknown image create", []string{"create", "nosuchimage", "true"}, 125, []string{"nosuchimage"}},
		{"bad --memory", []string{"run", "--rm", "--memory", "abc", "busybox", "true"}, 125, []string{"memory", "abc"}},
		{"bad --restart", []string{"run", "--rm", "--restart", "bogus", "busybox", "true"}, 125, []string{"bogus"}},
		{"bad --cpus", []string{"run", "--rm", "--cpus", "-1", "busybox", "true"}, 125, []string{"cpus"}},
		{"bad --pids-limit", []string{"run", "--rm", "--pids-limit", "many", "busybox", "true"}, 125, []string{"many"}},
		{"bad --network", []string{"run", "--rm", "--network", "nosuchnet", "busybox", "true"}, 125, []string{"nosuchnet"}},
		{"bad -v", []string{"run", "--rm", "-v", "/tmp:relative", "busybox", "true"}, 125, []string{"relative"}},
		{"bad --cap-add", []string{"run", "--rm", "--cap-add", "CAP_NOPE", "busybox", "true"}, 125, []string{"NOPE"}},
		{"name in use (run)", []string{"run", "--name", "taken", "busybox", "true"}, 125, []string{"taken", "in use"}},
		{"name in use (create)", []string{"create", "--name", "taken", "busybox", "true"}, 125, []string{"taken", "in use"}},
		{"rm running without -f", []string{"rm", "taken"}, 125, []string{"taken", "running"}},
		{"stop unknown", []string{"stop", "nosuchctr"}, 125, []string{"nosuchctr"}},
		{"rm unknown", []string{"rm", "nosuchctr"}, 125, []string{"nosuchctr"}},
		{"logs unknown", []string{"logs", "nosuchctr"}, 125, []string{"nosuchctr"}},
		{"inspect unknown", []string{"inspect", "nosuchctr"}, 125, []string{"nosuchctr"}},
		{"start unknown", []string{"start", "nosuchctr"}, 125, []string{"nosuchctr"}},
		{"kill unknown", []string{"kill", "nosuchctr"}, 125, []string{"nosuchctr"}},
		{"rmi of an image a running container uses", []string{"rmi", "busybox"}, 125, []string{"being used by running container"}},
		{"rmi -f of an image a running container uses", []string{"rmi", "-f", "busybox"}, 125, []string{"cannot be forced", "running container"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := m.T(t)
			before := m.PsA()
			res := m.Run(tc.args...)
			if res.Code != tc.code {
				t.Errorf("exit %d, want %d: %s", res.Code, tc.code, res)
			}
			if tc.stderr == nil {
				if res.Stderr != "" {
					t.Errorf("stderr not empty: %s", res)
				}
			} else {
				oneLineError(t, res)
				for _, s := range tc.stderr {
					if !strings.Contains(strings.ToLower(res.Stderr), strings.ToLower(s)) {
						t.Errorf("stderr lacks %q: %s", s, res)
					}
				}
			}
			after := m.PsA()
			if strings.HasSuffix(tc.name, "without --rm") {
				// docker keeps a container whose command failed to start,
				// in state Created; here only its presence is checked
				m.Must("rm", "-f", lastCreated(t, m, before, after))
				after = m.PsA()
			}
			if after != before {
				t.Errorf("ps -a changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	if st := m.Status("taken"); !strings.HasPrefix(st, "Up") {
		t.Errorf("taken: status %q after the failed rm and the name conflicts, want Up", st)
	}
	if in := m.Inspect("taken"); in.ID != taken || !in.State.Running {
		t.Errorf("taken: %+v, want the same running container", in.State)
	}
}

// lastCreated returns the one container present in after and not in before.
func lastCreated(t *testing.T, m *Mgr, before, after string) string {
	t.Helper()
	old := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		old[l] = true
	}
	var added []string
	for _, l := range strings.Split(after, "\n") {
		if !old[l] && l != "" {
			id, _, _ := strings.Cut(l, " ")
			added = append(added, id)
		}
	}
	if len(added) != 1 {
		t.Fatalf("want exactly one new container, got %v:\nbefore:\n%s\nafter:\n%s", added, before, after)
	}
	return added[0]
}
