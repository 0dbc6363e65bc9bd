#!/usr/bin/env bash
# `make run`: boot Vesta in QEMU with Debian's kernel as dom0 (module 0) and
# our busybox initramfs (module 1), ending at dom0's shell on this terminal.
# The serial line goes to dom0; type Ctrl-A three times to talk to Vesta
# instead (debug keys: h lists them) and again to come back.  `poweroff -f`
# in the shell ends the session; or quit QEMU with Ctrl-] then x (QEMU's
# escape is moved from Ctrl-A to Ctrl-] so that Ctrl-A reaches Vesta).
# Extra QEMU arguments can follow, e.g. scripts/run-demo.sh -smp 4.
# VESTA_ARGS overrides the hypervisor command line.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
make
vmlinuz="$(./scripts/fetch-linux.sh)"
initrd="$(./scripts/mkinitrd.sh)"

echo "run-demo: booting build/vesta.elf with $vmlinuz as dom0; 'poweroff -f' or Ctrl-] x ends it" >&2
# -nographic puts the serial port and QEMU's monitor on stdio, multiplexed
# behind Ctrl-A; -no-reboot so a hypervisor crash ends the demo instead of
# looping.  TCG: this machine has no KVM, and -smap is off as for the tests.
exec qemu-system-x86_64 -accel tcg -cpu max,-smap -smp 2 -m 1024 \
  -nographic -echr 0x1d -no-reboot \
  -kernel build/vesta.elf \
  -append "${VESTA_ARGS:-console=com1 dom0_mem=512M}" \
  -initrd "$vmlinuz console=hvc0 quiet,$initrd" \
  "$@"
