//go:build integration && linux

package rt

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

// event is one line of `events`.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data *struct {
		CPU struct {
			Usage struct {
				Total uint64 `json:"total"`
			} `json:"usage"`
		} `json:"cpu"`
		Memory struct {
			Usage struct {
				Usage uint64 `json:"usage"`
				Limit uint64 `json:"limit"`
			} `json:"usage"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
		} `json:"pids"`
	} `json:"data"`
}

func parseEvents(t *testing.T, out string) []event {
	t.Helper()
	var evs []event
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var e event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("events line is not JSON: %v\n%q", err, l)
		}
		evs = append(evs, e)
	}
	return evs
}

// TestEventsStats: events --stats prints exactly one JSON stats line with
// live cpu, memory and pids figures.
func TestEventsStats(t *testing.T) {
	t.Parallel()
	r, id, _, _ := sleeper(t)
	execDetached(t, r, id, "sleep", "999")

	res := r.MustRun("events", "--stats", id)
	if n := strings.Count(strings.TrimRight(res.Stdout, "\n"), "\n"); n != 0 {
		t.Fatalf("want one line, got %d:\n%s", n+1, res.Stdout)
	}
	evs := parseEvents(t, res.Stdout)
	if len(evs) != 1 {
		t.Fatalf("want one event, got %d", len(evs))
	}
	e := evs[0]
	if e.Type != "stats" || e.ID != id || e.Data == nil {
		t.Fatalf("want a stats event for %s with data, got %s", id, res.Stdout)
	}
	if e.Data.Pids.Current != 2 {
		t.Errorf("pids.current %d, want 2 (init + exec)", e.Data.Pids.Current)
	}
	if e.Data.Memory.Usage.Usage == 0 {
		t.Errorf("memory usage is 0")
	}
	if e.Data.CPU.Usage.Total == 0 {
		t.Errorf("cpu usage total is 0")
	}
}

// TestEventsStream: events --interval streams stats lines until stopped.
func TestEventsStream(t *testing.T) {
	t.Parallel()
	r, id, _, _ := sleeper(t)
	p := r.StartWith(harness.Opts{}, "events", "--interval", "100ms", id)
	ok := harness.Poll(harness.DefaultTimeout, func() bool {
		return strings.Count(p.Stdout(), "\n") >= 3
	})
	p.Kill(syscall.SIGKILL)
	p.Wait()
	if !ok {
		t.Fatalf("fewer than 3 event lines: %q (stderr %q)", p.Stdout(), p.Stderr())
	}
	// the last line may be cut by the kill
	out := p.Stdout()
	out = out[:strings.LastIndex(out, "\n")+1]
	for _, e := range parseEvents(t, out) {
		if e.Type != "stats" || e.ID != id || e.Data == nil {
			t.Errorf("unexpected event %+v", e)
		}
	}
}
