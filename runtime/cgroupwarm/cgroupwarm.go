// Package cgroupwarm takes a kernel wait off a container start's path;
// rt and mgr share it.
//
// An OCI runtime puts the container's init (and every exec'd process) into
// its cgroups by writing the pid to cgroup.procs. The kernel does that move
// holding its one global cgroup_threadgroup_rwsem for writing, and taking
// that lock first waits for an RCU grace period (rcu_sync_enter switches
// every fork, exec and exit on the machine to the lock's slow path): 8 to
// 20 ms on this machine, a third of a bare `rt run`. Once the writer is
// done the switch stays on for one more grace period, and a writer that
// comes meanwhile does not wait.
//
// So as soon as a start is known to be coming, the process moves itself
// into the cgroup it is already in, in the background, and the grace
// period passes while it goes on working: rt (run, create, exec) while it
// loads the bundle and sets the container up; mgr while it resolves the
// image, writes the record, mounts the rootfs and starts the shim, so that
// the runtime's move finds the switch on. The cost: a thread blocked in
// the kernel for a grace period (a process exiting meanwhile waits for
// it), and forks and exits on the machine take the lock's slow path (an
// atomic on one shared counter) for two grace periods. It is a hint:
// failures are ignored.
package cgroupwarm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
)

// Warmer starts the no-op move; a nil *Warmer does nothing.
type Warmer struct {
	cgroupRoot string // where the hierarchies are mounted: /sys/fs/cgroup
	busy       atomic.Bool
	done       chan error // tests: each move's result; nil: not reported
}

// New returns a Warmer for the hierarchies under /sys/fs/cgroup.
func New() *Warmer { return &Warmer{cgroupRoot: "/sys/fs/cgroup"} }

// Begin starts the move in the background, unless one is under way; it
// reports whether it did.
func (w *Warmer) Begin() bool {
	if w == nil || !w.busy.CompareAndSwap(false, true) {
		return false
	}
	go func() {
		err := w.moveSelf()
		w.busy.Store(false)
		if w.done != nil {
			w.done <- err
		}
	}()
	return true
}

var errNoCgroup = errors.New("no writable cgroup.procs for this process")

// moveSelf writes "0" (the writer itself) into the cgroup.procs of the
// cgroup this process is in: a move to where it is.
func (w *Warmer) moveSelf() error {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return err
	}
	err = errNoCgroup
	for _, p := range procsFiles(w.cgroupRoot, data) {
		// A hierarchy that refuses (a v2 cgroup taking no processes, a
		// read-only mount) leaves the next one to try.
		if err = writeZero(p); err == nil {
			return nil
		}
	}
	return err
}

func writeZero(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte("0"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// procsFiles lists, from /proc/self/cgroup's lines, the cgroup.procs
// files of this process's cgroups under root, to try in order: the unified
// hierarchy (root itself on a cgroup v2 host, root/unified on a hybrid
// one), then each v1 hierarchy by its controllers' directory name. Any
// hierarchy will do: the lock is one for all of them.
func procsFiles(root string, data []byte) []string {
	var unified, v1 []string
	for _, line := range bytes.Split(data, []byte("\n")) {
		parts := bytes.SplitN(line, []byte(":"), 3)
		if len(parts) != 3 || len(parts[2]) == 0 || parts[2][0] != '/' {
			continue
		}
		ctrls, path := string(parts[1]), string(parts[2])
		switch {
		case ctrls == "":
			unified = append(unified,
				filepath.Join(root, path, "cgroup.procs"),
				filepath.Join(root, "unified", path, "cgroup.procs"))
		case bytes.HasPrefix(parts[1], []byte("name=")):
			// named hierarchies (name=systemd) have no fixed mount point
		default:
			v1 = append(v1, filepath.Join(root, ctrls, path, "cgroup.procs"))
		}
	}
	return append(unified, v1...)
}
