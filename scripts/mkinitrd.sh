#!/usr/bin/env bash
# Builds the dom0 initramfs: Debian's busybox-static, the kernel modules dom0 needs to drive QEMU's disk and
# NIC (virtio-blk, ext4, virtio-net, e1000, AHCI, with their dependencies, taken from the same linux-image
# package as the kernel), and our /init.
#
# usage: scripts/mkinitrd.sh [OUT]        (default build/initrd.cpio.gz; prints the path)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/initrd.cpio.gz}
DEB=$(ls build/ref/linux-image-*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] || { bash scripts/fetch-linux.sh >/dev/null; DEB=$(ls build/ref/linux-image-*.deb | head -1); }
[ -x /bin/busybox ] || { echo "mkinitrd: busybox-static is not installed" >&2; exit 1; }

WORK=build/initrd-root
rm -rf "$WORK" build/linux-deb
mkdir -p "$WORK"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,lib/modules,root} build/linux-deb
dpkg-deb -x "$DEB" build/linux-deb
KDIR=$(ls -d build/linux-deb/lib/modules/*/ | head -1)

# Modules and their dependency closure, in load order (dependencies first), read from each module's .modinfo.
python3 - "$KDIR" "$WORK/lib/modules" <<'PY'
import os, subprocess, sys, shutil
kdir, out = sys.argv[1], sys.argv[2]
paths = {}
for root, _, files in os.walk(kdir):
    for f in files:
        if f.endswith(".ko"):
            paths[f[:-3].replace("-", "_")] = os.path.join(root, f)
def depends(name):
    raw = subprocess.run(["objcopy", "-O", "binary", "--only-section=.modinfo", paths[name], "/dev/stdout"],
                         capture_output=True, check=True).stdout
    for field in raw.split(b"\0"):
        if field.startswith(b"depends="):
            return [d.replace("-", "_") for d in field[8:].decode().split(",") if d]
    return []
order, seen = [], set()
def visit(n):
    if n in seen or n not in paths:
        return
    seen.add(n)
    for d in depends(n):
        visit(d)
    order.append(n)
for want in ["virtio_pci", "virtio_blk", "virtio_net", "e1000", "ahci", "ext4", "crc32c_generic"]:
    visit(want)
for n in order:
    shutil.copy(paths[n], os.path.join(out, n + ".ko"))
open(os.path.join(out, "load-order"), "w").write("\n".join(order) + "\n")
PY

cp /bin/busybox "$WORK/bin/busybox"
cp guests/initrd/init "$WORK/init"
cp guests/initrd/vesta-test.sh "$WORK/etc/vesta-test.sh"
chmod +x "$WORK/init" "$WORK/etc/vesta-test.sh"
(cd "$WORK" && find . | cpio -o -H newc --quiet) | gzip -9 > "$OUT"
echo "$OUT"
