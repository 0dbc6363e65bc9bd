/*
 * grant: grant-table sizing and frames for a PV domain -- query_size,
 * setup_table, get_version/set_version, mapping the table, and errors;
 * then grants to ourselves: map/unmap (linear address and PTE address,
 * read-only, device), the granter's flags, unmap_and_replace, copy,
 * swap_grant_ref, transfer, cache_flush, and their per-op statuses.
 */
#include "guest.h"

#define PAGE_ALIGNED __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")))
static uint8_t table_window[PAGE_SIZE] PAGE_ALIGNED;
static uint8_t page_a[PAGE_SIZE] PAGE_ALIGNED;
static uint8_t page_b[PAGE_SIZE] PAGE_ALIGNED;
static uint8_t page_c[PAGE_SIZE] PAGE_ALIGNED;
static uint8_t map_win[PAGE_SIZE] PAGE_ALIGNED;
static uint8_t map_win2[PAGE_SIZE] PAGE_ALIGNED;

static void test_grant_use(uint64_t frame0);

void test_main(void)
{
    struct gnttab_query_size qs;
    struct gnttab_setup_table st;
    struct gnttab_get_version gv;
    struct gnttab_set_version sv;
    xen_pfn_t frames[4];
    uint32_t max_frames;
    long rc;

    memset(&qs, 0, sizeof(qs));
    qs.dom = DOMID_SELF;
    rc = hyp_grant_table_op(GNTTABOP_query_size, &qs, 1);
    CHECK_EQ(rc, 0, "query_size rc");
    CHECK_EQ(qs.status, GNTST_okay, "query_size status okay");
    printf("  grant table: %u of max %u frames\n", qs.nr_frames, qs.max_nr_frames);
    CHECK(qs.nr_frames >= 1, "at least one frame in use");
    CHECK(qs.max_nr_frames >= qs.nr_frames, "max >= current");
    max_frames = qs.max_nr_frames;

    memset(&gv, 0, sizeof(gv));
    gv.dom = DOMID_SELF;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_get_version, &gv, 1), 0, "get_version rc");
    CHECK_EQ(gv.version, 1, "initial grant table version is 1");

    memset(&st, 0, sizeof(st));
    memset(frames, 0, sizeof(frames));
    st.dom = DOMID_SELF;
    st.nr_frames = 2;
    xen_set_guest_handle(st.frame_list, frames);
    rc = hyp_grant_table_op(GNTTABOP_setup_table, &st, 1);
    CHECK_EQ(rc, 0, "setup_table(2) rc");
    CHECK_EQ(st.status, GNTST_okay, "setup_table(2) status okay");
    CHECK(frames[0] != 0 && frames[1] != 0 && frames[0] != frames[1],
          "two distinct frames returned");
    CHECK_EQ(frames[2], 0, "no more frames written than asked");
    printf("  frames %#lx %#lx\n", (unsigned long)frames[0], (unsigned long)frames[1]);

    memset(&qs, 0, sizeof(qs));
    qs.dom = DOMID_SELF;
    hyp_grant_table_op(GNTTABOP_query_size, &qs, 1);
    CHECK_EQ(qs.nr_frames, 2, "query_size now reports 2 frames");

    /* The table frame can be mapped writable by its PV owner. */
    rc = hyp_update_va_mapping((uint64_t)table_window,
                               (frames[0] << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D,
                               UVMF_INVLPG);
    CHECK_EQ(rc, 0, "map grant frame 0 writable");
    if ( rc == 0 )
    {
        volatile grant_entry_v1_t *g = (volatile grant_entry_v1_t *)table_window;

        g[8].domid = 0;
        g[8].frame = (uint32_t)va_to_mfn(table_window);
        barrier();
        g[8].flags = 0;
        CHECK_EQ(g[8].domid, 0, "grant entry writable through mapping");
    }

    /* Same frame numbers on a second call. */
    {
        xen_pfn_t again[2] = { 0, 0 };
        st.nr_frames = 2;
        xen_set_guest_handle(st.frame_list, again);
        hyp_grant_table_op(GNTTABOP_setup_table, &st, 1);
        CHECK(again[0] == frames[0] && again[1] == frames[1],
              "setup_table is idempotent");
    }

    /* Errors are reported in status, with the hypercall returning 0. */
    st.nr_frames = max_frames + 1;
    xen_set_guest_handle(st.frame_list, frames);
    rc = hyp_grant_table_op(GNTTABOP_setup_table, &st, 1);
    CHECK_EQ(rc, 0, "setup_table(max+1) rc 0");
    CHECK_EQ(st.status, GNTST_general_error, "setup_table(max+1) -> GNTST_general_error");

    st.dom = 0x1234;
    st.nr_frames = 1;
    rc = hyp_grant_table_op(GNTTABOP_setup_table, &st, 1);
    CHECK_EQ(rc, 0, "setup_table bad domain rc 0");
    CHECK_EQ(st.status, GNTST_bad_domain, "setup_table bad domain -> GNTST_bad_domain");

    memset(&qs, 0, sizeof(qs));
    qs.dom = 0x1234;
    rc = hyp_grant_table_op(GNTTABOP_query_size, &qs, 1);
    CHECK_EQ(rc, 0, "query_size bad domain rc 0");
    CHECK_EQ(qs.status, GNTST_bad_domain, "query_size bad domain -> GNTST_bad_domain");

    st.dom = DOMID_SELF;
    st.nr_frames = 1;
    xen_set_guest_handle(st.frame_list, 0x1);
    rc = hyp_grant_table_op(GNTTABOP_setup_table, &st, 1);
    CHECK_EQ(rc, 0, "setup_table unwritable frame_list rc 0");
    CHECK_EQ(st.status, GNTST_bad_virt_addr, "setup_table unwritable frame_list -> bad_virt_addr");

    CHECK_EQ(hyp_grant_table_op(GNTTABOP_query_size, (void *)0x1, 1), -EFAULT,
             "query_size bad pointer -> -EFAULT");
    CHECK_EQ(hyp_grant_table_op(99, &qs, 1), -ENOSYS, "unknown grant op -> -ENOSYS");
    /* query_size insists on exactly one op; negative counts are refused. */
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_query_size, &qs, 0), -EINVAL,
             "query_size count 0 -> -EINVAL");
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_query_size, &qs, 2), -EINVAL,
             "query_size count 2 -> -EINVAL");
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 0x80000000u), -EINVAL,
             "negative (as int) count -> -EINVAL");

    /* Version switching (no grants active). */
    sv.version = 3;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_set_version, &sv, 1), -EINVAL,
             "set_version(3) -> -EINVAL");
    sv.version = 2;
    rc = hyp_grant_table_op(GNTTABOP_set_version, &sv, 1);
    CHECK_EQ(rc, 0, "set_version(2)");
    CHECK_EQ(sv.version, 2, "set_version reports 2");
    gv.dom = DOMID_SELF;
    hyp_grant_table_op(GNTTABOP_get_version, &gv, 1);
    CHECK_EQ(gv.version, 2, "get_version now 2");
    /* Version 2 has status frames; one still mapped blocks the way back
     * to version 1 (XSA-255). */
    {
        uint64_t sf[2] = { 0, 0 };
        struct gnttab_get_status_frames gsf;

        memset(&gsf, 0, sizeof(gsf));
        gsf.dom = DOMID_SELF;
        gsf.nr_frames = 1;
        xen_set_guest_handle(gsf.frame_list, sf);
        CHECK_EQ(hyp_grant_table_op(GNTTABOP_get_status_frames, &gsf, 1), 0,
                 "get_status_frames rc");
        CHECK_EQ(gsf.status, GNTST_okay, "get_status_frames status okay");
        CHECK(sf[0] != 0 && sf[1] == 0, "one status frame returned");
        gsf.nr_frames = 2;
        hyp_grant_table_op(GNTTABOP_get_status_frames, &gsf, 1);
        CHECK_EQ(gsf.status, GNTST_general_error,
                 "more status frames than exist -> general_error");
        rc = hyp_update_va_mapping((uint64_t)table_window,
                                   (sf[0] << PAGE_SHIFT) | PTE_P | PTE_A, UVMF_INVLPG);
        CHECK_EQ(rc, 0, "map the status frame read-only");
        sv.version = 1;
        CHECK_EQ(hyp_grant_table_op(GNTTABOP_set_version, &sv, 1), -EBUSY,
                 "set_version(1) with a status frame mapped -> -EBUSY");
        CHECK_EQ(sv.version, 2, "still version 2");
        CHECK_EQ(hyp_update_va_mapping((uint64_t)table_window, 0, UVMF_INVLPG), 0,
                 "unmap the status frame");
    }
    sv.version = 1;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_set_version, &sv, 1), 0, "set_version(1)");
    {
        struct gnttab_get_status_frames gsf;
        uint64_t sf = 0;

        memset(&gsf, 0, sizeof(gsf));
        gsf.dom = DOMID_SELF;
        gsf.nr_frames = 1;
        xen_set_guest_handle(gsf.frame_list, &sf);
        hyp_grant_table_op(GNTTABOP_get_status_frames, &gsf, 1);
        CHECK_EQ(gsf.status, GNTST_general_error, "no status frames in version 1");
    }
    CHECK_EQ(sv.version, 1, "back to version 1");

    test_grant_use(frames[0]);
}

/* ------------------------------------------------------------------ */
/* Grants to ourselves (domain 0 maps and copies its own grants).      */
/* ------------------------------------------------------------------ */

#define OWN_DOMID 0
#define PTE_GUEST_KERNEL (1UL << 52)

static volatile grant_entry_v1_t *gnt;

static void grant(unsigned int ref, domid_t domid, uint64_t mfn, uint16_t flags)
{
    gnt[ref].domid = domid;
    gnt[ref].frame = (uint32_t)mfn;
    barrier();
    gnt[ref].flags = flags;
}

static int16_t map_ref(unsigned int ref, domid_t dom, uint64_t host_addr, uint32_t flags,
                       grant_handle_t *handle, uint64_t *bus)
{
    struct gnttab_map_grant_ref op;
    long rc;

    memset(&op, 0, sizeof(op));
    op.host_addr = host_addr;
    op.flags = flags;
    op.ref = ref;
    op.dom = dom;
    op.handle = 0xdead;
    rc = hyp_grant_table_op(GNTTABOP_map_grant_ref, &op, 1);
    if ( rc )
        return (int16_t)-100;          /* shows up as a status mismatch */
    if ( handle )
        *handle = op.handle;
    if ( bus )
        *bus = op.dev_bus_addr;
    return op.status;
}

static int16_t unmap_ref(uint64_t host_addr, uint64_t bus, grant_handle_t handle)
{
    struct gnttab_unmap_grant_ref op;

    memset(&op, 0, sizeof(op));
    op.host_addr = host_addr;
    op.dev_bus_addr = bus;
    op.handle = handle;
    if ( hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &op, 1) )
        return (int16_t)-100;
    return op.status;
}

static uint64_t pte_of(const void *va)
{
    uint64_t *e;

    return pte_lookup((uint64_t)va, NULL, &e) ? *e : ~0UL;
}

/* Puts a page of our bootstrap mapping back after a grant replaced it. */
static void restore(void *va)
{
    CHECK_EQ(hyp_update_va_mapping((uint64_t)va,
                                   (va_to_mfn(va) << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D,
                                   UVMF_INVLPG), 0, "restore the original mapping");
}

static int16_t copy_op(struct gnttab_copy *op)
{
    if ( hyp_grant_table_op(GNTTABOP_copy, op, 1) )
        return (int16_t)-100;
    return op->status;
}

static void test_map_unmap(uint64_t mfn_a)
{
    grant_handle_t h1 = 0, h2 = 0, h3 = 0;
    uint64_t bus = 0, pte, l1e_maddr;
    int16_t st;

    memset(page_a, 0x5a, PAGE_SIZE);
    grant(10, OWN_DOMID, mfn_a, GTF_permit_access);
    /* Xen does not flush the TLB entry a grant mapping replaces (guests map grants into empty slots): start
     * from empty slots here too. */
    CHECK_EQ(hyp_update_va_mapping((uint64_t)map_win, 0, UVMF_INVLPG), 0, "empty map_win");
    CHECK_EQ(hyp_update_va_mapping((uint64_t)map_win2, 0, UVMF_INVLPG), 0, "empty map_win2");

    /* Writable host mapping at a linear address we already map. */
    st = map_ref(10, OWN_DOMID, (uint64_t)map_win, GNTMAP_host_map, &h1, &bus);
    CHECK_EQ(st, GNTST_okay, "map own grant writable");
    CHECK_EQ(h1, 0, "first maptrack handle is 0");
    CHECK_EQ(bus, mfn_a << PAGE_SHIFT, "dev_bus_addr is the frame's machine address");
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_reading | GTF_writing,
             "granter sees reading|writing");
    pte = pte_of(map_win);
    CHECK_EQ(pte & PTE_ADDR_MASK, mfn_a << PAGE_SHIFT, "grant PTE maps the granted frame");
    CHECK_EQ(pte & ~PTE_ADDR_MASK, PTE_NX | PTE_GUEST_KERNEL | PTE_D | PTE_A | PTE_US | PTE_RW | PTE_P,
             "grant PTE flags (no marker bit in a release build)");
    CHECK_EQ(((volatile uint8_t *)map_win)[100], 0x5a, "mapping shows the granted page");
    ((volatile uint8_t *)map_win)[200] = 0xa5;
    barrier();                            /* page_a and map_win alias only at run time */
    CHECK_EQ(((volatile uint8_t *)page_a)[200], 0xa5, "writes through the mapping reach the page");

    /* A second, read-only mapping of the same grant, through its PTE's machine address. */
    CHECK(pte_lookup((uint64_t)map_win2, &l1e_maddr, NULL), "find the L1 entry of map_win2");
    CHECK_EQ(map_ref(10, OWN_DOMID, l1e_maddr + 2, GNTMAP_host_map | GNTMAP_contains_pte | GNTMAP_readonly,
                     NULL, NULL), GNTST_general_error, "misaligned PTE address -> general_error");
    st = map_ref(10, OWN_DOMID, l1e_maddr, GNTMAP_host_map | GNTMAP_contains_pte | GNTMAP_readonly, &h2, NULL);
    CHECK_EQ(st, GNTST_okay, "map own grant read-only by PTE address");
    CHECK_EQ(h2, 2, "second handle is 2 (the failed map's handle went to the free list's tail)");
    pte = pte_of(map_win2);
    CHECK_EQ(pte & (PTE_P | PTE_RW), PTE_P, "read-only grant PTE");
    CHECK_EQ(((volatile uint8_t *)map_win2)[200], 0xa5, "read-only mapping shows the page");

    /* A device-only mapping: no PTE, just the bus address. */
    st = map_ref(10, OWN_DOMID, 0, GNTMAP_device_map, &h3, &bus);
    CHECK_EQ(st, GNTST_okay, "device-only map");
    CHECK_EQ(bus, mfn_a << PAGE_SHIFT, "device map reports the bus address");

    /* Errors, per op status. */
    CHECK_EQ(map_ref(10, OWN_DOMID, (uint64_t)map_win, 0, NULL, NULL), GNTST_bad_gntref,
             "map without host/device flag -> bad_gntref");
    CHECK_EQ(map_ref(10, DOMID_SELF, (uint64_t)map_win, GNTMAP_host_map, NULL, NULL), GNTST_bad_domain,
             "map from DOMID_SELF -> bad_domain (only real ids)");
    CHECK_EQ(map_ref(10, 0x1234, (uint64_t)map_win, GNTMAP_host_map, NULL, NULL), GNTST_bad_domain,
             "map from unknown domain -> bad_domain");
    CHECK_EQ(map_ref(100000, OWN_DOMID, (uint64_t)map_win, GNTMAP_host_map, NULL, NULL), GNTST_bad_gntref,
             "map ref beyond the table -> bad_gntref");
    grant(11, OWN_DOMID, mfn_a, GTF_invalid);
    CHECK_EQ(map_ref(11, OWN_DOMID, (uint64_t)page_c, GNTMAP_host_map, NULL, NULL), GNTST_general_error,
             "map an invalid entry -> general_error");
    grant(12, 7, mfn_a, GTF_permit_access);
    CHECK_EQ(map_ref(12, OWN_DOMID, (uint64_t)page_c, GNTMAP_host_map, NULL, NULL), GNTST_general_error,
             "map an entry granted to another domain -> general_error");
    CHECK_EQ(gnt[12].flags, GTF_permit_access, "refused entry's flags untouched");
    grant(13, OWN_DOMID, mfn_a, GTF_permit_access | GTF_readonly);
    CHECK_EQ(map_ref(13, OWN_DOMID, (uint64_t)page_c, GNTMAP_host_map, NULL, NULL), GNTST_general_error,
             "writable map of a read-only grant -> general_error");
    CHECK_EQ(gnt[13].flags, GTF_permit_access | GTF_readonly, "read-only grant not marked in use");
    grant(14, OWN_DOMID, 0xfffffff0UL, GTF_permit_access);
    CHECK_EQ(map_ref(14, OWN_DOMID, (uint64_t)page_c, GNTMAP_host_map | GNTMAP_readonly, NULL, NULL),
             GNTST_bad_page, "grant of a frame we do not own -> bad_page");
    CHECK_EQ(gnt[14].flags, GTF_permit_access, "failed pin leaves no reading flag behind");
    CHECK_EQ(map_ref(10, OWN_DOMID, 0x00007f0000000000UL, GNTMAP_host_map, NULL, NULL), GNTST_general_error,
             "host address without page table -> general_error");
    CHECK_EQ(map_ref(10, OWN_DOMID, 0xffff800000000000UL, GNTMAP_host_map, NULL, NULL), GNTST_general_error,
             "host address in the hypervisor hole -> general_error");
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_reading | GTF_writing, "pins unchanged by the failures");

    /* In-use entries block the version switch and swapping. */
    {
        struct gnttab_set_version sv = { .version = 2 };
        struct gnttab_swap_grant_ref sw;

        CHECK_EQ(hyp_grant_table_op(GNTTABOP_set_version, &sv, 1), -EBUSY,
                 "set_version with a grant mapped -> -EBUSY");
        CHECK_EQ(sv.version, 1, "still version 1");
        sw.ref_a = 10;
        sw.ref_b = 12;
        sw.status = 1;
        CHECK_EQ(hyp_grant_table_op(GNTTABOP_swap_grant_ref, &sw, 1), 0, "swap rc");
        CHECK_EQ(sw.status, GNTST_eagain, "swap a mapped entry -> eagain");
        sw.ref_a = 12;
        sw.ref_b = 100000;
        hyp_grant_table_op(GNTTABOP_swap_grant_ref, &sw, 1);
        CHECK_EQ(sw.status, GNTST_bad_gntref, "swap with a ref beyond the table -> bad_gntref");
        sw.ref_a = 12;
        sw.ref_b = 13;
        hyp_grant_table_op(GNTTABOP_swap_grant_ref, &sw, 1);
        CHECK_EQ(sw.status, GNTST_okay, "swap two unused entries");
        CHECK(gnt[12].domid == OWN_DOMID && (gnt[12].flags & GTF_readonly) && gnt[13].domid == 7,
              "swapped entries exchanged their contents");
        sw.ref_a = sw.ref_b = 10;
        hyp_grant_table_op(GNTTABOP_swap_grant_ref, &sw, 1);
        CHECK_EQ(sw.status, GNTST_okay, "swapping an entry with itself is a no-op");
    }

    /* Unmapping. */
    CHECK_EQ(unmap_ref(0, 0, 0x7fff), GNTST_bad_handle, "unmap unknown handle -> bad_handle");
    CHECK_EQ(unmap_ref((uint64_t)page_c, 0, h1), GNTST_general_error,
             "unmap at an address that does not map the grant -> general_error");
    CHECK_EQ(unmap_ref(0, (mfn_a + 1) << PAGE_SHIFT, h3), GNTST_bad_dev_addr,
             "unmap device mapping with the wrong bus address -> bad_dev_addr");
    CHECK_EQ(unmap_ref(0, mfn_a << PAGE_SHIFT, h3), GNTST_okay, "unmap the device mapping");
    CHECK_EQ(unmap_ref(0, mfn_a << PAGE_SHIFT, h3), GNTST_bad_handle, "handle is gone after its unmap");
    CHECK_EQ(unmap_ref((uint64_t)map_win, 0, h1), GNTST_okay, "unmap the writable mapping");
    CHECK_EQ(pte_of(map_win), 0, "the PTE is cleared");
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_reading, "only the read-only pin remains");
    CHECK_EQ(unmap_ref(l1e_maddr, 0, h2), GNTST_okay, "unmap the read-only mapping by PTE address");
    CHECK_EQ(gnt[10].flags, GTF_permit_access, "granter sees the grant unused again");
    restore(map_win2);

    /* Handles come back at the tail of the free list: the next map gets a new one. */
    st = map_ref(10, OWN_DOMID, (uint64_t)map_win, GNTMAP_host_map | GNTMAP_readonly, &h1, NULL);
    CHECK_EQ(st, GNTST_okay, "map again");
    CHECK_EQ(h1, 11, "freed handles are reused last");

    /* unmap_and_replace: the mapping at map_win gives way to the one that was at map_win2. */
    page_b[0] = 0x77;
    CHECK_EQ(hyp_update_va_mapping((uint64_t)map_win2,
                                   (va_to_mfn(page_b) << PAGE_SHIFT) | PTE_P | PTE_A, UVMF_INVLPG), 0,
             "map page_b at map_win2");
    {
        struct gnttab_unmap_and_replace ur;

        memset(&ur, 0, sizeof(ur));
        ur.host_addr = (uint64_t)map_win;
        ur.new_addr = (uint64_t)map_win2;
        ur.handle = h1;
        CHECK_EQ(hyp_grant_table_op(GNTTABOP_unmap_and_replace, &ur, 1), 0, "unmap_and_replace rc");
        CHECK_EQ(ur.status, GNTST_okay, "unmap_and_replace status");
        CHECK_EQ(pte_of(map_win2), 0, "the stolen PTE is gone from new_addr");
        CHECK_EQ(pte_of(map_win) & PTE_ADDR_MASK, va_to_mfn(page_b) << PAGE_SHIFT,
                 "host_addr now holds the stolen PTE");
        CHECK_EQ(((volatile uint8_t *)map_win)[0], 0x77, "and maps page_b");
        CHECK_EQ(gnt[10].flags, GTF_permit_access, "grant released");
        CHECK_EQ(hyp_grant_table_op(GNTTABOP_unmap_and_replace, &ur, 1), 0, "second unmap_and_replace rc");
        CHECK_EQ(ur.status, GNTST_bad_handle, "second unmap_and_replace -> bad_handle");
    }
    restore(map_win);
    restore(map_win2);
}

static void test_copy(uint64_t mfn_a)
{
    struct gnttab_copy op;
    uint64_t mfn_b = va_to_mfn(page_b);

    memset(page_a, 0x11, PAGE_SIZE);
    memset(page_b, 0, PAGE_SIZE);
    grant(10, OWN_DOMID, mfn_a, GTF_permit_access);
    grant(13, OWN_DOMID, mfn_b, GTF_permit_access | GTF_readonly);

    /* Frame to frame, both our own. */
    memset(&op, 0, sizeof(op));
    op.source.domid = DOMID_SELF;
    op.source.u.gmfn = mfn_a;
    op.source.offset = 16;
    op.dest.domid = DOMID_SELF;
    op.dest.u.gmfn = mfn_b;
    op.dest.offset = 32;
    op.len = 64;
    CHECK_EQ(copy_op(&op), GNTST_okay, "copy gmfn -> gmfn");
    CHECK(page_b[32] == 0x11 && page_b[95] == 0x11 && page_b[31] == 0 && page_b[96] == 0,
          "exactly the requested bytes copied");

    /* From a grant reference (ours, by domain id). */
    memset(page_a, 0x22, PAGE_SIZE);
    op.flags = GNTCOPY_source_gref;
    op.source.domid = OWN_DOMID;
    op.source.u.ref = 10;
    CHECK_EQ(copy_op(&op), GNTST_okay, "copy gref -> gmfn");
    CHECK_EQ(page_b[40], 0x22, "copied from the granted page");
    CHECK_EQ(gnt[10].flags, GTF_permit_access, "copy leaves no pin behind");

    /* Into a read-only grant. */
    op.flags = GNTCOPY_dest_gref;
    op.source.domid = DOMID_SELF;
    op.source.u.gmfn = mfn_a;
    op.dest.domid = OWN_DOMID;
    op.dest.u.ref = 13;
    CHECK_EQ(copy_op(&op), GNTST_general_error, "copy into a read-only grant -> general_error");
    CHECK_EQ(gnt[13].flags, GTF_permit_access | GTF_readonly, "refused destination not marked in use");

    /* gref -> gref. */
    grant(13, OWN_DOMID, mfn_b, GTF_permit_access);
    op.flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    op.source.domid = OWN_DOMID;
    op.source.u.ref = 10;
    memset(page_a, 0x33, PAGE_SIZE);
    CHECK_EQ(copy_op(&op), GNTST_okay, "copy gref -> gref");
    CHECK_EQ(page_b[33], 0x33, "copied between grants");

    /* Errors. */
    op.flags = 0;
    op.source.domid = OWN_DOMID;          /* a frame named for a domain other than DOMID_SELF */
    op.source.u.gmfn = mfn_a;
    op.dest.domid = DOMID_SELF;
    op.dest.u.gmfn = mfn_b;
    CHECK_EQ(copy_op(&op), GNTST_permission_denied, "copy by frame with a domain id -> permission_denied");
    op.flags = GNTCOPY_source_gref;
    op.source.domid = 0x1234;
    op.source.u.ref = 10;
    CHECK_EQ(copy_op(&op), GNTST_bad_domain, "copy from unknown domain -> bad_domain");
    op.source.domid = OWN_DOMID;
    op.source.u.ref = 100000;
    CHECK_EQ(copy_op(&op), GNTST_bad_gntref, "copy from ref beyond the table -> bad_gntref");
    grant(16, 7, mfn_a, GTF_permit_access);
    op.source.u.ref = 16;
    CHECK_EQ(copy_op(&op), GNTST_general_error, "copy from a grant to someone else -> general_error");
    op.flags = 0;
    op.source.domid = DOMID_SELF;
    op.source.u.gmfn = 0xfffffff0UL;
    CHECK_EQ(copy_op(&op), GNTST_bad_page, "copy from a frame we do not own -> bad_page");
    op.source.u.gmfn = mfn_a;
    op.source.offset = PAGE_SIZE - 8;
    op.len = 16;
    CHECK_EQ(copy_op(&op), GNTST_bad_copy_arg, "copy across the page end -> bad_copy_arg");
    op.source.offset = 0;
    op.dest.offset = PAGE_SIZE - 4;
    CHECK_EQ(copy_op(&op), GNTST_bad_copy_arg, "copy across the destination page end -> bad_copy_arg");

    /* A batch: statuses per op, the call itself succeeds. */
    {
        struct gnttab_copy ops[2];

        memset(ops, 0, sizeof(ops));
        ops[0].source.domid = ops[0].dest.domid = DOMID_SELF;
        ops[0].source.u.gmfn = mfn_a;
        ops[0].dest.u.gmfn = mfn_b;
        ops[0].len = 8;
        ops[1] = ops[0];
        ops[1].len = PAGE_SIZE + 1;
        ops[0].status = ops[1].status = 99;
        CHECK_EQ(hyp_grant_table_op(GNTTABOP_copy, ops, 2), 0, "copy batch rc");
        CHECK(ops[0].status == GNTST_okay && ops[1].status == GNTST_bad_copy_arg, "per-op copy statuses");
    }
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_copy, (void *)0xffff800000000000UL, 1), -EFAULT,
             "copy array in the hypervisor hole -> -EFAULT");
}

static void test_transfer_and_flush(uint64_t mfn_a)
{
    struct gnttab_transfer tr;
    struct gnttab_cache_flush cf;
    uint64_t mfn_c = va_to_mfn(page_c);

    /* Transfer refusals that keep the page: not ours / still mapped. */
    memset(&tr, 0, sizeof(tr));
    tr.mfn = ~0UL;
    tr.domid = OWN_DOMID;
    tr.ref = 15;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_transfer, &tr, 1), 0, "transfer rc");
    CHECK_EQ(tr.status, GNTST_bad_page, "transfer of an invalid frame -> bad_page");
    tr.mfn = mfn_a;                       /* still mapped at page_a */
    hyp_grant_table_op(GNTTABOP_transfer, &tr, 1);
    CHECK_EQ(tr.status, GNTST_bad_page, "transfer of a mapped page -> bad_page");

    /* Transfer a page to ourselves through an entry that accepts it. */
    grant(15, OWN_DOMID, 0x4321, GTF_accept_transfer);
    CHECK_EQ(hyp_update_va_mapping((uint64_t)page_c, 0, UVMF_INVLPG), 0, "unmap page_c");
    tr.mfn = mfn_c;
    hyp_grant_table_op(GNTTABOP_transfer, &tr, 1);
    CHECK_EQ(tr.status, GNTST_okay, "transfer to ourselves");
    CHECK_EQ(gnt[15].flags, GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed,
             "entry marked committed and completed");
    CHECK_EQ(gnt[15].frame, mfn_c, "entry names the transferred frame");
    CHECK_EQ(M2P[mfn_c], 0x4321, "M2P follows the entry's frame number");
    CHECK_EQ(hyp_update_va_mapping((uint64_t)page_c, (mfn_c << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D,
                                   UVMF_INVLPG), 0, "the page is ours again: map it");
    {
        struct mmu_update mu = { .ptr = (mfn_c << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, .val = va_to_pfn(page_c) };

        CHECK_EQ(hyp_mmu_update(&mu, 1, NULL, DOMID_SELF), 0, "restore its M2P entry");
    }

    /* cache_flush: clean works on x86, invalidate alone does not exist. */
    memset(&cf, 0, sizeof(cf));
    cf.a.dev_bus_addr = mfn_a << PAGE_SHIFT;
    cf.length = 64;
    cf.op = GNTTAB_CACHE_CLEAN;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_cache_flush, &cf, 1), 0, "cache_flush clean of our page");
    cf.op = GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_cache_flush, &cf, 1), 0, "cache_flush clean+inval");
    cf.op = GNTTAB_CACHE_INVAL;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_cache_flush, &cf, 1), -EOPNOTSUPP,
             "cache_flush invalidate only -> -EOPNOTSUPP");
    cf.op = GNTTAB_CACHE_CLEAN | 4;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_cache_flush, &cf, 1), -EINVAL, "cache_flush unknown op bit -> -EINVAL");
    cf.op = GNTTAB_CACHE_CLEAN;
    cf.offset = 4090;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_cache_flush, &cf, 1), -EINVAL, "cache_flush past the page -> -EINVAL");
    cf.offset = 0;
    cf.length = 0;
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_cache_flush, &cf, 1), 0, "cache_flush of nothing");
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_cache_flush | (1 << 12), &cf, 1), -EILSEQ,
             "cache_flush of nothing with continuation bits -> -EILSEQ");
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_copy | (1 << 12), &cf, 0), -EINVAL,
             "continuation bits on another op -> -EINVAL");
    CHECK_EQ(hyp_grant_table_op(GNTTABOP_dump_table, &cf, 1), -ENOSYS, "dump_table -> -ENOSYS");
}

static void test_grant_use(uint64_t frame0)
{
    long rc;

    rc = hyp_update_va_mapping((uint64_t)table_window,
                               (frame0 << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D, UVMF_INVLPG);
    CHECK_EQ(rc, 0, "map grant frame 0 again");
    if ( rc )
        return;
    gnt = (volatile grant_entry_v1_t *)table_window;
    test_map_unmap(va_to_mfn(page_a));
    test_copy(va_to_mfn(page_a));
    test_transfer_and_flush(va_to_mfn(page_a));
}
