#!/usr/bin/env python3
"""Vesta system tests: boot the hypervisor in QEMU (TCG) and check its serial log.

usage: run_tests.py [--image build/vesta.elf] [-j 2] [--list] [NAME-SUBSTRING...]

Prints PASS/FAIL per test (with the reason and log path on failure) and ends
with exactly "N passed, N failed"; exits 1 if anything failed.  Logs go to
build/test-logs/<test>.log.  Stdlib only.
"""

import argparse
import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Qemu, QemuError, kill_all  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOG_DIR = os.path.join(REPO, "build", "test-logs")

# ---------------------------------------------------------------------------
# The serial-log contract, in one place: every pattern the tests look for.
# If Vesta's wording changes, change it here only.  Matched with re.search
# on single lines with CR and ANSI escapes removed.  Not anchored at the
# line start: the banner can share a line with firmware text that did not
# end in a newline (SeaBIOS's "Booting from ROM..").
# ---------------------------------------------------------------------------
H = r"\(VESTA\) "
PATTERNS = {
    "banner":        H + r"Vesta \S+ x86-64 hypervisor",
    "cmdline":       H + r"Command line: (?P<cmdline>.*)$",
    "bootloader":    H + r"Bootloader: (?P<kind>multiboot[12]) \((?P<name>.*)\)",
    "module0":       H + r"Module 0: \[(?P<start>(0x)?[0-9a-fA-F]+), (?P<end>(0x)?[0-9a-fA-F]+)\) "
                         r"dom0 kernel, args '(?P<args>.*)'",
    "module1":       H + r"Module 1: \[(?P<start>(0x)?[0-9a-fA-F]+), (?P<end>(0x)?[0-9a-fA-F]+)\) initrd",
    "no_dom0":       H + r"No dom0 kernel module given",
    "warn_unknown":  H + r"WARNING: unknown command-line option '(?P<name>[^']*)'",
    "err_value":     H + r"ERROR: command line: bad value '(?P<value>[^']*)' for option '(?P<name>[^']*)'",
    "memory":        H + r"Memory: (?P<ram>\d+) KiB RAM in the firmware map, (?P<free>\d+) KiB free for domains",
    "tsc":           H + r"TSC: (?P<mhz>\d+(\.\d+)?) MHz",
    "smp":           H + r"SMP: (?P<n>\d+) CPUs? online",
    "ready":         H + r"Ready to build dom0",
    # Debug keys: 'h' lists them; 'm', 'c', 't' dump memory, CPUs, timers.
    "keys_header":   H + r"Debug keys:",
    "key_line":      H + r"\s+(?P<key>\S): (?P<desc>.+)",
    "key_m_output":  H + r".*(Memory|memory|KiB)",
    "key_c_output":  H + r".*\bCPU ?0\b",
    "key_t_output":  H + r".*([Tt]imer|TSC|deadline)",
    # Forced fault (selftest=fault).
    "fault":         H + r"\*\*\* HYPERVISOR FAULT on CPU(?P<cpu>\d+): (?P<name>\S+)",
    "rip":           H + r".*RIP:",
    "rsp":           H + r".*RSP:",
    "cr2":           H + r".*CR2:",
    "errcode":       H + r".*error code",
    "call_trace":    H + r"Call trace:",
    "frame_sym":     H + r"\s+\[<(?P<addr>[0-9a-fA-F]{16})>\] (?P<sym>[A-Za-z_.$][\w.$]*)"
                         r"\+0x(?P<off>[0-9a-fA-F]+)/0x(?P<size>[0-9a-fA-F]+)",
    "rebooting":     H + r"Rebooting",
    "halted":        H + r"System halted \(noreboot\)",
}

# Seconds.  TCG boots of Vesta take a few seconds; CI runs two QEMUs on two
# cores, so allow a wide margin (VESTA_TIMEOUT_SCALE multiplies these).
BOOT_TIMEOUT = 90
STEP_TIMEOUT = 30


class Ctx:
    """What a test gets: the image, its own log path, and helpers."""

    def __init__(self, name, image, syms):
        self.name = name
        self.image = image
        self.syms = syms
        self.log = os.path.join(LOG_DIR, name + ".log")
        self.tmp = tempfile.mkdtemp(prefix="vesta-%s-" % name)
        self.vms = []

    def qemu(self, **kw):
        kw.setdefault("image", self.image)
        q = Qemu(log_path=self.log, **kw)
        self.vms.append(q)
        return q.start()

    def cleanup(self):
        for q in self.vms:
            q.kill()
        subprocess.call(["rm", "-rf", self.tmp])


def expect(q, key, timeout=STEP_TIMEOUT):
    """Wait for PATTERNS[key] after q's cursor; returns the match."""
    try:
        return q.wait_for(PATTERNS[key], timeout)
    except QemuError as e:
        raise AssertionError("%s: %s" % (key, e)) from None


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def boot_to_ready(ctx, **kw):
    """Start QEMU and check the lines every boot prints, up to Ready."""
    q = ctx.qemu(**kw)
    expect(q, "banner", BOOT_TIMEOUT)
    m = expect(q, "cmdline")
    want = kw.get("append")
    if want is not None:
        check(m.group("cmdline").strip() == want.strip(),
              "command line echoed as %r, passed %r" % (m.group("cmdline"), want))
    expect(q, "ready", BOOT_TIMEOUT)
    return q


def find(q, key):
    """First line anywhere in the log matching PATTERNS[key], or None."""
    hits = q.find_all(PATTERNS[key])
    return hits[0] if hits else None


def need(q, key):
    m = find(q, key)
    check(m is not None, "no line matching %s: /%s/" % (key, PATTERNS[key]))
    return m


# ---------------------------------------------------------------------------
# Test cases.  Each is fn(ctx) and raises AssertionError on failure.
# ---------------------------------------------------------------------------
TESTS = {}


def test(name):
    def reg(fn):
        TESTS[name] = fn
        return fn
    return reg


def smp_test(n, mem="256M"):
    def fn(ctx):
        q = boot_to_ready(ctx, smp=n, mem=mem, append="console=com1")
        need(q, "bootloader")
        need(q, "tsc")
        got = int(need(q, "smp").group("n"))
        check(got == n, "SMP: %d CPUs online, expected %d (-smp %d)" % (got, n, n))
    return fn


for _n in (1, 2, 4):
    test("boot-smp%d" % _n)(smp_test(_n))


def mem_test(size, mib):
    def fn(ctx):
        q = boot_to_ready(ctx, mem=size, smp=1, append="console=com1")
        m = need(q, "memory")
        ram, free = int(m.group("ram")), int(m.group("free"))
        total = mib * 1024
        # The firmware map lists the guest's RAM less SeaBIOS's reservations
        # (a few hundred KiB) and, at 4 GiB, nothing lost to the PCI hole:
        # QEMU relocates it above 4 GiB.  So the map must hold >= 90% of -m.
        check(total * 0.9 <= ram <= total,
              "firmware map RAM %d KiB not within 90..100%% of -m %s (%d KiB)"
              % (ram, size, total))
        check(0 < free <= ram, "free %d KiB not in (0, RAM %d KiB]" % (free, ram))
        if mib >= 1024:
            check(free > 0.8 * ram,
                  "free %d KiB is not > 80%% of RAM %d KiB" % (free, ram))
        if mib > 4096 - 512:
            # Only true if RAM above 4 GiB was found and counted.
            check(ram > 3584 * 1024, "RAM %d KiB: RAM above 4 GiB missing" % ram)
    return fn


test("mem-256M")(mem_test("256M", 256))
test("mem-1G")(mem_test("1G", 1024))
test("mem-4G")(mem_test("4G", 4096))


def make_modules(ctx):
    """Two small distinct files standing in for a kernel and an initrd."""
    mod0 = os.path.join(ctx.tmp, "kernel.bin")
    mod1 = os.path.join(ctx.tmp, "initrd.img")
    with open(mod0, "wb") as f:
        f.write(b"VESTA-TEST-MOD0" + bytes(range(256)) * 40)   # 10 KiB-ish
    with open(mod1, "wb") as f:
        f.write(b"VESTA-TEST-MOD1" * 1000)                      # 15000 bytes
    return mod0, mod1


def check_module(m, size, what):
    start, end = int(m.group("start"), 16), int(m.group("end"), 16)
    check(end - start == size,
          "%s spans [%#x, %#x) = %d bytes, file has %d" % (what, start, end, end - start, size))
    check(start % 4096 == 0, "%s start %#x is not page aligned" % (what, start))


@test("modules")
def t_modules(ctx):
    mod0, mod1 = make_modules(ctx)
    q = boot_to_ready(ctx, append="console=com1",
                      initrd=[mod0 + " arg1 arg2=x", mod1])
    m0 = need(q, "module0")
    check(m0.group("args") == "arg1 arg2=x",
          "dom0 command line %r, expected 'arg1 arg2=x'" % m0.group("args"))
    check_module(m0, os.path.getsize(mod0), "module 0")
    check_module(need(q, "module1"), os.path.getsize(mod1), "module 1")
    check(find(q, "no_dom0") is None, "'No dom0 kernel' printed despite modules")
    check(need(q, "bootloader").group("kind") == "multiboot1",
          "QEMU -kernel should be reported as multiboot1")


@test("no-modules")
def t_no_modules(ctx):
    q = boot_to_ready(ctx, append="console=com1")
    need(q, "no_dom0")
    check(find(q, "module0") is None, "Module 0 line without modules")


@test("cmdline-unknown-option")
def t_unknown(ctx):
    q = boot_to_ready(ctx, append="console=com1 frobnicate=7 dom0_mem=128M")
    m = need(q, "warn_unknown")
    check(m.group("name") == "frobnicate", "warned about %r" % m.group("name"))
    check(find(q, "err_value") is None, "valid options reported as errors")


@test("cmdline-bad-dom0_mem")
def t_bad_mem(ctx):
    q = boot_to_ready(ctx, append="console=com1 dom0_mem=abc")
    m = need(q, "err_value")
    check((m.group("name"), m.group("value")) == ("dom0_mem", "abc"),
          "error names %r=%r" % (m.group("name"), m.group("value")))


@test("cmdline-bad-maxcpus")
def t_bad_maxcpus(ctx):
    q = boot_to_ready(ctx, smp=2, append="console=com1 maxcpus=zz")
    m = need(q, "err_value")
    check((m.group("name"), m.group("value")) == ("maxcpus", "zz"),
          "error names %r=%r" % (m.group("name"), m.group("value")))
    # A rejected value must fall back to the default: all CPUs.
    n = int(need(q, "smp").group("n"))
    check(n == 2, "maxcpus=zz: %d CPUs online, expected the default 2" % n)


@test("maxcpus-1")
def t_maxcpus(ctx):
    q = boot_to_ready(ctx, smp=2, append="console=com1 maxcpus=1")
    n = int(need(q, "smp").group("n"))
    check(n == 1, "maxcpus=1 with -smp 2: %d CPUs online" % n)


@test("debug-keys")
def t_keys(ctx):
    q = boot_to_ready(ctx, smp=2, append="console=com1")
    q.send("h")
    expect(q, "keys_header")
    start = q.pos
    # The listing is short: give it a moment, then look at what came.
    keys = set()
    deadline = time.monotonic() + STEP_TIMEOUT
    while not {"h", "m", "c", "t"} <= keys and time.monotonic() < deadline:
        try:
            keys.add(q.wait_for(PATTERNS["key_line"], 2).group("key"))
        except QemuError:
            pass
    missing = {"h", "m", "c", "t"} - keys
    check(not missing, "help listing lacks keys %s (got %s)"
          % (sorted(missing), sorted(keys)))
    q.pos = max(q.pos, start)
    for key, pat in (("m", "key_m_output"), ("c", "key_c_output"),
                     ("t", "key_t_output")):
        q.send(key)
        expect(q, pat)
    check(q.running(), "QEMU died during debug keys")


def check_fault_dump(ctx, q, last):
    """Wait for the fault report through its final line (`last`), then check
    what lies between: registers may share lines, so look by region."""
    expect(q, "fault", BOOT_TIMEOUT)
    fault_at = q.pos - 1
    expect(q, last)
    region = (fault_at, q.pos)
    for key in ("rip", "rsp", "cr2", "errcode", "call_trace"):
        check(q.find_all(PATTERNS[key], *region),
              "fault report lacks %s: /%s/" % (key, PATTERNS[key]))
    frames = q.find_all(PATTERNS["frame_sym"], *region)
    check(frames, "call trace has no symbolized frame 'name+0x../0x..'")
    # When the unstripped symbols are around, the trace must agree with them.
    syms = load_syms(ctx.syms)
    if syms:
        good = [f for f in frames if f.group("sym") in syms and
                syms[f.group("sym")] + int(f.group("off"), 16) == int(f.group("addr"), 16)]
        check(good, "no frame matches %s: %s" % (ctx.syms, [f.group(0) for f in frames]))


@test("fault-reboot")
def t_fault(ctx):
    q = ctx.qemu(append="console=com1 selftest=fault")
    check_fault_dump(ctx, q, "rebooting")
    # -no-reboot turns the guest's reset into a clean QEMU exit (status 0).
    rc = q.wait_exit(STEP_TIMEOUT)
    check(rc is not None, "QEMU still running %ds after 'Rebooting'" % STEP_TIMEOUT)
    check(rc == 0, "QEMU exited with status %s after reboot" % rc)


@test("fault-noreboot")
def t_fault_noreboot(ctx):
    q = ctx.qemu(append="console=com1 selftest=fault noreboot")
    check_fault_dump(ctx, q, "halted")
    rc = q.wait_exit(5)
    check(rc is None, "QEMU exited (status %s) despite noreboot" % rc)
    check(find(q, "rebooting") is None, "'Rebooting' printed with noreboot")


@test("exception-fixup")
def t_exception_fixup(ctx):
    # The boot self-check reads the stack guard page through the exception
    # table: it must be recovered (not fault, not succeed) and boot go on.
    q = ctx.qemu(append="console=com1", smp=1)
    expect(q, "ready", BOOT_TIMEOUT)
    check(q.find_all(H + r"Exception fixups: a faulting read was recovered", 0, q.pos),
          "the guarded read was not recovered through the exception table")


@test("stack-overflow")
def t_stack_overflow(ctx):
    # Recursing into the stack's guard page must end in a reported double
    # fault (taken on its own IST stack), not a silent triple fault.
    q = ctx.qemu(append="console=com1 selftest=stack-overflow noreboot", smp=2)
    check_fault_dump(ctx, q, "halted")
    check(q.find_all(H + r"\*\*\* HYPERVISOR FAULT on CPU0: double fault", 0, q.pos),
          "the overflow was not reported as a double fault")
    check(q.find_all(H + r"\s+\[<[0-9a-f]+>\] selftest_recurse", 0, q.pos),
          "the trace does not show the recursing function")


@test("grub-multiboot2")
def t_grub(ctx):
    mod0, mod1 = make_modules(ctx)
    iso = os.path.join(ctx.tmp, "vesta.iso")
    mkiso = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mkiso.sh")
    r = subprocess.run([mkiso, "-a", "console=com1",
                        "-m", mod0 + " mod0 dom0-args", "-m", mod1,
                        ctx.image, iso],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    check(r.returncode == 0, "mkiso.sh failed: %s" % r.stdout.decode()[-800:])
    q = ctx.qemu(image=None, cdrom=iso, mem="256M", smp=1)
    expect(q, "banner", BOOT_TIMEOUT)
    expect(q, "ready", BOOT_TIMEOUT)
    b = need(q, "bootloader")
    check(b.group("kind") == "multiboot2", "bootloader %r, expected multiboot2" % b.group(0))
    m0 = need(q, "module0")
    # GRUB 2 passes only the words after the path, and (like Xen) Vesta
    # takes them whole: the hypervisor's options and dom0's all arrive.
    cl = need(q, "cmdline")
    check(cl.group("cmdline").strip() == "console=com1",
          "hypervisor command line %r, expected 'console=com1'" % cl.group("cmdline"))
    check(m0.group("args") == "mod0 dom0-args",
          "dom0 args %r, expected 'mod0 dom0-args'" % m0.group("args"))
    check_module(m0, os.path.getsize(mod0), "module 0")
    check_module(need(q, "module1"), os.path.getsize(mod1), "module 1")


# ---------------------------------------------------------------------------
# Runner.
# ---------------------------------------------------------------------------
_sym_cache = {}


def load_syms(path):
    """name -> address from `nm` on the unstripped image; {} if unavailable."""
    if not path or not os.path.exists(path):
        return {}
    if path not in _sym_cache:
        out = subprocess.run(["nm", path], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout.decode()
        syms = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                syms.setdefault(parts[2], int(parts[0], 16))
        _sym_cache[path] = syms
    return _sym_cache[path]


def run_one(name, image, syms):
    ctx = Ctx(name, image, syms)
    t0 = time.monotonic()
    try:
        TESTS[name](ctx)
        err = None
    except AssertionError as e:
        err = str(e)
    except Exception:  # a harness bug must still fail just this test
        err = traceback.format_exc()
    finally:
        ctx.cleanup()
    return name, err, time.monotonic() - t0, ctx.log


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default=os.path.join(REPO, "build", "vesta.elf"))
    ap.add_argument("--syms", default=None,
                    help="unstripped symbols for call-trace checks "
                         "(default: vesta-syms beside the image)")
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="tests run in parallel (max 2: TCG on 2 cores)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("names", nargs="*", help="run tests whose name contains any of these")
    a = ap.parse_args()

    names = [n for n in TESTS if not a.names or any(s in n for s in a.names)]
    if a.list:
        print("\n".join(names))
        return 0
    if not os.path.exists(a.image):
        print("no image %s (run make first)" % a.image)
        print("0 passed, %d failed" % len(names))
        return 1
    syms = a.syms or os.path.join(os.path.dirname(os.path.abspath(a.image)), "vesta-syms")
    os.makedirs(LOG_DIR, exist_ok=True)

    # On SIGTERM (timeout(1), CI) or Ctrl-C, kill the QEMUs still running
    # and leave at once rather than waiting out the tests' timeouts.
    def die(signum, _frame):
        kill_all()
        print("interrupted", flush=True)
        os._exit(128 + signum)
    signal.signal(signal.SIGTERM, die)
    signal.signal(signal.SIGINT, die)

    passed = failed = 0
    lock = threading.Lock()
    jobs = max(1, min(a.jobs, 2))
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        futs = [ex.submit(run_one, n, os.path.abspath(a.image), syms) for n in names]
        for f in concurrent.futures.as_completed(futs):
            name, err, secs, log = f.result()
            with lock:
                if err is None:
                    passed += 1
                    print("PASS %-24s (%.1fs)" % (name, secs), flush=True)
                else:
                    failed += 1
                    print("FAIL %-24s (%.1fs) log: %s" % (name, secs, os.path.relpath(log)),
                          flush=True)
                    for line in err.rstrip().splitlines():
                        print("     " + line, flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
