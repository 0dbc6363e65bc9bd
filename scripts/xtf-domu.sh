#!/usr/bin/env bash
# Runs XTF's pv64 tests as domUs, the way XTF's own runner (xtf-runner) does, under Debian's xl toolstack in
# one Linux dom0 booted on the given hypervisor (real Xen 4.17 or Vesta), and writes one result per test.
#
# usage: scripts/xtf-domu.sh XTF_DIR [HV [OUT.tsv [TEST...]]]
#   XTF_DIR  a built XTF tree (https://xenbits.xen.org/git-http/xtf.git, built with `make -j2` outside this
#            repository); its tests/*/test-pv64-* kernels and test-pv64-*.cfg files are used
#   HV       hypervisor image (default build/vesta.elf; build/ref/xen.elf or $VESTA_CACHE/xen.elf for Xen)
#   OUT.tsv  results, as ../shared/tools/xtf-sweep writes them: name, result, wall_s, reason
#            (default build/xtf-domu/<image name>.tsv; console logs in <OUT without .tsv>-logs/)
#   TEST...  test names (NAME runs every variation of NAME, NAME~VAR one); default every pv64 kernel
# Environment: XTF_LIMIT (seconds a test may run, default 300), XTF_HV_ARGS (extra hypervisor command-line
#   words), XTF_REF (a TSV from an earlier run, e.g. Xen's: the two are compared at the end and the exit
#   status says whether every test that succeeds there succeeds here; with TESTs named, among those).
# Exit status: 0 when every test ran, dom0's free memory was back to its first value after the last one and,
# with XTF_REF, no test that succeeds there fails here; 1 otherwise; 2 on usage errors.
#
# How: builds an uncompressed cpio with the kernels, their xl configs (kernel= rewritten to where they land,
# /xtf/tests/NAME/) and guests/initrd/xtf-run.sh as /xtf/run.sh, appends it to the dom0 initramfs
# (scripts/mkinitrd.sh; the kernel unpacks concatenated archives), boots dom0 in one QEMU with the toolstack
# up, as tests/xl/run_xl.py does, and types `sh /xtf/run.sh` on its console: that loop runs every test as a
# domU (xl create -p, xl console, xl unpause, result from the console's last line) and prints each console,
# which is copied here to one log per test. XTF cannot be fetched by CI, so this stays outside `make test`,
# like scripts/xtf-compare.sh.
set -euo pipefail
XTF=${1:?usage: scripts/xtf-domu.sh XTF_DIR [HV [OUT.tsv [TEST...]]]}
# Paths given are the caller's; the rest of the script runs from the repository's root.
XTF=$(readlink -f "$XTF")
HV=$(readlink -f "${2:-$(dirname "$0")/../build/vesta.elf}")
NAME=$(basename "$HV"); NAME=${NAME%.*}
OUT=${3:+$(readlink -f "$3")}
[ -z "${XTF_REF:-}" ] || XTF_REF=$(readlink -f "$XTF_REF")
shift $(( $# < 3 ? $# : 3 ))
cd "$(dirname "$0")/.."
OUT=${OUT:-build/xtf-domu/$NAME.tsv}
ENVNAME=pv64
[ -d "$XTF/tests" ] || { echo "xtf-domu: $XTF has no tests/ (a built XTF tree is wanted)" >&2; exit 2; }
[ -r "$HV" ] || { echo "xtf-domu: no hypervisor image $HV" >&2; exit 2; }

# The instances: a test with variations runs once per variation (xtf-runner's NAME~VAR), as xtf-sweep does.
ALL=0
if [ $# -eq 0 ]; then
    ALL=1
    set -- $(cd "$XTF/tests" && for k in */test-$ENVNAME-*.cfg; do echo "${k%%/*}"; done | sort -u)
fi
LIST=()
for t in "$@"; do
    base=${t%%~*}
    if [ "$t" = "$base" ] && compgen -G "$XTF/tests/$t/test-$ENVNAME-$t~*.cfg" > /dev/null; then
        for c in "$XTF/tests/$t/test-$ENVNAME-$t"~*.cfg; do c=${c##*/}; c=${c%.cfg}; LIST+=("$t~${c##*~}"); done
    else
        LIST+=("$t")
    fi
done
for t in "${LIST[@]}"; do
    base=${t%%~*}
    [ -f "$XTF/tests/$base/test-$ENVNAME-$base" ] && [ -f "$XTF/tests/$base/test-$ENVNAME-$t.cfg" ] ||
        { echo "xtf-domu: no kernel or config for $t in $XTF/tests/$base" >&2; exit 2; }
done

# The extra archive. Kernels are copied unchanged; in each config only the kernel path changes.
W=build/xtf-domu
ROOTDIR=$W/root
rm -rf "$ROOTDIR"
mkdir -p "$ROOTDIR/xtf/tests"
for t in "${LIST[@]}"; do
    base=${t%%~*}
    mkdir -p "$ROOTDIR/xtf/tests/$base"
    cp "$XTF/tests/$base/test-$ENVNAME-$base" "$ROOTDIR/xtf/tests/$base/"
    sed "s|^kernel *=.*|kernel=\"/xtf/tests/$base/test-$ENVNAME-$base\"|" "$XTF/tests/$base/test-$ENVNAME-$t.cfg" \
        > "$ROOTDIR/xtf/tests/$base/test-$ENVNAME-$t.cfg"
done
printf '%s\n' "${LIST[@]}" > "$ROOTDIR/xtf/list"
cp guests/initrd/xtf-run.sh "$ROOTDIR/xtf/run.sh"

[ -f build/initrd.cpio.gz ] || bash scripts/mkinitrd.sh > /dev/null
VMLINUZ=$(bash scripts/fetch-linux.sh)
cp build/initrd.cpio.gz "$W/initrd.tmp"
size=$(stat -c %s "$W/initrd.tmp")
head -c $(( (4 - size % 4) % 4 )) /dev/zero >> "$W/initrd.tmp"
(cd "$ROOTDIR" && find . | cpio -o -H newc --quiet) >> "$W/initrd.tmp"
mv "$W/initrd.tmp" "$W/initrd.cpio"

mkdir -p "$(dirname "$OUT")"
rc=0
python3 - "$HV" "$VMLINUZ" "$W/initrd.cpio" "$OUT" "${XTF_LIMIT:-300}" "${XTF_HV_ARGS:-}" "$ENVNAME" \
    "${#LIST[@]}" <<'PY' || rc=$?
import os, re, sys, time
sys.path.insert(0, "tests/system")
from qemu import Qemu, QemuError

hv, kernel, initrd, out, limit, hv_args, env, count = sys.argv[1:]
logdir = out[:-4] + "-logs" if out.endswith(".tsv") else out + "-logs"
os.makedirs(logdir, exist_ok=True)
for f in os.listdir(logdir):
    if f.endswith(".log"):
        os.remove(os.path.join(logdir, f))
# As tests/xl/run_xl.py boots it (one dom0 vCPU: see HV_CMDLINE there); dom0 on hvc0, quiet.
cmdline = ("console=com1 dom0_mem=512M dom0_max_vcpus=1 " + hv_args).strip()
q = Qemu(image=hv, log_path=os.path.join(logdir, "serial.txt"), mem=1024, smp=2, append=cmdline,
         initrd=[f"{kernel} console=hvc0 quiet", initrd])
q.start()
rows = {}
free = {}


def reason(res, lines, note):
    """Why a test did not succeed, from its console: XTF's own explanation where it gives one."""
    if note != "-":
        return note
    if res == "SUCCESS":
        return ""
    pick = None
    if res == "CRASH":
        for i, l in enumerate(lines):
            if "PANIC:" in l:
                pick = " | ".join(x.strip() for x in lines[i:i + 3] if x.strip() and not x.startswith("****"))
                break
        return pick or "no 'Test result:' line; last line: " + (lines[-1] if lines else "(no console output)")
    words = {"FAILURE": r"[Ff]ail", "ERROR": r"[Ee]rror|[Ff]ail|[Uu]nexpected", "SKIP": r"[Ss]kip|not "}[res]
    body = [l for l in lines if "Test result:" not in l and l.strip()]
    hits = [l for l in body if re.search(words, l)]
    if hits:
        return (hits[-1] if res == "SKIP" else hits[0]).strip()
    return body[-1].strip() if body else ""


try:
    q.wait_for(r"VESTA-INIT: shell on the console", timeout=600)
    ts = q.find_all(r"VESTA-INIT: toolstack: (.*)")
    print(f"xtf-domu: dom0 up after {q.elapsed():.0f} s; toolstack: {ts[-1].group(1) if ts else '?'}", flush=True)
    if not ts or not ts[-1].group(1).startswith("up"):
        raise QemuError("the toolstack did not start")
    time.sleep(2)
    q.send(f"sh /xtf/run.sh {env} {limit}\n", delay=0.004)
    while True:
        m = q.wait_for(r"^XTFD-(BEGIN (\S+)|DONE (\d+)|FREE (\S+) (\S*))$", timeout=int(limit) + 120)
        if m.group(3) is not None:
            break
        if m.group(4) is not None:
            free[m.group(4)] = m.group(5)
            continue
        name = m.group(2)
        start = q.pos
        e = q.wait_for(rf"^XTFD-END {re.escape(name)} (\S+) (\S+) (.*)$", timeout=int(limit) + 120)
        console = [l[6:] for l in q.lines[start:q.pos - 1] if l.startswith("XTFD| ")]
        conlog = [l[6:] for l in q.lines[start:q.pos - 1] if l.startswith("XTFL| ")]
        res, secs, note = e.group(1), e.group(2), e.group(3)
        with open(os.path.join(logdir, name + ".log"), "w") as f:
            f.write("\n".join(console) + "\n")
            if conlog:
                f.write("---- xenconsoled's log of the same console:\n" + "\n".join(conlog) + "\n")
        rows[name] = (res, secs, reason(res, console, note).replace("\t", " "))
        print(f"{name:28} {res:9} {secs:>6}s  {rows[name][2][:90]}", flush=True)
except QemuError as e:
    print(f"xtf-domu: {e}", file=sys.stderr)
finally:
    q.kill()

with open(out, "w") as f:
    f.write("name\tresult\twall_s\treason\n")
    for name in sorted(rows):
        f.write(name + "\t" + "\t".join(rows[name]) + "\n")
counts = {}
for r in rows.values():
    counts[r[0]] = counts.get(r[0], 0) + 1
print(f"xtf-domu: {len(rows)} of {count} run: " + " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
      + f" -> {out}", flush=True)
fallback = [n for n, r in rows.items() if "result from xenconsoled's log" in r[2]]
if fallback:
    print(f"xtf-domu: verdict read from xenconsoled's log (xl console lost the end): {' '.join(sorted(fallback))}")
print(f"xtf-domu: xl info free_memory {free.get('before', '?')} MiB before the first test, "
      f"{free.get('after', '?')} MiB after the last", flush=True)
sys.exit(0 if len(rows) == int(count) and free.get("before") == free.get("after") else 1)
PY
[ -n "${XTF_REF:-}" ] || exit $rc
# With a list of tests, only those are compared.
python3 - "$XTF_REF" "$OUT" "$ALL" "${LIST[@]}" <<'PY'
import sys
def load(p):
    return {f[0]: f for f in (l.rstrip("\n").split("\t") for l in open(p)) if f[0] != "name" and len(f) >= 2}
ref, here = load(sys.argv[1]), load(sys.argv[2])
if sys.argv[3] != "1":
    ref = {k: v for k, v in ref.items() if k in sys.argv[4:]}
passed = failed = 0
print(f"{'test':24} {'reference':10} {'this run':10} note")
for name in sorted(set(ref) | set(here)):
    r = ref.get(name, [name, "-"])[1]
    h = here.get(name, [name, "-"])[1]
    note = ""
    if r == "SUCCESS":
        ok = h == "SUCCESS"
        passed += ok
        failed += not ok
        note = "" if ok else "REGRESSION: " + (here[name][3] if name in here and len(here[name]) > 3 else "not run")
    elif h == "SUCCESS":
        note = "succeeds here only"
    print(f"{name:24} {r:10} {h:10} {note}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
