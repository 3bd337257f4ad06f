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
# Sections (later issues add the mgr and pull figures):
#   rt run: `run` of a busybox bundle whose process is `true`.
#   shim:   resident memory (VmRSS, and Pss from smaps_rollup) of bin/shim
#           holding an idle busybox container, beside conmon and
#           containerd-shim-runc-v2 holding the same where installed; and the
#           time a container start through the shim (launch + start, until the
#           process runs) takes compared with bare `rt run -d`.
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
