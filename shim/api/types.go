package api

import (
	"encoding/json"
	"time"
)

// Version is the control protocol version this package speaks. Every request
// carries it in "v"; a shim answers a request of another version with
// ErrUnsupportedVersion's text and closes the connection.
const Version = 1

// Operations of the control protocol (Request.Op).
const (
	OpState    = "state"
	OpStart    = "start"
	OpKill     = "kill"
	OpExec     = "exec"
	OpAttach   = "attach"
	OpResize   = "resize"
	OpWait     = "wait"
	OpShutdown = "shutdown"
)

// Container status values (State.Status), the OCI state names.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusStopped = "stopped"
)

// Names of the files a shim keeps in its state directory.
const (
	SocketFile     = "shim.sock"
	PidFile        = "shim.pid"
	InitPidFile    = "init.pid"
	ExitFile       = "exit.json"
	RuntimeLogFile = "runtime.log"
	ShimLogFile    = "shim.log"
)

// Request is one JSON line a client sends on a fresh connection.
type Request struct {
	V  int    `json:"v"`
	Op string `json:"op"`

	// kill
	Signal int  `json:"signal,omitempty"`
	All    bool `json:"all,omitempty"`

	// resize (of the container's tty, or, inside an attach/exec stream, the
	// session's tty)
	Width  uint16 `json:"width,omitempty"`
	Height uint16 `json:"height,omitempty"`

	// attach: whether this client may write to the container's stdin, and
	// whether its close frame closes the container's stdin.
	Stdin      bool `json:"stdin,omitempty"`
	CloseStdin bool `json:"close_stdin,omitempty"`

	// exec: the OCI runtime-spec Process to run (its "terminal" field
	// selects a tty).
	Process json.RawMessage `json:"process,omitempty"`

	// shutdown: kill a container that is still running first.
	Force bool `json:"force,omitempty"`
}

// Response is the JSON line a shim answers a request with. For attach and
// exec, an OK response is followed by the framed stream.
type Response struct {
	V     int         `json:"v"`
	Error string      `json:"error,omitempty"`
	State *State      `json:"state,omitempty"`
	Exit  *ExitStatus `json:"exit,omitempty"`
}

// State describes the container a shim holds.
type State struct {
	ID          string      `json:"id"`
	Bundle      string      `json:"bundle"`
	Runtime     string      `json:"runtime"`
	RuntimeRoot string      `json:"runtime_root,omitempty"`
	StateDir    string      `json:"state_dir"`
	LogPath     string      `json:"log_path,omitempty"`
	Terminal    bool        `json:"terminal"`
	Stdin       bool        `json:"stdin"`
	ShimPid     int         `json:"shim_pid"`
	Pid         int         `json:"pid"`
	Status      string      `json:"status"`
	CreatedAt   time.Time   `json:"created_at"`
	StartedAt   *time.Time  `json:"started_at,omitempty"`
	Exit        *ExitStatus `json:"exit,omitempty"`
}

// ExitStatus is how a process ended. It is the content of exit.json for the
// container's init, and the payload of an exit frame.
type ExitStatus struct {
	Pid int `json:"pid,omitempty"`
	// ExitCode is the exit status, or 128+signal for a process killed by a
	// signal (as docker reports it).
	ExitCode int `json:"exit_code"`
	// Signal is the signal that killed the process, 0 if it exited.
	Signal   int       `json:"signal"`
	ExitedAt time.Time `json:"exited_at"`
	// OOMKilled is set when the kernel's OOM killer killed a process in the
	// container's memory cgroup while it ran.
	OOMKilled bool `json:"oom_killed"`
	// ShimLost is set by Cleanup when the shim died before the container
	// did: the exit code is then the SIGKILL that Cleanup sent.
	ShimLost bool `json:"shim_lost,omitempty"`
}

// LaunchResult is the one JSON line `shim` prints on stdout when its daemon
// side has created the container (Error empty) or failed to.
type LaunchResult struct {
	Error   string `json:"error,omitempty"`
	ShimPid int    `json:"shim_pid,omitempty"`
	Pid     int    `json:"pid,omitempty"`
	Socket  string `json:"socket,omitempty"`
	Started bool   `json:"started,omitempty"`
}
