package network

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/containernetworking/cni/libcni"
)

func TestForAttach(t *testing.T) {
	const list = `{"cniVersion": "1.0.0", "name": "n", "plugins": [
  {"type": "bridge", "bridge": "b0", "ipam": {"type": "host-local", "subnet": "10.9.0.0/24"}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  %s
]}`
	tests := []struct {
		name   string
		tuning string
		ports  bool
		want   []string
	}{
		{"idle tuning and no ports", `{"type": "tuning"}`, false, []string{"bridge"}},
		{"ports keep portmap", `{"type": "tuning"}`, true, []string{"bridge", "portmap"}},
		{"tuning with a sysctl stays", `{"type": "tuning", "sysctl": {"net.core.somaxconn": "500"}}`, false, []string{"bridge", "tuning"}},
		{"tuning with a capability stays", `{"type": "tuning", "capabilities": {"mac": true}}`, false, []string{"bridge", "tuning"}},
	}
	m := &Manager{dataDir: "/data"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := libcni.ConfListFromBytes([]byte(fmt.Sprintf(list, tc.tuning)))
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.forAttach(in, tc.ports)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range out.Plugins {
				got = append(got, p.Network.Type)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("plugins %v, want %v", got, tc.want)
			}
			var raw struct {
				Plugins []struct {
					IPAM map[string]any `json:"ipam"`
				} `json:"plugins"`
			}
			if err := json.Unmarshal(out.Bytes, &raw); err != nil {
				t.Fatal(err)
			}
			if raw.Plugins[0].IPAM["dataDir"] != "/data/networks" {
				t.Errorf("host-local dataDir = %v, want mgr's lease dir", raw.Plugins[0].IPAM["dataDir"])
			}
		})
	}
}
