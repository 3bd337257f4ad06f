#!/usr/bin/env bash
# hack/bench-netns.sh RUNS DIR: `run --rm busybox true` on the default
# network, mgr against podman, alternating, for hack/bench.sh. It must run
# inside `unshare --net --mount --propagation private`: podman's default
# network creates a bridge, iptables rules and CNI files (/var/lib/cni),
# and here they land in a network namespace and on a tmpfs that vanish with
# this process, so nothing of the host is shared. mgr's bridge runs in the
# same namespace for a fair ratio. Prints one "NAME NANOSECONDS" per run.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=$1 dir=$2
# shellcheck source=hack/lib-bench.sh
. "$top/hack/lib-bench.sh"

[ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] || { echo "bench-netns.sh: not in a private network namespace" >&2; exit 1; }
mount -t tmpfs tmpfs /var/lib
ip link set lo up

mkdir -p "$dir/cni"
# mgr's default network on a bench bridge, inside this namespace.
sed 's/"mgr0"/"bnns0"/; s#10\.77\.0\.0/16#10.249.253.0/24#; s/10\.77\.0\.1/10.249.253.1/' \
	"$top/cni-config/87-mgr-bridge.conflist" >"$dir/cni/10-bridge.conflist"
mgr() { MGR_ROOT=$dir/m/r MGR_RUNROOT=$dir/m/rr MGR_CONFIG=$dir/m/c MGR_PULL=never MGR_CNI_CONFIG_DIR=$dir/cni "$top/bin/mgr" "$@"; }
"$top/hack/mkimage.sh" "$dir/busybox.tar" >/dev/null
mgr load -q -i "$dir/busybox.tar" >/dev/null
private_podman "$dir/podman" "$dir/busybox.tar" || exit 0

once() {
	case $1 in
	mgr) mgr run --rm busybox true ;;
	podman) "${PODMAN[@]}" run --rm --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 busybox true ;;
	esac
}
for name in mgr podman; do once "$name" >/dev/null; done # warm-up: bridges, chains
for _ in $(seq 1 "$runs"); do
	for name in mgr podman; do
		t0=$(now_ns)
		once "$name" >/dev/null
		t1=$(now_ns)
		echo "$name $((t1 - t0))"
	done
done
"${PODMAN[@]}" rm -a -f >/dev/null 2>&1 || true
ids=$(mgr ps -aq --no-trunc)
[ -z "$ids" ] || mgr rm -f $ids >/dev/null
