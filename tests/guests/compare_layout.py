#!/usr/bin/env python3
"""Differential check of dom0's initial address space: boot the same PV kernel (our guests) on Vesta and on
real Xen 4.17 with the same dom0_mem and modules, and compare the VIRTUAL MEMORY ARRANGEMENT both print, line
by line. Ends with "N passed, N failed" (one per case).

usage: compare_layout.py --xen build/ref/xen.elf [--vesta build/vesta.elf]"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
G = os.path.join(REPO, "build", "guests")

# (name, dom0_mem, kernel, initrd or None)
CASES = [
    ("hello-64M", "64M", "hello.elf", None),
    ("hello-64M-initrd", "64M", "hello.elf", "memory.elf"),
    ("memory-200M", "200M", "memory.elf", None),
    ("traps-32M-min-max", "min:16M,max:32M,48M", "traps.elf", None),
]


def arrangement(hv, mem, kernel, initrd, timeout=60):
    mods = os.path.join(G, kernel) + " vesta-guest=layout"
    if initrd:
        mods += "," + os.path.join(G, initrd)
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max,-smap", "-m", "512", "-smp", "1",
           "-nographic", "-no-reboot", "-kernel", hv,
           "-append", "console=com1 loglvl=all dom0_mem=" + mem, "-initrd", mods]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines, block, deadline = [], None, time.time() + timeout
    try:
        for raw in p.stdout:
            line = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", raw.decode(errors="replace")).rstrip("\r\n")
            lines.append(line)
            if block is None and line.endswith("VIRTUAL MEMORY ARRANGEMENT:"):
                block = []
            elif block is not None:
                m = re.match(r"^\((?:XEN|VESTA)\) (.*)$", line)
                block.append(m.group(1) if m else line)
                if "ENTRY ADDRESS" in line:
                    return block, lines
            if time.time() > deadline:
                break
        return None, lines
    finally:
        p.kill()
        p.wait()


def run_case(case, xen, vesta):
    name, mem, kernel, initrd = case
    want, _ = arrangement(xen, mem, kernel, initrd)
    got, log = arrangement(vesta, mem, kernel, initrd)
    if want is None:
        return name, False, "Xen printed no arrangement"
    if got is None:
        return name, False, "Vesta printed no arrangement; last lines: %s" % log[-3:]
    if got != want:
        diff = [f"  xen:   {w}\n  vesta: {g}" for w, g in zip(want, got) if w != g]
        return name, False, "differs:\n" + "\n".join(diff or ["  (line count %d vs %d)" % (len(want), len(got))])
    return name, True, "%d lines identical" % len(got)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xen", required=True)
    ap.add_argument("--vesta", default=os.path.join(REPO, "build", "vesta.elf"))
    a = ap.parse_args()
    passed = failed = 0
    # Each case runs its two QEMUs one after the other; two cases at a time keeps to two QEMUs.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for name, ok, why in ex.map(lambda c: run_case(c, a.xen, a.vesta), CASES):
            print("%-22s %s  %s" % (name, "PASS" if ok else "FAIL", why))
            passed += ok
            failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
