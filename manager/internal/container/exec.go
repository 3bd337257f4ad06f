package container

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/runtime/oci"
	shimapi "github.com/berthrun/berth/shim/api"
)

// ExecOptions describe a process to run in a running container; empty
// fields keep the container's own settings.
type ExecOptions struct {
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	Tty        bool
	Privileged bool
}

// Exec starts a process in c through its shim and returns its stdio
// stream (which ends with its exit status). Closing the stream early leaves
// the process running.
func (s *Service) Exec(ctx context.Context, c *Container, o ExecOptions) (*shimapi.Stream, error) {
	if c.State.Status == StatusPaused {
		return nil, fmt.Errorf("container %s is paused, unpause the container before exec: %w", c.Name, errdefs.ErrConflict)
	}
	if !c.Running() {
		return nil, fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	if len(o.Cmd) == 0 {
		return nil, fmt.Errorf("no command specified: %w", errdefs.ErrInvalidArgument)
	}
	s.warm.Begin() // the runtime puts the process into c's cgroups
	data, err := os.ReadFile(filepath.Join(s.runDir(c.ID), "config.json"))
	if err != nil {
		return nil, fmt.Errorf("exec in %.12s: %w", c.ID, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("exec in %.12s: %w", c.ID, err)
	}
	p := spec.Process
	p.Args = o.Cmd
	p.Terminal = o.Tty
	p.ConsoleSize = nil
	if err := oci.WithEnv(o.Env)(&spec); err != nil {
		return nil, err
	}
	if o.Tty {
		_ = oci.WithEnv([]string{"TERM=xterm"})(&spec)
	}
	if o.WorkingDir != "" {
		p.Cwd = o.WorkingDir
	}
	if o.User != "" {
		// The running container's root, with its mounts, as its
		// processes see it.
		root := fmt.Sprintf("/proc/%d/root", c.State.Pid)
		uid, gid, groups, _, err := resolveUser(root, o.User)
		if err != nil {
			return nil, err
		}
		p.User = specs.User{UID: uid, GID: gid, AdditionalGids: groups}
	}
	if o.Privileged {
		full, err := oci.New("/", oci.WithPrivileged())
		if err != nil {
			return nil, err
		}
		p.Capabilities = full.Process.Capabilities
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	stream, err := s.shim(c.ID).Exec(ctx, raw)
	if err != nil {
		// The runtime could not start the process: docker's 126/127.
		return nil, startError(err.Error())
	}
	return stream, nil
}
