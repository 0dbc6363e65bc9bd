#!/usr/bin/env python3
"""Boot each Vesta PV guest test kernel as the first domain of a hypervisor
image under QEMU and collect its verdict.

Each guest prints 'VESTA-GUEST-TEST <name>: N passed, N failed' and then
'RESULT: PASS' or 'RESULT: FAIL' on the hypervisor console, then powers off.
Real Xen halts forever after dom0 powers off, so QEMU is stopped here as soon
as the RESULT line has been seen.

Usage: run_guests.py [--hv build/vesta.elf] [--only hello,version] [--logs DIR] [-j N]
Ends with exactly 'N passed, N failed'; exit status 0 only if all passed.
"""
import argparse
import concurrent.futures
import os
import re
import selectors
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GUEST_DIR = os.path.join(ROOT, "build", "guests")
HV_APPEND = "console=com1 dom0_mem=64M loglvl=all guest_loglvl=all"
TIMEOUT_S = 60
MAX_PARALLEL = 2

RESULT_RE = re.compile(r"RESULT: (PASS|FAIL)")
SUMMARY_RE = re.compile(r"VESTA-GUEST-TEST (\S+): (\d+) passed, (\d+) failed")


def discover_tests():
    names = []
    src = os.path.join(ROOT, "guests", "tests")
    if os.path.isdir(src):
        names = sorted(f[:-2] for f in os.listdir(src) if f.endswith(".c"))
    return names


# Tests that need a different machine: CPU count and extra hypervisor options.
# The CPU count also reaches the guest as vesta-smp=N on its command line.
TEST_MACHINE = {
    "sysctl": {"smp": 2, "append": "console_to_ring"},
}


def qemu_cmd(hv, elf, name):
    # The module string is "<path> <dom0 command line>"; the hypervisor drops
    # the path and hands the rest to the guest as start_info.cmd_line.
    m = TEST_MACHINE.get(name, {})
    smp = m.get("smp", 1)
    append = HV_APPEND + (" " + m["append"] if "append" in m else "")
    return ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max,-smap",
            "-m", "512", "-smp", str(smp), "-nographic", "-no-reboot",
            "-kernel", hv, "-append", append,
            "-initrd", "%s vesta-guest=%s vesta-smp=%d" % (elf, name, smp)]


def run_one(hv, name, logdir):
    elf = os.path.join(GUEST_DIR, name + ".elf")
    if not os.path.exists(elf):
        return name, False, "missing %s" % elf, ""
    cmd = qemu_cmd(hv, elf, name)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    verdict = None
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while verdict is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not sel.select(timeout=min(left, 1.0)):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            m = RESULT_RE.search(buf.decode("utf-8", "replace"))
            if m:
                verdict = m.group(1)
                # Let the tail of the line (and the power-off) reach us.
                end = time.monotonic() + 0.5
                while time.monotonic() < end and sel.select(timeout=0.1):
                    more = os.read(proc.stdout.fileno(), 65536)
                    if not more:
                        break
                    buf += more
    finally:
        sel.close()
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        proc.stdout.close()

    log = buf.decode("utf-8", "replace").replace("\r", "")
    if logdir:
        with open(os.path.join(logdir, name + ".log"), "w") as f:
            f.write("# " + " ".join(cmd) + "\n" + log)

    sm = SUMMARY_RE.search(log)
    if verdict is None:
        return name, False, "no RESULT line (timeout %ds or exit)" % TIMEOUT_S, log
    if sm is None or sm.group(1) != name:
        return name, False, "RESULT without matching summary line", log
    detail = "%s passed, %s failed" % (sm.group(2), sm.group(3))
    return name, verdict == "PASS", detail, log


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hv", default=os.path.join(ROOT, "build", "vesta.elf"),
                    help="hypervisor image booted with qemu -kernel")
    ap.add_argument("--only", default="",
                    help="comma separated test names (default: all)")
    ap.add_argument("--logs", default="", help="directory for serial logs")
    ap.add_argument("-j", "--jobs", type=int, default=MAX_PARALLEL,
                    help="QEMUs run at once (default %d)" % MAX_PARALLEL)
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print failing checks from the guest log")
    args = ap.parse_args()

    tests = discover_tests()
    if args.only:
        wanted = [t for t in args.only.replace(" ", ",").split(",") if t]
        unknown = [t for t in wanted if t not in tests]
        if unknown:
            print("unknown test(s): %s" % ", ".join(unknown))
            print("0 passed, %d failed" % len(unknown))
            return 1
        tests = wanted
    if not os.path.exists(args.hv):
        print("hypervisor image %s not found" % args.hv)
        print("0 passed, %d failed" % len(tests))
        return 1
    if args.logs:
        os.makedirs(args.logs, exist_ok=True)

    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
        futs = [ex.submit(run_one, args.hv, t, args.logs) for t in tests]
        for fut in futs:
            name, ok, detail, log = fut.result()
            print("%-10s %s (%s)" % (name, "PASS" if ok else "FAIL", detail))
            if not ok and args.verbose:
                for line in log.splitlines():
                    if "FAIL" in line or "ABORT" in line or "unexpected" in line:
                        print("    " + line.strip())
            sys.stdout.flush()
            if ok:
                passed += 1
            else:
                failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
