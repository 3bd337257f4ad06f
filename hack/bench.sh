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
# Sections (later issues add the shim, mgr and pull figures):
#   rt run: `run` of a busybox bundle whose process is `true`.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-30}
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
cleanup() {
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
