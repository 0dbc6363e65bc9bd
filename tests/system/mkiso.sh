#!/usr/bin/env bash
# Builds a BIOS-bootable GRUB ISO that multiboot2-loads a hypervisor with its
# console on COM1, so the system tests (and a Xen comparison) can exercise the
# same path a real machine's GRUB takes.
#
# usage: mkiso.sh [-a "hypervisor args"] [-m "file [module args]"]... IMAGE OUT.iso
#   -a  hypervisor command line (default: console=com1)
#   -m  one module: first word is a file, the rest its command line, exactly
#       like one entry of QEMU's -initrd (repeat for module 0, 1, ...)
# e.g. mkiso.sh -m "build/ref/vmlinuz placeholder console=hvc0" \
#               -a "console=com1 dom0_mem=512M" build/ref/xen.elf xen.iso
set -euo pipefail

args="console=com1"
mods=()
while getopts "a:m:" opt; do
  case "$opt" in
    a) args="$OPTARG" ;;
    m) mods+=("$OPTARG") ;;
    *) sed -n '7,10p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { sed -n '7,10p' "$0" >&2; exit 2; }
image="$1" out="$2"

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/boot/grub"
name="$(basename "$image")"
cp "$image" "$root/boot/$name"

{
  # GRUB itself talks on COM1 too, so a failed load shows up in the log.
  echo 'serial --unit=0 --speed=115200'
  echo 'terminal_input serial'
  echo 'terminal_output serial'
  echo 'set timeout=0'
  echo 'set default=0'
  echo 'menuentry "hypervisor" {'
  echo "  multiboot2 /boot/$name $args"
  i=0
  for m in "${mods[@]}"; do
    file="${m%% *}"
    rest=""
    [ "$file" != "$m" ] && rest="${m#* }"
    cp "$file" "$root/boot/mod$i"
    # GRUB2 passes only the words after the path as the module's command
    # line, and Xen-style hypervisors take them whole.
    echo "  module2 /boot/mod$i $rest"
    i=$((i + 1))
  done
  echo '}'
} > "$root/boot/grub/grub.cfg"

# BIOS platform only (i386-pc): no EFI image, so no mtools round trip, and
# the ISO stays small. Quiet unless it fails.
if ! grub-mkrescue -d /usr/lib/grub/i386-pc -o "$out" "$root" >"$out.log" 2>&1; then
  cat "$out.log" >&2; exit 1
fi
rm -f "$out.log"
echo "$out"
