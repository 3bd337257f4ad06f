#!/usr/bin/env bash
# hack/mkimage.sh OUT.tar [NAME:TAG]: make a busybox image from Debian's
# busybox-static as a docker-archive (`docker save` format) that `mgr load`
# and `docker load` read. No registry is needed: this is the project's base
# test image. The output is reproducible for a given busybox binary.
set -euo pipefail

out=${1:?usage: mkimage.sh OUT.tar [NAME:TAG]}
tag=${2:-busybox:latest}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$top/hack/mkbundle.sh" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs
busybox=${BUSYBOX:-/bin/busybox}
# One fixed time for every file and the config: the busybox binary's.
epoch=$(stat -c %Y "$busybox")
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)

mkdir -p "$work/archive"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
	-C "$rootfs" -cf "$work/layer.tar" .
diffid=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir -p "$work/archive/$diffid"
mv "$work/layer.tar" "$work/archive/$diffid/layer.tar"

jq -n -c --arg d "sha256:$diffid" --arg created "$created" --arg by "hack/mkimage.sh: Debian busybox-static $version" '{
	architecture: "amd64", os: "linux", created: $created,
	config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"]},
	rootfs: {type: "layers", diff_ids: [$d]},
	history: [{created: $created, created_by: $by}]
}' >"$work/config.json"
cfg=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/archive/$cfg.json"
jq -n -c --arg c "$cfg.json" --arg t "$tag" --arg l "$diffid/layer.tar" \
	'[{Config: $c, RepoTags: [$t], Layers: [$l]}]' >"$work/archive/manifest.json"

tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
	-C "$work/archive" -cf "$work/image.tar" .
mkdir -p "$(dirname "$out")"
mv "$work/image.tar" "$out"
echo "$out"
