#!/usr/bin/env bash
# hack/bench.sh: berth's figures side by side with its peers, as ratios.
#
# Runs are alternated between the runtimes (rt, runc, crun, rt, runc, ...) so
# that the machine's drift hits all of them alike; each figure is the median
# of N runs. Timing uses the shell's clock around one whole command, which
# adds the same fork/exec cost to every runtime.
#
#   BENCH_RUNS=N      runs per runtime (default 30)
#
# Sections (later issues add the mgr container figures):
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
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-30}
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

now_ns() { date +%s%N; }

median_ms() { # reads ns values, prints the median in ms with one decimal
	sort -n | awk '{v[NR]=$1} END {m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.1f", m/1e6}'
}

declare -A samples
for name in "${order[@]}"; do
	mkdir -p "$work/root-$name"
	# warm the page cache and the binary
	"${bins[$name]}" --root "$work/root-$name" run --bundle "$work/bundle" "warm-$name" >/dev/null
done
for i in $(seq 1 "$runs"); do
	for name in "${order[@]}"; do
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
	ratio=$(awk -v a="$base" -v b="$m" 'BEGIN{printf "%.2f", a/b}')
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
			"$(awk -v a="$base_rss" -v b="$rss" 'BEGIN{printf "%.2f", a/b}')" \
			"$(awk -v a="$base_pss" -v b="$pss" 'BEGIN{printf "%.2f", a/b}')"
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
	t0=$(now_ns)
	"$top/bin/rt" --root "$work/root-bare" run -d --bundle "$work/idle" "s$i" >/dev/null </dev/null
	t1=$(now_ns)
	starts[bare]+="$((t1 - t0))"$'\n'
	"$top/bin/rt" --root "$work/root-bare" delete --force "s$i" >/dev/null

	sd=$work/s-run/s$i
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
	"$(awk -v a="$s" -v b="$b" 'BEGIN{printf "%.2f", a/b}')" "$(awk -v a="$s" -v b="$b" 'BEGIN{printf "%.1f", a-b}')"

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
			"$(awk -v a="$bt" -v b="$t" 'BEGIN{printf "%.2f", a/b}')" "$(awk -v a="$bm" -v b="$m" 'BEGIN{printf "%.2f", a/b}')")
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
