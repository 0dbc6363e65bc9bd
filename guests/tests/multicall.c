/*
 * multicall: a batch of hypercalls with per-entry results, including
 * failing entries (which do not stop the batch), unknown ops, a nested
 * multicall, side effects of batched calls, and bad list pointers.
 */
#include "guest.h"

static uint8_t page_a[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static uint8_t page_b[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

static uint8_t two_pages[2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

static multicall_entry_t mc[12];
static const char msg[] = "  (console write from inside a multicall)\n";

static void set(unsigned int i, unsigned long op, unsigned long a0,
                unsigned long a1, unsigned long a2, unsigned long a3)
{
    memset(&mc[i], 0, sizeof(mc[i]));
    mc[i].op = op;
    mc[i].result = 0x5a5a5a5a;
    mc[i].args[0] = a0;
    mc[i].args[1] = a1;
    mc[i].args[2] = a2;
    mc[i].args[3] = a3;
}

void test_main(void)
{
    const uint64_t rw = PTE_P | PTE_RW | PTE_A | PTE_D;
    uint64_t mfn_a = va_to_mfn(page_a), mfn_b = va_to_mfn(page_b);
    static struct mmuext_op flush = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    static multicall_entry_t inner[1];
    long rc;

    ((volatile uint64_t *)page_a)[0] = 0xa0a0;
    ((volatile uint64_t *)page_b)[0] = 0xb0b0;

    set(0, __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    set(1, __HYPERVISOR_xen_version, 99, 0, 0, 0);
    set(2, __HYPERVISOR_console_io, CONSOLEIO_write, sizeof(msg) - 1,
        (unsigned long)msg, 0);
    set(3, __HYPERVISOR_update_va_mapping, (unsigned long)page_b,
        (mfn_a << PAGE_SHIFT) | rw, UVMF_INVLPG, 0);
    set(4, 60, 0, 0, 0, 0);
    set(5, __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0, 0);
    inner[0].op = __HYPERVISOR_xen_version;
    set(6, __HYPERVISOR_multicall, (unsigned long)inner, 1, 0, 0);
    set(7, __HYPERVISOR_xen_version, XENVER_extraversion, 0x1, 0, 0);
    set(8, __HYPERVISOR_mmuext_op, (unsigned long)&flush, 1, 0, DOMID_SELF);
    set(9, __HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0);
    set(10, 1000, 0, 0, 0, 0);
    set(11, __HYPERVISOR_mmu_update, 0x1, 1, 0, DOMID_SELF);

    rc = hyp_multicall(mc, 12);
    CHECK_EQ(rc, 0, "multicall of 12 entries returns 0");
    CHECK_EQ(mc[0].result, (4 << 16) | 17, "[0] xen_version -> 4.17");
    CHECK_EQ((long)mc[1].result, -ENOSYS, "[1] xen_version(99) -> -ENOSYS");
    CHECK_EQ(mc[2].result, 0, "[2] console_io write -> 0");
    CHECK_EQ(mc[3].result, 0, "[3] update_va_mapping -> 0");
    CHECK_EQ((long)mc[4].result, -ENOSYS, "[4] unknown hypercall 60 -> -ENOSYS");
    CHECK_EQ(mc[5].result, 4096, "[5] pagesize -> 4096");
    CHECK_EQ((long)mc[6].result, -EINVAL, "[6] nested multicall -> -EINVAL");
    CHECK_EQ((long)mc[7].result, -EFAULT, "[7] extraversion to 0x1 -> -EFAULT");
    CHECK_EQ(mc[8].result, 0, "[8] mmuext TLB flush -> 0");
    CHECK_EQ(mc[9].result, 0, "[9] sched_op yield -> 0");
    CHECK_EQ((long)mc[10].result, -ENOSYS, "[10] hypercall 1000 -> -ENOSYS");
    CHECK_EQ((long)mc[11].result, -EFAULT, "[11] mmu_update bad list -> -EFAULT");
    /* Only 'result' is defined on return: debug builds of Xen scribble
     * over the rest of each entry, so op/args are deliberately not checked. */

    CHECK_EQ(((volatile uint64_t *)page_b)[0], 0xa0a0,
             "batched update_va_mapping took effect");
    rc = hyp_update_va_mapping((uint64_t)page_b, (mfn_b << PAGE_SHIFT) | rw, UVMF_INVLPG);
    CHECK_EQ(rc, 0, "restore page_b mapping");
    CHECK_EQ(((volatile uint64_t *)page_b)[0], 0xb0b0, "page_b is itself again");

    /* Empty and bad lists. */
    CHECK_EQ(hyp_multicall(mc, 0), 0, "multicall with 0 entries -> 0");
    CHECK_EQ(hyp_multicall((void *)0x1, 1), -EFAULT, "multicall list at 0x1 -> -EFAULT");
    CHECK_EQ(hyp_multicall((void *)0x8000000000000000UL, 1), -EFAULT,
             "multicall list non-canonical -> -EFAULT");
    CHECK_EQ(hyp_multicall((void *)HYPERVISOR_VIRT_START, 1), -EFAULT,
             "multicall list in hypervisor hole -> -EFAULT");

    /* A list whose second entry is unreadable: the first runs (and its
     * result is written back), then the multicall fails with -EFAULT. */
    {
        multicall_entry_t *edge = (multicall_entry_t *)(two_pages + PAGE_SIZE) - 1;

        rc = hyp_update_va_mapping((uint64_t)two_pages + PAGE_SIZE, 0, UVMF_INVLPG);
        CHECK_EQ(rc, 0, "unmap the page after the list");
        memset(edge, 0, sizeof(*edge));
        edge->op = __HYPERVISOR_xen_version;
        edge->args[0] = XENVER_pagesize;
        rc = hyp_multicall(edge, 2);
        CHECK_EQ(rc, -EFAULT, "list running into an unmapped page -> -EFAULT");
        CHECK_EQ(edge->result, 4096, "entry before the hole still executed");
    }

    /* One-entry multicall equals the direct call. */
    set(0, __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    CHECK_EQ(hyp_multicall(mc, 1), 0, "single-entry multicall");
    CHECK_EQ(mc[0].result, hyp_xen_version(XENVER_version, NULL),
             "single-entry result equals direct call");
}
