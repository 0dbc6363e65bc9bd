#!/usr/bin/env bash
# Path lengths of the core PV operations, Vesta against Debian's Xen 4.17, same guest binary.
#
# usage: bench/pathlen.sh
#
# The guest build/guests/tools/pathlen.elf (guests/bench/pathlen.c) measures each operation with the TSC, median
# of 257 rounds, and prints "BENCH <name> <ticks>". QEMU runs with -icount shift=0,sleep=off, so guest time
# counts guest instructions: the figures are instruction-path lengths, repeatable and independent of the host.
# Prints one line per operation: Vesta, Xen, and the ratio Vesta/Xen (target: <= 1).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh >/dev/null
XEN=$(./scripts/fetch-xen.sh)
make >/dev/null
make -C guests >/dev/null

run() {
    timeout 120 qemu-system-x86_64 -accel tcg -icount shift=0,sleep=off -cpu max,-smap -m 256 -smp 1 \
        -nographic -no-reboot -kernel "$1" -append "console=com1 dom0_mem=64M" \
        -initrd "build/guests/tools/pathlen.elf vesta-guest=pathlen" 2>&1 | tr -d '\r' | grep '^BENCH ' || true
}

run build/vesta.elf > build/pathlen-vesta.txt
run "$XEN" > build/pathlen-xen.txt
python3 - build/pathlen-vesta.txt build/pathlen-xen.txt <<'PY'
import sys
def load(p):
    return {l.split()[1]: int(l.split()[2]) for l in open(p) if l.startswith("BENCH ")}
v, x = load(sys.argv[1]), load(sys.argv[2])
print(f"{'operation':28} {'Vesta':>8} {'Xen 4.17':>9} {'ratio':>6}")
for name in x:
    if name == "tsc-overhead":
        continue
    vv = v.get(name)
    ratio = f"{vv / x[name]:.2f}" if vv and x[name] else "-"
    print(f"{name:28} {vv if vv is not None else 'missing':>8} {x[name]:>9} {ratio:>6}")
PY
