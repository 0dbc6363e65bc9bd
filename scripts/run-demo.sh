#!/usr/bin/env bash
# `make run`: boot Vesta in QEMU with Debian's kernel as dom0 (module 0).
# The serial console is this terminal, so debug keys work: press h for the
# list.  Quit QEMU with Ctrl-A then X (Ctrl-A C toggles QEMU's monitor).
# Extra QEMU arguments can follow, e.g. scripts/run-demo.sh -smp 4.
# VESTA_ARGS overrides the hypervisor command line.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
make
vmlinuz="$(./scripts/fetch-linux.sh)"

echo "run-demo: booting build/vesta.elf with $vmlinuz as dom0; quit with Ctrl-A X" >&2
# -nographic puts the serial port and QEMU's monitor on stdio, multiplexed
# behind Ctrl-A; -no-reboot so a hypervisor crash ends the demo instead of
# looping.  TCG: this machine has no KVM, and -smap is off as for the tests.
exec qemu-system-x86_64 -accel tcg -cpu max,-smap -smp 2 -m 1024 \
  -nographic -no-reboot \
  -kernel build/vesta.elf \
  -append "${VESTA_ARGS:-console=com1 dom0_mem=512M}" \
  -initrd "$vmlinuz console=hvc0" \
  "$@"
