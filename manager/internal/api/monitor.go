package api

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

// monitor follows the exits of the containers this daemon starts: it wakes
// `wait` requests, removes AutoRemove containers when they exit (after
// waking next-exit waiters, before waking removed waiters) and restarts
// the others as their restart policy says. Each watched container has one
// goroutine blocked on its shim's wait.
type monitor struct {
	s        *Server
	mu       sync.Mutex
	watching map[string]bool
	exits    map[string][]chan int
	removals map[string][]chan struct{}
	restarts map[string]*restarts
}

// restarts is the restart bookkeeping of one container since the user
// last started it (docker's restart manager).
type restarts struct {
	mu       sync.Mutex    // held while a restart starts the container
	count    int           // restarts made
	delay    time.Duration // the last back-off
	canceled chan struct{} // closed when the user stops, kills, starts or removes it
}

func newMonitor(s *Server) *monitor {
	return &monitor{s: s, watching: map[string]bool{}, exits: map[string][]chan int{}, removals: map[string][]chan struct{}{}, restarts: map[string]*restarts{}}
}

// userAction forgets id's restart bookkeeping and cancels a pending
// restart: the user started, stopped, killed or removed it.
func (m *monitor) userAction(id string) {
	m.mu.Lock()
	r := m.restarts[id]
	if r != nil {
		close(r.canceled)
		delete(m.restarts, id)
	}
	m.mu.Unlock()
	if r != nil {
		r.mu.Lock() // let a restart under way finish first
		r.mu.Unlock()
	}
}

// restart applies id's restart policy to its exit: after the back-off it
// starts it again and reports true. A user action during the back-off
// cancels it.
func (m *monitor) restart(ctx context.Context, id string, code int, log *logrus.Entry) bool {
	c, err := m.s.e.Containers.Get(ctx, id)
	if err != nil || c.Running() {
		return false
	}
	m.mu.Lock()
	r := m.restarts[id]
	if r == nil {
		r = &restarts{canceled: make(chan struct{})}
		m.restarts[id] = r
	}
	if !c.Config.Restart.ShouldRestart(code, c.State.StoppedByUser, r.count) {
		m.mu.Unlock()
		return false
	}
	ran := c.State.FinishedAt.Sub(c.State.StartedAt)
	r.delay = container.NextRestartDelay(r.delay, ran)
	r.count++
	delay, canceled := r.delay, r.canceled
	m.mu.Unlock()
	log.WithFields(logrus.Fields{"exitCode": code, "policy": c.Config.Restart.Name, "delay": delay}).Info("restarting container")
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-canceled:
		return false
	case <-ctx.Done():
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock() // a user action waits for the start to finish
	select {
	case <-canceled:
		return false
	default:
	}
	if c, err = m.s.e.Containers.Get(ctx, id); err != nil || c.Running() || c.State.StoppedByUser {
		return false
	}
	if err := m.s.e.Containers.AutoRestart(context.WithoutCancel(ctx), c); err != nil {
		log.WithError(err).Warn("restart policy")
		return false
	}
	return true
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
		if err == nil && c.Running() && c.Config.AutoRemove {
			// --rm: from the shim's answer straight to the removal (as
			// mgr run --rm does), not through a recorded exit first.
			st, werr := m.s.e.Containers.ShimExit(ctx, c)
			if ctx.Err() != nil {
				break // daemon shutting down; the container lives on
			}
			if werr == nil {
				m.exited(id, st.ExitCode)
				m.removeExited(ctx, c, st.ExitCode, log)
				err = errRemovedHere
			}
			// else: the shim is gone; the usual wait reads the record
		}
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
			} else if c.Config.Restart.Name != "" && c.Config.Restart.Name != container.RestartNo && m.restart(ctx, id, code, log) {
				continue // follow the new run, even if it has exited already
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

// errRemovedHere: follow removed the container itself (removeExited).
var errRemovedHere = errors.New("removed by the monitor")

// removeExited removes an exited --rm container whose exit record is fresh
// from its shim (RemoveExited), else the usual way, with retries.
func (m *monitor) removeExited(ctx context.Context, c *container.Container, code int, log *logrus.Entry) {
	if err := m.s.e.Containers.RemoveExited(context.WithoutCancel(ctx), c); err != nil {
		log.WithError(err).Debug("remove exited container; retrying the usual way")
		m.autoRemove(ctx, c.ID, code, log)
		return
	}
	if err := m.s.e.Containers.RemoveAnonymousVolumes(context.WithoutCancel(ctx), c); err != nil {
		log.WithError(err).Warn("remove anonymous volumes")
	}
	m.removed(c.ID, code)
}

func (m *monitor) autoRemove(ctx context.Context, id string, code int, log *logrus.Entry) {
	// A detached start gave the shim an exit command that removes the
	// container too: the two removals may collide (one finds the other's
	// files going), so a failure is retried, and a container found gone
	// was removed.
	for attempt := 1; ; attempt++ {
		c, err := m.s.e.Containers.Get(ctx, id)
		if err == nil {
			if c.Running() {
				return // restarted meanwhile
			}
			if err = m.s.e.Containers.Remove(context.WithoutCancel(ctx), c, true); err == nil {
				// --rm takes the anonymous volumes along, as docker
				if verr := m.s.e.Containers.RemoveAnonymousVolumes(context.WithoutCancel(ctx), c); verr != nil {
					log.WithError(verr).Warn("remove anonymous volumes")
				}
			}
		}
		if err == nil || errors.Is(err, errdefs.ErrNotFound) {
			break
		}
		if attempt == 3 || ctx.Err() != nil {
			log.WithError(err).Warn("auto-remove container")
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.removed(id, code)
}
