// Package stdio moves a process's stdio: the pipes or the pty master the
// runtime hands over, the copy loops that feed the log and the attached
// clients, and the fan-out (Hub) that keeps a slow or vanished client from
// ever blocking the process (a hold, bounded in bytes and time, is the one
// exception).
package stdio

import "sync"

// SubBuffer is how many chunks a client may lag behind before it is dropped.
const SubBuffer = 256

// While held, output is merged into chunks of up to heldChunk bytes, and
// each chunk counts heldChunkCost bytes more against the hold's limit, so
// that a process writing a byte at a time cannot grow the hold unbounded.
const (
	heldChunk     = 32 << 10
	heldChunkCost = 64
)

// Chunk is output of one stream.
type Chunk struct {
	Stream byte
	Data   []byte
}

// Hub fans a process's output out to any number of subscribers. Publish
// does not block on subscribers: one whose buffer is full is dropped (its
// channel is closed and Dropped reports true), so a client that stops
// reading costs the container nothing.
//
// A held hub (Hold) keeps its output until the first subscriber instead:
// a container started before its client attached loses nothing. Past the
// hold's limit Publish waits, until that subscriber comes or the hold is
// released.
type Hub struct {
	mu     sync.Mutex
	subs   map[*Sub]struct{}
	closed bool

	// hold: output kept for the first subscriber
	holding   bool
	held      []Chunk
	heldBytes int
	holdLimit int
	holdEnded chan struct{} // closed when the hold ends
	wake      *sync.Cond    // a publisher waiting for room in the hold
}

// Sub is one subscriber.
type Sub struct {
	C       chan Chunk
	dropped bool
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	h := &Hub{subs: map[*Sub]struct{}{}, holdEnded: make(chan struct{})}
	h.wake = sync.NewCond(&h.mu)
	close(h.holdEnded)
	return h
}

// Hold makes h keep what is published until the first subscriber, which
// gets it all first. Past limit bytes Publish waits (so the process's
// writes block) until that subscriber comes or Release is called.
func (h *Hub) Hold(limit int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.holding || len(h.subs) > 0 || h.closed {
		return
	}
	h.holding, h.holdLimit, h.holdEnded = true, limit, make(chan struct{})
}

// Release ends a hold that no subscriber ended: what was kept is dropped.
func (h *Hub) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endHold()
}

// HoldEnded is closed once h holds nothing for a first subscriber (at
// once for a hub that never held).
func (h *Hub) HoldEnded() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.holdEnded
}

func (h *Hub) endHold() {
	if !h.holding {
		return
	}
	h.holding, h.held, h.heldBytes = false, nil, 0
	close(h.holdEnded)
	h.wake.Broadcast()
}

// Subscribe adds a subscriber. On a closed hub, its channel is closed
// already (after what a hold kept, for the first one).
func (h *Hub) Subscribe() *Sub {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &Sub{C: make(chan Chunk, SubBuffer+len(h.held))}
	for _, c := range h.held {
		s.C <- c
	}
	h.endHold()
	if h.closed {
		close(s.C)
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// Unsubscribe removes s and closes its channel.
func (h *Hub) Unsubscribe(s *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.C)
	}
}

// Dropped tells whether s was dropped for lagging.
func (h *Hub) Dropped(s *Sub) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return s.dropped
}

// Publish sends a copy of p to every subscriber (or keeps it, on hold).
func (h *Hub) Publish(stream byte, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.holding && !h.closed && h.heldBytes > 0 && h.heldBytes+len(p)+heldChunkCost > h.holdLimit {
		h.wake.Wait()
	}
	if h.holding && !h.closed {
		if n := len(h.held); n > 0 && h.held[n-1].Stream == stream && len(h.held[n-1].Data)+len(p) <= heldChunk {
			h.held[n-1].Data = append(h.held[n-1].Data, p...)
			h.heldBytes += len(p)
			return
		}
		h.held = append(h.held, Chunk{Stream: stream, Data: append(make([]byte, 0, min(heldChunk, max(len(p), 512))), p...)})
		h.heldBytes += len(p) + heldChunkCost
		return
	}
	if len(h.subs) == 0 || h.closed {
		return
	}
	c := Chunk{Stream: stream, Data: append([]byte(nil), p...)}
	for s := range h.subs {
		select {
		case s.C <- c:
		default:
			s.dropped = true
			delete(h.subs, s)
			close(s.C)
		}
	}
}

// Len returns the number of subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close ends the output: every subscriber's channel is closed after what
// was published before.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for s := range h.subs {
		close(s.C)
	}
	h.subs = nil
	h.wake.Broadcast() // a held publisher gives up; what is held stays for the first subscriber
}
