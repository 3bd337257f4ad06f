#!/usr/bin/env bash
# hack/mkbundle.sh DIR: make an OCI bundle whose rootfs is Debian's busybox-static.
#
# The rootfs holds /bin/busybox plus one symlink per applet, the few files a
# shell expects (/etc/passwd, /etc/group) and empty mount points. config.json
# is `rt spec`'s default (or runc's, when rt is not built), so the bundle is a
# plain runtime-spec bundle any runtime can run. Re-running replaces it.
set -euo pipefail

dir=${1:?usage: mkbundle.sh DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "busybox-static not found at $busybox (run hack/setup.sh)" >&2; exit 1; }
file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked' && { echo "$busybox is dynamically linked; install busybox-static" >&2; exit 1; }

tmp=$(mktemp -d "$(dirname "$dir")/.bundle.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$dir")"; mktemp -d "$(dirname "$dir")/.bundle.XXXXXX"; })
trap 'rm -rf "$tmp"' EXIT
rootfs=$tmp/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,run,var/tmp}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$rootfs/$(dirname "$applet")"
	ln -sf /bin/busybox "$rootfs/$applet"
done
cat >"$rootfs/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$rootfs/etc/group" <<'GR'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GR

if [ -x "$top/bin/rt" ]; then
	(cd "$tmp" && "$top/bin/rt" spec)
else
	(cd "$tmp" && runc spec)
fi
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
