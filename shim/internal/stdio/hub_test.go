package stdio

import (
	"bytes"
	"testing"
	"time"
)

// drain reads what s's channel holds until it is closed or, when open,
// until nothing more arrives for a moment.
func drain(t *testing.T, s *Sub) (out []byte, closed bool) {
	t.Helper()
	for {
		select {
		case c, ok := <-s.C:
			if !ok {
				return out, true
			}
			out = append(out, c.Data...)
		case <-time.After(50 * time.Millisecond):
			return out, false
		}
	}
}

func TestHubWithoutHoldDropsOutputNobodyReads(t *testing.T) {
	h := NewHub()
	h.Publish(1, []byte("early "))
	s := h.Subscribe()
	h.Publish(1, []byte("late"))
	h.Close()
	out, closed := drain(t, s)
	if string(out) != "late" || !closed {
		t.Fatalf("got %q (closed %v), want only what followed the subscribe", out, closed)
	}
	select {
	case <-h.HoldEnded():
	default:
		t.Fatal("a hub that never held must report its hold ended")
	}
}

func TestHubHoldReplaysToFirstSubscriberOnly(t *testing.T) {
	for _, tc := range []struct {
		name        string
		closeFirst  bool // the process exits before anyone subscribes
		wantClosed  bool
		secondSees  string
		publishLate bool
	}{
		{name: "running", publishLate: true, secondSees: "c"},
		{name: "exited before the attach", closeFirst: true, wantClosed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHub()
			h.Hold(1 << 20)
			h.Publish(1, []byte("a"))
			h.Publish(2, []byte("b"))
			if tc.closeFirst {
				h.Close()
			}
			select {
			case <-h.HoldEnded():
				t.Fatal("hold ended before a subscriber came")
			default:
			}
			first := h.Subscribe()
			select {
			case <-h.HoldEnded():
			default:
				t.Fatal("the first subscriber must end the hold")
			}
			second := h.Subscribe()
			if tc.publishLate {
				h.Publish(1, []byte("c"))
			}
			got := []Chunk{}
			for len(got) < 2 {
				got = append(got, <-first.C)
			}
			if got[0].Stream != 1 || string(got[0].Data) != "a" || got[1].Stream != 2 || string(got[1].Data) != "b" {
				t.Fatalf("first subscriber got %+v, want a on 1 then b on 2", got)
			}
			rest, closed := drain(t, first)
			if closed != tc.wantClosed || (tc.publishLate && string(rest) != "c") {
				t.Fatalf("first subscriber's rest %q closed %v", rest, closed)
			}
			out, _ := drain(t, second)
			if string(out) != tc.secondSees {
				t.Fatalf("second subscriber got %q, want %q (the hold is the first one's)", out, tc.secondSees)
			}
		})
	}
}

func TestHubHoldFullWaitsForSubscriber(t *testing.T) {
	h := NewHub()
	h.Hold(4)
	h.Publish(1, []byte("1234"))
	published := make(chan struct{})
	go func() {
		h.Publish(1, []byte("5678")) // over the limit: waits
		close(published)
	}()
	select {
	case <-published:
		t.Fatal("Publish past the hold's limit returned before a subscriber came")
	case <-time.After(100 * time.Millisecond):
	}
	s := h.Subscribe()
	<-published
	h.Close()
	out, closed := drain(t, s)
	if !bytes.Equal(out, []byte("12345678")) || !closed {
		t.Fatalf("got %q (closed %v), want all of it in order", out, closed)
	}
}

// A publisher waiting on a full hold is let go when the hold is released
// (what was held is dropped) or the hub closes (what was held stays for
// the first subscriber; what waited is dropped: the process is gone).
func TestHubFullHoldEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(*Hub)
		want string
	}{
		{"release", (*Hub).Release, ""},
		{"close", (*Hub).Close, "1234"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHub()
			h.Hold(4)
			h.Publish(1, []byte("1234"))
			published := make(chan struct{})
			go func() {
				h.Publish(1, []byte("5678"))
				close(published)
			}()
			time.Sleep(20 * time.Millisecond)
			select {
			case <-published:
				t.Fatal("Publish past the hold's limit returned before the hold ended")
			default:
			}
			tc.end(h)
			select {
			case <-published:
			case <-time.After(5 * time.Second):
				t.Fatal("the waiting publisher was not let go")
			}
			s := h.Subscribe()
			h.Close()
			if out, closed := drain(t, s); string(out) != tc.want || !closed {
				t.Fatalf("got %q (closed %v), want %q", out, closed, tc.want)
			}
		})
	}
}

// Held output is merged per stream, and every chunk counts against the
// limit beyond its bytes: a process writing a byte at a time neither
// fills the hold with tiny chunks nor grows it past its bound.
func TestHubHoldIsBoundedInChunks(t *testing.T) {
	h := NewHub()
	h.Hold(1 << 20)
	for range 10000 {
		h.Publish(1, []byte("x"))
	}
	s := h.Subscribe()
	h.Close()
	var chunks, bytes int
	for c := range s.C {
		chunks++
		bytes += len(c.Data)
	}
	if chunks != 1 || bytes != 10000 {
		t.Errorf("10000 one-byte writes held as %d chunks / %d bytes, want 1 / 10000", chunks, bytes)
	}

	// Alternating streams cannot merge: the per-chunk cost bounds them.
	h = NewHub()
	h.Hold(100 * (heldChunkCost + 1))
	stopped := make(chan int)
	go func() {
		n := 0
		for ; n < 1000; n++ {
			h.Publish(byte(1+n%2), []byte("y"))
		}
		stopped <- n
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case n := <-stopped:
		t.Fatalf("%d alternating one-byte writes were all held, want the hold full at about 100", n)
	default:
	}
	h.Release()
	if n := <-stopped; n != 1000 {
		t.Fatalf("publisher stopped at %d", n)
	}
}
