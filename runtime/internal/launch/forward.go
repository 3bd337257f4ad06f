package launch

import (
	"os"
	"os/signal"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/runtime/internal/libct"
)

// signalBuffer is large enough that a burst of SIGCHLDs from a container
// that forks a lot is not dropped before we reap.
const signalBuffer = 2048

// forwarder relays every signal rt receives to the container process and
// reaps children until that process exits. It must be set up before the
// process starts so that no SIGCHLD is missed.
type forwarder struct {
	signals chan os.Signal
}

func newForwarder(subreaper bool) *forwarder {
	if subreaper {
		// Orphans of the container are re-parented to rt, so rt can reap
		// them and see the init's exit even when it double-forks.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			logrus.Warnf("become subreaper: %v", err)
		}
	}
	f := &forwarder{signals: make(chan os.Signal, signalBuffer)}
	signal.Notify(f.signals)
	return f
}

// stop releases the signals back to their default handling.
func (f *forwarder) stop() { signal.Stop(f.signals) }

// forward returns the exit status of p once it exits.
func (f *forwarder) forward(p *libct.Process, s *stdio) (int, error) {
	pid, err := p.Pid()
	if err != nil {
		return -1, err
	}
	_ = s.resize()
	for sig := range f.signals {
		switch sig {
		case unix.SIGWINCH:
			_ = s.resize()
		case unix.SIGCHLD:
			for _, e := range reap() {
				if e.pid == pid {
					_, _ = p.Wait()
					return e.status, nil
				}
			}
		case unix.SIGURG:
			// The Go runtime preempts goroutines with SIGURG; it is not
			// meant for the container.
		default:
			if err := p.Signal(sig); err != nil {
				logrus.Debugf("forward %v to %d: %v", sig, pid, err)
			}
		}
	}
	return -1, nil
}

type exit struct{ pid, status int }

// reap collects every child that has exited, with shell-style statuses
// (128+signal for a killed process).
func reap() []exit {
	var exits []exit
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return exits
		}
		exits = append(exits, exit{pid: pid, status: exitStatus(ws)})
	}
}

func exitStatus(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
