#!/usr/bin/env bash
# Fetches Debian 12's real Xen 4.17 hypervisor as our reference image:
# build/ref/xen.elf (or $VESTA_CACHE/xen.elf), a multiboot ELF that
# qemu -kernel and GRUB both boot. Cached: does nothing if xen.elf exists.
set -euo pipefail
. "$(dirname "$0")/fetch-common.sh"

OUT="$CACHE/xen.elf"
if [ -s "$OUT" ]; then echo "$OUT"; exit 0; fi

deb="$(apt_download xen-hypervisor-4.17-amd64)"
tmp="$(mktemp -d "$CACHE/xen-unpack.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
# The package ships boot/xen-4.17-amd64.gz (plus .config and symbol files);
# the gz payload is the final multiboot ELF, gzipped to save /boot space.
gz="$(ls "$tmp"/boot/xen-4.17*-amd64.gz | head -n1)"
gunzip -c "$gz" > "$OUT.tmp"
# Guard against a format change: we rely on an ELF that QEMU's -kernel
# multiboot loader accepts.
if [ "$(head -c4 "$OUT.tmp" | od -An -c | tr -d ' ')" != '177ELF' ]; then
  echo "fetch-xen: $gz is not an ELF image" >&2; exit 1
fi
# Keep the symbol map too: handy when comparing Xen's call traces with ours.
cp "$tmp"/boot/xen-4.17*-amd64.map "$CACHE/xen.map" 2>/dev/null || true
mv "$OUT.tmp" "$OUT"
echo "$OUT"
