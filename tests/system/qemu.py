"""Drive one qemu-system-x86_64 instance over its serial console.

Stdlib only, so a bare CI machine needs nothing beyond python3.

The serial port is QEMU's stdio (-serial stdio, -monitor none): we read the
guest's output from QEMU's stdout and type debug keys into its stdin.  With
the monitor disabled nothing is multiplexed onto stdio, so every byte we
write (even Ctrl-A) reaches the guest's UART unchanged.  QEMU's stdio
chardev only reads from us when the emulated UART has FIFO room, so keys are
never dropped however slowly the guest polls.

A reader thread appends everything to a log file as it arrives (so a hung
test still leaves a complete log) and splits it into lines that wait_for()
matches against.  Each Qemu object keeps a cursor: wait_for() only looks at
lines after the previous match, which lets a test say "after I pressed 'm',
a memory line appeared" without being fooled by the boot-time one.
"""

import os
import re
import signal
import subprocess
import threading
import time

# Scales every timeout: slow CI hosts can set VESTA_TIMEOUT_SCALE=2.
TIMEOUT_SCALE = float(os.environ.get("VESTA_TIMEOUT_SCALE", "1"))

# GRUB and SeaBIOS paint the serial terminal with ANSI/VT100 sequences;
# drop them so patterns can anchor on "(VESTA) " at the start of a line.
_ANSI = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>78cM])")


# Every QEMU started and not yet reaped, so a runner that is being killed
# can take them all down (kill_all) before it exits.
_LIVE = set()
_LIVE_LOCK = threading.Lock()


def kill_all():
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for p in procs:
        if p.poll() is None:
            p.kill()


class QemuError(AssertionError):
    """A wait that timed out or saw QEMU die; carries the reason for the report."""


class Qemu:
    def __init__(self, image=None, log_path=None, mem="256M", smp=1,
                 append=None, initrd=None, cdrom=None, extra=(),
                 qemu="qemu-system-x86_64"):
        """image: multiboot ELF for -kernel (None when booting -cdrom).
        append: hypervisor command line.  initrd: list of module strings,
        each "path args..." as QEMU's multiboot loader expects (first word is
        the file, the whole string is the module's command line)."""
        self.log_path = log_path
        self.argv = [qemu, "-accel", "tcg", "-cpu", "max,-smap",
                     "-nographic", "-no-reboot", "-m", str(mem),
                     "-smp", str(smp),
                     "-serial", "stdio", "-monitor", "none"]
        if image:
            self.argv += ["-kernel", image]
        if append is not None:
            self.argv += ["-append", append]
        if initrd:
            # QEMU splits -initrd on commas; a literal comma is written ",,".
            self.argv += ["-initrd",
                          ",".join(m.replace(",", ",,") for m in initrd)]
        if cdrom:
            self.argv += ["-cdrom", cdrom, "-boot", "d"]
        self.argv += list(extra)
        self.proc = None
        self.lines = []          # complete lines, ANSI stripped, no CR/LF
        self.pos = 0             # cursor: index of first line not yet matched
        self.start_time = None
        self._partial = b""
        self._cond = threading.Condition()
        self._eof = False
        self._reader = None
        self._log = None

    # ---- lifecycle -------------------------------------------------------

    def start(self):
        if self.log_path:
            os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
            self._log = open(self.log_path, "wb")
            self._log.write(("# " + " ".join(self.argv) + "\n").encode())
        self.start_time = time.monotonic()
        # Same process group as the runner on purpose: killing the test
        # run's group (Ctrl-C, CI timeout, kill -- -PGID) takes every QEMU
        # down with it instead of leaving orphans spinning on the CPU.
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        with _LIVE_LOCK:
            _LIVE.add(self.proc)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        return self

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, *exc):
        self.kill()

    def _read_loop(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            if self._log:
                self._log.write(chunk)
                self._log.flush()
            data = self._partial + chunk
            parts = data.split(b"\n")
            self._partial = parts.pop()
            new = [_ANSI.sub(b"", p).replace(b"\r", b"")
                   .decode("utf-8", "replace") for p in parts]
            with self._cond:
                self.lines.extend(new)
                self._cond.notify_all()
        with self._cond:
            if self._partial:
                self.lines.append(_ANSI.sub(b"", self._partial)
                                  .replace(b"\r", b"").decode("utf-8", "replace"))
                self._partial = b""
            self._eof = True
            self._cond.notify_all()

    def kill(self):
        """Stop QEMU (SIGTERM, then SIGKILL) and return its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()
        return self.proc.returncode

    def _close(self):
        with _LIVE_LOCK:
            _LIVE.discard(self.proc)
        if self._reader:
            self._reader.join(timeout=5)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if self._log and not self._log.closed:
            self._log.write(("\n# qemu exit status: %s\n"
                             % self.proc.returncode).encode())
            self._log.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout):
        """Wait for QEMU to exit by itself; returns its status, None on timeout."""
        try:
            rc = self.proc.wait(timeout=timeout * TIMEOUT_SCALE)
        except subprocess.TimeoutExpired:
            return None
        self._close()
        return rc

    @property
    def returncode(self):
        return self.proc.returncode if self.proc else None

    def elapsed(self):
        return time.monotonic() - self.start_time

    # ---- serial I/O ------------------------------------------------------

    def send(self, text, delay=0.05):
        """Type characters on the serial console, one at a time."""
        for ch in text:
            self.proc.stdin.write(ch.encode("latin-1"))
            self.proc.stdin.flush()
            time.sleep(delay)

    def wait_for(self, pattern, timeout=60, from_start=False):
        """Wait for a line matching regex `pattern` (re.search) after the
        cursor; advance the cursor past it and return the match object.
        Raises QemuError on timeout or if QEMU exits first."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        i = 0 if from_start else self.pos
        with self._cond:
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        self.pos = i + 1
                        return m
                    i += 1
                if self._eof:
                    try:  # stdout closes just before the process is reaped
                        rc = self.proc.wait(timeout=2)
                    except subprocess.TimeoutExpired:
                        rc = None
                    raise QemuError("QEMU exited (status %s) before /%s/"
                                    % (rc, pattern))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QemuError("timed out after %.0fs waiting for /%s/"
                                    % (timeout * TIMEOUT_SCALE, pattern))
                self._cond.wait(left)

    def find_all(self, pattern, start=0, end=None):
        """All matches of `pattern` in lines[start:end] (no waiting)."""
        rx = re.compile(pattern)
        with self._cond:
            chunk = self.lines[start:end]
        return [m for m in (rx.search(l) for l in chunk) if m]

    def lines_since(self, start):
        with self._cond:
            return list(self.lines[start:])
