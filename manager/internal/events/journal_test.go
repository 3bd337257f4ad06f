package events

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

func collect(t *testing.T, j *Journal, f Filter) []string {
	t.Helper()
	var got []string
	if err := j.Read(context.Background(), f, false, func(m events.Message) error {
		got = append(got, string(m.Action)+" "+m.Actor.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRecordAndFilter(t *testing.T) {
	j := Open(filepath.Join(t.TempDir(), "events.jsonl"))
	if got := collect(t, j, Filter{}); len(got) != 0 {
		t.Fatalf("empty journal: %q", got)
	}
	j.Record(events.ContainerEventType, events.ActionCreate, "c1", map[string]string{"name": "web"})
	mid := time.Now()
	time.Sleep(time.Millisecond)
	j.Record(events.ImageEventType, events.ActionTag, "sha256:x", nil)
	j.Record(events.ContainerEventType, events.ActionDie, "c1", map[string]string{"exitCode": "3"})
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"create c1", "tag sha256:x", "die c1"}},
		{"since", Filter{Since: mid}, []string{"tag sha256:x", "die c1"}},
		{"until", Filter{Until: mid}, []string{"create c1"}},
		{"match", Filter{Match: func(m events.Message) bool { return m.Type == events.ContainerEventType }}, []string{"create c1", "die c1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := collect(t, j, tc.f)
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

// TestFollowAcrossRotation: a follower sees events recorded after it
// started, also once the file has rotated.
func TestFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	j := Open(path)
	j.Record(events.ContainerEventType, events.ActionCreate, "old", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var got []string
	done := make(chan error, 1)
	go func() {
		done <- j.Read(ctx, Filter{Since: time.Now()}, true, func(m events.Message) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, m.Actor.ID)
			return nil
		})
	}()
	time.Sleep(2 * pollInterval)
	j.Record(events.ContainerEventType, events.ActionStart, "before-rotation", nil)
	time.Sleep(2 * pollInterval)
	// Force a rotation: grow the file past maxSize.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	j.Record(events.ContainerEventType, events.ActionDie, "after-rotation", nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != "before-rotation" || got[1] != "after-rotation" {
		t.Errorf("followed %q, want [before-rotation after-rotation]", got)
	}
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Errorf("no rotated file: %v", err)
	}
}

func TestMatch(t *testing.T) {
	web := events.Message{Type: events.ContainerEventType, Action: events.ActionDie, Actor: events.Actor{ID: "0123456789abcdef0123", Attributes: map[string]string{"name": "web", "image": "busybox", "app": "shop"}}}
	tag := events.Message{Type: events.ImageEventType, Action: events.ActionTag, Actor: events.Actor{ID: "sha256:aa", Attributes: map[string]string{"name": "busybox:latest"}}}
	conn := events.Message{Type: events.NetworkEventType, Action: events.ActionConnect, Actor: events.Actor{ID: "netid", Attributes: map[string]string{"name": "app", "container": "0123456789abcdef0123"}}}
	tests := []struct {
		filters map[string][]string
		want    [3]bool // web, tag, conn
	}{
		{nil, [3]bool{true, true, true}},
		{map[string][]string{"type": {"container"}}, [3]bool{true, false, false}},
		{map[string][]string{"type": {"container", "image"}}, [3]bool{true, true, false}},
		{map[string][]string{"event": {"die"}}, [3]bool{true, false, false}},
		{map[string][]string{"container": {"web"}}, [3]bool{true, false, false}},
		{map[string][]string{"container": {"0123456789ab"}}, [3]bool{true, false, true}},
		{map[string][]string{"image": {"busybox"}}, [3]bool{true, true, false}},
		{map[string][]string{"network": {"app"}}, [3]bool{false, false, true}},
		{map[string][]string{"label": {"app=shop"}}, [3]bool{true, false, false}},
		{map[string][]string{"label": {"app=other"}}, [3]bool{false, false, false}},
		{map[string][]string{"type": {"container"}, "event": {"start"}}, [3]bool{false, false, false}},
	}
	for _, tc := range tests {
		match, err := Match(tc.filters)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range []events.Message{web, tag, conn} {
			if got := match(m); got != tc.want[i] {
				t.Errorf("filters %v on %s %s: %v, want %v", tc.filters, m.Type, m.Action, got, tc.want[i])
			}
		}
	}
	if _, err := Match(map[string][]string{"bogus": {"x"}}); err == nil {
		t.Error("an unknown filter key was accepted")
	}
}
