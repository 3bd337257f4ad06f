// Package cniconfig holds berth's default CNI network, "bridge": the bridge
// plugin on device mgr0 (gateway, IP masquerade, hairpin) with host-local
// addresses from 10.77.0.0/16 — neither docker's 172.17.0.0/16 nor
// podman's 10.88.0.0/16 — then portmap (published ports), firewall and
// tuning, in nerdctl's shape. hack/setup.sh installs the file into
// /etc/cni/net.d; mgr falls back to this embedded copy when the config
// dir has no network named "bridge".
package cniconfig

import _ "embed"

// DefaultNetwork is the name of the default network.
const DefaultNetwork = "bridge"

// DefaultConfList is the default network's conflist.
//
//go:embed 87-mgr-bridge.conflist
var DefaultConfList []byte

// DefaultFile is the name setup installs it under.
const DefaultFile = "87-mgr-bridge.conflist"
