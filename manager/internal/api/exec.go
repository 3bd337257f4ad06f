package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"

	"github.com/moby/moby/api/types/common"
	ctypes "github.com/moby/moby/api/types/container"

	"github.com/berthrun/berth/manager/internal/container"
	shimapi "github.com/berthrun/berth/shim/api"
)

// execSession is one exec instance: created by POST /containers/{id}/exec,
// run by POST /exec/{id}/start, read by GET /exec/{id}/json.
type execSession struct {
	id          string
	containerID string
	opts        container.ExecOptions
	attachStdin bool
	detachKeys  []byte // filtered from a TTY session's input: they end it
	attachOut   bool
	attachErr   bool

	mu       sync.Mutex
	started  bool
	running  bool
	exitCode *int
	stream   *shimapi.Stream
	size     *[2]uint16 // width, height asked for before the stream existed
}

// execRegistry keeps exec sessions in memory, as docker does: they do not
// outlive the daemon.
type execRegistry struct {
	mu       sync.Mutex
	sessions map[string]*execSession
}

func newExecRegistry() *execRegistry { return &execRegistry{sessions: map[string]*execSession{}} }

func (x *execRegistry) add(e *execSession) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.sessions[e.id] = e
}

func (x *execRegistry) get(id string) (*execSession, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.sessions[id]
	if !ok {
		return nil, notFoundf("no such exec instance: %s", id)
	}
	return e, nil
}

func (x *execRegistry) forContainer(id string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	for _, e := range x.sessions {
		if e.containerID == id {
			out = append(out, e.id)
		}
	}
	return out
}

// finish records the exit code; it comes before the stream closes, so the
// CLI's GET /exec/{id}/json after the stream finds it.
func (e *execSession) finish(st *shimapi.ExitStatus) {
	e.mu.Lock()
	defer e.mu.Unlock()
	code := -1
	if st != nil {
		code = st.ExitCode
	}
	e.exitCode = &code
	e.running = false
	e.stream = nil
}

func (s *Server) createExec(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	var req ctypes.ExecCreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if len(req.Cmd) == 0 {
		return invalidf("no exec command specified")
	}
	if !c.Running() {
		return conflictf("container %s is not running", c.ID)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	e := &execSession{
		id:          hex.EncodeToString(b),
		containerID: c.ID,
		opts:        container.ExecOptions{Cmd: req.Cmd, Env: req.Env, WorkingDir: req.WorkingDir, User: req.User, Tty: req.Tty, Privileged: req.Privileged},
		attachStdin: req.AttachStdin,
		attachOut:   req.AttachStdout,
		attachErr:   req.AttachStderr,
	}
	if req.ConsoleSize != nil {
		e.size = &[2]uint16{uint16(req.ConsoleSize[1]), uint16(req.ConsoleSize[0])}
	}
	keys, err := sessionDetachKeys(req.DetachKeys)
	if err != nil {
		return err
	}
	e.detachKeys = keys
	s.execs.add(e)
	return writeJSON(w, http.StatusCreated, common.IDResponse{ID: e.id})
}

// execStartRequest is ExecStartRequest as the CLI sends it (v1.56's type
// has the same fields; Detach decides whether the connection is hijacked).
type execStartRequest = ctypes.ExecStartRequest

func (s *Server) startExec(w http.ResponseWriter, r *http.Request) error {
	e, err := s.execs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	var req execStartRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	e.mu.Lock()
	if e.started {
		e.mu.Unlock()
		return conflictf("exec %s has already been started", e.id)
	}
	e.started = true
	e.mu.Unlock()
	c, err := s.e.Containers.Get(r.Context(), e.containerID)
	if err != nil {
		return err
	}
	if req.Tty {
		e.opts.Tty = true
	}
	if req.ConsoleSize != nil {
		e.size = &[2]uint16{uint16(req.ConsoleSize[1]), uint16(req.ConsoleSize[0])}
	}
	stream, err := s.e.Containers.Exec(context.WithoutCancel(r.Context()), c, e.opts)
	if err != nil {
		e.finish(nil)
		return err
	}
	e.mu.Lock()
	e.running = true
	e.stream = stream
	if e.size != nil && e.opts.Tty {
		_ = stream.Resize(e.size[0], e.size[1])
	}
	e.mu.Unlock()
	if req.Detach {
		go func() {
			defer stream.Close()
			st, _ := stream.Copy(nil, nil)
			e.finish(st)
		}()
		w.WriteHeader(http.StatusOK)
		return nil
	}
	conn, br, err := hijack(w, r, e.opts.Tty)
	if err != nil {
		stream.Close()
		e.finish(nil)
		return err
	}
	pipeSession(conn, br, stream, session{tty: e.opts.Tty, stdin: e.attachStdin, out: true, err: true, detachKeys: e.detachKeys}, e.finish)
	return nil
}

func (s *Server) inspectExec(w http.ResponseWriter, r *http.Request) error {
	e, err := s.execs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	resp := ctypes.ExecInspectResponse{
		ID:          e.id,
		Running:     e.running,
		ExitCode:    e.exitCode,
		OpenStdin:   e.attachStdin,
		OpenStdout:  e.attachOut,
		OpenStderr:  e.attachErr,
		ContainerID: e.containerID,
		ProcessConfig: &ctypes.ExecProcessConfig{
			Tty:        e.opts.Tty,
			Entrypoint: e.opts.Cmd[0],
			Arguments:  e.opts.Cmd[1:],
			Privileged: &e.opts.Privileged,
			User:       e.opts.User,
		},
	}
	return writeJSON(w, http.StatusOK, resp)
}

// resizeExec may come before the process is up: the size is kept for it.
func (s *Server) resizeExec(w http.ResponseWriter, r *http.Request) error {
	e, err := s.execs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	width, height, err := size(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.size = &[2]uint16{width, height}
	if e.stream != nil {
		_ = e.stream.Resize(width, height)
	}
	e.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	return nil
}
