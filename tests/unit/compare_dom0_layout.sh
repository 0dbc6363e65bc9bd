#!/bin/bash
# Compares Vesta's dom0 layout planner with what real Xen 4.17 does for the same kernel, initrd and dom0_mem.
#
# Boots build/ref/xen.elf in QEMU with each dom0 kernel, reads the PHYSICAL and VIRTUAL MEMORY ARRANGEMENT blocks
# Xen prints while building dom0, stops QEMU, and checks them line by line against the planner's output. Cases:
#   Debian's 6.1 bzImage (build/ref/vmlinuz), dom0_mem=512M, without and with an initrd
#   XTF's test-pv64-example (a plain ELF),    dom0_mem=64M,  without and with an initrd
# Needs qemu-system-x86_64, gcc and the decompressor the bzImage uses; skips (exit 0) when anything is missing.
#   usage: tests/unit/compare_dom0_layout.sh        (exit 1 on any mismatch)
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
XEN=${XEN:-$ROOT/build/ref/xen.elf}
VMLINUZ=${VMLINUZ:-$ROOT/build/ref/vmlinuz}
XTF=${XTF:-/work/xtf/tests/example/test-pv64-example}
WORK=$ROOT/build/compare-dom0
INITRD_LEN=3000001 # deliberately not a whole number of pages

skip() {
    echo "compare_dom0_layout: SKIP: $*"
    exit 0
}

for f in "$XEN" "$VMLINUZ" "$XTF"; do
    [ -f "$f" ] || skip "$f is missing"
done
for t in qemu-system-x86_64 gcc timeout; do
    command -v $t >/dev/null || skip "$t is not installed"
done
mkdir -p "$WORK"

# A host tool around the pure modules: "payload" cuts a bzImage's payload out and names its compression; "plan"
# prints the planner's version of Xen's blocks for an ELF kernel.
cat >"$WORK/plan.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vesta/bzimage.h"
#include "vesta/dom0_layout.h"

static void *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    void *buf;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
        exit(2);
    buf = malloc(n ? n : 1);
    if (!buf || fread(buf, 1, n, f) != (size_t)n)
        exit(2);
    fclose(f);
    *size = n;
    return buf;
}

static int payload(const char *in, const char *out)
{
    size_t size;
    void *img = slurp(in, &size);
    struct bzimage_info bi;
    const char *why = NULL;
    int rc = bzimage_parse(img, size, &bi, &why);
    FILE *f;

    if (rc <= 0) {
        fprintf(stderr, "bzimage_parse: %d %s\n", rc, why ? why : "not a bzImage");
        return 1;
    }
    f = fopen(out, "wb");
    if (!f || fwrite(bi.payload, 1, bi.payload_length, f) != bi.payload_length || fclose(f))
        return 1;
    printf("%s protocol=%u.%02u setup_sects=%u payload_offset=%#x payload_length=%u decompressed=%u\n",
           bzimage_comp_name(bi.comp), bi.version >> 8, bi.version & 0xff, bi.setup_sects, bi.payload_offset,
           bi.payload_length, bi.decompressed_len);
    return 0;
}

static int plan(const char *elf_path, uint64_t initrd_len, uint64_t nr_pages)
{
    size_t size;
    void *img = slurp(elf_path, &size);
    struct xen_elf_info e;
    struct dom0_layout l;
    struct dom0_layout_line lines[DOM0_LAYOUT_MAX_LINES];
    const char *why = NULL;
    char buf[96];
    unsigned n;
    int rc;

    if ((rc = elf_parse_xen(img, size, &e)) != 0) {
        fprintf(stderr, "elf_parse_xen: %d %s\n", rc, e.error);
        return 1;
    }
    if ((rc = dom0_plan_layout(&e, initrd_len, nr_pages, &l, &why)) != 0) {
        fprintf(stderr, "dom0_plan_layout: %d %s\n", rc, why);
        return 1;
    }
    printf("alloc-pages %llu\n", (unsigned long long)l.alloc_pages);
    printf("to-be-allocated %llu\n", (unsigned long long)(l.nr_pages - l.alloc_pages - l.initrd_pages));
    n = dom0_layout_lines(&l, lines);
    for (unsigned i = 0; i < n; i++) {
        dom0_layout_format_line(&lines[i], buf, sizeof(buf));
        printf("%s\n", buf);
    }
    fprintf(stderr, "  (planner: nr_pt_pages=%u [L4 %u L3 %u L2 %u L1 %u] alloc_order=%u initrd_pfn=%lld "
                    "first_p2m_pfn=%llu nr_p2m_frames=%llu)\n",
            l.nr_pt_pages, l.nr_l4, l.nr_l3, l.nr_l2, l.nr_l1, l.alloc_order, (long long)l.initrd_pfn,
            (unsigned long long)l.first_p2m_pfn, (unsigned long long)l.nr_p2m_frames);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "payload"))
        return payload(argv[2], argv[3]);
    if (argc == 5 && !strcmp(argv[1], "plan"))
        return plan(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
    fprintf(stderr, "usage: plan payload BZIMAGE OUT | plan plan ELF INITRD_LEN NR_PAGES\n");
    return 2;
}
EOF
gcc -std=c11 -DVESTA_HOST_TEST -Wall -Wextra -Werror -I"$ROOT/hypervisor/include" -o "$WORK/plan" "$WORK/plan.c" \
    "$ROOT/hypervisor/common/dom0_layout.c" "$ROOT/hypervisor/common/bzimage.c" "$ROOT/hypervisor/common/elf.c" ||
    { echo "compare_dom0_layout: FAIL: cannot build the planner tool"; exit 1; }

# The kernel ELF inside the bzImage, decompressed with the host's tool for whatever compression it uses.
info=$("$WORK/plan" payload "$VMLINUZ" "$WORK/payload") || { echo "compare_dom0_layout: FAIL: $VMLINUZ"; exit 1; }
comp=${info%% *}
echo "bzImage: $info"
case $comp in
gzip) dec="gzip -dc" ;;
xz) dec="xz -dc --single-stream" ;;
zstd) dec="zstd -dc" ;;
lz4) dec="lz4 -dc" ;;
bzip2) dec="bzip2 -dc" ;;
lzma) dec="xz -dc --format=lzma" ;;
lzo) dec="lzop -dc" ;;
elf) dec="cat" ;;
*) skip "unknown bzImage compression" ;;
esac
command -v ${dec%% *} >/dev/null || skip "${dec%% *} is not installed"
# The payload ends with the 4-byte size, which some tools call trailing garbage: judge by the output instead.
$dec <"$WORK/payload" >"$WORK/vmlinux" 2>/dev/null
want=$(echo "$info" | sed -n 's/.*decompressed=\([0-9]*\).*/\1/p')
[ "$(stat -c %s "$WORK/vmlinux")" = "$want" ] || { echo "compare_dom0_layout: FAIL: decompressed size"; exit 1; }

head -c $INITRD_LEN /dev/zero >"$WORK/initrd"

# boot LOG KERNEL-AND-ARGS DOM0_MEM [INITRD]: runs Xen until it has printed dom0's layout.
boot() {
    local log=$1 mods=$2 mem=$3 pid i
    [ -n "${4:-}" ] && mods="$mods,$4"
    timeout 300 qemu-system-x86_64 -accel tcg -cpu max,-smap -m 1024 -nographic -no-reboot -monitor none \
        -serial stdio -kernel "$XEN" -append "console=com1 dom0_mem=$mem loglvl=all" -initrd "$mods" \
        </dev/null >"$log" 2>&1 &
    pid=$!
    for ((i = 0; i < 600; i++)); do
        grep -q "ENTRY ADDRESS" "$log" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.5
    done
    sleep 0.5
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
    grep -q "ENTRY ADDRESS" "$log"
}

# Xen's numbers in the planner tool's format.
xen_values() {
    local log=$1
    sed -n 's/^(XEN)  Dom0 alloc.: *\([0-9a-f]*\)->\([0-9a-f]*\).*/\1 \2/p' "$log" | head -1 |
        while read -r s e; do echo "alloc-pages $(((0x$e - 0x$s) / 4096))"; done
    sed -n 's/^(XEN)  Dom0 alloc.:.*(\([0-9]*\) pages to be allocated).*/to-be-allocated \1/p' "$log" | head -1
    sed -n '/^(XEN) VIRTUAL MEMORY ARRANGEMENT:/,/ENTRY ADDRESS/p' "$log" | sed -n 's/^(XEN) \( .*\)$/\1/p' |
        tr -d '\r'
}

fails=0
run_case() {
    local name=$1 kernel=$2 args=$3 mem=$4 nr=$5 initrd=${6:-} len=0 log=$WORK/$1.log
    [ -n "$initrd" ] && len=$(stat -c %s "$initrd")
    echo "== $name: dom0_mem=$mem ($nr pages), initrd $len bytes"
    if ! boot "$log" "$kernel${args:+ $args}" "$mem" "$initrd"; then
        echo "   FAIL: Xen did not print its layout (see $log)"
        fails=$((fails + 1))
        return
    fi
    xen_values "$log" >"$WORK/$name.xen"
    if ! "$WORK/plan" plan "$ELF" "$len" "$nr" >"$WORK/$name.vesta"; then
        echo "   FAIL: the planner refused"
        fails=$((fails + 1))
        return
    fi
    if diff -u --label xen --label vesta "$WORK/$name.xen" "$WORK/$name.vesta" >"$WORK/$name.diff"; then
        sed 's/^/   /' "$WORK/$name.xen"
        echo "   OK: $(wc -l <"$WORK/$name.xen") values identical"
    else
        sed 's/^/   /' "$WORK/$name.diff"
        echo "   FAIL"
        fails=$((fails + 1))
    fi
}

ELF=$WORK/vmlinux
run_case linux "$VMLINUZ" "console=hvc0" 512M 131072
run_case linux-initrd "$VMLINUZ" "console=hvc0" 512M 131072 "$WORK/initrd"
ELF=$XTF
run_case xtf "$XTF" "" 64M 16384
run_case xtf-initrd "$XTF" "" 64M 16384 "$WORK/initrd"

if [ $fails -ne 0 ]; then
    echo "compare_dom0_layout: $fails case(s) differ"
    exit 1
fi
echo "compare_dom0_layout: all cases match Xen"
