package main

import (
	"encoding/json"
	"os"
	"time"

	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/internal/libct"
)

// containerState is what `state` and `list --format json` print: the OCI
// state fields plus runc's extras (rootfs, created, owner), so tools that
// parse runc's output parse rt's.
type containerState struct {
	Version        string            `json:"ociVersion"`
	ID             string            `json:"id"`
	InitProcessPid int               `json:"pid"`
	Status         string            `json:"status"`
	Bundle         string            `json:"bundle"`
	Rootfs         string            `json:"rootfs"`
	Created        time.Time         `json:"created"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	Owner          string            `json:"owner"`
}

func stateOf(ct *libct.Container) (*containerState, error) {
	status, err := ct.Status()
	if err != nil {
		return nil, err
	}
	st, err := ct.State()
	if err != nil {
		return nil, err
	}
	pid := st.BaseState.InitProcessPid
	if status == libct.Stopped {
		pid = 0
	}
	bundle, annotations := utils.Annotations(st.Config.Labels)
	return &containerState{
		Version:        st.BaseState.Config.Version,
		ID:             st.BaseState.ID,
		InitProcessPid: pid,
		Status:         status.String(),
		Bundle:         bundle,
		Rootfs:         st.BaseState.Config.Rootfs,
		Created:        st.BaseState.Created,
		Annotations:    annotations,
	}, nil
}

var stateCommand = &cli.Command{
	Name:  "state",
	Usage: "output the state of a container",
	ArgsUsage: `<container-id>

EXAMPLE:
       # rt state web1`,
	Description: `The state command prints the container's state as JSON (OCI state fields).`,
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		cs, err := stateOf(ct)
		if err != nil {
			return err
		}
		data, err := json.MarshalIndent(cs, "", "  ")
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(data)
		return err
	},
}
