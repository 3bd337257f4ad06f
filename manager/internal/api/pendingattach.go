package api

import (
	"sync"

	shimapi "github.com/berthrun/berth/shim/api"
)

// A pendingAttach is an attach to a container nothing has launched yet
// (docker run and start -a attach first, then start). Instead of having
// the shim create the container for it and start it on the start request
// (two runtime calls), the start launches the container started, its
// output held for this attach, and hands the stream over: one runtime
// call, and no output lost however fast the process exits.
type pendingAttach struct {
	stdin bool
	ready chan pendingResult // gets one result
}

type pendingResult struct {
	stream *shimapi.Stream
	err    error
}

// pendingAttaches holds at most one pending attach per container; a second
// client attaching before the start takes the usual way.
type pendingAttaches struct {
	mu sync.Mutex
	m  map[string]*pendingAttach
}

func newPendingAttaches() *pendingAttaches {
	return &pendingAttaches{m: map[string]*pendingAttach{}}
}

// add registers an attach to id; nil when one is pending already.
func (p *pendingAttaches) add(id string, stdin bool) *pendingAttach {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[id] != nil {
		return nil
	}
	a := &pendingAttach{stdin: stdin, ready: make(chan pendingResult, 1)}
	p.m[id] = a
	return a
}

// take removes and returns id's pending attach, if any.
func (p *pendingAttaches) take(id string) *pendingAttach {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.m[id]
	delete(p.m, id)
	return a
}

// drop removes a if it is still id's pending attach (its wait ended some
// other way); it reports whether it was, i.e. no start has taken it.
func (p *pendingAttaches) drop(id string, a *pendingAttach) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[id] != a {
		return false
	}
	delete(p.m, id)
	return true
}
