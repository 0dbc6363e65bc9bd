#!/usr/bin/env python3
"""Robustness run: a guest calls every hypercall with random arguments and pointers (guests/bench/fuzz.c).

The guest runs as dom0 for --seconds in total. A run ends with the guest's own shutdown, or with the hypervisor
crashing just that guest and saying why; the hypervisor itself must never fault or hang. When the guest ends
early (it may legitimately damage itself, e.g. by handing back its own memory), the harness starts it again
with the next seed until the time is used up. Each run must:
  - end on its own (QEMU exits: dom0's end reboots the machine, and -no-reboot turns that into an exit) within
    the guest's time plus a margin; if the guest has instead wedged itself (say, its own fault handler faulting
    forever after it overwrote its memory), the hypervisor must still answer on the serial line (debug keys);
  - not print a hypervisor fault;
  - end with the guest's result line or with a "Domain 0 ... crashed: <reason>" line.
Prints one line per run and the closing "N passed, N failed".
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def one_run(hv, seed, seconds, log):
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max,-smap", "-m", "256", "-smp", "2", "-nographic",
           "-echr", "0x1d",  # QEMU keeps Ctrl-] as its escape so Ctrl-A reaches the hypervisor
           "-no-reboot", "-kernel", hv, "-append", "console=com1 dom0_mem=64M",
           "-initrd", f"{ROOT}/build/guests/tools/fuzz.elf vesta-guest=fuzz fuzz={seconds} seed={seed}"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: p.stdout.read1(65536), b"")))
    reader.start()
    try:
        p.wait(timeout=seconds + 30)
        hung = responsive = False
    except subprocess.TimeoutExpired:
        # The guest did not end. Is the hypervisor alive? Switch the serial line to it (Ctrl-A x3) and ask for
        # its debug keys: an answer means only the guest is stuck in a loop of its own making.
        p.stdin.write(b"\x01\x01\x01h")
        p.stdin.flush()
        time.sleep(5)
        p.kill()
        p.wait()
        hung = True
    reader.join()
    out = b"".join(chunks)
    responsive = hung and b"Debug keys:" in out
    text = out.decode("latin-1").replace("\r", "")
    with open(log, "w") as f:
        f.write(text)
    calls = re.search(r"FUZZ calls=(\d+)", text)
    result = re.search(r"^RESULT: (\w+)", text, re.M) or re.search(r"Domain 0 shut down: reason (\w+)", text)
    crashed = re.search(r"Domain 0 \(vcpu \d+\) crashed: (.*)|Domain 0 crashed: (.*)", text)
    fault = "HYPERVISOR FAULT" in text
    progress = re.findall(r"FUZZ progress: (\d+) calls", text)
    ncalls = int(calls.group(1)) if calls else (int(progress[-1]) if progress else 0)
    return {"elapsed": time.monotonic() - t0, "hung": hung, "responsive": responsive, "fault": fault,
            "calls": ncalls, "finished": calls is not None, "result": result.group(1) if result else None,
            "crash": crashed.group(1) or crashed.group(2) if crashed else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hv", default=f"{ROOT}/build/vesta.elf")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--logs", default=f"{ROOT}/build/test-logs/fuzz")
    args = ap.parse_args()
    os.makedirs(args.logs, exist_ok=True)
    passed = failed = 0
    left, seed, total_calls = float(args.seconds), args.seed, 0
    while left > 0:
        r = one_run(args.hv, seed, max(1, int(left)), f"{args.logs}/seed-{seed}.log")
        total_calls += r["calls"]
        ok = not r["fault"] and (r["result"] or r["crash"] or r["responsive"])
        if r["finished"]:
            how = "guest ran its time and shut down"
        elif r["result"]:
            how = "guest stopped itself (it trapped on damage it did to itself) and shut down"
        elif r["crash"]:
            how = f"guest crashed by the hypervisor: {r['crash']}"
        else:
            how = "no verdict"
        if r["hung"]:
            how = ("guest stuck in a loop of its own; hypervisor answered its debug keys" if r["responsive"]
                   else "HUNG: the hypervisor did not answer")
        if r["fault"]:
            how = "HYPERVISOR FAULT"
        print(f"{'PASS' if ok else 'FAIL'} seed {seed}: {r['calls']} calls, {r['elapsed']:.1f} s, {how}")
        sys.stdout.flush()
        passed += bool(ok)
        failed += not ok
        # Time spent by the guest itself (boot excluded) is what counts against the budget.
        left -= max(r["elapsed"] - 3, 1)
        seed += 1
    print(f"fuzz: {total_calls} hypercalls over {args.seconds} s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
