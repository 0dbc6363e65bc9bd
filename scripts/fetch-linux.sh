#!/usr/bin/env bash
# Fetches Debian 12's stock kernel (the versioned package that
# linux-image-amd64 depends on) and extracts its bzImage to build/ref/vmlinuz
# (or $VESTA_CACHE/vmlinuz). Debian kernels have Xen PV dom0 support built in,
# so this is the dom0 kernel both for real Xen and for Vesta.
# Cached: does nothing if vmlinuz exists.
set -euo pipefail
. "$(dirname "$0")/fetch-common.sh"

OUT="$CACHE/vmlinuz"
if [ -s "$OUT" ]; then echo "$OUT"; exit 0; fi

# The metapackage names the current ABI, e.g. linux-image-6.1.0-56-amd64.
# That package carries the Secure-Boot-signed bzImage, which boots unchanged
# as a multiboot module; take the first Depends that is a versioned image.
pkg_name() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}
pkg="$(pkg_name)"
if [ -z "$pkg" ]; then apt_update; pkg="$(pkg_name)"; fi
[ -n "$pkg" ] || { echo "fetch-linux: cannot resolve linux-image-amd64" >&2; exit 1; }

deb="$(apt_download "$pkg")"
tmp="$(mktemp -d "$CACHE/linux-unpack.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
cp "$(ls "$tmp"/boot/vmlinuz-* | head -n1)" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
# The .deb holds ~400 MB of modules once unpacked; only the bzImage is kept,
# plus the .deb itself (so a rerun after deleting vmlinuz needs no network).
echo "$OUT"
