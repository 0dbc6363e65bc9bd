/*
 * grant: grant-table sizing and frames for a PV domain -- query_size,
 * setup_table, get_version/set_version, mapping the table, and errors.
 */
#include "guest.h"

static uint8_t table_window[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

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
}
