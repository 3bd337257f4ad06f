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
	bench_peers=(podman skopeo umoci time)
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "hack/setup.sh must run as root (it installs packages and prepares cgroups)" >&2
	exit 1
fi

# Debian packages, by what needs them:
#   build:        gcc, make, pkg-config, libseccomp-dev (cgo: nsenter, seccomp)
#   test rootfs:  busybox-static
#   peers:        runc, crun, conmon (conformance and bench compare against them)
#   images:       docker-registry (local test registry), apache2-utils (htpasswd)
#   containers:   catatonit (the init that --init mounts into containers)
#   tooling:      jq, iproute2, procps (rt ps), hyperfine (bench), file, git
packages=(gcc make pkg-config libseccomp-dev busybox-static runc crun conmon docker-registry apache2-utils catatonit jq iproute2 procps hyperfine file git ca-certificates)
missing=()
for p in "${packages[@]}" "${bench_peers[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
