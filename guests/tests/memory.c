/*
 * memory: mmu_update, update_va_mapping, MMU_MACHPHYS_UPDATE, mmuext_op
 * pin/unpin and TLB operations, reservation changes, and what Xen refuses.
 */
#include "guest.h"

#define NONCANON 0x8000000000000000UL

static uint8_t page_a[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static uint8_t page_b[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static uint8_t page_c[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

static long mmu1(uint64_t ptr, uint64_t val)
{
    struct mmu_update u = { ptr, val };
    return hyp_mmu_update(&u, 1, NULL, DOMID_SELF);
}

static long ext1(unsigned int cmd, uint64_t arg1, uint64_t arg2)
{
    struct mmuext_op op;

    memset(&op, 0, sizeof(op));
    op.cmd = cmd;
    op.arg1.mfn = arg1;
    op.arg2.src_mfn = arg2;
    return hyp_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

static long current_reservation(void)
{
    domid_t d = DOMID_SELF;
    return hyp_memory_op(XENMEM_current_reservation, &d);
}

void test_main(void)
{
    uint64_t ma_b, *pte_b, orig_b, l1_mfn, mfn_a, mfn_c, new_mfn, pfn_c;
    volatile uint64_t *qa = (volatile uint64_t *)page_a;
    volatile uint64_t *qb = (volatile uint64_t *)page_b;
    volatile uint64_t *qc = (volatile uint64_t *)page_c;
    const uint64_t rw = PTE_P | PTE_RW | PTE_A | PTE_D, ro = PTE_P | PTE_A;
    unsigned int done;
    long rc, res0;

    mfn_a = va_to_mfn(page_a);
    mfn_c = va_to_mfn(page_c);
    pfn_c = va_to_pfn(page_c);

    if ( !CHECK(pte_lookup((uint64_t)page_b, &ma_b, &pte_b), "walk to L1 entry of page_b") )
        return;
    orig_b = *pte_b;
    l1_mfn = ma_b >> PAGE_SHIFT;
    CHECK_EQ((orig_b & PTE_ADDR_MASK) >> PAGE_SHIFT, va_to_mfn(page_b),
             "L1 entry of page_b agrees with the p2m");
    CHECK((orig_b & (PTE_P | PTE_RW)) == (PTE_P | PTE_RW), "page_b mapped present+writable");

    /* 1. Normal PTE update: alias page_a at page_b. */
    qa[0] = 0x1111;
    rc = mmu1(ma_b | MMU_NORMAL_PT_UPDATE, (mfn_a << PAGE_SHIFT) | rw);
    CHECK_EQ(rc, 0, "mmu_update: map page_a at page_b");
    CHECK_EQ(ext1(MMUEXT_INVLPG_LOCAL, (uint64_t)page_b, 0), 0, "mmuext INVLPG_LOCAL");
    CHECK_EQ((*pte_b & PTE_ADDR_MASK) >> PAGE_SHIFT, mfn_a, "L1 entry now names page_a");
    CHECK_EQ(qb[0], 0x1111, "read page_a's data through page_b");
    qb[1] = 0xfeedface;
    CHECK_EQ(qa[1], 0xfeedface, "write through page_b lands in page_a");
    rc = mmu1(ma_b | MMU_NORMAL_PT_UPDATE, orig_b);
    CHECK_EQ(rc, 0, "mmu_update: restore page_b");
    ext1(MMUEXT_INVLPG_LOCAL, (uint64_t)page_b, 0);
    CHECK_EQ(qb[1], 0, "page_b shows its own frame again");

    /* MMU_PT_UPDATE_PRESERVE_AD is accepted for a PV guest. */
    rc = mmu1(ma_b | MMU_PT_UPDATE_PRESERVE_AD, orig_b);
    CHECK_EQ(rc, 0, "mmu_update PRESERVE_AD on same entry");

    /* 2. update_va_mapping with INVLPG. */
    rc = hyp_update_va_mapping((uint64_t)page_b, (mfn_a << PAGE_SHIFT) | rw, UVMF_INVLPG);
    CHECK_EQ(rc, 0, "update_va_mapping page_b -> page_a (INVLPG)");
    CHECK_EQ(qb[1], 0xfeedface, "alias visible immediately after INVLPG");
    rc = hyp_update_va_mapping((uint64_t)page_b, orig_b, UVMF_TLB_FLUSH | UVMF_ALL);
    CHECK_EQ(rc, 0, "update_va_mapping restore (TLB_FLUSH|ALL)");
    CHECK_EQ(qb[1], 0, "restored mapping visible");
    CHECK_EQ(hyp_update_va_mapping(HYPERVISOR_VIRT_START, (mfn_a << PAGE_SHIFT) | rw, 0),
             -EINVAL, "update_va_mapping in hypervisor hole -> -EINVAL");
    CHECK_EQ(hyp_update_va_mapping(0x1000, (mfn_a << PAGE_SHIFT) | rw, 0),
             -EINVAL, "update_va_mapping with no L1 for va -> -EINVAL");

    /* 3. Page-table frames may be mapped read-only, never writable. */
    rc = mmu1(ma_b, (l1_mfn << PAGE_SHIFT) | PTE_P | PTE_RW);
    CHECK_EQ(rc, -EBUSY, "writable mapping of an L1 table -> -EBUSY");
    rc = mmu1(ma_b, (va_to_mfn((void *)start_info->pt_base) << PAGE_SHIFT) | rw);
    CHECK_EQ(rc, -EBUSY, "writable mapping of the L4 -> -EBUSY");
    rc = mmu1(ma_b, (l1_mfn << PAGE_SHIFT) | ro);
    CHECK_EQ(rc, 0, "read-only mapping of an L1 table");
    ext1(MMUEXT_INVLPG_LOCAL, (uint64_t)page_b, 0);
    CHECK_EQ(qb[((uint64_t)page_b >> 12) & 511] & PTE_ADDR_MASK, l1_mfn << PAGE_SHIFT,
             "L1 seen through itself names itself");
    CHECK_EQ(mmu1(ma_b, orig_b), 0, "restore after read-only L1 mapping");
    ext1(MMUEXT_INVLPG_LOCAL, (uint64_t)page_b, 0);

    /* 4. Plain writable page as mmu_update target: the write just happens. */
    rc = mmu1(((mfn_a << PAGE_SHIFT) + 16) | MMU_NORMAL_PT_UPDATE, 0x1122334455667788UL);
    CHECK_EQ(rc, 0, "mmu_update on an ordinary page writes it");
    CHECK_EQ(qa[2], 0x1122334455667788UL, "ordinary page holds the written value");

    /* 5. Batch with a failing middle entry: count done. */
    {
        struct mmu_update b[3] = {
            { ma_b, orig_b },
            { ma_b, (l1_mfn << PAGE_SHIFT) | PTE_P | PTE_RW },
            { ma_b, orig_b },
        };
        done = 77;
        rc = hyp_mmu_update(b, 3, &done, DOMID_SELF);
        CHECK_EQ(rc, -EBUSY, "batch stops at the bad entry with its error");
        CHECK_EQ(done, 1, "done counts entries completed before the error");
        done = 77;
        rc = hyp_mmu_update(b, 1, &done, DOMID_SELF);
        CHECK_EQ(rc, 0, "single good entry");
        CHECK_EQ(done, 1, "done == 1");
    }
    CHECK_EQ(hyp_mmu_update((void *)0x1, 1, NULL, DOMID_SELF), -EFAULT,
             "mmu_update reqs at 0x1 -> -EFAULT");
    CHECK_EQ(hyp_mmu_update((void *)NONCANON, 1, NULL, DOMID_SELF), -EFAULT,
             "mmu_update reqs non-canonical -> -EFAULT");
    CHECK_EQ(hyp_mmu_update((void *)0x1, 0, NULL, DOMID_SELF), 0,
             "mmu_update count 0 -> 0");
    CHECK_EQ(hyp_mmu_update(NULL, 1, NULL, 0x7ff7), -ESRCH,
             "mmu_update bad foreigndom -> -ESRCH");

    /* 6. MMU_MACHPHYS_UPDATE. */
    rc = mmu1((mfn_a << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 0x12345);
    CHECK_EQ(rc, 0, "MACHPHYS_UPDATE own frame");
    CHECK_EQ(M2P[mfn_a], 0x12345, "M2P shows the new pfn");
    rc = mmu1((mfn_a << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, va_to_pfn(page_a));
    CHECK_EQ(rc, 0, "MACHPHYS_UPDATE restore");
    CHECK_EQ(M2P[mfn_a], va_to_pfn(page_a), "M2P restored");

    /* 7. Give page_c back to Xen, then try to use its frame. */
    res0 = current_reservation();
    CHECK(res0 > 0, "current_reservation > 0");
    rc = hyp_update_va_mapping((uint64_t)page_c, 0, UVMF_INVLPG);
    CHECK_EQ(rc, 0, "unmap page_c");
    {
        xen_pfn_t ext = mfn_c;
        struct xen_memory_reservation r;

        memset(&r, 0, sizeof(r));
        xen_set_guest_handle(r.extent_start, &ext);
        r.nr_extents = 1;
        r.extent_order = 0;
        r.domid = DOMID_SELF;
        rc = hyp_memory_op(XENMEM_decrease_reservation, &r);
        CHECK_EQ(rc, 1, "decrease_reservation releases one extent");
        CHECK_EQ(current_reservation(), res0 - 1, "reservation dropped by one");

        rc = mmu1(ma_b, (mfn_c << PAGE_SHIFT) | rw);
        CHECK_EQ(rc, -EBUSY, "mapping a freed (unowned) frame -> -EBUSY");
        rc = mmu1(ma_b, (mfn_c << PAGE_SHIFT) | ro);
        CHECK_EQ(rc, -EBUSY, "read-only mapping of a freed frame -> -EBUSY");
        rc = mmu1((mfn_c << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, pfn_c);
        CHECK_EQ(rc, -EINVAL, "MACHPHYS_UPDATE on unowned frame -> -EINVAL");
        rc = mmu1((mfn_c << PAGE_SHIFT) | MMU_NORMAL_PT_UPDATE, 0);
        CHECK_EQ(rc, -EINVAL, "PT update inside an unowned frame -> -EINVAL");
        rc = ext1(MMUEXT_PIN_L1_TABLE, mfn_c, 0);
        CHECK_EQ(rc, -EINVAL, "pin an unowned frame -> -EINVAL");

        ext = 0;
        rc = hyp_memory_op(XENMEM_increase_reservation, &r);
        CHECK_EQ(rc, 1, "increase_reservation gets one extent back");
        new_mfn = ext;
        CHECK_EQ(current_reservation(), res0, "reservation restored");
        rc = mmu1((new_mfn << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, pfn_c);
        CHECK_EQ(rc, 0, "MACHPHYS_UPDATE for the new frame");
        CHECK_EQ(M2P[new_mfn], pfn_c, "M2P names pfn of page_c");
        rc = hyp_update_va_mapping((uint64_t)page_c, (new_mfn << PAGE_SHIFT) | rw, UVMF_INVLPG);
        CHECK_EQ(rc, 0, "map the new frame at page_c");
        mfn_c = new_mfn;
    }
    memset(page_c, 0, PAGE_SIZE);

    /* 8. Pin / unpin an L1 built in page_c. */
    rc = ext1(MMUEXT_PIN_L1_TABLE, mfn_c, 0);
    CHECK_EQ(rc, -EINVAL, "pin L1 while mapped writable -> -EINVAL");
    CHECK_EQ(hyp_update_va_mapping((uint64_t)page_c, (mfn_c << PAGE_SHIFT) | ro, UVMF_INVLPG),
             0, "remap page_c read-only");
    rc = ext1(MMUEXT_PIN_L1_TABLE, mfn_c, 0);
    CHECK_EQ(rc, 0, "pin empty L1");
    CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, mfn_c, 0), -EINVAL, "pin twice -> -EINVAL");
    CHECK_EQ(ext1(MMUEXT_PIN_L2_TABLE, mfn_c, 0), -EINVAL, "pin as L2 while an L1 -> -EINVAL");
    rc = mmu1(mfn_c << PAGE_SHIFT, (mfn_a << PAGE_SHIFT) | rw);
    CHECK_EQ(rc, 0, "mmu_update into the pinned L1");
    CHECK_EQ(qc[0] & PTE_ADDR_MASK, mfn_a << PAGE_SHIFT, "entry visible in pinned L1");
    rc = hyp_update_va_mapping((uint64_t)page_c, (mfn_c << PAGE_SHIFT) | rw, UVMF_INVLPG);
    CHECK_EQ(rc, -EBUSY, "writable mapping of pinned L1 -> -EBUSY");
    CHECK_EQ(mmu1(mfn_c << PAGE_SHIFT, 0), 0, "clear the entry");
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, mfn_c, 0), 0, "unpin");
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, mfn_c, 0), -EINVAL, "unpin twice -> -EINVAL");
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, mfn_a, 0), -EINVAL, "unpin a never-pinned page -> -EINVAL");
    CHECK_EQ(hyp_update_va_mapping((uint64_t)page_c, (mfn_c << PAGE_SHIFT) | rw, UVMF_INVLPG),
             0, "writable again after unpin");

    /* An L1 holding a writable mapping of itself can't be validated. */
    qc[1] = (mfn_c << PAGE_SHIFT) | rw;
    CHECK_EQ(hyp_update_va_mapping((uint64_t)page_c, (mfn_c << PAGE_SHIFT) | ro, UVMF_INVLPG),
             0, "remap page_c read-only");
    rc = ext1(MMUEXT_PIN_L1_TABLE, mfn_c, 0);
    CHECK_EQ(rc, -EBUSY, "pin L1 that maps itself writable -> refused");
    CHECK_EQ(hyp_update_va_mapping((uint64_t)page_c, (mfn_c << PAGE_SHIFT) | rw, UVMF_INVLPG),
             0, "page_c still an ordinary page");
    qc[1] = 0;

    /* An L1 holding a read-only self mapping is fine. */
    qc[1] = (mfn_c << PAGE_SHIFT) | ro;
    hyp_update_va_mapping((uint64_t)page_c, (mfn_c << PAGE_SHIFT) | ro, UVMF_INVLPG);
    CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, mfn_c, 0), 0, "pin L1 with read-only self map");
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, mfn_c, 0), 0, "unpin it");
    hyp_update_va_mapping((uint64_t)page_c, (mfn_c << PAGE_SHIFT) | rw, UVMF_INVLPG);
    qc[1] = 0;

    /* 9. TLB maintenance and other commands. */
    {
        static uint64_t mask = 1;
        struct mmuext_op ops[6];

        memset(ops, 0, sizeof(ops));
        ops[0].cmd = MMUEXT_TLB_FLUSH_LOCAL;
        ops[1].cmd = MMUEXT_INVLPG_LOCAL;
        ops[1].arg1.linear_addr = (uint64_t)page_a;
        ops[2].cmd = MMUEXT_TLB_FLUSH_ALL;
        ops[3].cmd = MMUEXT_INVLPG_ALL;
        ops[3].arg1.linear_addr = (uint64_t)page_a;
        ops[4].cmd = MMUEXT_TLB_FLUSH_MULTI;
        xen_set_guest_handle(ops[4].arg2.vcpumask, &mask);
        ops[5].cmd = MMUEXT_INVLPG_MULTI;
        ops[5].arg1.linear_addr = (uint64_t)page_a;
        xen_set_guest_handle(ops[5].arg2.vcpumask, &mask);
        done = 0;
        rc = hyp_mmuext_op(ops, 6, &done, DOMID_SELF);
        CHECK_EQ(rc, 0, "TLB flush/invlpg batch (local, all, multi)");
        CHECK_EQ(done, 6, "all six flush ops done");
    }
    qa[3] = 0xabcdef;
    CHECK_EQ(ext1(MMUEXT_COPY_PAGE, mfn_c, mfn_a), 0, "COPY_PAGE a -> c");
    CHECK_EQ(qc[3], 0xabcdef, "copied data visible");
    CHECK_EQ(ext1(MMUEXT_CLEAR_PAGE, mfn_c, 0), 0, "CLEAR_PAGE c");
    CHECK_EQ(qc[3], 0, "page cleared");
    CHECK_EQ(ext1(MMUEXT_NEW_BASEPTR, va_to_mfn((void *)start_info->pt_base), 0), 0,
             "NEW_BASEPTR to the current L4");

    CHECK_EQ(ext1(14, 0, 0), -ENOSYS, "mmuext cmd 14 -> -ENOSYS");
    CHECK_EQ(ext1(99, 0, 0), -ENOSYS, "mmuext cmd 99 -> -ENOSYS");
    CHECK_EQ(ext1(MMUEXT_MARK_SUPER, mfn_a, 0), -EOPNOTSUPP, "MARK_SUPER -> -EOPNOTSUPP");
    CHECK_EQ(hyp_mmuext_op((void *)0x1, 1, NULL, DOMID_SELF), -EFAULT,
             "mmuext_op ops at 0x1 -> -EFAULT");
    CHECK_EQ(hyp_mmuext_op((void *)NONCANON, 1, NULL, DOMID_SELF), -EFAULT,
             "mmuext_op ops non-canonical -> -EFAULT");

    /* Reading the machine-to-phys table directly works; the hole is
     * read-only for the guest: a write faults (checked in 'traps'). */
    {
        xen_machphys_mapping_t mm;
        CHECK_EQ(hyp_memory_op(XENMEM_machphys_mapping, &mm), 0, "machphys_mapping");
        CHECK_EQ(mm.v_start, MACH2PHYS_VIRT_START, "machphys v_start");
        CHECK_EQ(mm.v_end, MACH2PHYS_VIRT_END, "machphys v_end");
    }

    /* 10. Linear page tables: an L4 slot may point at the L4 itself, read-only
     * only (XSA-182); the self map holds no reference, so clearing it is fine. */
    {
        const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
        uint64_t l4_ma = va_to_mfn(l4) << PAGE_SHIFT;
        unsigned int slot = 0;

        for ( unsigned int k = 1; k < 256; k++ )
            if ( !(l4[k] & PTE_P) )
            {
                slot = k;
                break;
            }
        if ( CHECK(slot != 0, "found a free L4 slot") )
        {
            rc = mmu1(l4_ma + slot * 8, l4_ma | PTE_P | PTE_A);
            CHECK_EQ(rc, 0, "read-only L4 self map allowed");
            CHECK_EQ(l4[slot] & PTE_ADDR_MASK, l4_ma, "self map visible in the L4");
            rc = mmu1(l4_ma + slot * 8, l4_ma | PTE_P | PTE_RW | PTE_A);
            CHECK_EQ(rc, -EINVAL, "writable L4 self map refused");
            CHECK_EQ(mmu1(l4_ma + slot * 8, 0), 0, "clear the self map");
            CHECK_EQ(l4[slot], 0, "slot empty again");
            CHECK_EQ(mmu1(l4_ma + 256 * 8, 0), -EINVAL,
                     "hypervisor L4 slot 256 cannot be written");
        }
        CHECK_EQ(hyp_mmu_update(NULL, 1, NULL, 0), -ESRCH,
                 "foreigndom naming oneself by id -> -ESRCH");
        CHECK_EQ(hyp_mmuext_op(NULL, 1, NULL, 0), -ESRCH,
                 "mmuext foreigndom naming oneself by id -> -ESRCH");
    }

    /* 11. memory_op queries. */
    {
        domid_t self = DOMID_SELF;
        struct xen_memory_map mm;
        long n;

        rc = hyp_memory_op(XENMEM_maximum_ram_page, NULL);
        CHECK(rc > 0, "maximum_ram_page > 0");
        CHECK(hyp_memory_op(XENMEM_maximum_reservation, &self) >= current_reservation(),
              "maximum_reservation >= current_reservation");
        CHECK_EQ(hyp_memory_op(XENMEM_current_reservation, (void *)0x1), -EFAULT,
                 "current_reservation bad pointer -> -EFAULT");
        CHECK_EQ(hyp_memory_op(XENMEM_maximum_ram_page | (1 << 6), NULL), -EINVAL,
                 "maximum_ram_page with a start extent -> -EINVAL");
        memset(&mm, 0, sizeof(mm));
        CHECK_EQ(hyp_memory_op(XENMEM_memory_map, &mm), -ENOSYS,
                 "memory_map: a PV dom0 has no pseudo-physical map -> -ENOSYS");
        memset(&mm, 0, sizeof(mm));
        rc = hyp_memory_op(XENMEM_machine_memory_map, &mm);
        CHECK_EQ(rc, 0, "machine_memory_map size query");
        n = mm.nr_entries;
        CHECK(n > 0, "machine_memory_map reports entries");
        {
            static struct xen_e820_entry map[128];

            mm.nr_entries = 1;
            xen_set_guest_handle(mm.buffer, map);
            CHECK_EQ(hyp_memory_op(XENMEM_machine_memory_map, &mm), -EINVAL,
                     "machine_memory_map with a 1-entry buffer -> -EINVAL");
            mm.nr_entries = 128;
            rc = hyp_memory_op(XENMEM_machine_memory_map, &mm);
            CHECK_EQ(rc, 0, "machine_memory_map");
            CHECK_EQ(mm.nr_entries, n, "same count as the size query");
            for ( unsigned int k = 0; k < mm.nr_entries && k < 128; k++ )
                printf("  e820 %016lx-%016lx type %u\n", (unsigned long)map[k].addr,
                       (unsigned long)(map[k].addr + map[k].size), map[k].type);
            CHECK(map[0].addr == 0 && map[0].type == 1, "first machine region is RAM at 0");
        }
        {
            xen_pfn_t chunk[4] = { 0, 0, 0, 0 };
            struct xen_machphys_mfn_list ml;

            memset(&ml, 0, sizeof(ml));
            ml.max_extents = 4;
            xen_set_guest_handle(ml.extent_start, chunk);
            CHECK_EQ(hyp_memory_op(XENMEM_machphys_mfn_list, &ml), 0, "machphys_mfn_list");
            CHECK(ml.nr_extents >= 1 && chunk[0] != 0, "machphys_mfn_list names the M2P's first 2M");
        }
        {
            /* Exchange: a bad input list is refused before anything happens. */
            struct xen_memory_exchange x;

            memset(&x, 0, sizeof(x));
            x.in.nr_extents = 1;
            x.out.nr_extents = 1;
            x.in.domid = x.out.domid = DOMID_SELF;
            xen_set_guest_handle(x.in.extent_start, HYPERVISOR_VIRT_START);
            CHECK_EQ(hyp_memory_op(XENMEM_exchange, &x), -EFAULT,
                     "exchange with an input list in the hypervisor hole -> -EFAULT");
            x.out.nr_extents = 2;
            CHECK_EQ(hyp_memory_op(XENMEM_exchange, &x), -EINVAL,
                     "exchange with mismatched sizes -> -EINVAL");
        }
        {
            /* add_to_physmap is for translated guests. */
            struct xen_add_to_physmap xatp;

            memset(&xatp, 0, sizeof(xatp));
            xatp.domid = DOMID_SELF;
            xatp.space = XENMAPSPACE_gmfn;
            CHECK_EQ(hyp_memory_op(XENMEM_add_to_physmap, &xatp), -EACCES,
                     "add_to_physmap on a PV domain -> -EACCES");
        }
    }
}
