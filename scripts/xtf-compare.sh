#!/usr/bin/env bash
# Runs XTF's pv64 tests on Vesta and compares with real Xen 4.17's results in the same harness.
#
# usage: scripts/xtf-compare.sh XTF_DIR [ANCHORS.tsv]
#   XTF_DIR      a built XTF tree (https://xenbits.xen.org/git-http/xtf.git; `make -j2` in it)
#   ANCHORS.tsv  Xen's results (default ../shared/anchors/xtf-pv64-real-xen-4.17.tsv)
# Prints both results per test and closes with "N passed, N failed": a test that succeeds on Xen must succeed
# on Vesta. Tests that crash on Xen only because QEMU reports a wrong #GP error code for `int $n` are listed
# for information (Vesta decodes the instruction instead).
set -euo pipefail
cd "$(dirname "$0")/.."
XTF=${1:?usage: scripts/xtf-compare.sh XTF_DIR [ANCHORS.tsv]}
ANCH=${2:-../shared/anchors/xtf-pv64-real-xen-4.17.tsv}
SWEEP=${XTF_SWEEP:-../shared/tools/xtf-sweep}
make >/dev/null
"$SWEEP" -x "$XTF" build/vesta.elf build/xtf-vesta.tsv >/dev/null
python3 - "$ANCH" build/xtf-vesta.tsv <<'PY'
import sys
def load(p):
    rows = {}
    for line in open(p):
        f = line.rstrip("\n").split("\t")
        if f[0] != "name" and len(f) >= 2:
            rows[f[0]] = (f[1], f[3] if len(f) > 3 else "")
    return rows
xen, vesta = load(sys.argv[1]), load(sys.argv[2])
passed = failed = 0
print(f"{'test':24} {'Xen 4.17':10} {'Vesta':10} note")
for name in sorted(set(xen) | set(vesta)):
    x, v = xen.get(name, ("-", ""))[0], vesta.get(name, ("-", ""))[0]
    note = ""
    if x == "SUCCESS":
        ok = v == "SUCCESS"
        passed += ok
        failed += not ok
        note = "" if ok else "REGRESSION vs Xen: " + vesta.get(name, ("", ""))[1]
    elif v == "SUCCESS":
        note = "passes on Vesta only"
    print(f"{name:24} {x:10} {v:10} {note}")
print(f"{sum(1 for r in vesta.values() if r[0] == 'SUCCESS')} SUCCESS on Vesta, "
      f"{sum(1 for r in xen.values() if r[0] == 'SUCCESS')} on Xen")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
