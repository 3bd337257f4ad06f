//go:build integration && linux

package rt

import (
	"fmt"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

// capBits maps capability names to their bit numbers (linux/capability.h).
var capBits = map[string]uint{
	"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
	"CAP_NET_BIND_SERVICE": 10, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
	"CAP_SYS_CHROOT": 18, "CAP_SYS_ADMIN": 21, "CAP_AUDIT_WRITE": 29,
}

func capMask(caps ...string) string {
	var m uint64
	for _, c := range caps {
		bit, ok := capBits[c]
		if !ok {
			panic("unknown capability " + c)
		}
		m |= 1 << bit
	}
	return fmt.Sprintf("%016x", m)
}

// TestCapabilities: the process gets exactly the configured capability
// sets, as /proc/self/status shows them.
func TestCapabilities(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		caps []string
	}{
		{"default", harness.DefaultCaps},
		{"none", nil},
		{"sys-admin-chown", []string{"CAP_SYS_ADMIN", "CAP_CHOWN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := harness.NewRuntime(t)
			b := harness.NewBundle(t, harness.WithCaps(tc.caps...), harness.WithArgs("cat", "/proc/self/status"))
			res := r.Run("run", "--bundle", b.Dir, harness.ID(t))
			if res.ExitCode != 0 {
				t.Fatalf("run: %s", res)
			}
			want := capMask(tc.caps...)
			for _, field := range []string{"CapEff", "CapPrm", "CapBnd"} {
				if got, _ := harness.StatusField(res.Stdout, field); got != want {
					t.Errorf("%s = %s, want %s", field, got, want)
				}
			}
			for _, field := range []string{"CapInh", "CapAmb"} {
				if got, _ := harness.StatusField(res.Stdout, field); got != "0000000000000000" {
					t.Errorf("%s = %s, want none", field, got)
				}
			}
		})
	}
}

// TestCapabilitiesEnforced: a privileged operation (sethostname needs
// CAP_SYS_ADMIN) fails without the capability and works with it; exec
// --cap adds one to an exec'd process only.
func TestCapabilitiesEnforced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		caps []string
		want string
	}{
		{harness.DefaultCaps, "denied"},
		{append([]string{"CAP_SYS_ADMIN"}, harness.DefaultCaps...), "allowed"},
	} {
		r := harness.NewRuntime(t)
		b := harness.NewBundle(t, harness.WithCaps(tc.caps...),
			harness.WithShell(`hostname other 2>/dev/null && echo allowed || echo denied`))
		res := r.Run("run", "--bundle", b.Dir, harness.ID(t))
		if res.ExitCode != 0 || strings.TrimSpace(res.Stdout) != tc.want {
			t.Errorf("caps %v: want %s: %s", tc.caps, tc.want, res)
		}
	}

	// exec'd processes get the container's set, plus what --cap adds
	r, id, _, _ := sleeper(t)
	res := r.Run("exec", id, "grep", "CapEff", "/proc/self/status")
	if got := strings.Fields(res.Stdout); len(got) != 2 || got[1] != capMask(harness.DefaultCaps...) {
		t.Errorf("exec'd process CapEff %q, want the container's %s", res.Stdout, capMask(harness.DefaultCaps...))
	}
	res = r.Run("exec", "--cap", "CAP_SYS_ADMIN", id, "sh", "-c", "hostname other && hostname && grep CapEff /proc/self/status")
	if res.ExitCode != 0 {
		t.Fatalf("exec --cap CAP_SYS_ADMIN: %s", res)
	}
	if got := strings.Fields(res.Stdout); len(got) != 3 || got[0] != "other" || got[2] != capMask(append([]string{"CAP_SYS_ADMIN"}, harness.DefaultCaps...)...) {
		t.Errorf("exec --cap CAP_SYS_ADMIN: got %q, want hostname changed and CapEff %s", res.Stdout, capMask(append([]string{"CAP_SYS_ADMIN"}, harness.DefaultCaps...)...))
	}
}
