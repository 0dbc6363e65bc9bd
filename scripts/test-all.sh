#!/usr/bin/env bash
# `make test`: install deps, build, run unit tests, the Debian package tests and
# the QEMU suites, and close with one line "N passed, N failed" summing them all.
# Exit 1 on any failure (including a failed build or a suite that crashed
# before printing its summary).
# Extra system-test arguments (e.g. a name filter) can be passed in
# $VESTA_SYSTEST_ARGS.
set -uo pipefail   # no -e: every stage runs, the verdict comes at the end
cd "$(dirname "$0")/.."

mkdir -p build/test-logs
status=0
passed=0
failed=0

# add_summary FILE: fold a suite's last "N passed, N failed" into the total.
# A suite that printed no such line counts as one failure.
add_summary() {
  local line
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n1)"
  if [ -z "$line" ]; then
    echo "test-all: $2 printed no summary line" >&2
    failed=$((failed + 1)); status=1; return
  fi
  set -- $line
  passed=$((passed + $1))
  failed=$((failed + $3))
}

./scripts/install-deps.sh || { echo "test-all: install-deps failed" >&2; exit 1; }

echo "== build"
if ! make -j"$(nproc)"; then
  echo "test-all: build failed" >&2
  failed=$((failed + 1)); status=1
fi

echo "== unit tests"
make -C tests/unit run 2>&1 | tee build/test-logs/unit.out
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
add_summary build/test-logs/unit.out "unit tests"

echo "== Debian package: make deb, lintian, the GRUB generator under grub-mkconfig, dpkg --root install/upgrade/purge"
python3 tests/deb/run_deb.py 2>&1 | tee build/test-logs/deb.out
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
add_summary build/test-logs/deb.out "Debian package tests"

echo "== system tests"
# shellcheck disable=SC2086  # word splitting of the extra args is wanted
python3 tests/system/run_tests.py --image build/vesta.elf -j 2 ${VESTA_SYSTEST_ARGS:-} 2>&1 |
  tee build/test-logs/system.out
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
add_summary build/test-logs/system.out "system tests"

echo "== PV guest suite: the same kernels on Debian's Xen 4.17 (reference) and on Vesta"
# Differential: every check must hold on real Xen (so it tests the ABI, not our reading of it) and on Vesta.
if xen="$(./scripts/fetch-xen.sh)" && make -C guests >/dev/null; then
  python3 tests/guests/run_guests.py --hv "$xen" --logs build/test-logs/guests-xen 2>&1 | tee build/test-logs/guests-xen.out
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  add_summary build/test-logs/guests-xen.out "guest suite on Xen"
  python3 tests/guests/run_guests.py --hv build/vesta.elf --logs build/test-logs/guests-vesta 2>&1 |
    tee build/test-logs/guests-vesta.out
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  add_summary build/test-logs/guests-vesta.out "guest suite on Vesta"
  echo "== robustness: random hypercalls for 60 s (guests/bench/fuzz.c)"
  python3 tests/guests/fuzz_run.py --hv build/vesta.elf --seconds 60 2>&1 | tee build/test-logs/fuzz.out
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  add_summary build/test-logs/fuzz.out "robustness run"
  echo "== dom0 address-space layout: Vesta vs Xen 4.17, same kernels and dom0_mem"
  python3 tests/guests/compare_layout.py --xen "$xen" 2>&1 | tee build/test-logs/layout.out
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  add_summary build/test-logs/layout.out "dom0 layout comparison"
  echo "== Debian's Linux 6.1 as dom0: the same scenarios on Xen 4.17 (reference) and on Vesta"
  if ./scripts/fetch-linux.sh >/dev/null && ./scripts/mkinitrd.sh >/dev/null; then
    for hv in "$xen" build/vesta.elf; do
      name=$(basename "$hv" .elf)
      python3 tests/linux/run_linux.py --hv "$hv" --timing --logs "build/test-logs/linux-$name" 2>&1 |
        tee "build/test-logs/linux-$name.out"
      [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
      add_summary "build/test-logs/linux-$name.out" "Linux dom0 on $name"
    done
    echo "== Debian's xen-utils-4.17 toolstack in dom0 (xl, oxenstored, xenconsoled; domUs created, run and"
    echo "   destroyed): the same scenarios on Xen 4.17 (reference) and on Vesta, the two QEMUs side by side"
    python3 tests/xl/run_xl.py --hv "$xen" --logs build/test-logs/xl > build/test-logs/xl-xen.out 2>&1 &
    xen_xl=$!
    python3 tests/xl/run_xl.py --hv build/vesta.elf --logs build/test-logs/xl --hv-key q \
      --hv-key-regex ': (agree|MISMATCH)' > build/test-logs/xl-vesta.out 2>&1
    vesta_rc=$?
    wait "$xen_xl"
    xen_rc=$?
    for name in xen vesta; do
      echo "-- toolstack on $name"
      cat "build/test-logs/xl-$name.out"
      add_summary "build/test-logs/xl-$name.out" "toolstack on $name"
    done
    [ "$xen_rc" -eq 0 ] && [ "$vesta_rc" -eq 0 ] || status=1
  else
    echo "test-all: could not fetch the kernel or build the initramfs" >&2
    failed=$((failed + 1)); status=1
  fi
else
  echo "test-all: could not fetch Xen or build the guests" >&2
  failed=$((failed + 1)); status=1
fi

[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit "$status"
