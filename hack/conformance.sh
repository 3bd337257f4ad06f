#!/usr/bin/env bash
# hack/conformance.sh: run the OCI runtime-tools validation suite against
# bin/rt and, for comparison, runc; print a per-test table and totals.
#
#   hack/conformance.sh [-r RUNTIMES] [-t TESTS] [-T SECONDS] [-h]
#
# What it does:
#   1. Fetches runtime-tools at the pinned pseudo-version below through the Go
#      module proxy (`go mod download`), copies it to _output/conformance/build
#      and builds there with its own go.mod (-mod=mod): the static
#      `runtimetest` binary that runs inside the containers, and one executable
#      per validation/<name>/ main package. The module ships the rootfs tarball
#      the tests unpack (rootfs-<arch>.tar.gz); when it does not, one is made
#      from Debian's busybox-static. The build is reused while the version
#      stamp matches.
#   2. For each runtime, sequentially (several tests use fixed cgroup paths,
#      so runtimes never run side by side): a wrapper script that adds a
#      private `--root` (under /run) is handed to the tests as $RUNTIME, each
#      test's bundles go to a private TMPDIR, and each executable runs under
#      `timeout` in a mount namespace of its own with private propagation, so
#      that what a container mounts (a shared rootfs propagates its /proc,
#      /dev, ... back to its parent) never reaches the host and goes away with
#      the test. After every executable, and on exit or interrupt, whatever it
#      left behind is removed: containers in that root (delete --force),
#      stray mounts, bundles, the tests' cgroups.
#   3. Parses the TAP of every executable into per-test-line results (keyed by
#      description and occurrence, not only by number), compares each runtime
#      with the baseline (runc) and writes the table, the totals and every
#      difference with its TAP diagnostic to _output/conformance/report.md.
#      Logs: _output/conformance/<runtime>/<test>.{tap,stderr,calls}.
#
# A runtime that fails a TAP test the baseline passes (or whose executable
# crashes, times out or stops short where the baseline's ran cleanly) is a
# regression. An executable with a regression is run again
# (CONFORMANCE_RETRIES times); what still regresses on the last try counts,
# and one that passed on a retry is marked flaky.
#
# Exit status: 0 no regression, 1 regressions, 2 usage/build/setup error.
#
# Options and environment (a flag wins over its variable):
#   -r, CONFORMANCE_RUNTIMES  runtimes to run, space/comma separated
#                             (default "runc rt"); an entry is a name (rt =
#                             $RT, runc = $RUNC, anything else is looked up
#                             in PATH) or name=/path/to/binary
#   -t, CONFORMANCE_TESTS     executables to run, names or shell globs
#                             (default: all)
#   -T, CONFORMANCE_TIMEOUT   seconds per executable (default 120)
#   CONFORMANCE_BASELINE      runtime the others are compared with (default
#                             runc). When it is not among the runtimes, its
#                             results from an earlier run of the same suite
#                             version are used; without them it runs too.
#   CONFORMANCE_RETRIES       reruns of an executable that regressed (default 1)
#   RT, RUNC                  the binaries (default bin/rt, runc in PATH)
#   CONFORMANCE_ROOTFS        a rootfs tarball to use instead of the module's,
#                             or "busybox" to make one from busybox-static
set -euo pipefail

RUNTIME_TOOLS_MODULE=github.com/opencontainers/runtime-tools
# 2025-12-05, runtime-spec 1.3.0. The v0.9.0 tag (2019) no longer builds.
RUNTIME_TOOLS_VERSION=v0.9.1-0.20251205004911-5e639034dcdc

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/_output/conformance
build=$out/build

export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
export GOTOOLCHAIN=local

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

runtimes_arg=${CONFORMANCE_RUNTIMES:-"runc rt"}
tests_arg=${CONFORMANCE_TESTS:-}
timeout_s=${CONFORMANCE_TIMEOUT:-120}
baseline=${CONFORMANCE_BASELINE:-runc}
retries=${CONFORMANCE_RETRIES:-1}
while [ $# -gt 0 ]; do
	case $1 in
	-r | --runtimes) runtimes_arg=${2:?}; shift 2 ;;
	-t | --tests) tests_arg=${2:?}; shift 2 ;;
	-T | --timeout) timeout_s=${2:?}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "conformance: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
done
case $timeout_s$retries in *[!0-9]*) echo "conformance: timeout and retries must be numbers" >&2; exit 2 ;; esac

log() { printf '[conformance] %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (the suite creates containers, cgroups and mounts)"
for tool in go tar timeout unshare awk flock; do
	command -v "$tool" >/dev/null || die "$tool not found"
done

# ---------------------------------------------------------------------------
# runtimes: names and binaries
declare -a rt_names=() rt_bins=()
add_runtime() { # add_runtime ENTRY
	local entry=$1 name bin
	case $entry in
	*=*) name=${entry%%=*} bin=${entry#*=} ;;
	rt) name=rt bin=${RT:-$top/bin/rt} ;;
	runc) name=runc bin=${RUNC:-$(command -v runc || echo /usr/sbin/runc)} ;;
	*) name=$entry bin=$(command -v "$entry" || echo "$entry") ;;
	esac
	case $name in '' | *[!A-Za-z0-9_.-]*) die "bad runtime name '$name'" ;; esac
	[[ " ${rt_names[*]} " != *" $name "* ]] || return 0
	[ -x "$bin" ] || die "runtime $name: $bin is not an executable (for rt: make build)"
	bin=$(realpath "$bin")
	# The baseline runs first so the others can be compared (and retried) as
	# they go.
	if [ "$name" = "$baseline" ]; then
		rt_names=("$name" "${rt_names[@]}") rt_bins=("$bin" "${rt_bins[@]}")
	else
		rt_names+=("$name") rt_bins+=("$bin")
	fi
}
read -ra entries <<<"${runtimes_arg//,/ }"
for entry in "${entries[@]}"; do add_runtime "$entry"; done
[ ${#rt_names[@]} -gt 0 ] || die "no runtimes given"

# ---------------------------------------------------------------------------
# build the suite
goarch=$(go env GOARCH)
stamp="$RUNTIME_TOOLS_MODULE@$RUNTIME_TOOLS_VERSION $goarch ${CONFORMANCE_ROOTFS:-module}"

make_busybox_rootfs() { # make_busybox_rootfs TARBALL
	local busybox=${BUSYBOX:-/bin/busybox} dir applet
	[ -x "$busybox" ] || die "no rootfs tarball and no $busybox (apt-get install busybox-static)"
	dir=$(mktemp -d "$build/.rootfs.XXXXXX")
	chmod 0755 "$dir" # mktemp's 0700 would keep non-root container users out
	mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
	chmod 1777 "$dir/tmp"
	cp "$busybox" "$dir/bin/busybox"
	for applet in $("$busybox" --list-full); do
		[ "$applet" = bin/busybox ] && continue
		mkdir -p "$dir/$(dirname "$applet")"
		ln -sf /bin/busybox "$dir/$applet"
	done
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/sbin:/bin/false' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$dir/etc/passwd"
	printf '%s\n' 'root:x:0:' 'daemon:x:1:' 'nogroup:x:65534:' >"$dir/etc/group"
	tar -C "$dir" --numeric-owner -czf "$1" .
	rm -rf "$dir"
}

build_suite() {
	local json moddir src
	log "fetching $RUNTIME_TOOLS_MODULE@$RUNTIME_TOOLS_VERSION from the Go module proxy"
	json=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$RUNTIME_TOOLS_MODULE@$RUNTIME_TOOLS_VERSION") ||
		die "go mod download failed"
	moddir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	[ -d "$moddir/validation" ] || die "module has no validation/ directory ($moddir)"
	rm -rf "$build"
	mkdir -p "$build/bin"
	src=$build/src
	cp -r "$moddir" "$src"
	chmod -R u+w "$src"
	rm -rf "$src/vendor" # the module zip keeps only vendor/modules.txt
	log "building runtimetest and the validation executables"
	(
		cd "$src"
		export GOFLAGS="-mod=mod -buildvcs=false"
		CGO_ENABLED=0 go build -trimpath -tags "netgo osusergo" -o "$build/runtimetest" ./cmd/runtimetest
		# One go build for all main packages under validation/: each lands
		# in bin/ under its directory's name (validation/util is a library).
		go build -trimpath -ldflags "-s -w" -o "$build/bin/" ./validation/...
	) || die "building the validation suite failed"
	if [ -n "${CONFORMANCE_ROOTFS:-}" ] && [ "$CONFORMANCE_ROOTFS" != busybox ]; then
		cp "$CONFORMANCE_ROOTFS" "$build/rootfs-$goarch.tar.gz"
	elif [ "${CONFORMANCE_ROOTFS:-}" != busybox ] && [ -f "$src/rootfs-$goarch.tar.gz" ]; then
		cp "$src/rootfs-$goarch.tar.gz" "$build/"
	else
		log "making a busybox rootfs for $goarch"
		make_busybox_rootfs "$build/rootfs-$goarch.tar.gz"
	fi
	printf '%s\n' "$stamp" >"$build/stamp"
}

mkdir -p "$out"
# one run at a time: runs share _output/conformance and the suite's cgroups
exec 9>"$out/.lock"
flock -n 9 || die "another conformance run holds $out/.lock"
if [ "$(cat "$build/stamp" 2>/dev/null)" = "$stamp" ] && [ -x "$build/runtimetest" ] &&
	[ -f "$build/rootfs-$goarch.tar.gz" ] && [ -n "$(ls "$build/bin" 2>/dev/null)" ]; then
	log "suite $RUNTIME_TOOLS_VERSION already built in $build"
else
	t0=$EPOCHREALTIME
	build_suite
	log "suite built in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}')s"
fi

# the executables to run
declare -a tests=()
for exe in "$build"/bin/*; do
	name=${exe##*/}
	if [ -n "$tests_arg" ]; then
		keep=
		read -ra pats <<<"${tests_arg//,/ }"
		for pat in "${pats[@]}"; do
			# shellcheck disable=SC2053 # pat is a glob on purpose
			[[ $name == $pat ]] && keep=1
		done
		[ -n "$keep" ] || continue
	fi
	tests+=("$name")
done
[ ${#tests[@]} -gt 0 ] || die "no validation executable matches '$tests_arg'"

# Comparing needs the baseline's results for these tests: from an earlier run
# of this suite version, or else from this one.
if [[ " ${rt_names[*]} " != *" $baseline "* ]] && [ "${#rt_names[@]}" -gt 0 ]; then
	stored=1
	[ "$(sed -n 1p "$out/$baseline/suite" 2>/dev/null)" = "$stamp" ] || stored=
	for test in "${tests[@]}"; do [ -f "$out/$baseline/$test.res" ] || stored=; done
	if [ -z "$stored" ]; then
		log "no stored $baseline results for these tests: running $baseline too"
		add_runtime "$baseline"
	fi
fi

# ---------------------------------------------------------------------------
# isolation and cleanup
staterun=$(mktemp -d /run/berth-conformance.XXXXXX)
work=$out/work
cur_pid=

# unmount everything at or below $1 (deepest first; lazily, as a container's
# propagated mounts can still be busy)
umount_below() {
	local m
	awk -v d="$1" '{ p = $5; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' /proc/self/mountinfo |
		sort -r | while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# the cgroups the suite creates: /cgrouptest and testdir/cgrouptest/container
# (relative, so possibly below our own cgroup). Kill what is left in them,
# then remove them, innermost first; rmdir only removes empty cgroups.
clean_test_cgroups() {
	local d pid
	for d in $(find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d \
		\( -path '*/testdir/cgrouptest/container' -o -path '*/testdir/cgrouptest' -o -path '*/testdir' -o -name cgrouptest \) \
		2>/dev/null | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-); do
		case $d in */cgrouptest | */cgrouptest/container)
			while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$d/cgroup.procs" 2>/dev/null || true ;;
		esac
		rmdir "$d" 2>/dev/null || true
	done
}

# remove what one runtime's tests left: containers, mounts, bundles, cgroups
clean_runtime() { # clean_runtime NAME
	local name=$1 wrapper=$work/$1/runtime id
	if [ -x "$wrapper" ] && [ -d "$staterun/$name" ]; then
		for id in $("$wrapper" list -q 2>/dev/null); do
			"$wrapper" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	umount_below "$work/$name/tmp"
	umount_below "$staterun/$name"
	if [ -d "$work/$name/tmp" ]; then
		find "$work/$name/tmp" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} + 2>/dev/null || true
	fi
	clean_test_cgroups
}

# shellcheck disable=SC2317 # invoked by trap
on_exit() {
	local rc=$? name
	trap - EXIT INT TERM HUP
	if [ -n "$cur_pid" ]; then
		kill -TERM "$cur_pid" 2>/dev/null || true # timeout passes it on to the test's process group
		sleep 1
		kill -KILL "$cur_pid" 2>/dev/null || true
		wait "$cur_pid" 2>/dev/null || true
	fi
	for name in "${rt_names[@]}"; do clean_runtime "$name"; done
	umount_below "$staterun"
	rm -rf --one-file-system "$staterun" "$work" 2>/dev/null || true
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

clean_test_cgroups

# ---------------------------------------------------------------------------
# TAP parsing and comparing

# parse_tap TAP RC > RES: one line per TAP test line:
#   status <TAB> description <TAB> occurrence <TAB> line number in TAP
# status: ok, skip, notok, todo. Last line: "#verdict <TAB> v" where v is
# "ok" for a clean run or what went wrong with the executable: timeout,
# exit N, error (no test, an error diagnostic), no plan, planned N ran M.
parse_tap() {
	awk -v rc="$2" '
	function directive(s,   l, i) { # index of a "# SKIP" / "# TODO" directive
		l = tolower(s)
		i = match(l, /(^|[ \t])#[ \t]*(skip|todo)/)
		return i
	}
	/^(not )?ok([ \t]|$)/ {
		st = /^not ok/ ? "notok" : "ok"
		s = $0; sub(/^(not )?ok[ \t]*/, "", s)
		if (match(s, /^[0-9]+/)) s = substr(s, RLENGTH + 1)
		sub(/^[ \t]*(-[ \t]*)?/, "", s)
		if (directive(s)) {
			pre = substr(s, 1, RSTART - 1); post = substr(s, RSTART)
			sub(/^[ \t]*#[ \t]*/, "", post)
			kind = tolower(substr(post, 1, 4)); reason = substr(post, 5); sub(/^[ \t:]*/, "", reason)
			if (kind == "skip") st = "skip"
			else if (st == "notok") st = "todo"
			s = (pre != "") ? pre : reason
		}
		gsub(/\t/, " ", s); sub(/[ \t]+$/, "", s)
		if (s == "") s = "(no description)"
		occ[s]++
		n++; count[st]++
		printf "%s\t%s\t%d\t%d\n", st, s, occ[s], NR
		next
	}
	# some executables print several TAP streams (one per container run)
	/^1\.\.[0-9]+/ { p = $0; sub(/^1\.\./, "", p); plan += p; hasplan = 1; next }
	/^Bail out!/ { bail = 1 }
	/^TAP version/ || /^[ \t]*$/ { next }
	/^[ \t]+"?error"?:/ { diagerr = 1 }
	{ output = 1 }
	END {
		if (rc == 124 || rc == 137) v = "timeout"
		else if (bail) v = "bail out"
		else if (rc != 0) v = "exit " rc
		# the *_fail executables pass silently: exit 0, no TAP at all
		else if (n == 0 && !hasplan && !output) v = "ok"
		# hooks, prestart, ... report a failure as a diagnostic and no test
		else if (n == 0 && diagerr) v = "error"
		else if (!hasplan) v = "no plan"
		# ... and their success as an empty plan (1..0)
		else if (n == 0 && plan == 0) v = "ok"
		else if (n == 0) v = "no tests"
		else if (plan != n) v = "planned " plan ", ran " n
		else v = "ok"
		printf "#verdict\t%s\n", v
	}' "$1"
}

# compare BASE.res CAND.res: the candidate's regressions, one a line:
#   kind <TAB> description <TAB> occurrence <TAB> line in candidate TAP (0: none)
# kind: "fail" (not ok where the baseline passed), "missing" (not run where
# the baseline passed), "exec" (the executable did not run cleanly where the
# baseline's did; description is the verdict).
compare_res() {
	awk -F '\t' '
	FNR == 1 { f++ }
	f == 1 && $1 == "#verdict" { bv = $2; next }
	f == 1 { if ($1 == "ok" || $1 == "skip") { pass[$2 SUBSEP $3] = 1; order[++nb] = $2 SUBSEP $3 } next }
	f == 2 && $1 == "#verdict" { cv = $2; next }
	f == 2 { st[$2 SUBSEP $3] = $1; line[$2 SUBSEP $3] = $4; next }
	END {
		if (bv == "ok" && cv != "ok") printf "exec\t%s\t1\t0\n", cv
		for (i = 1; i <= nb; i++) {
			k = order[i]; split(k, p, SUBSEP)
			if (!(k in st)) printf "missing\t%s\t%s\t0\n", p[1], p[2]
			else if (st[k] == "notok" || st[k] == "todo") printf "fail\t%s\t%s\t%s\n", p[1], p[2], line[k]
		}
	}' "$1" "$2"
}

# the TAP diagnostic (YAML block, # lines) after line N of a TAP file
tap_diag() { # tap_diag TAP N MAXLINES
	awk -v n="$2" -v max="$3" '
	NR <= n { next }
	/^(not )?ok([ \t]|$)/ || /^1\.\.[0-9]/ { exit }
	{ if (++c > max) { print "    [...]"; exit } print }' "$1"
}

# ---------------------------------------------------------------------------
# running

run_exe() { # run_exe NAME TEST LOGBASE: run one executable, parse its TAP
	local name=$1 test=$2 base=$3 wrapper=$work/$1/runtime rc=0 t0
	t0=$EPOCHREALTIME
	: >"$base.calls"
	(
		cd "$work/$name/cwd"
		export TMPDIR=$work/$name/tmp RUNTIME=$wrapper CONFORMANCE_CALLS=$base.calls
		# a private mount namespace: see the header
		exec timeout -k 10 "$timeout_s" unshare --mount --propagation private \
			"$build/bin/$test" </dev/null >"$base.tap" 2>"$base.stderr"
	) &
	cur_pid=$!
	wait "$cur_pid" || rc=$?
	cur_pid=
	clean_runtime "$name"
	parse_tap "$base.tap" "$rc" >"$base.res"
	awk -v a="$t0" -v b="$EPOCHREALTIME" -v rc="$rc" 'BEGIN { printf "rc\t%d\nseconds\t%.1f\n", rc, b - a }' >"$base.meta"
}

declare -A secs=() flaky=()
for i in "${!rt_names[@]}"; do
	name=${rt_names[$i]} bin=${rt_bins[$i]}
	logdir=$out/$name
	mkdir -p "$logdir" "$staterun/$name" "$work/$name/tmp" "$work/$name/cwd"
	# the tests read runtimetest and rootfs-<arch>.tar.gz from their cwd, and
	# some compare paths textually: give them canonical ones
	# (copies: the tests copy runtimetest into each bundle, a symlink as a symlink)
	cp "$build/runtimetest" "$build/rootfs-$goarch.tar.gz" "$work/$name/cwd/"
	# a copy of the binary: a rebuild during the run must not mix versions
	mkdir -p "$work/$name/bin"
	cp "$bin" "$work/$name/bin/"
	cat >"$work/$name/runtime" <<-EOF
		#!/bin/sh
		# $name ($bin) with a private state root, for the validation suite
		[ -n "\${CONFORMANCE_CALLS:-}" ] && printf '%s\n' "\$*" >>"\$CONFORMANCE_CALLS"
		exec '$work/$name/bin/${bin##*/}' --root '$staterun/$name' "\$@"
	EOF
	chmod +x "$work/$name/runtime"
	printf '%s\n%s (%s)\n' "$stamp" "$bin" "$(stat -c '%y' "$bin" | cut -d. -f1)" >"$logdir/suite"
	clean_runtime "$name"

	log "running ${#tests[@]} executables against $name ($bin), timeout ${timeout_s}s each"
	t0=$EPOCHREALTIME
	for test in "${tests[@]}"; do
		rm -f "$logdir/$test".*
		run_exe "$name" "$test" "$logdir/$test"
		# retry what regressed against the baseline
		if [ "$name" != "$baseline" ] && [ -f "$out/$baseline/$test.res" ] &&
			[ "$(sed -n 1p "$out/$baseline/suite" 2>/dev/null)" = "$stamp" ]; then
			attempt=0
			while [ -n "$(compare_res "$out/$baseline/$test.res" "$logdir/$test.res")" ] && [ "$attempt" -lt "$retries" ]; do
				attempt=$((attempt + 1))
				for ext in tap stderr calls res meta; do mv "$logdir/$test.$ext" "$logdir/$test.try$attempt.$ext"; done
				log "  $test: regressed against $baseline; running it again ($attempt/$retries)"
				run_exe "$name" "$test" "$logdir/$test"
				[ -n "$(compare_res "$out/$baseline/$test.res" "$logdir/$test.res")" ] || flaky[$name/$test]=1
			done
		fi
		printf '[conformance]   %-34s %s\n' "$test" "$(awk -F '\t' '
			$1 == "#verdict" { v = $2; next } { c[$1]++ }
			END { printf "ok %d  skip %d  not ok %d  (%s)", c["ok"], c["skip"], c["notok"] + c["todo"], v }' "$logdir/$test.res")" >&2
	done
	secs[$name]=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
	log "$name: ${secs[$name]}s"
done

# ---------------------------------------------------------------------------
# report
report=$out/report.md
have_baseline=
if [ -f "$out/$baseline/suite" ] && [ "$(sed -n 1p "$out/$baseline/suite")" = "$stamp" ]; then
	have_baseline=1
fi

counts() { # counts RES -> "ok skip notok verdict"
	if [ -f "$1" ]; then
		awk -F '\t' '$1 == "#verdict" { v = $2; next } { c[$1]++ }
			END { printf "%d\t%d\t%d\t%s\n", c["ok"], c["skip"], c["notok"] + c["todo"], v }' "$1"
	else
		printf -- '-\t-\t-\tnot run\n'
	fi
}

# the runtimes in the table: the ones run, plus a stored baseline
declare -a cols=("${rt_names[@]}")
if [ -n "$have_baseline" ] && [[ " ${rt_names[*]} " != *" $baseline "* ]]; then
	cols=("$baseline" "${cols[@]}")
fi

total_regressions=0
declare -A tot_ok=() tot_skip=() tot_notok=() tot_clean=() tot_exe=() reg_count=()
table=$staterun/table.md details=$staterun/details.md
: >"$details"

{
	printf '| test |'
	for c in "${cols[@]}"; do printf ' %s ok | %s skip | %s not ok | %s run |' "$c" "$c" "$c" "$c"; done
	printf ' vs %s |\n|---|' "$baseline"
	for c in "${cols[@]}"; do printf -- '--:|--:|--:|---|'; done
	printf -- '---|\n'
} >"$table"

for test in "${tests[@]}"; do
	row="| $test |"
	marks=
	for c in "${cols[@]}"; do
		IFS=$'\t' read -r ok skip notok verdict < <(counts "$out/$c/$test.res")
		row+=" $ok | $skip | $notok | $verdict |"
		if [ "$verdict" != "not run" ]; then
			tot_ok[$c]=$((${tot_ok[$c]:-0} + ok)) tot_skip[$c]=$((${tot_skip[$c]:-0} + skip))
			tot_notok[$c]=$((${tot_notok[$c]:-0} + notok)) tot_exe[$c]=$((${tot_exe[$c]:-0} + 1))
			[ "$verdict" = ok ] && tot_clean[$c]=$((${tot_clean[$c]:-0} + 1))
		fi
		[ "$c" = "$baseline" ] && continue
		if [ -z "$have_baseline" ] || [ ! -f "$out/$baseline/$test.res" ] || [ ! -f "$out/$c/$test.res" ]; then
			continue
		fi
		regs=$(compare_res "$out/$baseline/$test.res" "$out/$c/$test.res")
		if [ -n "$regs" ]; then
			n=$(printf '%s\n' "$regs" | wc -l)
			reg_count[$c]=$((${reg_count[$c]:-0} + n))
			total_regressions=$((total_regressions + n))
			marks+=" **$c: $n REGRESSED**"
			{
				printf '\n### %s: %s (%d)\n\n' "$c" "$test" "$n"
				nmissing=$(printf '%s\n' "$regs" | grep -c '^missing' || true)
				printf '%s\n' "$regs" | while IFS=$'\t' read -r kind desc occ line; do
					[ "$occ" -gt 1 ] && desc="$desc (occurrence $occ)"
					case $kind in
					exec) printf -- '- executable: %s (with %s: ok)\n' "$desc" "$baseline" ;;
					missing)
						shown=$((${shown:-0} + 1))
						if [ "$shown" -le 8 ]; then
							printf -- '- missing: %s (not reported by %s; %s ok)\n' "$desc" "$c" "$baseline"
						elif [ "$shown" -eq 9 ]; then
							printf -- '- missing: ... and %d more\n' "$((nmissing - 8))"
						fi
						;;
					fail)
						printf -- '- not ok: %s\n' "$desc"
						printf '\n  ```\n'
						sed -n "${line}p" "$out/$c/$test.tap" | sed 's/^/  /'
						tap_diag "$out/$c/$test.tap" "$line" 40 | sed 's/^/  /'
						printf '  ```\n\n'
						;;
					esac
				done
				if ! grep -qE '^(not )?ok' "$out/$c/$test.tap" && grep -q '[^[:space:]]' "$out/$c/$test.tap"; then
					printf '\n  TAP (%s/%s.tap, first 20 lines):\n\n  ```\n' "$c" "$test"
					head -n 20 "$out/$c/$test.tap" | sed 's/^/  /'
					printf '  ```\n'
				fi
				if [ -s "$out/$c/$test.stderr" ]; then
					printf '\n  stderr (%s/%s.stderr, last 15 lines):\n\n  ```\n' "$c" "$test"
					tail -n 15 "$out/$c/$test.stderr" | sed 's/^/  /'
					printf '  ```\n'
				fi
			} >>"$details"
		elif [ -n "${flaky[$c/$test]:-}" ]; then
			marks+=" $c: flaky (passed on retry)"
		fi
	done
	printf '%s%s |\n' "$row" "$marks" >>"$table"
done

{
	row="| **total** |"
	for c in "${cols[@]}"; do
		row+=" **${tot_ok[$c]:-0}** | ${tot_skip[$c]:-0} | **${tot_notok[$c]:-0}** | ${tot_clean[$c]:-0}/${tot_exe[$c]:-0} clean |"
	done
	printf '%s |\n' "$row"
} >>"$table"

{
	printf '# OCI runtime-tools validation\n\n'
	printf 'Suite: %s@%s, %d executables, timeout %ss each.\n' "$RUNTIME_TOOLS_MODULE" "$RUNTIME_TOOLS_VERSION" "${#tests[@]}" "$timeout_s"
	printf 'Generated by hack/conformance.sh on %s (%s).\n\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)"
	for c in "${cols[@]}"; do
		if [ -n "${secs[$c]:-}" ]; then
			printf -- '- %s: %s, %ss\n' "$c" "$(sed -n 2p "$out/$c/suite")" "${secs[$c]}"
		else
			printf -- '- %s: %s (stored results from an earlier run)\n' "$c" "$(sed -n 2p "$out/$c/suite")"
		fi
	done
	printf '\n"ok" excludes skips; "not ok" includes TODO failures; "run" is the executable'"'"'s own outcome\n'
	printf '(ok, exit N, timeout, error: an error diagnostic and no test, planned N ran M).\n'
	printf 'Logs: <runtime>/<test>.{tap,stderr,calls} (calls: the runtime command lines the test ran).\n\n'
	cat "$table"
	if [ -z "$have_baseline" ]; then
		printf '\nNo %s results for this suite version: nothing compared.\n' "$baseline"
	elif [ "$total_regressions" -eq 0 ]; then
		printf '\nNo regressions against %s.\n' "$baseline"
	else
		printf '\n## Regressions against %s\n\nTAP tests %s passes that the runtime fails or does not reach.\n' "$baseline" "$baseline"
		cat "$details"
	fi
} >"$report"

# the terminal table: same numbers, fixed width
{
	printf '\n%-34s' test
	for c in "${cols[@]}"; do printf ' | %6s %5s %6s %-11.11s' "$c ok" skip "not ok" run; done
	printf ' | vs %s\n' "$baseline"
	awk -F '|' -v nc="${#cols[@]}" '
	NR > 2 {
		name = $2; gsub(/^ +| +$|\*/, "", name); printf "%-34s", name
		for (i = 0; i < nc; i++) {
			for (j = 3; j <= 6; j++) { v[j] = $(i * 4 + j); gsub(/^ +| +$|\*/, "", v[j]) }
			printf " | %6s %5s %6s %-11.11s", v[3], v[4], v[5], v[6]
		}
		m = $(nc * 4 + 3); gsub(/^ +| +$|\*/, "", m); printf " | %s\n", m
	}' "$table"
	printf '\n'
	for c in "${cols[@]}"; do
		printf '%s: ok %s, skip %s, not ok %s; %s of %s executables ran clean%s%s\n' "$c" "${tot_ok[$c]:-0}" \
			"${tot_skip[$c]:-0}" "${tot_notok[$c]:-0}" "${tot_clean[$c]:-0}" "${tot_exe[$c]:-0}" \
			"${secs[$c]:+; ${secs[$c]}s}" "${reg_count[$c]:+; ${reg_count[$c]} regressions against $baseline}"
	done
	if [ -n "$have_baseline" ] && [ "$total_regressions" -gt 0 ]; then
		printf '\nREGRESSIONS against %s: %d (details with TAP diagnostics in %s)\n' "$baseline" "$total_regressions" "$report"
		awk '/^### / { print "  " substr($0, 5); k = 0; next }
			/^- / { if (++k <= 3) print "    " substr($0, 3); else if (k == 4) print "    ..." }' "$details"
	elif [ -n "$have_baseline" ]; then
		printf '\nno regressions against %s\n' "$baseline"
	fi
	printf 'report: %s\n' "$report"
} >&2

[ "$total_regressions" -eq 0 ] || exit 1
exit 0
