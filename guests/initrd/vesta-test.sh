#!/bin/sh
# The dom0 system test, run by /init with vesta.mode=test or vesta.mode=stress=SECONDS. Every check prints
# "VT PASS name" or "VT FAIL name: detail"; the harness on the host counts them.
pass() { echo "VT PASS $1"; }
fail() { echo "VT FAIL $1: $2"; }
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "'$*' failed"; fi; }

echo "VT uname: $(uname -a)"
check uname-linux sh -c 'uname -s | grep -q Linux'
ncpu=$(grep -c ^processor /proc/cpuinfo)
echo "VT cpus: $ncpu"
want=1
for w in $(cat /proc/cmdline); do case "$w" in vesta.cpus=*) want=${w#vesta.cpus=} ;; esac; done
if [ "$ncpu" = "$want" ]; then pass cpuinfo-vcpus; else fail cpuinfo-vcpus "expected $want, got $ncpu"; fi
check xen-pv sh -c 'dmesg | grep -q "Booting kernel on Xen"'
xenerr=$(dmesg | grep -i xen | grep -iE "error|fail|bug|warn" | grep -v "ACPI" | head -5)
if [ -z "$xenerr" ]; then pass dmesg-no-xen-errors; else fail dmesg-no-xen-errors "$xenerr"; fi
free
check free sh -c 'free | grep -q Mem:'

# The disk: /dev/vda (virtio) or /dev/sda (AHCI). Formatted on first use; a file written by an earlier boot is
# read back, then replaced by a new one for the next boot.
disk=
for d in /dev/vda /dev/sda; do [ -b $d ] && disk=$d && break; done
if [ -z "$disk" ]; then
    fail disk-present "no /dev/vda or /dev/sda"
else
    pass disk-present
    mkdir -p /mnt/disk
    if ! mount -t ext4 $disk /mnt/disk 2>/dev/null; then
        mke2fs -q -t ext4 $disk >/dev/null 2>&1 || mke2fs -q $disk
        mount $disk /mnt/disk || mount -t ext2 $disk /mnt/disk
        echo "VT disk: formatted $disk"
    fi
    if [ -f /mnt/disk/vesta-token ]; then
        echo "VT disk-token-read: $(cat /mnt/disk/vesta-token)"
    else
        echo "VT disk-token-read: none"
    fi
    token="boot-$(cat /proc/sys/kernel/random/uuid)"
    echo "$token" > /mnt/disk/vesta-token && sync
    if [ "$(cat /mnt/disk/vesta-token)" = "$token" ]; then pass disk-write; else fail disk-write "readback"; fi
    echo "VT disk-token-written: $token"
fi
if ip link show eth0 >/dev/null 2>&1; then pass nic-present; else fail nic-present "no eth0"; fi
# How the devices' interrupts reach dom0 (pirq/event channel, legacy INTx or MSI-X), for the log; the disk's
# requests above must have completed through interrupts that arrived as events.
sed 's/^/VT irq: /' /proc/interrupts
virtio_irqs=$(awk '/virtio/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts)
if [ "$virtio_irqs" -gt 0 ]; then pass virtio-interrupts; else fail virtio-interrupts "no virtio interrupt counted"; fi

case "$VESTA_MODE" in
stress=*)
    secs=${VESTA_MODE#stress=}
    echo "VT stress: $secs s"
    end=$(( $(cut -d. -f1 /proc/uptime) + secs ))
    forks=0; errors=0
    while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
        for i in 1 2 3 4 5 6 7 8; do /bin/true & done
        wait
        forks=$((forks + 8))
        dd if=/dev/zero of=/tmp/blob bs=1M count=4 2>/dev/null || errors=$((errors + 1))
        [ -n "$disk" ] && { cp /tmp/blob /mnt/disk/blob && sync || errors=$((errors + 1)); }
        rm -f /tmp/blob
    done
    echo "VT stress-forks: $forks in $secs s"
    if [ "$errors" = 0 ]; then pass stress; else fail stress "$errors errors"; fi
    ;;
esac
[ -n "$disk" ] && umount /mnt/disk
echo "VT done"
