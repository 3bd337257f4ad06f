package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

// intent is an attachment being made: written before CNI ADD and removed
// once libcni has cached the result (or the ADD was undone). An intent
// left behind means a manager died during ADD; Cleanup runs DEL from it
// while the namespace still exists, so bridge, host-local and portmap can
// undo their part without a previous result.
type intent struct {
	ContainerID    string         `json:"containerID"`
	Network        string         `json:"network"`
	IfName         string         `json:"ifName"`
	NetNS          string         `json:"netns"`
	Config         []byte         `json:"config"`
	Args           [][2]string    `json:"args,omitempty"`
	CapabilityArgs map[string]any `json:"capabilityArgs,omitempty"`
}

func (m *Manager) intentDir() string { return filepath.Join(m.dataDir, "intents") }

func (m *Manager) intentPath(containerID, network, ifName string) string {
	return filepath.Join(m.intentDir(), containerID+"-"+network+"-"+ifName+".json")
}

func (m *Manager) writeIntent(list *libcni.NetworkConfigList, rc *libcni.RuntimeConf) error {
	data, err := json.Marshal(intent{
		ContainerID: rc.ContainerID, Network: list.Name, IfName: rc.IfName, NetNS: rc.NetNS,
		Config: list.Bytes, Args: rc.Args, CapabilityArgs: rc.CapabilityArgs,
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.intentDir(), 0o700); err != nil {
		return err
	}
	path := m.intentPath(rc.ContainerID, list.Name, rc.IfName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("record network attach: %w", err)
	}
	return os.Rename(tmp, path)
}

func (m *Manager) dropIntent(containerID, network, ifName string) {
	_ = os.Remove(m.intentPath(containerID, network, ifName))
}

// intents lists the unfinished attachments of containerID ("" for all).
func (m *Manager) intents(containerID string) ([]intent, error) {
	entries, err := os.ReadDir(m.intentDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []intent
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || (containerID != "" && !strings.HasPrefix(e.Name(), containerID+"-")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(m.intentDir(), e.Name()))
		if err != nil {
			continue
		}
		var in intent
		if json.Unmarshal(data, &in) != nil || (containerID != "" && in.ContainerID != containerID) {
			continue
		}
		out = append(out, in)
	}
	return out, nil
}
