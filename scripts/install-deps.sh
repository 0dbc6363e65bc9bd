#!/usr/bin/env bash
# Installs everything Vesta needs to build, run and test on a Debian 12 machine.
# Idempotent: when every package is already installed we never touch apt, so
# repeated runs (each `make test` calls us) cost a fraction of a second.
set -euo pipefail

# build: compiler, linker, make; python3 drives the system tests;
# qemu-system-x86 runs everything (TCG); grub-pc-bin, grub-common, xorriso and
# mtools are what grub-mkrescue needs for the BIOS multiboot2 ISO test;
# busybox-static is the userland for the dom0 initrd; cpio+gzip pack initrds;
# gzip also unpacks xen.gz (fetch-xen.sh); xz-utils/zstd so dpkg-deb can
# unpack any compression Debian uses for .deb members.
# `make deb` needs only dpkg-deb and dpkg-parsechangelog (dpkg, and dpkg-dev
# from build-essential); its test (tests/deb) adds lintian, grub-common's
# grub-mkconfig, and busybox-static as the shell of a throw-away dpkg root.
PKGS=(
  build-essential gcc make binutils python3
  qemu-system-x86
  grub-pc-bin grub-common xorriso mtools
  busybox-static cpio gzip xz-utils zstd
  lintian
)

missing=()
for p in "${PKGS[@]}"; do
  # dpkg -s exits 0 also for "deinstall" states, so look at the status line.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: not root and no sudo; install these by hand: ${missing[*]}" >&2
    exit 1
  fi
fi
# Non-interactive: CI has no stdin, and grub-pc-bin must not ask questions.
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
