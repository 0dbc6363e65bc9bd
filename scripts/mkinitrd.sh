#!/usr/bin/env bash
# Builds the dom0 initramfs:
#  - Debian's busybox-static and our /init (guests/initrd/init) with the system test it runs;
#  - kernel modules from the same linux-image package as the kernel: the set dom0 needs to drive QEMU's disk and
#    NIC (virtio-blk, ext4, virtio-net, e1000, AHCI), loaded in every mode, and the Xen toolstack's set (xenfs,
#    evtchn, gntdev, gntalloc, privcmd; blkback and netback for split drivers), loaded when the shell starts the
#    toolstack;
#  - Debian's own, unchanged Xen toolstack (xen-utils-4.17 at the hypervisor package's version, xen-utils-common,
#    xenstore-utils) with every shared library it needs, taken from .debs in the download cache rather than from
#    the host, so the result is the same on any machine: xl, oxenstored, xenconsoled, xen-init-dom0, xentop and
#    the xenstore-* tools;
#  - a domU payload: Debian's same kernel as /boot/vmlinuz, a busybox domU initramfs as /boot/domu-initrd.gz
#    (its /init is guests/initrd/domu-init), our small PV domU kernels as /boot/tiny-domu.elf, /boot/hostile.elf
#    and /boot/fuzz.elf, and their xl configs in /etc/xen (guests/initrd/xen/*.cfg);
#  - vesta-hold (guests/dom0/vesta-hold.c), the harness's privcmd tool, as /usr/bin/vesta-hold.
# The toolstack, its modules and the domU payload (all but the kernel) travel as /boot/toolstack.cpio.gz, unpacked
# by /init when it starts the toolstack (see below).
#
# usage: scripts/mkinitrd.sh [OUT]        (default build/initrd.cpio.gz; prints the path)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fetch-common.sh
OUT=${1:-build/initrd.cpio.gz}
[ -x /bin/busybox ] || { echo "mkinitrd: busybox-static is not installed" >&2; exit 1; }
VMLINUZ=$(bash scripts/fetch-linux.sh)
DEB=$(ls "$CACHE"/linux-image-*.deb | head -1)
XEN_DEB=$(ls "$CACHE"/xen-hypervisor-4.17-amd64_*.deb 2>/dev/null | head -1 || true)
[ -n "$XEN_DEB" ] || { bash scripts/fetch-xen.sh >/dev/null; XEN_DEB=$(ls "$CACHE"/xen-hypervisor-4.17-amd64_*.deb | head -1); }
XEN_VER=$(dpkg-deb -f "$XEN_DEB" Version)
make -s -C guests "$PWD/build/guests/domu/tiny-domu.elf" "$PWD/build/guests/domu/hostile.elf" \
  "$PWD/build/guests/tools/fuzz.elf" "$PWD/build/guests/dom0/vesta-hold"

# The toolstack's packages: the Xen ones pinned to the hypervisor's version; the libraries they link (and glibc,
# libgcc_s that libxl dlopen()s, ncurses for xentop, terminfo from ncurses-base) at whatever version apt serves.
XEN_PKGS="xen-utils-4.17 xen-utils-common xenstore-utils libxenmisc4.17 libxenstore4 libxentoolcore1 libxencall1
  libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxentoollog1 libxendevicemodel1 libxenhypfs1"
LIB_PKGS="libc6 libgcc-s1 libyajl2 libext2fs2 libcom-err2 liblzma5 libuuid1 libzstd1 zlib1g libncurses6 libtinfo6
  ncurses-base"
XROOT=build/xen-deb
rm -rf "$XROOT"
mkdir -p "$XROOT"
for p in $XEN_PKGS; do dpkg-deb -x "$(apt_download "$p" "$XEN_VER")" "$XROOT"; done
for p in $LIB_PKGS; do dpkg-deb -x "$(apt_download "$p")" "$XROOT"; done
XBIN=usr/lib/xen-4.17/bin
# What dom0 runs, at Debian's paths. /usr/sbin/xl and friends are Debian's wrapper, which picks
# /usr/lib/xen-$major.$minor/bin from /sys/hypervisor/version.
XEN_FILES="$XBIN/xl $XBIN/oxenstored $XBIN/xenconsoled $XBIN/xenconsole $XBIN/xen-init-dom0 $XBIN/xentop
  $XBIN/xenstore-control $XBIN/lsevtchn
  usr/lib/xen-common/bin usr/sbin/xl usr/sbin/oxenstored usr/sbin/xenconsoled usr/sbin/xentop
  usr/bin/xenstore usr/bin/xenstore-chmod usr/bin/xenstore-control usr/bin/xenstore-exists usr/bin/xenstore-list
  usr/bin/xenstore-ls usr/bin/xenstore-read usr/bin/xenstore-rm usr/bin/xenstore-watch usr/bin/xenstore-write
  etc/xen/xl.conf etc/xen/oxenstored.conf
  lib64 lib/x86_64-linux-gnu/libgcc_s.so.1
  lib/terminfo/l/linux lib/terminfo/v/vt100 lib/terminfo/v/vt220 lib/terminfo/x/xterm"

# Three trees: WORK is what every boot needs (busybox, /init, the disk and NIC modules); TS is the toolstack and
# the domU payload, packed as /boot/toolstack.cpio.gz, which /init unpacks only when it starts the toolstack; RAW
# holds that archive and the domU kernel, both already compressed, as an uncompressed cpio appended to the
# gzip'd one (the kernel copies it instead of inflating 12 MB, so test boots reach /init as fast as before).
WORK=build/initrd-root
TS=build/toolstack-root
RAW=build/initrd-raw
rm -rf "$WORK" "$TS" "$RAW" build/linux-deb
mkdir -p "$WORK"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,lib/modules,root,run,boot} build/linux-deb
mkdir -p "$TS"/{etc/xen,lib/modules,boot} "$RAW/boot"
dpkg-deb -x "$DEB" build/linux-deb
KDIR=$(ls -d build/linux-deb/lib/modules/*/ | head -1)

# Each group of modules with its dependency closure, in load order (dependencies first), read from each module's
# .modinfo; a module already in an earlier group is not repeated.
python3 - "$KDIR" "$WORK/lib/modules" "$TS/lib/modules" <<'PY'
import os, subprocess, sys, shutil
kdir, base_out, ts_out = sys.argv[1], sys.argv[2], sys.argv[3]
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
seen = set()
def visit(n, order):
    if n in seen:
        return
    if n not in paths:
        sys.exit(f"mkinitrd: no module {n} in {kdir}")
    seen.add(n)
    for d in depends(n):
        visit(d, order)
    order.append(n)
groups = {"load-order": (base_out, ["virtio_pci", "virtio_blk", "virtio_net", "e1000", "ahci", "ext4",
                                     "crc32c_generic"]),
          "xen-load-order": (ts_out, ["xenfs", "xen_evtchn", "xen_gntdev", "xen_gntalloc", "xen_privcmd",
                                      "xen_blkback", "xen_netback"])}
for listname, (out, wanted) in groups.items():
    order = []
    for want in wanted:
        visit(want, order)
    for n in order:
        shutil.copy(paths[n], os.path.join(out, n + ".ko"))
    open(os.path.join(out, listname), "w").write("\n".join(order) + "\n")
PY

# The toolstack, then the shared-library closure of every ELF file in it (DT_NEEDED, searched in Debian's
# multiarch directories). cp -a keeps the packages' symlinks and the xenstore-* hard links.
(cd "$XROOT" && cp -a --parents $XEN_FILES "$OLDPWD/$TS/")
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
todo=$(find "$TS/usr" -type f -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
todo="$todo $TS/lib/x86_64-linux-gnu/libgcc_s.so.1"
have=" "
while [ -n "$(echo $todo)" ]; do
    next=
    for f in $todo; do
        for lib in $(needed "$f"); do
            case "$have" in *" $lib "*) continue ;; esac
            have="$have$lib "
            src=
            for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
                [ -e "$XROOT/$d/$lib" ] && src=$d/$lib && break
            done
            [ -n "$src" ] || { echo "mkinitrd: $f needs $lib, which no package in the list has" >&2; exit 1; }
            # The soname is a symlink to the versioned file; copy both.
            files=$src
            [ -L "$XROOT/$src" ] && files="$files $(dirname "$src")/$(readlink "$XROOT/$src")"
            (cd "$XROOT" && cp -a --parents $files "$OLDPWD/$TS/")
            next="$next $TS/$src"
        done
    done
    todo=$next
done

# The domU payload.
DOMU=build/domu-root
rm -rf "$DOMU"
mkdir -p "$DOMU"/{bin,sbin,etc,proc,sys,dev,tmp,root}
cp /bin/busybox "$DOMU/bin/busybox"
cp guests/initrd/domu-init "$DOMU/init"
chmod +x "$DOMU/init"
(cd "$DOMU" && find . | cpio -o -H newc --quiet) | gzip -9 > "$TS/boot/domu-initrd.gz"
cp build/guests/domu/tiny-domu.elf build/guests/domu/hostile.elf build/guests/tools/fuzz.elf "$TS/boot/"
mkdir -p "$TS/usr/bin"
cp build/guests/dom0/vesta-hold "$TS/usr/bin/vesta-hold"
cp guests/initrd/xen/*.cfg "$TS/etc/xen/"
(cd "$TS" && find . | cpio -o -H newc --quiet) | gzip -6 > "$RAW/boot/toolstack.cpio.gz"
cp "$VMLINUZ" "$RAW/boot/vmlinuz"

cp /bin/busybox "$WORK/bin/busybox"
cp guests/initrd/init "$WORK/init"
cp guests/initrd/vesta-test.sh "$WORK/etc/vesta-test.sh"
cp guests/initrd/vesta-xl.sh "$WORK/etc/vesta-xl.sh"
chmod +x "$WORK/init" "$WORK/etc/vesta-test.sh"
(cd "$WORK" && find . | cpio -o -H newc --quiet) | gzip -9 > "$OUT.tmp"
# The kernel takes an uncompressed archive only at a 4-byte aligned offset; it skips the zeros in between.
size=$(stat -c %s "$OUT.tmp")
head -c $(( (4 - size % 4) % 4 )) /dev/zero >> "$OUT.tmp"
(cd "$RAW" && find . | cpio -o -H newc --quiet) >> "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT"
