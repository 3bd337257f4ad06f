#!/usr/bin/env bash
# hack/bench.sh: berth's figures side by side with its peers, as ratios.
#
# Runs are alternated between the runtimes (rt, runc, crun, rt, runc, ...) so
# that the machine's drift hits all of them alike; each figure is the median
# of N runs. Timing uses the shell's clock around one whole command, which
# adds the same fork/exec cost to every runtime. In the series of single
# container starts (rt run, shim start, mgr run, network, daemon) each run
# starts after a 100 ms pause (settle in
# hack/lib-bench.sh): back to back, a run inherits the previous contender's
# aftermath, e.g. a bare `rt run` right after another command's cgroup
# attach skips the kernel's 8-20 ms wait for its own.
#
#   BENCH_RUNS=N      runs per runtime (default 30)
#
# Sections:
#   rt run: `run` of a busybox bundle whose process is `true`.
#   shim:   resident memory (VmRSS, and Pss from smaps_rollup) of bin/shim
#           holding an idle busybox container, beside conmon and
#           containerd-shim-runc-v2 holding the same where installed; and the
#           time a container start through the shim (launch + start, until the
#           process runs) takes compared with bare `rt run -d`.
#   pull:   `mgr pull` of a 5-layer ~43 MB image from docker-registry on
#           127.0.0.1 (and `mgr load` of it), time and peak RSS, beside
#           skopeo copy + umoci unpack and podman pull where installed, with
#           the split between download and unpack.
#   mgr run, network: see their sections below.
#   daemon: hack/bench-daemon.sh (docker CLI -> mgr daemon vs embedded mgr
#           run, a private dockerd and podman).
#   build:  hack/bench-build.sh (mgr build cold and warm beside podman build
#           and buildah bud).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-30}
# shellcheck source=hack/lib-bench.sh
. "$top/hack/lib-bench.sh"
podman_cmd=() net_podman=()
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
cleanup() {
	for p in "$work"/pids/*; do
		[ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null || true
	done
	for r in "$work"/root-*; do
		[ -d "$r" ] || continue
		rtname=${r##*/root-}
		for id in $(ls "$r" 2>/dev/null); do
			"${bins[$rtname]}" --root "$r" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	# podman's overlay driver may leave mounts under its --root
	awk -v p="$work/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
	rm -rf "$work"
}
declare -A bins=([rt]="$top/bin/rt")
trap cleanup EXIT

[ -x "$top/bin/rt" ] || { echo "bin/rt missing: run make build" >&2; exit 1; }
order=(rt)
for peer in runc crun; do
	if command -v "$peer" >/dev/null; then
		bins[$peer]=$(command -v "$peer")
		order+=("$peer")
	fi
done

# One bundle for all: the same rootfs and config. ociVersion 1.0.2 because
# crun 1.8 refuses versions it does not know.
"$top/hack/mkbundle.sh" "$work/bundle" >/dev/null
jq '.ociVersion="1.0.2" | .process.terminal=false | .process.args=["true"]' \
	"$work/bundle/config.json" >"$work/config.json" && mv "$work/config.json" "$work/bundle/config.json"


# bench_conflist BRIDGE SUBNET GATEWAY: mgr's default network (cni-config/)
# on a bench-only bridge and subnet, so the bench measures what users get
# without touching the real mgr0.
bench_conflist() {
	jq --arg br "$1" --arg sn "$2" --arg gw "$3" \
		'.plugins[0].bridge = $br | .plugins[0].ipam.ranges = [[{subnet: $sn, gateway: $gw}]]' \
		"$top/cni-config/87-mgr-bridge.conflist"
}

# drop_masquerade SUBNET: the rule mgr keeps for a bench network.
drop_masquerade() {
	while iptables -w -t nat -D POSTROUTING -s "$1" ! -d "$1" -m comment --comment "mgr masquerade bridge" -j MASQUERADE 2>/dev/null; do :; done
}

declare -A samples
for name in "${order[@]}"; do
	mkdir -p "$work/root-$name"
	# warm the page cache and the binary
	"${bins[$name]}" --root "$work/root-$name" run --bundle "$work/bundle" "warm-$name" >/dev/null
done
for i in $(seq 1 "$runs"); do
	for name in "${order[@]}"; do
		settle
		t0=$(now_ns)
		"${bins[$name]}" --root "$work/root-$name" run --bundle "$work/bundle" "b$i" >/dev/null
		t1=$(now_ns)
		samples[$name]+="$((t1 - t0))"$'\n'
	done
done

echo "== rt run of a busybox bundle running \`true\` (median of $runs runs, alternating)"
base=$(printf '%s' "${samples[rt]}" | median_ms)
printf '  %-6s %8s ms\n' rt "$base"
for name in "${order[@]:1}"; do
	m=$(printf '%s' "${samples[$name]}" | median_ms)
	ratio=$(ratio "$base" "$m")
	printf '  %-6s %8s ms   rt/%s = %s\n' "$name" "$m" "$name" "$ratio"
done

# ---------------------------------------------------------------- shim
[ -x "$top/bin/shim" ] || { echo "bin/shim missing: run make build" >&2; exit 1; }
mkdir -p "$work/idle" "$work/pids" "$work/root-shim"
bins[shim]=$top/bin/rt
jq --arg rootfs "$work/bundle/rootfs" '.root.path=$rootfs | .process.args=["sleep","100000"]' \
	"$work/bundle/config.json" >"$work/idle/config.json"

kb() { awk -v k="$2" '$1==k":" {print $2}' "$1"; }
mem_line() { # name pid
	local rss pss
	rss=$(kb "/proc/$2/status" VmRSS)
	pss=$(kb "/proc/$2/smaps_rollup" Pss)
	printf '%s %s %s\n' "$1" "$rss" "$pss"
}
wait_gone() { for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; }

mems=()
# bin/shim holding an idle container
sd=$work/s-mem
"$top/bin/shim" --id mem-shim --bundle "$work/idle" --state-dir "$sd" --runtime "$top/bin/rt" \
	--runtime-root "$work/root-shim" --log-path "$sd/ctr.log" --start >/dev/null
cp "$sd/shim.pid" "$work/pids/shim"
sleep 1
mems+=("$(mem_line shim "$(cat "$sd/shim.pid")")")

if command -v conmon >/dev/null; then
	cd_=$work/conmon
	mkdir -p "$cd_/exits" "$cd_/socks" "$work/root-conmon"
	conmon --api-version 1 -c mem-conmon -u mem-conmon -n mem-conmon -r "$top/bin/rt" \
		--runtime-arg "--root=$work/root-conmon" -b "$work/idle" -p "$cd_/init.pid" \
		-l "k8s-file:$cd_/ctr.log" --exit-dir "$cd_/exits" --socket-dir-path "$cd_/socks" \
		--conmon-pidfile "$work/pids/conmon" >/dev/null 2>&1
	bins[conmon]=$top/bin/rt
	# conmon's parent returns before the container exists: wait for its pid file
	for _ in $(seq 1 200); do [ -s "$cd_/init.pid" ] && break; sleep 0.05; done
	if "$top/bin/rt" --root "$work/root-conmon" start mem-conmon; then
		sleep 1
		mems+=("$(mem_line conmon "$(cat "$work/pids/conmon")")")
	else
		echo "  conmon: container did not start; not measured" >&2
	fi
fi
if command -v containerd-shim-runc-v2 >/dev/null; then
	echo "  (containerd-shim-runc-v2 is installed but needs containerd to drive it; not measured)" >&2
fi

echo
echo "== resident memory of a shim holding one idle busybox container (KiB)"
base_rss= base_pss=
for m in "${mems[@]}"; do
	read -r name rss pss <<<"$m"
	if [ -z "$base_rss" ]; then
		base_rss=$rss base_pss=$pss
		printf '  %-24s RSS %6s   PSS %6s\n' "$name" "$rss" "$pss"
	else
		printf '  %-24s RSS %6s   PSS %6s   shim/%s RSS = %s, PSS = %s\n' "$name" "$rss" "$pss" "$name" \
			"$(ratio "$base_rss" "$rss")" \
			"$(ratio "$base_pss" "$pss")"
	fi
done
printf '  budget: 4096 KiB RSS per shim: %s\n' "$([ "$base_rss" -le 4096 ] && echo met || echo MISSED)"
"$top/bin/rt" --root "$work/root-shim" kill mem-shim KILL 2>/dev/null || true
wait_gone "$(cat "$work/pids/shim")"
if [ -f "$work/pids/conmon" ]; then
	"$top/bin/rt" --root "$work/root-conmon" kill mem-conmon KILL 2>/dev/null || true
	wait_gone "$(cat "$work/pids/conmon")"
	"$top/bin/rt" --root "$work/root-conmon" delete --force mem-conmon 2>/dev/null || true
fi

# start time: launch + start through the shim vs bare `rt run -d`, alternating
declare -A starts
mkdir -p "$work/root-shimrun" "$work/root-bare"
bins[shimrun]=$top/bin/rt
bins[bare]=$top/bin/rt
for i in $(seq 1 "$runs"); do
	settle
	t0=$(now_ns)
	"$top/bin/rt" --root "$work/root-bare" run -d --bundle "$work/idle" "s$i" >/dev/null </dev/null
	t1=$(now_ns)
	starts[bare]+="$((t1 - t0))"$'\n'
	"$top/bin/rt" --root "$work/root-bare" delete --force "s$i" >/dev/null

	sd=$work/s-run/s$i
	settle
	t0=$(now_ns)
	"$top/bin/shim" --id "s$i" --bundle "$work/idle" --state-dir "$sd" --runtime "$top/bin/rt" \
		--runtime-root "$work/root-shimrun" --start >/dev/null
	t1=$(now_ns)
	starts[shim]+="$((t1 - t0))"$'\n'
	pid=$(cat "$sd/shim.pid")
	"$top/bin/rt" --root "$work/root-shimrun" kill "s$i" KILL
	wait_gone "$pid"
done
echo
echo "== container start until the process runs (median of $runs runs, alternating)"
b=$(printf '%s' "${starts[bare]}" | median_ms)
s=$(printf '%s' "${starts[shim]}" | median_ms)
printf '  %-24s %8s ms\n' "rt run -d" "$b"
printf '  %-24s %8s ms   shim/bare = %s, shim adds %s ms\n' "shim --start (rt)" "$s" \
	"$(ratio "$s" "$b")" "$(awk -v a="$s" -v b="$b" 'BEGIN{printf "%.1f", a-b}')"

# ---------------------------------------------------------------- pull
# A 5-layer image (busybox + 4 x 10 MiB of random data, gzip'd; ~43 MB)
# pushed by mgr to Debian's docker-registry on 127.0.0.1. Measured per run,
# alternating, each from a fresh store:
#   mgr pull            download + unpack
#   mgr pull (cached)   blobs already in the content store: unpack only
#                       (download = pull - cached)
#   mgr load            the same image from a docker-archive on disk
#   skopeo + umoci      `skopeo copy docker://… oci:DIR` then `umoci unpack`
#   podman pull         containers/storage, overlay driver
# Time is the wall clock around the command(s); memory is the peak RSS
# (/usr/bin/time -v, the largest of the two for skopeo + umoci).
[ -x "$top/bin/mgr" ] || { echo "bin/mgr missing: run make build" >&2; exit 1; }
if ! command -v docker-registry >/dev/null || [ ! -x /usr/bin/time ]; then
	echo
	echo "== pull: skipped (needs docker-registry and /usr/bin/time: apt-get install docker-registry time)"
	exit 0
fi
export PATH=$PATH:/usr/local/go/bin
pw=$work/pull
mkdir -p "$pw"
"$top/hack/mkimage.sh" "$pw/busybox.tar" >/dev/null
(cd "$top" && go run ./hack/mkbigimage -base "$pw/busybox.tar" -o "$pw/big.tar" -tag bench/big:1 -layers 4 -mb 10)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
reg_up=
for _ in 1 2 3 4 5; do
	port=$(free_port)
	cat >"$pw/registry.yml" <<-YML
	version: 0.1
	log:
	  level: error
	  accesslog:
	    disabled: true
	storage:
	  filesystem:
	    rootdirectory: $pw/registry
	http:
	  addr: 127.0.0.1:$port
	YML
	docker-registry serve "$pw/registry.yml" >"$pw/registry.log" 2>&1 &
	echo $! >"$work/pids/registry"
	for _ in $(seq 1 100); do
		curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && { reg_up=1; break; }
		kill -0 "$(cat "$work/pids/registry")" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$reg_up" ] && break
	kill -9 "$(cat "$work/pids/registry")" 2>/dev/null || true
done
[ -n "$reg_up" ] || { echo "docker-registry did not start:" >&2; cat "$pw/registry.log" >&2; exit 1; }
ref=127.0.0.1:$port/bench/big:1
mgr_in() { MGR_ROOT=$1/root MGR_RUNROOT=$1/run MGR_CONFIG=$1/config "$top/bin/mgr" "${@:2}"; }
mgr_in "$pw/seed" load -i "$pw/big.tar" >/dev/null
mgr_in "$pw/seed" tag bench/big:1 "$ref"
mgr_in "$pw/seed" push "$ref" >/dev/null
mgr_in "$pw/seed" pull "$ref" >/dev/null # its content store seeds the cached runs

umount_under() { # podman's overlay driver may leave mounts in its root
	awk -v p="$1" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
declare -A ptime pmem
tools=(pull cached load)
command -v skopeo >/dev/null && command -v umoci >/dev/null && tools+=(skopeo)
command -v podman >/dev/null && tools+=(podman)
measure() { # name dir cmd...: sets ns (wall time) and kb (peak RSS) of one command
	local name=$1 dir=$2 t0 t1
	shift 2
	t0=$(now_ns)
	/usr/bin/time -v -o "$dir/time.$name" "$@" >"$dir/out.$name" 2>&1 || {
		echo "$name failed:" >&2
		cat "$dir/out.$name" "$dir/time.$name" >&2
		exit 1
	}
	t1=$(now_ns)
	ns=$((t1 - t0))
	kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.$name")
}
for i in $(seq 1 "$runs"); do
	for name in "${tools[@]}"; do
		d=$pw/run-$name-$i
		mkdir -p "$d"
		case $name in
		pull)
			measure mgr "$d" env MGR_ROOT="$d/root" MGR_RUNROOT="$d/run" MGR_CONFIG="$d/config" "$top/bin/mgr" pull -q "$ref"
			;;
		cached)
			mkdir -p "$d/root"
			cp -a "$pw/seed/root/content" "$d/root/"
			measure mgr "$d" env MGR_ROOT="$d/root" MGR_RUNROOT="$d/run" MGR_CONFIG="$d/config" "$top/bin/mgr" pull -q "$ref"
			;;
		load)
			measure mgr "$d" env MGR_ROOT="$d/root" MGR_RUNROOT="$d/run" MGR_CONFIG="$d/config" "$top/bin/mgr" load -q -i "$pw/big.tar"
			;;
		skopeo)
			measure skopeo "$d" skopeo copy --quiet --src-tls-verify=false "docker://$ref" "oci:$d/oci:big"
			ns1=$ns kb1=$kb
			measure umoci "$d" umoci unpack --image "$d/oci:big" "$d/bundle"
			ns2=$ns kb2=$kb
			ns=$((ns1 + ns2)) kb=$((kb1 > kb2 ? kb1 : kb2))
			ptime[skopeo-copy]+="$ns1"$'\n'
			ptime[umoci-unpack]+="$ns2"$'\n'
			;;
		podman)
			measure podman "$d" podman --root "$d/root" --runroot "$d/run" --cgroup-manager cgroupfs \
				--events-backend file --tmpdir "$d/tmp" --storage-driver overlay pull -q --tls-verify=false "$ref"
			umount_under "$d"
			;;
		esac
		ptime[$name]+="$ns"$'\n'
		pmem[$name]+="$kb"$'\n'
		rm -rf "$d"
	done
done
kill -9 "$(cat "$work/pids/registry")" 2>/dev/null || true
wait "$(cat "$work/pids/registry")" 2>/dev/null || true

median_kb() { sort -n | awk '{v[NR]=$1} END {m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%d", m}'; }
size_mb=$(awk -v b="$(stat -c %s "$pw/big.tar")" 'BEGIN{printf "%.0f", b/1e6}')
echo
echo "== pull + unpack of a 5-layer ${size_mb} MB image from docker-registry on 127.0.0.1 (median of $runs runs, alternating, fresh store each)"
declare -A label=([pull]="mgr pull" [cached]="mgr pull, blobs cached" [load]="mgr load (docker-archive)" [skopeo]="skopeo copy + umoci unpack" [podman]="podman pull")
bt=$(printf '%s' "${ptime[pull]}" | median_ms)
bm=$(printf '%s' "${pmem[pull]}" | median_kb)
for name in "${tools[@]}"; do
	t=$(printf '%s' "${ptime[$name]}" | median_ms)
	m=$(printf '%s' "${pmem[$name]}" | median_kb)
	line=$(printf '  %-28s %8s ms   max RSS %7s KiB' "${label[$name]}" "$t" "$m")
	case $name in
	skopeo | podman)
		line+=$(printf '   mgr pull/%s: time %s, RSS %s' "$name" \
			"$(ratio "$bt" "$t")" "$(ratio "$bm" "$m")")
		;;
	esac
	echo "$line"
done
ct=$(printf '%s' "${ptime[cached]}" | median_ms)
dl=$(awk -v a="$bt" -v b="$ct" 'BEGIN{printf "%.1f", a-b}')
printf '  mgr pull = download %s ms (%s%%) + unpack %s ms (%s%%): %s dominates\n' "$dl" \
	"$(awk -v a="$dl" -v b="$bt" 'BEGIN{printf "%.0f", 100*a/b}')" "$ct" \
	"$(awk -v a="$ct" -v b="$bt" 'BEGIN{printf "%.0f", 100*a/b}')" \
	"$(awk -v a="$dl" -v b="$ct" 'BEGIN{print (a > b) ? "download" : "unpack"}')"
if [ -n "${ptime[skopeo-copy]:-}" ]; then
	printf '  skopeo copy %s ms + umoci unpack %s ms\n' "$(printf '%s' "${ptime[skopeo-copy]}" | median_ms)" \
		"$(printf '%s' "${ptime[umoci-unpack]}" | median_ms)"
fi

# ---------------------------------------------------------------- mgr run
# (test/mgr's helper) Container start through mgr, no daemon, against bare
# `rt run` of the same busybox rootfs and against podman/docker where they
# can run. Measured, alternating, median of BENCH_RUNS runs:
#   rt run                 the bundle above (config args ["true"], terminal
#                          false): rt's default spec, i.e. a private netns
#                          holding only lo
#   rt run (mgr's spec)    the same rootfs with the OCI config mgr generates
#                          (default seccomp profile etc.): only the manager
#                          differs from mgr run
#   mgr run --network none `mgr run --rm --network none busybox true`: the
#                          same private netns with lo (the fair comparison)
#     without cgroup warm-up  the same with --no-cgroup-warm: what mgr's
#                          warm-up of the kernel's cgroup attach buys
#                          (runtime/cgroupwarm)
#   mgr run (bridge)       `mgr run --rm busybox true` on mgr's default bridge
#                          network (CNI ADD + DEL; a bench-only bridge and /24)
#   podman run             `podman run --rm --network none busybox true`
#                          (cgroupfs, file events, temp --root/--runroot)
#   docker run             `docker run --rm --network none busybox true`
#                          against a private dockerd (hack/lib-bench.sh)
#                          when Debian's docker.io is installed
# Then 50 detached containers (`run -d ... sleep 1000`) started by 50
# processes at once, timed until every one returned, and removed with one
# `rm -f` (timed apart), mgr vs podman; min(BENCH_RUNS, 5) rounds.
# Goals: mgr run <= 1.5x rt run and <= 0.5x podman run; 50 detached <= 0.5x
# podman's.
mw=$work/mgr
mkdir -p "$mw"
mgr_bench_cleanup() {
	private_dockerd_stop
	[ -d "$mw" ] || return 0
	for r in "$mw"/m-*; do
		[ -d "$r" ] || continue
		ids=$(MGR_ROOT=$r/r MGR_RUNROOT=$r/rr MGR_CONFIG=$r/c MGR_PULL=never MGR_CNI_CONFIG_DIR=$mw/cni \
			"$top/bin/mgr" ps -a -q --no-trunc 2>/dev/null || true)
		[ -n "$ids" ] && MGR_ROOT=$r/r MGR_RUNROOT=$r/rr MGR_CONFIG=$r/c MGR_PULL=never MGR_CNI_CONFIG_DIR=$mw/cni \
			"$top/bin/mgr" rm -f $ids >/dev/null 2>&1 || true
	done
	if [ ${#podman_cmd[@]} -gt 0 ]; then
		"${podman_cmd[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
	fi
	ip link del btbench0 2>/dev/null || true
	drop_masquerade 10.239.254.0/24
	awk -v p="$mw/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
trap 'mgr_bench_cleanup; cleanup' EXIT

[ -x "$top/bin/mgr" ] && [ -x "$top/bin/shim" ] || { echo "bin/mgr or bin/shim missing: run make build" >&2; exit 1; }
"$top/hack/mkimage.sh" "$mw/busybox.tar" >/dev/null
mkdir -p "$mw/cni"
bench_conflist btbench0 10.239.254.0/24 10.239.254.1 >"$mw/cni/10-bridge.conflist"
mgr_at() { # root-name mgr-args...
	MGR_ROOT=$mw/m-$1/r MGR_RUNROOT=$mw/m-$1/rr MGR_CONFIG=$mw/m-$1/c MGR_PULL=never MGR_CNI_CONFIG_DIR=$mw/cni \
		"$top/bin/mgr" "${@:2}"
}
mgr_at run load -q -i "$mw/busybox.tar" >/dev/null
mgr_at det load -q -i "$mw/busybox.tar" >/dev/null

# The OCI config mgr generates (docker's capabilities, masks and default
# seccomp profile), run by bare rt on the same rootfs: the baseline that
# differs from `mgr run` only by the manager: rt gets the seccomp cache mgr
# gives it (runtime/patches/README.md), so the compiled filter is loaded,
# not built again (which would cost ~10 ms). (python, not jq: jq 1.6 reads
# numbers as doubles and would corrupt the profile's 64-bit masks.)
sid=$(mgr_at run run -d --network none busybox sleep 60)
mkdir -p "$mw/mgrspec"
python3 - "$mw/m-run/rr/c/${sid:0:12}/config.json" "$work/bundle/rootfs" >"$mw/mgrspec/config.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["root"]["path"] = sys.argv[2]
spec["process"]["args"] = ["true"]
spec["process"]["terminal"] = False
spec["mounts"] = [m for m in spec["mounts"] if m["destination"] not in ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf")]
json.dump(spec, sys.stdout)
PY
mgr_at run rm -f "$sid" >/dev/null

podman_cmd=()
private_podman "$mw/podman" "$mw/busybox.tar" && podman_cmd=("${PODMAN[@]}")
podman_run_flags=(--network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768)
# docker: a private dockerd (hack/lib-bench.sh) when docker.io is installed.
docker_ok=
if private_dockerd_start "$mw/dockerd" && DOCKER_HOST=$DOCKERD_HOST /usr/local/bin/docker load -q -i "$mw/busybox.tar" >/dev/null; then
	docker_ok=1
fi

run_once() { # name
	case $1 in
	rt) "$top/bin/rt" --root "$mw/rt-root" run --bundle "$work/bundle" "mb$i" >/dev/null ;;
	rt-mgrspec) "$top/bin/rt" --root "$mw/rt-root" --seccomp-cache "$mw/rt-seccomp" run --bundle "$mw/mgrspec" "ms$i" >/dev/null ;;
	mgr-none) mgr_at run run --rm --network none busybox true ;;
	mgr-nowarm) mgr_at run --no-cgroup-warm run --rm --network none busybox true ;;
	mgr-bridge) mgr_at run run --rm busybox true ;;
	podman) "${podman_cmd[@]}" run --rm "${podman_run_flags[@]}" busybox true ;;
	docker) DOCKER_HOST=$DOCKERD_HOST /usr/local/bin/docker run --rm --network none busybox true ;;
	esac
}
# rt-mgrspec first: the figure after docker (the last contender) would
# take on its aftermath, and rt, the goal's baseline, must not.
contenders=(rt-mgrspec rt mgr-none mgr-nowarm mgr-bridge)
[ ${#podman_cmd[@]} -gt 0 ] && contenders+=(podman)
[ -n "$docker_ok" ] && contenders+=(docker)
mkdir -p "$mw/rt-root"
declare -A msamples
for name in "${contenders[@]}"; do i=warm; run_once "$name"; done
for i in $(seq 1 "$runs"); do
	for name in "${contenders[@]}"; do
		settle
		t0=$(now_ns)
		run_once "$name"
		t1=$(now_ns)
		msamples[$name]+="$((t1 - t0))"$'\n'
	done
done
declare -A mlabel=([rt]="rt run (bundle)" [rt-mgrspec]="rt run (mgr's spec)" [mgr-none]="mgr run --network none"
	[mgr-nowarm]="  without cgroup warm-up" [mgr-bridge]="mgr run (bridge)"
	[podman]="podman run --network none" [docker]="docker run --network none")
declare -A mmed
for name in "${contenders[@]}"; do mmed[$name]=$(printf '%s' "${msamples[$name]}" | median_ms); done
echo
echo "== mgr run --rm busybox true (median of $runs runs, alternating)"
for name in "${contenders[@]}"; do
	line=$(printf '  %-26s %8s ms' "${mlabel[$name]}" "${mmed[$name]}")
	case $name in
	mgr-none | mgr-nowarm | mgr-bridge)
		r=$(ratio "${mmed[$name]}" "${mmed[rt]}")
		r2=$(ratio "${mmed[$name]}" "${mmed[rt-mgrspec]}")
		line+="   /rt run = $r"
		# the goal is for no network; the bridge's cost is its own figure
		[ "$name" = mgr-none ] && line+=" (goal <= 1.5: $(verdict "$r" 1.5))"
		line+="; /rt run of mgr's spec = $r2"
		;;
	podman | docker)
		r=$(ratio "${mmed[mgr-none]}" "${mmed[$name]}")
		line+="   mgr run --network none/$name = $r"
		[ "$name" = podman ] && line+=" (goal <= 0.5: $(verdict "$r" 0.5))"
		;;
	esac
	echo "$line"
done

# 50 detached containers started at once by 50 processes, then rm -f.
runs50=$((runs < 5 ? runs : 5))
det_start() { # name round
	case $1 in
	mgr) seq 1 50 | xargs -P 50 -I{} env MGR_ROOT="$mw/m-det/r" MGR_RUNROOT="$mw/m-det/rr" MGR_CONFIG="$mw/m-det/c" \
		MGR_PULL=never MGR_CNI_CONFIG_DIR="$mw/cni" "$top/bin/mgr" run -d --network none --name "d$2-{}" busybox sleep 1000 >/dev/null ;;
	podman) seq 1 50 | xargs -P 50 -I{} "${podman_cmd[@]}" run -d "${podman_run_flags[@]}" --name "d$2-{}" \
		busybox sleep 1000 >/dev/null ;;
	esac
}
det_rm() { # name
	case $1 in
	mgr) mgr_at det rm -f $(mgr_at det ps -a -q --no-trunc) >/dev/null ;;
	podman) "${podman_cmd[@]}" rm -f -t 0 $("${podman_cmd[@]}" ps -a -q) >/dev/null ;;
	esac
}
dets=(mgr)
[ ${#podman_cmd[@]} -gt 0 ] && dets+=(podman)
declare -A dstart drm
for r in $(seq 1 "$runs50"); do
	for name in "${dets[@]}"; do
		t0=$(now_ns)
		det_start "$name" "$r" || { echo "$name: a run -d failed" >&2; exit 1; }
		t1=$(now_ns)
		n=$(case $name in mgr) mgr_at det ps -q | wc -l ;; podman) "${podman_cmd[@]}" ps -q | wc -l ;; esac)
		[ "$n" -eq 50 ] || { echo "$name: $n containers running after 50 run -d" >&2; exit 1; }
		det_rm "$name"
		t2=$(now_ns)
		dstart[$name]+="$((t1 - t0))"$'\n'
		drm[$name]+="$((t2 - t1))"$'\n'
	done
done
echo
echo "== 50 detached busybox containers, 50 processes at once, --network none (median of $runs50 rounds, alternating)"
ms=$(printf '%s' "${dstart[mgr]}" | median_ms)
mr=$(printf '%s' "${drm[mgr]}" | median_ms)
printf '  %-26s start %8s ms   rm -f %8s ms\n' "mgr run -d" "$ms" "$mr"
if [ -n "${dstart[podman]:-}" ]; then
	ps_=$(printf '%s' "${dstart[podman]}" | median_ms)
	pr=$(printf '%s' "${drm[podman]}" | median_ms)
	r=$(ratio "$ms" "$ps_")
	printf '  %-26s start %8s ms   rm -f %8s ms   mgr/podman start = %s (goal <= 0.5: %s), rm -f = %s\n' \
		"podman run -d" "$ps_" "$pr" "$r" "$(verdict "$r" 0.5)" "$(ratio "$mr" "$pr")"
fi
mgr_bench_cleanup

# ---------------------------------------------------------------- network
# (test/network's helper) What CNI networking costs per container:
# `mgr run --rm busybox true` on a bridge network (its own conflist, bridge
# bnbench0 and 10.249.254.0/24 in a temp config dir: mgr's default network,
# bridge + portmap + tuning, masquerade by mgr) against `--network none`,
# alternating, medians of BENCH_RUNS runs; the difference is what ADD + DEL
# add. Then against podman: with --network none (a bound from below) in
# the same loop, and on its default network (a bridge, iptables rules and
# CNI files of its own) inside a private network and mount namespace where
# all of that vanishes afterwards, alternating with mgr's bridge run there
# (hack/bench-netns.sh). docker's default network (a daemon's docker0) is
# host state and is skipped. Goals: bridge adds <= 50 ms; mgr (bridge) <=
# 0.5x podman (default network).
nw=$work/net
mkdir -p "$nw/cni"
net_bench_cleanup() {
	[ -d "$nw" ] || return 0
	if [ -d "$nw/m" ]; then
		ids=$(net_mgr ps -a -q --no-trunc 2>/dev/null || true)
		[ -n "$ids" ] && net_mgr rm -f $ids >/dev/null 2>&1 || true
		net_mgr container prune -f >/dev/null 2>&1 || true
	fi
	if [ ${#net_podman[@]} -gt 0 ]; then
		"${net_podman[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
	fi
	ip link del bnbench0 2>/dev/null || true
	drop_masquerade 10.249.254.0/24
	awk -v p="$nw/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
net_prev_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
trap "net_bench_cleanup; ${net_prev_trap:-cleanup}" EXIT
net_mgr() {
	MGR_ROOT=$nw/m/r MGR_RUNROOT=$nw/m/rr MGR_CONFIG=$nw/m/c MGR_PULL=never MGR_CNI_CONFIG_DIR=$nw/cni \
		"$top/bin/mgr" "$@"
}
[ -x "$top/bin/mgr" ] && [ -x /opt/cni/bin/bridge ] || { echo "bin/mgr or the CNI plugins missing: make build; hack/setup.sh" >&2; exit 1; }
bench_conflist bnbench0 10.249.254.0/24 10.249.254.1 >"$nw/cni/10-bridge.conflist"
"$top/hack/mkimage.sh" "$nw/busybox.tar" >/dev/null
net_mgr load -q -i "$nw/busybox.tar" >/dev/null
net_podman=()
private_podman "$nw/podman" "$nw/busybox.tar" && net_podman=("${PODMAN[@]}")
net_once() {
	case $1 in
	bridge) net_mgr run --rm busybox true ;;
	none) net_mgr run --rm --network none busybox true ;;
	podman) "${net_podman[@]}" run --rm --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 busybox true ;;
	esac
}
net_order=(bridge none)
[ ${#net_podman[@]} -gt 0 ] && net_order+=(podman)
declare -A nsamples
for name in "${net_order[@]}"; do net_once "$name" >/dev/null; done # warm-up: the bridge, iptables chains
for i in $(seq 1 "$runs"); do
	for name in "${net_order[@]}"; do
		settle
		t0=$(now_ns)
		net_once "$name" >/dev/null
		t1=$(now_ns)
		nsamples[$name]+="$((t1 - t0))"$'\n'
	done
done
declare -A nmed
for name in "${net_order[@]}"; do nmed[$name]=$(printf '%s' "${nsamples[$name]}" | median_ms); done
nb=${nmed[bridge]} nn=${nmed[none]}
added=$(awk -v a="$nb" -v b="$nn" 'BEGIN{printf "%.1f", a-b}')
echo
echo "== network: mgr run --rm busybox true, bridge vs none (median of $runs runs, alternating)"
printf '  %-34s %8s ms\n' "mgr run (bridge: ADD + DEL)" "$nb"
printf '  %-34s %8s ms\n' "mgr run --network none" "$nn"
printf '  bridge adds %s ms per container (goal <= 50: %s); bridge/none = %s\n' "$added" \
	"$(verdict "$added" 50)" \
	"$(ratio "$nb" "$nn")"
if [ -n "${nmed[podman]:-}" ]; then
	r=$(ratio "$nb" "${nmed[podman]}")
	printf '  %-34s %8s ms   mgr(bridge)/podman(none) = %s\n' "podman run --network none" "${nmed[podman]}" "$r"
	echo "  (podman with --network none: the bound from below; its default network follows)"
else
	echo "  podman: not installed or not loadable; skipped"
fi
# podman's default network, where it shares nothing with the host: in a
# private network and mount namespace (hack/bench-netns.sh), with mgr's
# bridge run there too for the ratio.
if [ ${#net_podman[@]} -gt 0 ] && command -v unshare >/dev/null; then
	unshare --net --mount --propagation private "$top/hack/bench-netns.sh" "$runs" "$nw/ns" >"$nw/ns.txt"
	if [ -s "$nw/ns.txt" ]; then
		nm=$(awk '$1=="mgr"{print $2}' "$nw/ns.txt" | median_ms)
		np=$(awk '$1=="podman"{print $2}' "$nw/ns.txt" | median_ms)
		r=$(ratio "$nm" "$np")
		echo "  in a private network namespace (podman's bridge, iptables rules and CNI files stay there):"
		printf '  %-34s %8s ms\n' "mgr run (bridge)" "$nm"
		printf '  %-34s %8s ms   mgr(bridge)/podman(default network) = %s (goal <= 0.5: %s)\n' "podman run (default network)" "$np" "$r" \
			"$(verdict "$r" 0.5)"
	fi
fi
# docker's default network is docker0 plus iptables chains: shared host
# state, which the private dockerd of hack/lib-bench.sh does not create.
echo "  docker: its default bridge (docker0, iptables chains) is shared host state; skipped"
net_bench_cleanup

# ---------------------------------------------------------------- daemon
"$top/hack/bench-daemon.sh"

# ---------------------------------------------------------------- build
"$top/hack/bench-build.sh"
