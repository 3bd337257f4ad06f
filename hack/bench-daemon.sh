#!/usr/bin/env bash
# hack/bench-daemon.sh: a container run through `mgr daemon` (the docker
# CLI over the Docker API) beside the embedded `mgr run` on the same roots,
# a real dockerd and podman where installed, as ratios. Called by
# hack/bench.sh; runs alone too.
#
# Every contender runs `run --rm --network none busybox true`, alternating (each run after a 100 ms pause, settle in hack/lib-bench.sh),
# median of BENCH_RUNS runs:
#   mgr run (embedded)      bin/mgr, no daemon
#   docker -> mgr daemon    /usr/local/bin/docker with DOCKER_HOST on a
#                           private `mgr daemon` socket (same data root)
#   docker -> dockerd       the same CLI against a private dockerd 20.10 +
#                           containerd (own roots and sockets, no docker0
#                           bridge, no iptables: no shared host state),
#                           when Debian's docker.io is installed
#   podman run              cgroupfs, file events, temp --root/--runroot
# Goals: through the API at most 1.3x the embedded run; at least 2x faster
# than dockerd (mgr daemon/dockerd <= 0.5).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-30}
work=$(mktemp -d /tmp/berth-bench-daemon.XXXXXX)
docker_cli=/usr/local/bin/docker
# shellcheck source=hack/lib-bench.sh
. "$top/hack/lib-bench.sh"
mgr_pid=
podman_cmd=()
cleanup() {
	if [ -n "$mgr_pid" ]; then
		ids=$(mgr_env "$top/bin/mgr" ps -aq --no-trunc 2>/dev/null || true)
		[ -n "$ids" ] && mgr_env "$top/bin/mgr" rm -f $ids >/dev/null 2>&1 || true
	fi
	_stop_pid "$mgr_pid"
	private_dockerd_stop
	[ ${#podman_cmd[@]} -gt 0 ] && "${podman_cmd[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
	awk -v p="$work/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

[ -x "$top/bin/mgr" ] && [ -x "$top/bin/shim" ] || { echo "bin/mgr or bin/shim missing: run make build" >&2; exit 1; }
[ -x "$docker_cli" ] || { echo "  $docker_cli missing: the daemon figures need the docker CLI; skipped"; exit 0; }
# wait_socket SOCKET PID LOG: until the docker CLI gets an answer there
wait_socket() {
	for _ in $(seq 1 150); do
		DOCKER_HOST=unix://$1 "$docker_cli" version >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	echo "  daemon on $1 did not come up:" >&2
	tail -5 "$3" >&2
	return 1
}

"$top/hack/mkimage.sh" "$work/busybox.tar" >/dev/null
mkdir -p "$work/cni"
mgr_env() { env MGR_ROOT="$work/mgr/r" MGR_RUNROOT="$work/mgr/rr" MGR_CONFIG="$work/mgr/c" MGR_PULL=never MGR_CNI_CONFIG_DIR="$work/cni" "$@"; }
mgr_env "$top/bin/mgr" load -q -i "$work/busybox.tar" >/dev/null
# Not through the mgr_env function: in the background it would run in a
# subshell, and $! (what cleanup stops) would be that subshell, not mgr.
env MGR_ROOT="$work/mgr/r" MGR_RUNROOT="$work/mgr/rr" MGR_CONFIG="$work/mgr/c" MGR_PULL=never MGR_CNI_CONFIG_DIR="$work/cni" \
	"$top/bin/mgr" daemon --host "unix://$work/mgr.sock" >"$work/mgr-daemon.log" 2>&1 &
mgr_pid=$!
wait_socket "$work/mgr.sock" "$mgr_pid" "$work/mgr-daemon.log"
contenders=(embedded api)

if private_dockerd_start "$work/dockerd" && DOCKER_HOST=$DOCKERD_HOST "$docker_cli" load -q -i "$work/busybox.tar" >/dev/null; then
	contenders+=(dockerd)
fi
if private_podman "$work/podman" "$work/busybox.tar"; then
	podman_cmd=("${PODMAN[@]}")
	contenders+=(podman)
fi

run_once() {
	case $1 in
	embedded) mgr_env "$top/bin/mgr" run --rm --network none busybox true ;;
	api) DOCKER_HOST=unix://$work/mgr.sock "$docker_cli" run --rm --network none busybox true ;;
	dockerd) DOCKER_HOST=$DOCKERD_HOST "$docker_cli" run --rm --network none busybox true ;;
	podman) "${podman_cmd[@]}" run --rm --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 busybox true ;;
	esac
}
declare -A samples
for name in "${contenders[@]}"; do run_once "$name" >/dev/null; done # warm-up
for _ in $(seq 1 "$runs"); do
	for name in "${contenders[@]}"; do
		settle
		t0=$(now_ns)
		run_once "$name" >/dev/null
		t1=$(now_ns)
		samples[$name]+="$((t1 - t0))"$'\n'
	done
done

echo
echo "== daemon: run --rm --network none busybox true (median of $runs runs, alternating)"
declare -A label=([embedded]="mgr run (embedded)" [api]="docker -> mgr daemon" [dockerd]="docker -> dockerd 20.10" [podman]="podman run")
declare -A med
for name in "${contenders[@]}"; do med[$name]=$(printf '%s' "${samples[$name]}" | median_ms); done
for name in "${contenders[@]}"; do
	line=$(printf '  %-26s %8s ms' "${label[$name]}" "${med[$name]}")
	case $name in
	api)
		r=$(ratio "${med[api]}" "${med[embedded]}")
		line+="   api/embedded = $r (goal <= 1.3: $(verdict "$r" 1.3))"
		;;
	dockerd)
		r=$(ratio "${med[api]}" "${med[dockerd]}")
		line+="   mgr daemon/dockerd = $r (goal <= 0.5: $(verdict "$r" 0.5))"
		;;
	podman) line+="   mgr daemon/podman = $(ratio "${med[api]}" "${med[podman]}")" ;;
	esac
	echo "$line"
done
case " ${contenders[*]} " in *" dockerd "*) ;; *) echo "  dockerd: not installed (setup.sh --bench installs docker.io) or did not start; skipped" ;; esac
