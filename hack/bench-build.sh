#!/usr/bin/env bash
# hack/bench-build.sh: `mgr build` of one small Dockerfile, cold and warm,
# beside `podman build`, `buildah bud` and `docker build` (classic builder,
# a private dockerd: hack/lib-bench.sh) where installed, as ratios.
# Called by hack/bench.sh; runs alone too.
#
# The Dockerfile (FROM busybox, two RUNs, a COPY, ENV, WORKDIR, CMD) is
# built in a fresh temp store per tool:
#   cold   --no-cache: every RUN runs in a container, every layer is written
#   warm   the same build again, unchanged: every step from the cache
# RUN steps have no network in every tool (--network none; the default for
# podman and buildah would create netavark's podman0 bridge: shared
# host state). Alternating, medians of min(BENCH_RUNS, 5) cold and
# BENCH_RUNS warm builds. Goal: warm rebuild at least 2x faster than
# podman's (mgr/podman <= 0.5).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-30}
# shellcheck source=hack/lib-bench.sh
. "$top/hack/lib-bench.sh"
cold_runs=$((runs < 5 ? runs : 5))
work=$(mktemp -d /tmp/berth-bench-build.XXXXXX)
podman_cmd=()
buildah_cmd=()
cleanup() {
	private_dockerd_stop
	[ ${#podman_cmd[@]} -gt 0 ] && "${podman_cmd[@]}" rm -a -f >/dev/null 2>&1 || true
	[ ${#buildah_cmd[@]} -gt 0 ] && "${buildah_cmd[@]}" rm -a >/dev/null 2>&1 || true
	# podman's and buildah's overlay drivers may leave mounts under their roots
	awk -v p="$work/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

[ -x "$top/bin/mgr" ] && [ -x "$top/bin/shim" ] || { echo "bin/mgr or bin/shim missing: run make build" >&2; exit 1; }

ctx=$work/context
mkdir -p "$ctx"
head -c 65536 /dev/urandom | base64 >"$ctx/data.txt"
cat >"$ctx/Dockerfile" <<'EOF'
FROM busybox
RUN mkdir -p /app && echo built > /app/stamp
COPY data.txt /app/
RUN wc -c /app/data.txt > /app/size && sha256sum /app/data.txt > /app/sum
ENV APP_HOME=/app
WORKDIR /app
CMD ["cat", "size"]
EOF
"$top/hack/mkimage.sh" "$work/busybox.tar" >/dev/null

mgr_cmd=(env MGR_ROOT="$work/mgr/r" MGR_RUNROOT="$work/mgr/rr" MGR_CONFIG="$work/mgr/c" MGR_PULL=never "$top/bin/mgr")
"${mgr_cmd[@]}" load -q -i "$work/busybox.tar" >/dev/null
tools=(mgr)
if private_podman "$work/podman" "$work/busybox.tar"; then
	podman_cmd=("${PODMAN[@]}")
	tools+=(podman)
fi
if command -v buildah >/dev/null; then
	buildah_cmd=(buildah --root "$work/buildah/root" --runroot "$work/buildah/run" --storage-driver overlay)
	if "${buildah_cmd[@]}" pull -q "docker-archive:$work/busybox.tar" >/dev/null 2>"$work/buildah.err" &&
		"${buildah_cmd[@]}" tag "$("${buildah_cmd[@]}" images -q | head -1)" busybox >/dev/null 2>>"$work/buildah.err"; then
		tools+=(buildah)
	else
		echo "  buildah pull of the archive failed; buildah not measured:" >&2
		cat "$work/buildah.err" >&2
		buildah_cmd=()
	fi
fi
# docker: a private dockerd (hack/lib-bench.sh), classic builder.
if private_dockerd_start "$work/dockerd" && DOCKER_HOST=$DOCKERD_HOST /usr/local/bin/docker load -q -i "$work/busybox.tar" >/dev/null; then
	tools+=(docker)
fi

build_once() { # tool cold|warm
	local nc=()
	[ "$2" = cold ] && nc=(--no-cache)
	case $1 in
	mgr) "${mgr_cmd[@]}" build -q "${nc[@]}" --network none -t bench:1 "$ctx" ;;
	podman) "${podman_cmd[@]}" build -q "${nc[@]}" --network none --layers -t bench:1 "$ctx" ;;
	buildah) BUILDAH_ISOLATION=oci "${buildah_cmd[@]}" bud -q "${nc[@]}" --network none --layers -t bench:1 "$ctx" ;;
	# (stderr: the CLI warns on every build that the classic builder is deprecated)
	docker) DOCKER_HOST=$DOCKERD_HOST DOCKER_BUILDKIT=0 /usr/local/bin/docker build -q "${nc[@]}" --network none -t bench:1 "$ctx" 2>/dev/null ;;
	esac
}

# The cold and warm images must be the Dockerfile's: check mgr's once.
build_once mgr cold >/dev/null
out=$("${mgr_cmd[@]}" run --rm --network none bench:1)
[ "$out" = "$(wc -c <"$ctx/data.txt") /app/data.txt" ] || { echo "mgr build produced a wrong image: $out" >&2; exit 1; }

declare -A cold warm
time_builds() { # cold|warm rounds: appends each tool's times to the array named by $1
	local -n into=$1
	for _ in $(seq 1 "$2"); do
		for t in "${tools[@]}"; do
			t0=$(now_ns)
			build_once "$t" "$1" >/dev/null
			t1=$(now_ns)
			into[$t]+="$((t1 - t0))"$'\n'
		done
	done
}
time_builds cold "$cold_runs"
time_builds warm "$runs"

echo
echo "== build: a 7-step Dockerfile (2 RUN, 1 COPY), cold (--no-cache, median of $cold_runs) and warm (cached, median of $runs), alternating"
declare -A label=([mgr]="mgr build" [podman]="podman build" [buildah]="buildah bud" [docker]="docker build (classic)")
mc=$(printf '%s' "${cold[mgr]}" | median_ms)
mw=$(printf '%s' "${warm[mgr]}" | median_ms)
for t in "${tools[@]}"; do
	c=$(printf '%s' "${cold[$t]}" | median_ms)
	w=$(printf '%s' "${warm[$t]}" | median_ms)
	line=$(printf '  %-24s cold %8s ms   warm %8s ms' "${label[$t]}" "$c" "$w")
	if [ "$t" != mgr ]; then
		rw=$(ratio "$mw" "$w")
		line+="   mgr/$t cold = $(ratio "$mc" "$c"), warm = $rw"
		[ "$t" = podman ] && line+=" (goal <= 0.5: $(verdict "$rw" 0.5))"
	fi
	echo "$line"
done
for t in podman buildah docker; do
	case " ${tools[*]} " in *" $t "*) ;; *) echo "  $t: not installed or not usable here; skipped" ;; esac
done
