// Package container is the manager's container service: it creates
// containers from images, starts each one under its own shim, and keeps
// their records in bbolt in step with what the shims report. The manager
// may exit at any time: a container's truth is its shim (alive, or its
// exit.json), and every read reconciles the record with it.
package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/events"
	"github.com/berthrun/berth/manager/internal/image"
	"github.com/berthrun/berth/manager/internal/network"
	"github.com/berthrun/berth/manager/internal/snapshot"
	"github.com/berthrun/berth/manager/internal/store"
	"github.com/berthrun/berth/manager/internal/topdir"
	"github.com/berthrun/berth/manager/internal/volume"
	"github.com/berthrun/berth/runtime/cgroupwarm"
	shimapi "github.com/berthrun/berth/shim/api"
)

// Paths says where the service keeps things and which programs it runs.
type Paths struct {
	Root    string // data root: <Root>/containers/<id> (rw layer, logs, etc files)
	RunRoot string // runtime root: <RunRoot>/c/<id12> (bundle + shim state)
	Shim    string // shim binary
	Runtime string // OCI runtime binary (rt)
	// Manager is the command line that reaches this engine (mgr and its
	// root flags); shims run "<Manager> container cleanup ID" when their
	// container exits.
	Manager []string
}

// Service manages containers.
type Service struct {
	paths     Paths
	records   *store.Containers
	images    *image.Service
	snapshots *snapshot.Snapshotter
	networks  *network.Manager
	volumes   *volume.Service
	events    *events.Journal    // nil records nothing
	warm      *cgroupwarm.Warmer // nil: no warm-up
}

// New returns the container service.
func New(p Paths, records *store.Containers, images *image.Service, snaps *snapshot.Snapshotter, nets *network.Manager, vols *volume.Service, ev *events.Journal, warm *cgroupwarm.Warmer) *Service {
	return &Service{paths: p, records: records, images: images, snapshots: snaps, networks: nets, volumes: vols, events: ev, warm: warm}
}

// ExpectStart tells the service that a container start (or exec) is
// coming, before the work that precedes it (image, record): the runtime's
// cgroup attach then finds the kernel's lock warm (see cgroupwarm). Starts
// and execs warm it themselves too, later.
func (s *Service) ExpectStart() { s.warm.Begin() }

// PrepareDirs makes the parents of the per-container directories (data;
// bundle and shim state; runtime state), marked so that ext4 spreads the
// containers over its block groups (see topdir).
func PrepareDirs(p Paths) error {
	for _, d := range []string{filepath.Join(p.Root, "containers"), filepath.Join(p.RunRoot, "c"), filepath.Join(p.RunRoot, "runtime")} {
		if err := topdir.Ensure(d); err != nil {
			return fmt.Errorf("prepare %s: %w", d, err)
		}
	}
	return nil
}

// dataDir holds what survives the container's runs: rw layer, logs, etc files.
func (s *Service) dataDir(id string) string { return DataDir(s.paths.Root, id) }

// DataDir is where container id keeps its files under the data root (log,
// etc files, rw layer): it exists from create until the removal.
func DataDir(root, id string) string { return filepath.Join(root, "containers", id) }

// runDir is the bundle and the shim's state dir. Its name is short because
// the shim's socket lives in it and unix socket paths are limited to 108
// bytes; 12 hex digits of a random ID do not collide in practice.
func (s *Service) runDir(id string) string { return filepath.Join(s.paths.RunRoot, "c", id[:12]) }

func (s *Service) runtimeRoot() string { return filepath.Join(s.paths.RunRoot, "runtime") }

// seccompCache is where rt keeps the seccomp filters it compiled (one per
// distinct profile; other runtimes ignore the variable that names it). It
// is a cache, not per-container state: it stays while containers come and
// go, and goes with the run root at reboot.
func (s *Service) seccompCache() string { return filepath.Join(s.paths.RunRoot, "seccomp-cache") }

func (s *Service) rootfs(id string) string { return filepath.Join(s.runDir(id), "rootfs") }

func (s *Service) logPath(id string) string { return filepath.Join(s.dataDir(id), "container.log") }

func (s *Service) shim(id string) *shimapi.Client {
	return shimapi.NewClient(shimapi.SocketPath(s.runDir(id)))
}

func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

func decode(rec store.ContainerRecord) (*Container, error) {
	c := &Container{ID: rec.ID, Name: rec.Name, Created: rec.Created}
	if err := json.Unmarshal(rec.Config, &c.Config); err != nil {
		return nil, fmt.Errorf("container %.12s config: %w", rec.ID, err)
	}
	if err := json.Unmarshal(rec.State, &c.State); err != nil {
		return nil, fmt.Errorf("container %.12s state: %w", rec.ID, err)
	}
	return c, nil
}

// Get resolves a name, ID or ID prefix and returns the container with its
// state reconciled.
func (s *Service) Get(ctx context.Context, ref string) (*Container, error) {
	id, err := s.records.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	rec, err := s.records.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := decode(rec)
	if err != nil {
		return nil, err
	}
	if err := s.reconcile(ctx, c); errors.Is(err, errRemoved) {
		return nil, fmt.Errorf("no such container: %s: %w", ref, errdefs.ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	return c, nil
}

// errRemoved: the container was removed while we looked at it.
var errRemoved = errors.New("container removed")

// List returns every container, reconciled.
func (s *Service) List(ctx context.Context) ([]*Container, error) {
	recs, err := s.records.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Container, 0, len(recs))
	for _, r := range recs {
		c, err := decode(r)
		if err != nil {
			return nil, err
		}
		if err := s.reconcile(ctx, c); errors.Is(err, errRemoved) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// setState stores c.State.
func (s *Service) setState(ctx context.Context, c *Container) error {
	data, err := json.Marshal(c.State)
	if err != nil {
		return err
	}
	return s.records.UpdateState(ctx, c.ID, func([]byte) ([]byte, error) { return data, nil })
}

// reconcile brings a running or created record in line with its shim: an
// exit.json means it exited (with that code); a shim that is gone without
// one died, and its container is cleaned up as killed.
func (s *Service) reconcile(ctx context.Context, c *Container) error {
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused && c.State.Status != StatusCreated {
		return nil
	}
	dir := s.runDir(c.ID)
	if _, err := shimapi.ReadExit(dir); err != nil && shimapi.Alive(ctx, dir) {
		return nil // the common case: still running, nothing to do
	}
	// The container has exited (or its shim died): record it and tear
	// down once. The shim's exit command and a waiting mgr both get here
	// at the same moment; the lock makes the second one find it done.
	unlock, err := lockFile(filepath.Join(s.dataDir(c.ID), "reconcile.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := s.records.Get(ctx, c.ID)
	if errdefs.IsNotFound(err) {
		return errRemoved // removed meanwhile (an --rm exit command)
	}
	if err == nil {
		if fresh, err := decode(rec); err == nil {
			c.State = fresh.State
		}
	}
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused && c.State.Status != StatusCreated {
		return nil
	}
	exit, err := shimapi.ReadExit(dir)
	if err != nil {
		if c.State.Status == StatusCreated && c.State.Pid == 0 {
			return nil // created by mgr create; no shim yet
		}
		if shimapi.Alive(ctx, dir) {
			return nil
		}
		// The shim died before writing an exit record.
		if cerr := shimapi.Cleanup(ctx, shimapi.CleanupOptions{StateDir: dir, ID: c.ID, Runtime: s.paths.Runtime, RuntimeRoot: s.runtimeRoot()}); cerr != nil {
			return fmt.Errorf("clean up after the shim of %.12s died: %w", c.ID, cerr)
		}
		if exit, err = shimapi.ReadExit(dir); err != nil {
			return err
		}
		c.State.Error = "shim died"
	}
	c.exited(exit)
	if err := s.unmountRootfs(c.ID); err != nil {
		return err
	}
	if err := s.teardownNetwork(ctx, c); err != nil {
		return err
	}
	if err := s.setState(ctx, c); err != nil {
		return err
	}
	s.exitEvents(c)
	return nil
}

// exited sets c's state from its shim's exit record.
func (c *Container) exited(exit *shimapi.ExitStatus) {
	c.State.Status = StatusExited
	c.State.Pid = 0
	c.State.ExitCode = exit.ExitCode
	c.State.OOMKilled = exit.OOMKilled
	c.State.FinishedAt = exit.ExitedAt
}

// waitShimGone waits for a shim that has been told its container exited to
// finish (it deletes the runtime state, then exits), so the next step does
// not race it.
func (s *Service) waitShimGone(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = shimapi.WaitGone(ctx, s.runDir(id))
}

func removeAll(paths ...string) error {
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

// ImageUser reports a container that uses image (for rmi): its ID, and
// whether it runs.
func (s *Service) ImageUser(ctx context.Context, img digest.Digest) (string, bool, error) {
	list, err := s.List(ctx)
	if err != nil {
		return "", false, err
	}
	found, running := "", false
	for _, c := range list {
		if c.Config.Image == img {
			if found == "" || c.Running() {
				found, running = c.ID, c.Running()
			}
		}
	}
	return found, running, nil
}

// lockFile takes an exclusive lock on path (created if needed) and returns
// its release. A missing parent dir (the container was removed meanwhile)
// is not an error: there is nothing left to serialise.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
