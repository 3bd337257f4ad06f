package api

import (
	"context"
	"errors"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

// monitor follows the exits of the containers this daemon starts: it wakes
// `wait` requests, and removes AutoRemove containers when they exit (after
// waking next-exit waiters, before waking removed waiters). Each watched
// container has one goroutine blocked on its shim's wait.
type monitor struct {
	s        *Server
	mu       sync.Mutex
	watching map[string]bool
	exits    map[string][]chan int
	removals map[string][]chan struct{}
}

func newMonitor(s *Server) *monitor {
	return &monitor{s: s, watching: map[string]bool{}, exits: map[string][]chan int{}, removals: map[string][]chan struct{}{}}
}

// onExit registers for id's next exit; the channel receives its code.
// cancel unregisters.
func (m *monitor) onExit(id string) (ch chan int, cancel func()) {
	ch = make(chan int, 1)
	m.mu.Lock()
	m.exits[id] = append(m.exits[id], ch)
	m.mu.Unlock()
	return ch, func() { m.drop(id, ch, nil) }
}

// onRemoved registers for id's removal.
func (m *monitor) onRemoved(id string) (ch chan struct{}, cancel func()) {
	ch = make(chan struct{}, 1)
	m.mu.Lock()
	m.removals[id] = append(m.removals[id], ch)
	m.mu.Unlock()
	return ch, func() { m.drop(id, nil, ch) }
}

func (m *monitor) drop(id string, exit chan int, removed chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, c := range m.exits[id] {
		if c == exit {
			m.exits[id] = append(m.exits[id][:i:i], m.exits[id][i+1:]...)
			break
		}
	}
	for i, c := range m.removals[id] {
		if c == removed {
			m.removals[id] = append(m.removals[id][:i:i], m.removals[id][i+1:]...)
			break
		}
	}
}

// exited wakes id's exit waiters with code.
func (m *monitor) exited(id string, code int) {
	m.mu.Lock()
	chs := m.exits[id]
	delete(m.exits, id)
	m.mu.Unlock()
	for _, c := range chs {
		c <- code
	}
}

// removed wakes id's removal waiters (and exit waiters, which will never
// see an exit now).
func (m *monitor) removed(id string, code int) {
	m.exited(id, code)
	m.mu.Lock()
	chs := m.removals[id]
	delete(m.removals, id)
	m.mu.Unlock()
	for _, c := range chs {
		c <- struct{}{}
	}
}

// watch follows id until it stops running; it is a no-op when id is
// already watched. A container restarted before the watcher noticed is
// followed on.
func (m *monitor) watch(id string) {
	m.mu.Lock()
	if m.watching[id] {
		m.mu.Unlock()
		return
	}
	m.watching[id] = true
	m.mu.Unlock()
	m.s.wg.Add(1)
	go func() {
		defer m.s.wg.Done()
		m.follow(id)
	}()
}

func (m *monitor) follow(id string) {
	ctx := m.s.ctx
	log := m.s.log.WithField("id", id[:12])
	for {
		c, err := m.s.e.Containers.Get(ctx, id)
		// A process that exits at once is already exited here: its exit
		// is the one watched for all the same.
		if err == nil && (c.Running() || c.State.Status == container.StatusExited) {
			code := c.State.ExitCode
			if c.Running() {
				st, werr := m.s.e.Containers.Wait(ctx, c)
				if ctx.Err() != nil {
					break // daemon shutting down; the container lives on
				}
				code = -1
				if werr == nil {
					code = st.ExitCode
				} else {
					log.WithError(werr).Warn("wait for container exit")
				}
			}
			m.exited(id, code)
			if c.Config.AutoRemove {
				m.autoRemove(ctx, id, code, log)
			}
		}
		// Decide under the lock, so a start racing with this either sees
		// the container running here or finds it unwatched.
		m.mu.Lock()
		again, gerr := m.s.e.Containers.Get(context.WithoutCancel(ctx), id)
		if ctx.Err() != nil || gerr != nil || !again.Running() {
			delete(m.watching, id)
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	delete(m.watching, id)
	m.mu.Unlock()
}

func (m *monitor) autoRemove(ctx context.Context, id string, code int, log *logrus.Entry) {
	c, err := m.s.e.Containers.Get(ctx, id)
	if err == nil {
		if c.Running() {
			return // restarted meanwhile
		}
		err = m.s.e.Containers.Remove(context.WithoutCancel(ctx), c, true)
	}
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		log.WithError(err).Warn("auto-remove container")
		return
	}
	m.removed(id, code)
}
