// Package stdio moves a process's stdio: the pipes or the pty master the
// runtime hands over, the copy loops that feed the log and the attached
// clients, and the fan-out (Hub) that keeps a slow or vanished client from
// ever blocking the process.
package stdio

import "sync"

// SubBuffer is how many chunks a client may lag behind before it is dropped.
const SubBuffer = 256

// Chunk is output of one stream.
type Chunk struct {
	Stream byte
	Data   []byte
}

// Hub fans a process's output out to any number of subscribers. Publish
// never blocks: a subscriber whose buffer is full is dropped (its channel is
// closed and Dropped reports true), so a client that stops reading costs the
// container nothing.
type Hub struct {
	mu     sync.Mutex
	subs   map[*Sub]struct{}
	closed bool
}

// Sub is one subscriber.
type Sub struct {
	C       chan Chunk
	dropped bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Sub]struct{}{}} }

// Subscribe adds a subscriber. On a closed hub, its channel is closed already.
func (h *Hub) Subscribe() *Sub {
	s := &Sub{C: make(chan Chunk, SubBuffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
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

// Publish sends a copy of p to every subscriber.
func (h *Hub) Publish(stream byte, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
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
}
