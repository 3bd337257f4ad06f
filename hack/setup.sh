#!/usr/bin/env bash
# hack/setup.sh: make this machine ready to build, run and test berth.
#
# Idempotent: every step checks before it acts, so running it twice is cheap.
# Needs root (apt, /opt, cgroups). Reaches only Debian's archive and the Go
# module proxy. Later components add their steps here.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

log() { printf '[setup] %s\n' "$*"; }

# --bench: also install the peers that only `make bench` compares against.
bench_peers=()
if [ "${1:-}" = "--bench" ]; then
	bench_peers=(podman buildah skopeo umoci time docker.io containerd)
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "hack/setup.sh must run as root (it installs packages and prepares cgroups)" >&2
	exit 1
fi

# Debian packages, by what needs them:
#   build:        gcc, libc6-dev, make, pkg-config, libseccomp-dev (cgo: nsenter,
#                 seccomp; rt links them statically), patch, python3
#                 (hack/runc-patched.sh: runtime/patches onto runc)
#   test rootfs:  busybox-static
#   peers:        runc, crun, conmon (conformance and bench compare against them)
#   images:       docker-registry (local test registry), apache2-utils (htpasswd)
#   containers:   catatonit (the init that --init mounts into containers)
#   networking:   iptables (portmap, masquerade, firewall plugins)
#   tooling:      jq, python3 (bench: edits specs jq 1.6 would corrupt),
#                 iproute2, procps (rt ps), hyperfine (bench), file, git
packages=(gcc libc6-dev make pkg-config libseccomp-dev patch busybox-static runc crun conmon docker-registry apache2-utils catatonit iptables jq python3 iproute2 procps hyperfine file git ca-certificates)
missing=()
for p in "${packages[@]}" "${bench_peers[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# No package may start its service here (docker.io's dockerd would make
	# docker0 and iptables chains on the host; the bench runs private ones):
	# Debian's invoke-rc.d and deb-systemd-invoke obey policy-rc.d. On a
	# machine with systemd the services stay enabled for the next boot.
	policy=/usr/sbin/policy-rc.d made_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
		trap 'rm -f "$policy"' EXIT
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	if [ -n "$made_policy" ]; then
		rm -f "$policy"
		trap - EXIT
	fi
else
	log "system packages present"
fi

# Go toolchain: the machine image ships it in /usr/local/go.
if ! command -v go >/dev/null 2>&1; then
	export PATH=$PATH:/usr/local/go/bin
fi
command -v go >/dev/null || { echo "go toolchain not found (expected /usr/local/go)" >&2; exit 1; }

# cgroups: crun refuses a hybrid layout while cgroup2 still owns a controller
# (here: hugetlb). Binding hugetlb to a v1 hierarchy makes crun usable as a
# peer; rt and runc do not need it.
if [ -d /sys/fs/cgroup/unified ] && [ -f /sys/fs/cgroup/unified/cgroup.controllers ] &&
	grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
	log "binding hugetlb to a cgroup v1 hierarchy (for crun on this hybrid host)"
	mkdir -p /sys/fs/cgroup/hugetlb
	mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || log "could not mount hugetlb v1 hierarchy; crun may refuse to run"
fi

# CNI plugins, built from the Go module at a pinned version: Debian's
# containernetworking-plugins is 1.1.1, older than the libcni (v1.3) mgr
# uses, and lacks the status/GC verbs and portmap fixes since.
cni_version=v1.10.0
cni_plugins=(main/bridge main/loopback main/ptp main/macvlan main/ipvlan ipam/host-local meta/portmap meta/firewall meta/tuning)
cni_bin=/opt/cni/bin
if [ "$(cat "$cni_bin/.berth-version" 2>/dev/null)" != "$cni_version" ]; then
	log "installing CNI plugins $cni_version into $cni_bin"
	mkdir -p "$cni_bin"
	pkgs=()
	for p in "${cni_plugins[@]}"; do pkgs+=("github.com/containernetworking/plugins/plugins/$p@$cni_version"); done
	GOBIN=$cni_bin CGO_ENABLED=0 go install "${pkgs[@]}"
	echo "$cni_version" >"$cni_bin/.berth-version"
else
	log "CNI plugins $cni_version present"
fi
# The default network, where orchestrators and mgr look for networks.
mkdir -p /etc/cni/net.d
install -m 0644 cni-config/87-mgr-bridge.conflist /etc/cni/net.d/87-mgr-bridge.conflist

log "building"
make -s build

log "making the busybox bundle in _output/bundle"
hack/mkbundle.sh "$top/_output/bundle" >/dev/null

# The busybox image, loaded into mgr's default store so `mgr run busybox`
# works without a registry (none is reachable here).
log "making the busybox image (_output/busybox.tar) and loading it into mgr"
hack/mkimage.sh "$top/_output/busybox.tar" >/dev/null
bin/mgr load -q -i "$top/_output/busybox.tar" >/dev/null

log "ready"
