// Package cniconfig holds berth's default CNI network, "bridge": the bridge
// plugin on device mgr0 (gateway, hairpin) with host-local
// addresses from 10.77.0.0/16 — neither docker's 172.17.0.0/16 nor
// podman's 10.88.0.0/16 — then portmap (published ports) and tuning, in
// nerdctl's shape less its firewall plugin: that plugin can remove its
// per-container rules only with the ADD's result, which a manager killed
// during ADD never got, so it leaked rules; and its ten iptables calls per
// container were a third of the bridge's cost. Forwarding then follows the
// host's FORWARD policy (`mgr network check` warns when it is DROP).
// Masquerading is one rule per network that mgr keeps ("mgr.masquerade"),
// not the bridge plugin's chain per container (ipMasq): a dozen iptables
// runs less per container start and stop. hack/setup.sh installs the file into
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
