package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	ctypes "github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/detachkeys"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/runtime/signalname"
	shimapi "github.com/berthrun/berth/shim/api"
)

func (s *Server) container(r *http.Request) (*container.Container, error) {
	return s.e.Containers.Get(r.Context(), r.PathValue("id"))
}

func (s *Server) createContainer(w http.ResponseWriter, r *http.Request) error {
	var req ctypes.CreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	cfg, err := containerConfig(&req)
	if err != nil {
		return err
	}
	// docker run creates, attaches, then starts: the start comes soon.
	s.e.Containers.ExpectStart()
	c, err := s.e.Containers.Create(r.Context(), r.URL.Query().Get("name"), cfg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ctypes.CreateResponse{ID: c.ID, Warnings: []string{}})
}

func (s *Server) listContainers(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	list, err := s.e.Containers.List(r.Context())
	if err != nil {
		return err
	}
	all := boolParam(r, "all")
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	out := []ctypes.Summary{}
	for _, c := range list {
		if !all && !c.Running() && len(f["status"]) == 0 && len(f["exited"]) == 0 {
			continue
		}
		if !matchContainer(c, f) {
			continue
		}
		out = append(out, containerSummary(c, s.args(r.Context(), c)))
	}
	sortNewestFirst(out) // as docker lists them
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return writeJSON(w, http.StatusOK, out)
}

func sortNewestFirst(list []ctypes.Summary) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].Created > list[j-1].Created; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

// args is the command c runs: its entrypoint and cmd over the image's.
func (s *Server) args(ctx context.Context, c *container.Container) []string {
	if img, err := s.e.Images.Get(ctx, c.Config.Image.String()); err == nil {
		return container.Args(c.Config, img)
	}
	return append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...)
}

func (s *Server) inspectContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	resp, err := s.e.Containers.Inspect(r.Context(), c)
	if err != nil {
		return err
	}
	for _, ex := range s.execs.forContainer(c.ID) {
		resp.ExecIDs = append(resp.ExecIDs, ex)
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (s *Server) startContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	s.mon.userAction(c.ID)
	if c.Running() {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err := s.start(r.Context(), c); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// start starts c and watches it; a container that fails to start and
// asked for AutoRemove is removed, as docker does.
func (s *Server) start(ctx context.Context, c *container.Container) error {
	var err error
	if p := s.attaches.take(c.ID); p != nil {
		err = s.startAttached(ctx, c, p)
	} else {
		err = s.e.Containers.Start(ctx, c)
	}
	if err == nil {
		s.mon.watch(c.ID)
		return nil
	}
	code := 125
	var se *container.StartError
	if errors.As(err, &se) {
		code = se.Code
	}
	if c.Config.AutoRemove {
		if rerr := s.e.Containers.Remove(context.WithoutCancel(ctx), c, true); rerr == nil {
			s.mon.removed(c.ID, code)
		}
	} else {
		s.mon.exited(c.ID, code)
	}
	return err
}

// startAttached starts c for the attach p waiting on it (see pendingAttach)
// and hands p the stream, or the error.
func (s *Server) startAttached(ctx context.Context, c *container.Container, p *pendingAttach) error {
	ctx = context.WithoutCancel(ctx) // the stream outlives the request
	// The daemon's monitor (watching from the start) cleans up after the
	// exit, as after the attach's usual way (Prepare): an exit command of
	// the shim's would race it.
	stream, err := s.e.Containers.Run(ctx, c, p.stdin)
	if err == nil && stream == nil {
		// A shim holds c created already (another client attached the
		// usual way): attach, then start it.
		if stream, err = s.e.Containers.Attach(ctx, c, p.stdin); err == nil {
			if err = s.e.Containers.Start(ctx, c); err != nil {
				stream.Close()
				stream = nil
			}
		}
	}
	p.ready <- pendingResult{stream: stream, err: err}
	return err
}

// stopOptions reads the t (seconds; negative: wait for ever) and signal
// parameters shared by stop and restart; a signal overrides the container's
// stop signal for this request only.
func stopOptions(r *http.Request, c *container.Container) (*time.Duration, error) {
	if sig := r.URL.Query().Get("signal"); sig != "" {
		if _, err := signalname.Parse(sig); err != nil {
			return nil, invalidf("%v", err)
		}
		c.Config.StopSignal = sig
	}
	v := r.URL.Query().Get("t")
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, invalidf("invalid value for t: %q", v)
	}
	d := time.Duration(n) * time.Second
	if n < 0 {
		d = 100 * 365 * 24 * time.Hour
	}
	return &d, nil
}

func (s *Server) stopContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	s.mon.userAction(c.ID)
	timeout, err := stopOptions(r, c)
	if err != nil {
		return err
	}
	if !c.Running() {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err := s.e.Containers.Stop(r.Context(), c, timeout); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restartContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	s.mon.userAction(c.ID)
	timeout, err := stopOptions(r, c)
	if err != nil {
		return err
	}
	if err := s.e.Containers.Stop(r.Context(), c, timeout); err != nil {
		return err
	}
	if err := s.start(r.Context(), c); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) killContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	s.mon.userAction(c.ID)
	sig := unix.SIGKILL
	if v := r.URL.Query().Get("signal"); v != "" {
		if sig, err = signalname.Parse(v); err != nil {
			return invalidf("%v", err)
		}
	}
	if !c.Running() {
		return conflictf("cannot kill container: %s: container %s is not running", r.PathValue("id"), c.ID)
	}
	if err := s.e.Containers.Kill(r.Context(), c, sig); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removeContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	s.mon.userAction(c.ID)
	if err := s.e.Containers.Remove(r.Context(), c, boolParam(r, "force")); err != nil {
		return err
	}
	s.mon.removed(c.ID, c.State.ExitCode)
	if boolParam(r, "v") {
		if err := s.e.Containers.RemoveAnonymousVolumes(r.Context(), c); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// waitContainer registers the waiter, then sends the headers (the CLI only
// starts the container once it has them), then blocks for the condition.
func (s *Server) waitContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	cond := r.URL.Query().Get("condition")
	switch cond {
	case "", "not-running", "next-exit", "removed":
	default:
		return invalidf("invalid condition: %q", cond)
	}
	exit, cancelExit := s.mon.onExit(c.ID)
	defer cancelExit()
	removed, cancelRemoved := s.mon.onRemoved(c.ID)
	defer cancelRemoved()
	if c.Running() {
		s.mon.watch(c.ID) // started by someone else (mgr start)
	}
	// Re-read after registering: an exit in between is then seen here.
	if c, err = s.container(r); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()

	code := c.State.ExitCode
	ctx := r.Context()
	waitExit := cond == "next-exit" || c.Running() || (cond == "removed" && c.State.Status == container.StatusCreated)
	if waitExit {
		select {
		case code = <-exit:
		case <-removed:
			return jsonEncode(w, ctypes.WaitResponse{StatusCode: int64(code)})
		case <-ctx.Done():
			return nil
		}
	}
	if cond == "removed" {
		select {
		case <-removed:
		case <-ctx.Done():
			return nil
		}
	}
	return jsonEncode(w, ctypes.WaitResponse{StatusCode: int64(code)})
}

// attachContainer hijacks the connection and joins c's stdio. A container
// that is not running yet is started with its output held for this attach
// when the start comes (see pendingAttach); with a terminal, or when
// another attach waits that way already, it gets its shim now (created,
// not started), so the CLI's attach-then-start loses no output either.
func (s *Server) attachContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	stdin := boolParam(r, "stdin") && c.Config.OpenStdin
	q := r.URL.Query()
	ss := session{tty: c.Config.Tty, stdin: stdin, out: !q.Has("stdout") || boolParam(r, "stdout"), err: !q.Has("stderr") || boolParam(r, "stderr")}
	if ss.detachKeys, err = sessionDetachKeys(q.Get("detachKeys")); err != nil {
		return err
	}
	// A terminal gets its size before the start: the usual way for it.
	if !c.Running() && !c.Config.Tty {
		if p := s.attaches.add(c.ID, stdin); p != nil {
			return s.attachOnStart(w, r, c, p, ss)
		}
	}
	if !c.Running() {
		if err := s.e.Containers.Prepare(r.Context(), c); err != nil {
			var se *container.StartError
			if !errors.As(err, &se) {
				return err
			}
			// The process cannot start (command not found...): the
			// client's start will say why; the session just ends then.
			return s.attachUnstartable(w, r, c)
		}
	}
	stream, err := s.e.Containers.Attach(context.WithoutCancel(r.Context()), c, stdin)
	if err != nil {
		return err
	}
	conn, br, err := hijack(w, r, c.Config.Tty)
	if err != nil {
		stream.Close()
		return err
	}
	pipeSession(conn, br, stream, ss, nil)
	return nil
}

// attachOnStart serves the attach p to a container not launched yet: the
// session opens at once and carries the container's output from the start
// on (see pendingAttach). A start that fails ends it as attachUnstartable
// does; so does the container's removal or the daemon's shutdown.
func (s *Server) attachOnStart(w http.ResponseWriter, r *http.Request, c *container.Container, p *pendingAttach, ss session) error {
	exit, cancelExit := s.mon.onExit(c.ID)
	defer cancelExit()
	removed, cancelRemoved := s.mon.onRemoved(c.ID)
	defer cancelRemoved()
	conn, br, err := hijack(w, r, false)
	if err != nil {
		if !s.attaches.drop(c.ID, p) {
			if res := <-p.ready; res.stream != nil {
				res.stream.Close()
			}
		}
		return err
	}
	res := s.waitForStart(c, p, removed)
	if res.err != nil {
		if !errors.Is(res.err, errNotStarted) {
			// The start that failed answers the client; hold the
			// session until it has, as with a process that cannot start.
			select {
			case <-exit:
			case <-removed:
			case <-time.After(time.Minute):
			}
		}
		conn.Close()
		return nil
	}
	pipeSession(conn, br, res.stream, ss, nil)
	return nil
}

var errNotStarted = errors.New("container was not started")

// pendingWindow is how long an attach waits as a pendingAttach. Then it
// takes the usual way (the shim creates the container, the session waits
// for whatever starts it): a client that attached and died, or starts the
// container much later, does not keep the container from the usual start.
const pendingWindow = 10 * time.Second

// waitForStart waits for the start that takes p. It ends early, with
// errNotStarted, when the container is removed or the daemon stops; joins
// a container started without this daemon (mgr start); and takes the usual
// way once pendingWindow has passed. An error from the start itself (or
// from Prepare, the usual way) is the start's failure.
func (s *Server) waitForStart(c *container.Container, p *pendingAttach, removed <-chan struct{}) pendingResult {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	window := time.NewTimer(pendingWindow)
	defer window.Stop()
	for {
		usual := false
		select {
		case res := <-p.ready:
			return res
		case <-removed:
		case <-s.ctx.Done():
		case <-window.C:
			usual = true
		case <-tick.C:
			cur, err := s.e.Containers.Get(s.ctx, c.ID)
			switch {
			case errdefs.IsNotFound(err): // removed: the wait ends
			case err != nil || !cur.Running():
				continue
			default: // started without this daemon: join it
				usual = true
			}
		}
		if !s.attaches.drop(c.ID, p) {
			return <-p.ready // a start took it meanwhile
		}
		if !usual {
			return pendingResult{err: errNotStarted}
		}
		return s.attachUsual(c.ID, p.stdin)
	}
}

// attachUsual attaches to the container id as an attach that does not
// wait for the start does: prepared (created by its shim) unless running.
func (s *Server) attachUsual(id string, stdin bool) pendingResult {
	cur, err := s.e.Containers.Get(s.ctx, id)
	if err == nil && !cur.Running() {
		if err = s.e.Containers.Prepare(s.ctx, cur); err != nil {
			var se *container.StartError
			if errors.As(err, &se) {
				return pendingResult{err: err} // its start will fail
			}
		}
	}
	if err != nil {
		return pendingResult{err: errNotStarted}
	}
	stream, err := s.e.Containers.Attach(s.ctx, cur, stdin)
	if err != nil {
		// Gone already (a short process another mgr started).
		return pendingResult{err: errNotStarted}
	}
	return pendingResult{stream: stream}
}

// attachUnstartable serves the attach of a container whose process
// cannot start: an empty session, held until the start that the client
// sends next has failed (or a minute has passed).
func (s *Server) attachUnstartable(w http.ResponseWriter, r *http.Request, c *container.Container) error {
	exit, cancelExit := s.mon.onExit(c.ID)
	defer cancelExit()
	removed, cancelRemoved := s.mon.onRemoved(c.ID)
	defer cancelRemoved()
	conn, _, err := hijack(w, r, c.Config.Tty)
	if err != nil {
		return err
	}
	defer conn.Close()
	select {
	case <-exit:
	case <-removed:
	case <-time.After(time.Minute):
	}
	return nil
}

// session is what a hijacked attach or exec session carries.
type session struct {
	tty, stdin bool
	out, err   bool   // the client wants stdout, stderr
	detachKeys []byte // with tty and stdin: typed, they end the session
}

// sessionDetachKeys parses a client's detach keys (docker's default when
// none are given).
func sessionDetachKeys(v string) ([]byte, error) {
	if v == "" {
		v = detachkeys.Default
	}
	keys, err := detachkeys.Parse(v)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	return keys, nil
}

// pipeSession copies a shim stream to a hijacked connection (framed unless
// tty) and, with stdin, the connection's bytes to the stream, until the
// process exits; then it closes both. Half-closing the connection is not
// hanging up: output goes on. With a TTY the detach keys end the session
// as its input's end does, the process living on: the docker CLI filters
// them itself, other clients rely on the daemon (as with dockerd). onExit,
// if set, gets the exit status before the connection closes.
func pipeSession(conn io.ReadWriteCloser, br io.Reader, stream *shimapi.Stream, ss session, onExit func(*shimapi.ExitStatus)) {
	defer conn.Close()
	defer stream.Close()
	tty := ss.tty
	// After a TTY client leaves (detach keys, or its input's end) an exec
	// session keeps reading its process's output into the void until the
	// exit, so that exec inspect tells the truth; an attach session to the
	// container just ends.
	client := &leavableWriter{w: conn, outlive: onExit != nil}
	if ss.stdin {
		go func() {
			in := br
			if tty && len(ss.detachKeys) > 0 {
				in = detachkeys.NewReader(br, ss.detachKeys, func() {})
			}
			_, _ = io.Copy(stream, in)
			if tty {
				// A TTY session ends with its input; the process lives on.
				client.leave()
				conn.Close()
				if onExit == nil {
					stream.Close()
				}
				return
			}
			_ = stream.CloseStdin()
		}()
	}
	out := &muxWriter{w: client, raw: tty}
	var stdout, stderr io.Writer
	if ss.out {
		stdout = streamWriter{out, streamStdout}
	}
	if ss.err {
		stderr = streamWriter{out, streamStderr}
	}
	st, _ := stream.Copy(stdout, stderr)
	if onExit != nil {
		onExit(st)
	}
}

// leavableWriter writes to a client until it has left; then it discards
// the output if the session is to outlive its client (exec), else it
// fails the copy (attach).
type leavableWriter struct {
	mu      sync.Mutex
	w       io.Writer
	outlive bool
	gone    bool
}

func (l *leavableWriter) leave() {
	l.mu.Lock()
	l.gone = true
	l.mu.Unlock()
}

func (l *leavableWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	gone := l.gone
	l.mu.Unlock()
	if gone {
		if l.outlive {
			return len(p), nil
		}
		return 0, io.ErrClosedPipe
	}
	n, err := l.w.Write(p)
	if err != nil && l.outlive {
		l.leave() // a client that hung up is gone too
		return len(p), nil
	}
	return n, err
}

func (s *Server) resizeContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	width, height, err := size(r)
	if err != nil {
		return err
	}
	if err := s.e.Containers.Resize(r.Context(), c, width, height); err != nil && c.Running() {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func size(r *http.Request) (width, height uint16, err error) {
	q := r.URL.Query()
	h, err1 := strconv.ParseUint(q.Get("h"), 10, 16)
	wd, err2 := strconv.ParseUint(q.Get("w"), 10, 16)
	if err1 != nil || err2 != nil {
		return 0, 0, invalidf("invalid size h=%q w=%q", q.Get("h"), q.Get("w"))
	}
	return uint16(wd), uint16(h), nil
}

func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	o := container.LogOptions{Follow: boolParam(r, "follow"), Tail: -1}
	if t := q.Get("tail"); t != "" && t != "all" {
		if o.Tail, err = strconv.Atoi(t); err != nil {
			return invalidf("invalid tail %q", t)
		}
	}
	if v := q.Get("since"); v != "" && v != "0" {
		if o.Since, err = unixTime(v); err != nil {
			return err
		}
	}
	var until time.Time
	if v := q.Get("until"); v != "" && v != "0" {
		if until, err = unixTime(v); err != nil {
			return err
		}
	}
	wantOut, wantErr := boolParam(r, "stdout"), boolParam(r, "stderr")
	stamps := boolParam(r, "timestamps")
	w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
	if c.Config.Tty {
		w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	out := &muxWriter{w: w, raw: c.Config.Tty, fl: func() { _ = rc.Flush() }}
	ctx, stop := s.streamContext(r)
	defer stop()
	err = s.e.Containers.Logs(ctx, c, o, func(e container.LogEntry) error {
		if !until.IsZero() && e.Time.After(until) {
			return nil
		}
		id := streamStdout
		if e.Stream == "stderr" {
			if !wantErr {
				return nil
			}
			id = streamStderr
		} else if !wantOut {
			return nil
		}
		line := e.Log
		if stamps {
			line = e.Time.UTC().Format(time.RFC3339Nano) + " " + line
		}
		if err := out.write(id, []byte(line)); err != nil {
			return context.Canceled // the client left
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		// Too late for an error answer: the stream just ends.
		s.log.WithError(err).WithField("id", c.ID[:12]).Warn("logs")
	}
	return nil
}

// unixTime reads docker's "seconds[.nanoseconds]".
func unixTime(v string) (time.Time, error) {
	secs, frac, _ := strings.Cut(v, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, invalidf("invalid time %q", v)
	}
	var nsec int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		nsec, _ = strconv.ParseInt(frac, 10, 64)
	}
	return time.Unix(sec, nsec), nil
}

func (s *Server) topContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	var psArgs []string
	if a := r.URL.Query().Get("ps_args"); a != "" {
		psArgs = strings.Fields(a)
	}
	out, err := s.e.Containers.Top(r.Context(), c, psArgs)
	if err != nil {
		return err
	}
	resp, err := topResponse(out)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (s *Server) renameContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		return invalidf("new name is required")
	}
	if err := s.e.Containers.Rename(r.Context(), c, name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerVerb is a handler that does verb to the container the path
// names and answers 204 (pause, unpause).
func (s *Server) containerVerb(verb func(*container.Service, context.Context, *container.Container) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.container(r)
		if err != nil {
			return err
		}
		if err := verb(s.e.Containers, r.Context(), c); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
