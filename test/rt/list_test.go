//go:build integration && linux

package rt

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// listEntry is one element of `list --format json`.
type listEntry struct {
	OCIVersion string    `json:"ociVersion"`
	ID         string    `json:"id"`
	Pid        int       `json:"pid"`
	Status     string    `json:"status"`
	Bundle     string    `json:"bundle"`
	Rootfs     string    `json:"rootfs"`
	Created    time.Time `json:"created"`
	Owner      string    `json:"owner"`
}

// TestList: list shows every container of its --root in the table, quiet
// and JSON formats, with the right pid, status and bundle.
func TestList(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	created, running := harness.ID(t), harness.ID(t)
	r.Create(created, b)
	r.StartRunning(running, b)
	want := map[string]harness.State{created: r.MustState(created), running: r.MustState(running)}

	t.Run("table", func(t *testing.T) {
		r := r.T(t)
		res := r.MustRun("list")
		lines := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
		if got := strings.Fields(lines[0]); strings.Join(got, " ") != "ID PID STATUS BUNDLE CREATED OWNER" {
			t.Fatalf("header %q", lines[0])
		}
		if len(lines) != 3 {
			t.Fatalf("want header + 2 rows, got:\n%s", res.Stdout)
		}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) != 6 {
				t.Errorf("row has %d columns, want 6: %q", len(f), l)
				continue
			}
			st, ok := want[f[0]]
			if !ok {
				t.Errorf("unexpected row %q", l)
				continue
			}
			if f[1] != strconv.Itoa(st.Pid) || f[2] != string(st.Status) || f[3] != b.Dir {
				t.Errorf("row %q, want pid %d status %s bundle %s", l, st.Pid, st.Status, b.Dir)
			}
			if _, err := time.Parse(time.RFC3339Nano, f[4]); err != nil {
				t.Errorf("created column %q is not RFC 3339: %v", f[4], err)
			}
			if f[5] != "root" {
				t.Errorf("owner %q, want root", f[5])
			}
		}
	})

	t.Run("quiet", func(t *testing.T) {
		r := r.T(t)
		res := r.MustRun("list", "-q")
		got := strings.Fields(res.Stdout)
		sort.Strings(got)
		exp := []string{created, running}
		sort.Strings(exp)
		if strings.Join(got, " ") != strings.Join(exp, " ") {
			t.Errorf("list -q = %q, want %q", got, exp)
		}
	})

	t.Run("json", func(t *testing.T) {
		r := r.T(t)
		res := r.MustRun("list", "--format", "json")
		var entries []listEntry
		if err := json.Unmarshal([]byte(res.Stdout), &entries); err != nil {
			t.Fatalf("not a JSON array: %v\n%s", err, res.Stdout)
		}
		if len(entries) != 2 {
			t.Fatalf("want 2 entries, got %d: %s", len(entries), res.Stdout)
		}
		for _, e := range entries {
			st, ok := want[e.ID]
			if !ok {
				t.Errorf("unexpected entry %+v", e)
				continue
			}
			if e.Pid != st.Pid || e.Status != string(st.Status) || e.Bundle != b.Dir || e.Owner != "root" || e.OCIVersion == "" || e.Created.IsZero() {
				t.Errorf("entry %+v does not match state %+v", e, st)
			}
		}
	})
}

// TestListEmpty: an empty --root lists nothing (header only; JSON null or
// an empty array).
func TestListEmpty(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	res := r.MustRun("list")
	if lines := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "ID") {
		t.Errorf("want only the header, got:\n%s", res.Stdout)
	}
	res = r.MustRun("list", "--format", "json")
	var entries []listEntry
	if err := json.Unmarshal([]byte(res.Stdout), &entries); err != nil || len(entries) != 0 {
		t.Errorf("want an empty JSON list (null or []), got %q (err %v)", res.Stdout, err)
	}
	if res := r.MustRun("list", "-q"); strings.TrimSpace(res.Stdout) != "" {
		t.Errorf("list -q of an empty root printed %q", res.Stdout)
	}
}
