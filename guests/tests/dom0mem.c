/*
 * dom0mem: dom0's memory limits.  Without dom0_mem=max: (the harness passes
 * dom0_mem=64M), Xen lets dom0 grow to UINT_MAX pages: its maximum
 * reservation says so, and it can balloon up beyond the pages it was built
 * with (and back down).
 */
#include "guest.h"

static long reservation(int op)
{
    domid_t d = DOMID_SELF;

    return hyp_memory_op(op, &d);
}

static long one_extent(int op, xen_pfn_t *ext)
{
    struct xen_memory_reservation r;

    memset(&r, 0, sizeof(r));
    xen_set_guest_handle(r.extent_start, ext);
    r.nr_extents = 1;
    r.domid = DOMID_SELF;
    return hyp_memory_op(op, &r);
}

void test_main(void)
{
    long cur = reservation(XENMEM_current_reservation);
    xen_pfn_t ext[4] = { 0, 0, 0, 0 };
    unsigned int i;

    CHECK_EQ(cur, (long)start_info->nr_pages, "current reservation = the pages dom0 was built with");
    CHECK_EQ(reservation(XENMEM_maximum_reservation), 0xffffffffL,
             "maximum reservation is UINT_MAX without dom0_mem=max:");

    /* Balloon up by a few pages beyond the initial allocation, then give them back. */
    for ( i = 0; i < 4; i++ )
        CHECK_EQ(one_extent(XENMEM_increase_reservation, &ext[i]), 1, "increase_reservation past the initial size");
    CHECK_EQ(reservation(XENMEM_current_reservation), cur + 4, "reservation grew by 4 pages");
    for ( i = 0; i < 4; i++ )
        CHECK_EQ(one_extent(XENMEM_decrease_reservation, &ext[i]), 1, "decrease_reservation gives it back");
    CHECK_EQ(reservation(XENMEM_current_reservation), cur, "back to the initial size");
}
