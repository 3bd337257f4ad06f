#!/usr/bin/env bash
# Prepares the patched runc module rt is built with (see
# runtime/patches/README.md): a copy of the runc module go.mod names, with
# runtime/patches/runc-<version>.patch applied, in OUT/runc, and OUT/go.mod
# (the repository's go.mod plus a replace directive to that copy) for
# `go build -modfile OUT/go.mod`. The module cache and go.mod stay untouched.
# Fails when go.mod names a runc version no patch is written for.
set -euo pipefail
out=${1:?usage: hack/runc-patched.sh OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}

cd "$top"
$go mod download github.com/opencontainers/runc
read -r version dir < <($go list -m -f '{{.Version}} {{.Dir}}' github.com/opencontainers/runc)
patchfile=$top/runtime/patches/runc-$version.patch
if [ ! -f "$patchfile" ]; then
	echo "runc-patched: go.mod uses runc $version but there is no $patchfile;" >&2
	echo "port runtime/patches/runc-*.patch to $version (see runtime/patches/README.md)" >&2
	exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
stamp="$version $(sha256sum <"$patchfile")"
if [ "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ] || [ ! -f "$out/runc/go.mod" ]; then
	# module cache files are read-only: make the old copy removable first
	[ -d "$out/runc" ] && chmod -R u+w "$out/runc"
	rm -rf "$out/runc" "$out/runc.new" "$out/stamp"
	cp -r "$dir" "$out/runc.new"
	chmod -R u+w "$out/runc.new"
	if ! patch -s -p1 -N -d "$out/runc.new" -r - <"$patchfile"; then
		echo "runc-patched: $patchfile does not apply to runc $version ($dir)" >&2
		exit 1
	fi
	mv "$out/runc.new" "$out/runc"
	echo "$stamp" >"$out/stamp"
fi
# written whole, then renamed: a build reading the old files never sees half
{
	cat "$top/go.mod"
	echo
	echo "replace github.com/opencontainers/runc => $out/runc"
} >"$out/go.mod.new"
cp "$top/go.sum" "$out/go.sum.new"
mv "$out/go.mod.new" "$out/go.mod"
mv "$out/go.sum.new" "$out/go.sum"
