# hack/lib-bench.sh: what the bench scripts (hack/bench*.sh) share: the
# measuring helpers, and private instances of the peers they compare
# against, each keeping its state under a directory of the caller's and
# sharing none with the host.
#
#   now_ns, settle, median_ms (ns values on stdin), ratio A B, verdict RATIO GOAL
#
#   private_podman DIR TAR      sets PODMAN (an array: podman with its roots
#                               under DIR, cgroupfs, file events) and loads
#                               the docker-archive TAR; 1 if it cannot
#   private_dockerd_start DIR   Debian's docker.io 20.10 with its own
#                               containerd, roots and sockets under DIR, no
#                               docker0 bridge, no iptables rules (so only
#                               `--network none` runs are fair game); sets
#                               DOCKERD_HOST (unix://DIR/d.sock); 1 if it
#                               cannot run here
#   private_dockerd_stop        stops dockerd, then containerd

now_ns() { date +%s%N; }
# settle: the pause before each timed run of an alternating series, so that
# the previous command's aftermath (a daemon's cleanup, writeback, the
# kernel's grace periods after its cgroup moves: a cgroup attach within
# ~20 ms of another one skips its 8-20 ms wait) is neither charged to nor
# done for the next contender. Every run then starts from the same idle
# machine, as a command typed at a shell does.
settle() { sleep 0.1; }
median_ms() { sort -n | awk '{v[NR]=$1} END {m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.1f", m/1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN{print (r <= g) ? "met" : "MISSED"}'; }

PODMAN=()

private_podman() {
	local dir=$1 tar=$2
	command -v podman >/dev/null || return 1
	mkdir -p "$dir"
	PODMAN=(podman --root "$dir/root" --runroot "$dir/run" --tmpdir "$dir/tmp"
		--cgroup-manager cgroupfs --events-backend file --storage-driver overlay)
	if ! "${PODMAN[@]}" load -q -i "$tar" >/dev/null 2>"$dir/load.err"; then
		echo "  podman load failed; podman not measured:" >&2
		cat "$dir/load.err" >&2
		PODMAN=()
		return 1
	fi
}

DOCKERD_HOST= _dockerd_pid= _containerd_pid=

private_dockerd_start() {
	local dir=$1
	command -v dockerd >/dev/null && command -v containerd >/dev/null && [ -x /usr/local/bin/docker ] || return 1
	mkdir -p "$dir/ctd" "$dir/dk"
	containerd --root "$dir/ctd/root" --state "$dir/ctd/state" --address "$dir/ctd/c.sock" >"$dir/containerd.log" 2>&1 &
	_containerd_pid=$!
	dockerd --containerd="$dir/ctd/c.sock" --data-root "$dir/dk/data" --exec-root "$dir/dk/exec" \
		--pidfile "$dir/dk/pid" -H "unix://$dir/d.sock" --bridge=none --iptables=false --ip6tables=false \
		--ip-forward=false --ip-masq=false --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
		--storage-driver overlay2 >"$dir/dockerd.log" 2>&1 &
	_dockerd_pid=$!
	for _ in $(seq 1 150); do
		if DOCKER_HOST=unix://$dir/d.sock /usr/local/bin/docker version >/dev/null 2>&1; then
			DOCKERD_HOST=unix://$dir/d.sock
			return 0
		fi
		kill -0 "$_dockerd_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "  private dockerd did not come up:" >&2
	tail -5 "$dir/dockerd.log" >&2
	private_dockerd_stop
	return 1
}

_stop_pid() { # pid: TERM, then KILL after 15 s
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 1 150); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
}

private_dockerd_stop() {
	if [ -n "$DOCKERD_HOST" ]; then
		ids=$(DOCKER_HOST=$DOCKERD_HOST /usr/local/bin/docker ps -aq 2>/dev/null || true)
		[ -n "$ids" ] && DOCKER_HOST=$DOCKERD_HOST /usr/local/bin/docker rm -f $ids >/dev/null 2>&1 || true
	fi
	_stop_pid "$_dockerd_pid"
	_stop_pid "$_containerd_pid"
	DOCKERD_HOST= _dockerd_pid= _containerd_pid=
}
