package container

import (
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berthrun/berth/manager/internal/network"
)

// Config is what a container is created with; it never changes after.
type Config struct {
	Image       digest.Digest     `json:"image"`
	ImageRef    string            `json:"imageRef"` // as the user named it
	Entrypoint  []string          `json:"entrypoint,omitempty"`
	Cmd         []string          `json:"cmd,omitempty"`
	Env         []string          `json:"env,omitempty"`
	WorkingDir  string            `json:"workingDir,omitempty"`
	User        string            `json:"user,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Tty         bool              `json:"tty,omitempty"`
	OpenStdin   bool              `json:"openStdin,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	StopSignal  string            `json:"stopSignal,omitempty"`
	StopTimeout *int              `json:"stopTimeout,omitempty"` // seconds
	Restart     RestartPolicy     `json:"restart"`
	AutoRemove  bool              `json:"autoRemove,omitempty"`
	NetworkMode string            `json:"networkMode"` // none, host, or a network name ("bridge" is the default)
	Ports       []PortSpec        `json:"ports,omitempty"`
	PublishAll  bool              `json:"publishAll,omitempty"`
	IP          string            `json:"ip,omitempty"`
	DNS         []string          `json:"dns,omitempty"`
	AddHosts    []string          `json:"addHosts,omitempty"` // host:ip
	Aliases     []string          `json:"aliases,omitempty"`  // extra names on user networks
	Mounts      []Mount           `json:"mounts,omitempty"`
	Resources   Resources         `json:"resources"`
	Security    Security          `json:"security"`
	Init        bool              `json:"init,omitempty"`
	Ulimits     []Ulimit          `json:"ulimits,omitempty"`
}

// PortSpec is one -p: HostPort 0 picks a free port at start.
type PortSpec struct {
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"` // tcp, udp
}

// RestartPolicy is recorded at create; the daemon honours it.
type RestartPolicy struct {
	Name     string `json:"name"` // no, always, on-failure, unless-stopped
	MaxRetry int    `json:"maxRetry,omitempty"`
}

// Mount is a bind mount or a named volume.
type Mount struct {
	Type        string `json:"type"` // bind, volume
	Source      string `json:"source"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"readOnly,omitempty"`
	Name        string `json:"name,omitempty"`      // volume name
	Anonymous   bool   `json:"anonymous,omitempty"` // made for the image's VOLUME; rm -v removes it
}

// Resources are cgroup limits.
type Resources struct {
	Memory    int64   `json:"memory,omitempty"` // bytes
	CPUs      float64 `json:"cpus,omitempty"`
	PidsLimit int64   `json:"pidsLimit,omitempty"`
}

// Security holds the privilege settings.
type Security struct {
	ReadOnlyRootfs  bool     `json:"readOnlyRootfs,omitempty"`
	Privileged      bool     `json:"privileged,omitempty"`
	CapAdd          []string `json:"capAdd,omitempty"`
	CapDrop         []string `json:"capDrop,omitempty"`
	NoNewPrivileges bool     `json:"noNewPrivileges,omitempty"`
	Seccomp         string   `json:"seccomp,omitempty"` // "", "unconfined", or a profile file's content
}

// Ulimit is one --ulimit.
type Ulimit struct {
	Name string `json:"name"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// Status values, docker's.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusPaused  = "paused"
	StatusExited  = "exited"
	StatusDead    = "dead"
)

// State is what changes as a container lives.
type State struct {
	Status       string    `json:"status"`
	Pid          int       `json:"pid,omitempty"`
	ExitCode     int       `json:"exitCode"`
	OOMKilled    bool      `json:"oomKilled,omitempty"`
	Error        string    `json:"error,omitempty"`
	StartedAt    time.Time `json:"startedAt"`
	FinishedAt   time.Time `json:"finishedAt"`
	RestartCount int       `json:"restartCount,omitempty"`
	// Stopped is set by stop/kill through mgr, so unless-stopped and
	// always know the user stopped it.
	StoppedByUser bool `json:"stoppedByUser,omitempty"`
	// NetworkNames are the networks the container joins when it starts
	// (its --network, plus `network connect`s); Networks what it got.
	NetworkNames []string             `json:"networkNames,omitempty"`
	Networks     []network.Attachment `json:"networks,omitempty"`
	NetNS        string               `json:"netns,omitempty"`
}

// usesCNI reports whether the container's network comes from CNI.
func (c *Container) usesCNI() bool {
	return c.Config.NetworkMode != "none" && c.Config.NetworkMode != "host"
}

// Container is one container: identity, config and state.
type Container struct {
	ID      string
	Name    string
	Created time.Time
	Config  Config
	State   State
}

// Running reports whether its process is alive (running or paused).
func (c *Container) Running() bool {
	return c.State.Status == StatusRunning || c.State.Status == StatusPaused
}
