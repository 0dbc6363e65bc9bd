/* Checked guest-memory copies: see vesta/guest_access.h. */
#include <public/xen.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/setup.h>
#include <vesta/traps.h>

static inline void stac(void)
{
    if (cpu_has_smap)
        __asm__ volatile(".byte 0x0f, 0x01, 0xcb" ::: "memory");
}

static inline void clac(void)
{
    if (cpu_has_smap)
        __asm__ volatile(".byte 0x0f, 0x01, 0xca" ::: "memory");
}

bool guest_range_ok(uint64_t va, size_t len)
{
    uint64_t end = va + len;
    if (end < va)
        return false;
    if (!len)
        return true;
    /* Lower half up to the canonical hole, or the upper half above the hypervisor's slots. */
    if (end <= 0x0000800000000000UL)
        return true;
    return va >= HYPERVISOR_VIRT_END;
}

/* rep movsq for the whole quadwords, then rep movsb for the tail, each with a fixup: on a fault RCX holds what
 * was left and the copy stops there. Quadwords first because guest frames and structures are mostly whole
 * quadwords, and a string instruction costs per iteration on some CPUs and emulators. */
static size_t copy_bytes(void *dst, const void *src, size_t len)
{
    size_t quads = len >> 3, tail = len & 7;
    stac();
    __asm__ volatile("1: rep movsq\n"
                     "2:\n"
                     ".pushsection __ex_table, \"a\"\n"
                     ".balign 4\n"
                     ".long 1b - ., 2b - .\n"
                     ".popsection"
                     : "+D"(dst), "+S"(src), "+c"(quads)
                     :
                     : "memory");
    if (!quads && tail)
        __asm__ volatile("1: rep movsb\n"
                         "2:\n"
                         ".pushsection __ex_table, \"a\"\n"
                         ".balign 4\n"
                         ".long 1b - ., 2b - .\n"
                         ".popsection"
                         : "+D"(dst), "+S"(src), "+c"(tail)
                         :
                         : "memory");
    clac();
    return quads * 8 + tail;
}

static size_t zero_bytes(void *dst, size_t len)
{
    stac();
    __asm__ volatile("1: rep stosb\n"
                     "2:\n"
                     ".pushsection __ex_table, \"a\"\n"
                     ".balign 4\n"
                     ".long 1b - ., 2b - .\n"
                     ".popsection"
                     : "+D"(dst), "+c"(len)
                     : "a"(0)
                     : "memory");
    clac();
    return len;
}

size_t raw_copy_from(void *dst, const void *src, size_t len) { return copy_bytes(dst, src, len); }
size_t raw_copy_to(void *dst, const void *src, size_t len) { return copy_bytes(dst, src, len); }

int copy_from_guest(void *dst, uint64_t guest_va, size_t len)
{
    if (!guest_range_ok(guest_va, len))
        return -EFAULT;
    return copy_bytes(dst, (const void *)guest_va, len) ? -EFAULT : 0;
}

int copy_to_guest(uint64_t guest_va, const void *src, size_t len)
{
    if (!guest_range_ok(guest_va, len))
        return -EFAULT;
    return copy_bytes((void *)guest_va, src, len) ? -EFAULT : 0;
}

int clear_guest(uint64_t guest_va, size_t len)
{
    if (!guest_range_ok(guest_va, len))
        return -EFAULT;
    return zero_bytes((void *)guest_va, len) ? -EFAULT : 0;
}
