package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/runtime/oci"
	shimapi "github.com/berthrun/berth/shim/api"
)

// Log rotation defaults for every container (docker's json-file with
// max-size=10m, max-file=3 as podman and most setups configure it).
const (
	logMaxSize  = 10 << 20
	logMaxFiles = 3
)

// StartError is a container that could not start; Code is docker's exit
// status for it: 126 not executable, 127 not found, 125 anything else.
type StartError struct {
	Code int
	Msg  string
}

func (e *StartError) Error() string { return e.Msg }

// Prepare mounts c's rootfs, writes its bundle and launches its shim, which
// creates the container; it does not start it. The container's stdio can
// be attached before Start, so a foreground run loses no output. The
// caller waits for the exit and cleans up (and removes an --rm container)
// itself, so the shim gets no exit command: two cleanups racing on two
// cores cost a foreground run ~20 ms. Should the caller die, the next mgr
// command that reads the container cleans up.
func (s *Service) Prepare(ctx context.Context, c *Container) error {
	_, err := s.prepareRun(ctx, c, exitNone, launchCreate)
	return err
}

// Run is Prepare, Attach and Start in one step: the shim's runtime call
// creates and starts c (one runtime process less), holding c's output for
// the attach made right after. As with Prepare, the caller waits for the
// exit and cleans up (the shim gets no exit command: it would race the
// caller's cleanup). It returns no stream when a shim held c created
// already (prepared earlier): then the caller attaches and Starts it. A
// terminal wants Prepare, Attach (with its size) and Start instead.
func (s *Service) Run(ctx context.Context, c *Container, stdin bool) (*shimapi.Stream, error) {
	launched := time.Now()
	started, err := s.prepareRun(ctx, c, exitNone, launchStartHeld)
	if err != nil || !started {
		return nil, err
	}
	stream, err := s.Attach(ctx, c, stdin)
	if err == nil {
		if err = s.markRunning(ctx, c, launched); err != nil {
			stream.Close()
		}
	}
	if err != nil {
		// Nobody would see it run: stop it and undo the launch, as after
		// a failed start.
		if s.shim(c.ID).Shutdown(context.WithoutCancel(ctx), true) == nil {
			s.waitShimGone(ctx, c.ID)
		}
		err = fmt.Errorf("run container %.12s: %w", c.ID, err)
		s.launchFailed(ctx, c, err)
		return nil, err
	}
	return stream, nil
}

// How far the shim's launch takes a container.
type launchMode int

const (
	launchCreate    launchMode = iota // created; Start starts it
	launchStart                       // started (output to the log only until someone attaches)
	launchStartHeld                   // started, output held for the first attach
)

// What the shim's exit command does.
type onExit int

const (
	exitNone    onExit = iota // the caller waits and cleans up
	exitCleanup               // tear down network and rootfs
	exitRemove                // and remove the container (--rm, detached)
)

// prepareRun is Prepare with the shim's exit command and launch mode
// chosen; it reports whether the launch started c.
func (s *Service) prepareRun(ctx context.Context, c *Container, exit onExit, mode launchMode) (bool, error) {
	// One launch of c at a time (this mgr process or another): an attach
	// preparing it and a start racing it would otherwise both start a shim
	// on its state dir (a prelaunched shim has no pid file or socket to be
	// seen by).
	s.warm.Begin()
	unlock, err := lockFile(filepath.Join(s.dataDir(c.ID), "launch.lock"))
	if err != nil {
		return false, fmt.Errorf("launch container %.12s: %w", c.ID, err)
	}
	defer unlock()
	if c.Running() {
		return false, fmt.Errorf("container %s is already running: %w", c.Name, errdefs.ErrConflict)
	}
	dir := s.runDir(c.ID)
	if shimapi.Alive(ctx, dir) {
		return false, nil // created earlier, shim waiting for start
	}
	// A previous run's shim files would be mistaken for this run's.
	for _, f := range []string{shimapi.ExitFile, shimapi.RuntimeLogFile, shimapi.InitPidFile, shimapi.SocketFile, shimapi.PidFile} {
		_ = os.Remove(filepath.Join(dir, f))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	// The shim process starts up while the rootfs and config are made.
	pre, err := shimapi.StartPrelaunch(s.launchOptions(c, dir, exit, mode))
	if err == nil {
		err = s.prepare(ctx, c, dir, pre)
	}
	if err != nil {
		s.launchFailed(ctx, c, err)
		return false, err
	}
	return mode != launchCreate, nil
}

func (s *Service) launchOptions(c *Container, dir string, exit onExit, mode launchMode) shimapi.LaunchOptions {
	return shimapi.LaunchOptions{
		Shim:        s.paths.Shim,
		ID:          c.ID,
		Bundle:      dir,
		StateDir:    dir,
		Runtime:     s.paths.Runtime,
		RuntimeRoot: s.runtimeRoot(),
		RuntimeEnv:  []string{"RT_SECCOMP_CACHE=" + s.seccompCache()},
		LogPath:     s.logPath(c.ID),
		LogMaxSize:  logMaxSize,
		LogMaxFiles: logMaxFiles,
		Stdin:       c.Config.OpenStdin,
		Start:       mode != launchCreate,
		HoldOutput:  mode == launchStartHeld,
		// Someone waits for its exit: have the runtime's delete ready
		// (rt only: the others lack delete --wait-stdin).
		ReadyDelete: exit == exitNone && filepath.Base(s.paths.Runtime) == "rt",
		ExitCommand: s.exitCommand(c.ID, exit),
	}
}

// launchFailed undoes a launch that failed (or whose container was shut
// down at once): no rootfs mount or network is left, and the record says
// created, with why.
func (s *Service) launchFailed(ctx context.Context, c *Container, err error) {
	_ = s.unmountRootfs(c.ID)
	_ = s.teardownNetwork(context.WithoutCancel(ctx), c)
	c.State.Status = StatusCreated
	c.State.Pid = 0
	c.State.Error = err.Error()
	var se *StartError
	if errors.As(err, &se) {
		c.State.ExitCode = se.Code
	}
	_ = s.setState(ctx, c)
}

// prepare makes c's rootfs, network and bundle in dir, then lets pre (the
// shim started for it) launch it; on failure pre is ended.
func (s *Service) prepare(ctx context.Context, c *Container, dir string, pre *shimapi.Prelaunch) (err error) {
	launching := false
	defer func() {
		if !launching {
			pre.Abort()
		}
	}()
	img, err := s.images.Get(ctx, c.Config.Image.String())
	if err != nil {
		return fmt.Errorf("image of container %.12s: %w", c.ID, err)
	}
	if err := s.mountRootfs(ctx, c, img.Chain); err != nil {
		return err
	}
	if err := s.populateVolumes(c); err != nil {
		return err
	}
	if err := s.setupNetwork(ctx, c); err != nil {
		return err
	}
	etc, err := s.writeEtcFiles(c)
	if err != nil {
		return err
	}
	if err := s.refreshHosts(ctx, c); err != nil {
		return err
	}
	spec, err := s.buildSpec(c, img, etc)
	if err != nil {
		return err
	}
	if err := oci.WriteFile(filepath.Join(dir, "config.json"), spec); err != nil {
		return err
	}
	launching = true
	res, err := pre.Launch()
	if err != nil {
		if res != nil && res.Error != "" {
			return startError(res.Error)
		}
		return err
	}
	// Not stored yet: Start stores the state once the container runs, so a
	// run costs one metadata write (two fsyncs) less. Should mgr die in
	// between, the record says created and rm finds the shim by its socket.
	c.State.Pid = res.Pid
	c.State.Error = ""
	return nil
}

// startError classifies the runtime's reason as docker does.
func startError(msg string) *StartError {
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return &StartError{Code: 127, Msg: msg}
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"):
		return &StartError{Code: 126, Msg: msg}
	}
	return &StartError{Code: 125, Msg: msg}
}

// Start starts c (preparing it first if needed).
func (s *Service) Start(ctx context.Context, c *Container) error {
	if c.Running() {
		return nil // docker: starting a running container is a no-op
	}
	exit := exitCleanup
	if c.Config.AutoRemove {
		exit = exitRemove
	}
	launched := time.Now()
	started, err := s.prepareRun(ctx, c, exit, launchStart)
	if err != nil {
		return err
	}
	// A shim held it created; or started it already, for an mgr that died
	// before recording that.
	if !started {
		if err := s.shim(c.ID).Start(ctx); err != nil && !s.shimRunning(ctx, c) {
			return fmt.Errorf("start container %.12s: %w", c.ID, err)
		}
	}
	return s.markRunning(ctx, c, launched)
}

// shimRunning tells whether c's shim says its container runs.
func (s *Service) shimRunning(ctx context.Context, c *Container) bool {
	st, err := s.shim(c.ID).State(ctx)
	return err == nil && st.Status == shimapi.StatusRunning
}

// markRunning records that c's shim started it (at launched or later). A
// container that ended at once may have had its exit recorded meanwhile
// by its shim's exit command, or been removed (--rm): that record stands.
func (s *Service) markRunning(ctx context.Context, c *Container, launched time.Time) error {
	run := c.State
	run.Status = StatusRunning
	run.StartedAt = time.Now().UTC()
	run.FinishedAt = time.Time{}
	run.ExitCode = 0
	run.OOMKilled = false
	run.StoppedByUser = false
	data, err := json.Marshal(run)
	if err != nil {
		return err
	}
	var stored State
	exitedMeanwhile := false
	err = s.records.UpdateState(ctx, c.ID, func(old []byte) ([]byte, error) {
		if json.Unmarshal(old, &stored) == nil && stored.Status == StatusExited && !stored.FinishedAt.Before(launched) {
			exitedMeanwhile = true
			return old, nil
		}
		return data, nil
	})
	if errdefs.IsNotFound(err) {
		return nil // removed meanwhile by its exit command (--rm)
	}
	if err != nil {
		return err
	}
	c.State = run
	if exitedMeanwhile {
		c.State = stored
	}
	s.event(c, eventtypes.ActionStart, nil)
	return nil
}

// Attach connects to c's stdio through its shim.
func (s *Service) Attach(ctx context.Context, c *Container, stdin bool) (*shimapi.Stream, error) {
	return s.shim(c.ID).Attach(ctx, shimapi.AttachOptions{Stdin: stdin, CloseStdin: stdin && !c.Config.Tty})
}

// Resize sets the size of c's terminal.
func (s *Service) Resize(ctx context.Context, c *Container, width, height uint16) error {
	return s.shim(c.ID).Resize(ctx, width, height)
}

// exitCommand is what c's shim runs once c has exited: mgr's cleanup, which
// tears down the network and rootfs at once instead of at the next mgr
// command, and removes c when it was run detached with --rm.
func (s *Service) exitCommand(id string, exit onExit) []string {
	if len(s.paths.Manager) == 0 || exit == exitNone {
		return nil
	}
	cmd := append(append([]string{}, s.paths.Manager...), "container", "cleanup")
	if exit == exitRemove {
		cmd = append(cmd, "--rm")
	}
	return append(cmd, id)
}
