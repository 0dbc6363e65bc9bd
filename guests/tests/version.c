/*
 * version: every HYPERVISOR_xen_version sub-op as seen by a PV dom0,
 * including the error paths (bad buffers, bad sub-ops, bad arguments).
 */
#include "guest.h"

#define NONCANON ((void *)0x8000000000000000UL)
#define IN_HOLE  ((void *)HYPERVISOR_VIRT_START)

/* Expected XENVER_get_features submap 0 for a 64-bit PV hardware domain.
 * pae_pgdir_above_4gb is reported because our PAE_MODE note says "yes":
 * the ELF parser records that as PAE "extended cr3", the dom0 builder then
 * enables VMASST_TYPE_pae_extended_cr3, and get_features reflects it. */
#define PV_DOM0_FEATURES ((1U << XENFEAT_memory_op_vnode_supported) |      \
                          (1U << XENFEAT_pae_pgdir_above_4gb) |            \
                          (1U << XENFEAT_dom0) |                           \
                          (1U << XENFEAT_mmu_pt_update_preserve_ad) |      \
                          (1U << XENFEAT_highmem_assist) |                 \
                          (1U << XENFEAT_gnttab_map_avail_bits) |          \
                          (1U << XENFEAT_direct_mapped))

static union {
    xen_extraversion_t extra;
    xen_compile_info_t ci;
    xen_capabilities_info_t caps;
    xen_changeset_info_t cs;
    xen_commandline_t cmdline;
    xen_domain_handle_t handle;
    struct { uint32_t len; unsigned char buf[252]; } bid;
    char raw[2048];
} u;

void test_main(void)
{
    long rc;
    xen_platform_parameters_t pp;
    xen_feature_info_t fi;

    rc = hyp_xen_version(XENVER_version, NULL);
    printf("  version %ld.%ld\n", rc >> 16, rc & 0xffff);
    CHECK_EQ(rc, (4 << 16) | 17, "XENVER_version is 4.17");

    memset(&u, 0xa5, sizeof(u));
    rc = hyp_xen_version(XENVER_extraversion, u.extra);
    CHECK_EQ(rc, 0, "extraversion rc");
    CHECK(strnlen(u.extra, 16) < 16 && u.extra[0] == '.',
          "extraversion NUL terminated, starts with '.'");
    CHECK_EQ((unsigned char)u.raw[16], 0xa5, "extraversion writes only 16 bytes");
    printf("  extraversion '%s'\n", u.extra);

    memset(&u, 0xa5, sizeof(u));
    rc = hyp_xen_version(XENVER_compile_info, &u.ci);
    CHECK_EQ(rc, 0, "compile_info rc");
    CHECK(strnlen(u.ci.compiler, 64) < 64 && strnlen(u.ci.compile_by, 16) < 16 &&
          strnlen(u.ci.compile_domain, 32) < 32 &&
          strnlen(u.ci.compile_date, 32) < 32, "compile_info strings terminated");
    CHECK_EQ((unsigned char)u.raw[sizeof(xen_compile_info_t)], 0xa5,
             "compile_info writes only its struct");

    memset(&u, 0xa5, sizeof(u));
    rc = hyp_xen_version(XENVER_capabilities, u.caps);
    CHECK_EQ(rc, 0, "capabilities rc");
    CHECK(strnlen(u.caps, 1024) < 1024, "capabilities terminated");
    CHECK(strstr(u.caps, "xen-3.0-x86_64") == u.caps,
          "capabilities begins with xen-3.0-x86_64");
    CHECK_EQ(u.caps[1023], 0, "capabilities zero padded to 1024");
    printf("  capabilities '%s'\n", u.caps);

    memset(&u, 0xa5, sizeof(u));
    rc = hyp_xen_version(XENVER_changeset, u.cs);
    CHECK_EQ(rc, 0, "changeset rc");
    CHECK(strnlen(u.cs, 64) < 64, "changeset terminated");
    CHECK_EQ(u.cs[63], 0, "changeset zero padded to 64");

    memset(&pp, 0, sizeof(pp));
    rc = hyp_xen_version(XENVER_platform_parameters, &pp);
    CHECK_EQ(rc, 0, "platform_parameters rc");
    CHECK_EQ(pp.virt_start, 0xffff800000000000UL,
             "platform_parameters virt_start");

    fi.submap_idx = 0;
    fi.submap = 0xdeadbeef;
    rc = hyp_xen_version(XENVER_get_features, &fi);
    CHECK_EQ(rc, 0, "get_features(0) rc");
    printf("  features submap 0 = %#x\n", fi.submap);
    CHECK_EQ(fi.submap, PV_DOM0_FEATURES, "get_features(0) PV dom0 bits");
    CHECK(fi.submap & (1U << XENFEAT_pae_pgdir_above_4gb),
          "pae_pgdir_above_4gb reported (PAE_MODE note is yes)");
    CHECK(!(fi.submap & (1U << XENFEAT_auto_translated_physmap)) &&
          !(fi.submap & (1U << XENFEAT_writable_page_tables)),
          "PV: not translated, no writable page tables");
    fi.submap_idx = 1;
    fi.submap = 0x12345678;
    rc = hyp_xen_version(XENVER_get_features, &fi);
    CHECK_EQ(rc, -EINVAL, "get_features(1) -> -EINVAL");
    CHECK_EQ(fi.submap, 0x12345678, "get_features(1) leaves buffer alone");
    rc = hyp_xen_version(XENVER_get_features, (void *)0x1);
    CHECK_EQ(rc, -EFAULT, "get_features bad pointer -> -EFAULT");

    rc = hyp_xen_version(XENVER_pagesize, NULL);
    CHECK_EQ(rc, 4096, "pagesize(NULL) == 4096");
    rc = hyp_xen_version(XENVER_pagesize, &u);
    CHECK_EQ(rc, -EINVAL, "pagesize with non-null arg -> -EINVAL");

    memset(&u, 0xa5, sizeof(u));
    rc = hyp_xen_version(XENVER_guest_handle, u.handle);
    CHECK_EQ(rc, 0, "guest_handle rc");
    {
        bool zero = true;
        for ( int i = 0; i < 16; i++ )
            zero &= u.handle[i] == 0;
        CHECK(zero, "dom0 guest_handle is all zero");
    }
    CHECK_EQ((unsigned char)u.raw[16], 0xa5, "guest_handle writes 16 bytes");

    memset(&u, 0xa5, sizeof(u));
    rc = hyp_xen_version(XENVER_commandline, u.cmdline);
    CHECK_EQ(rc, 0, "commandline rc");
    CHECK(strnlen(u.cmdline, 1024) < 1024, "commandline terminated");
    CHECK(strstr(u.cmdline, "dom0_mem=64M") != NULL,
          "commandline holds the hypervisor command line");
    CHECK_EQ((unsigned char)u.raw[1024], 0xa5, "commandline writes 1024 bytes");
    printf("  commandline '%s'\n", u.cmdline);

    /* build_id: NULL asks for the size; then buffer-size handling. */
    rc = hyp_xen_version(XENVER_build_id, NULL);
    printf("  build_id size query -> %ld\n", rc);
    if ( rc == -ENODATA )
        CHECK(true, "build_id: no build id (-ENODATA)");
    else
    {
        long sz = rc;

        CHECK(sz > 0 && sz <= 252, "build_id size query returns a length");
        u.bid.len = 0;
        rc = hyp_xen_version(XENVER_build_id, &u.bid);
        CHECK_EQ(rc, -EINVAL, "build_id len 0 -> -EINVAL");
        u.bid.len = 1;
        rc = hyp_xen_version(XENVER_build_id, &u.bid);
        CHECK_EQ(rc, sz > 1 ? -ENOBUFS : sz, "build_id short buffer -> -ENOBUFS");
        memset(u.bid.buf, 0, sizeof(u.bid.buf));
        u.bid.len = sizeof(u.bid.buf);
        rc = hyp_xen_version(XENVER_build_id, &u.bid);
        CHECK_EQ(rc, sz, "build_id full buffer returns the length");
        CHECK_EQ(u.bid.len, sizeof(u.bid.buf), "build_id leaves len field alone");
    }

    /* Unknown sub-ops. */
    CHECK_EQ(hyp_xen_version(11, &u), -ENOSYS, "sub-op 11 -> -ENOSYS");
    CHECK_EQ(hyp_xen_version(0x7fffffff, &u), -ENOSYS, "sub-op 0x7fffffff -> -ENOSYS");
    CHECK_EQ(hyp_xen_version(-1, &u), -ENOSYS, "sub-op -1 -> -ENOSYS");

    /* Bad buffers for every op that copies out. */
    CHECK_EQ(hyp_xen_version(XENVER_extraversion, (void *)0x1), -EFAULT,
             "extraversion to 0x1 -> -EFAULT");
    CHECK_EQ(hyp_xen_version(XENVER_extraversion, NONCANON), -EFAULT,
             "extraversion to non-canonical -> -EFAULT");
    CHECK_EQ(hyp_xen_version(XENVER_compile_info, IN_HOLE), -EFAULT,
             "compile_info into hypervisor hole -> -EFAULT");
    CHECK_EQ(hyp_xen_version(XENVER_capabilities, (void *)0x1000), -EFAULT,
             "capabilities to unmapped page -> -EFAULT");
    CHECK_EQ(hyp_xen_version(XENVER_changeset, NONCANON), -EFAULT,
             "changeset to non-canonical -> -EFAULT");
    CHECK_EQ(hyp_xen_version(XENVER_platform_parameters, (void *)0x1), -EFAULT,
             "platform_parameters to 0x1 -> -EFAULT");
    CHECK_EQ(hyp_xen_version(XENVER_guest_handle, (void *)0x1), -EFAULT,
             "guest_handle to 0x1 -> -EFAULT");
    CHECK_EQ(hyp_xen_version(XENVER_commandline, (void *)0x1), -EFAULT,
             "commandline to 0x1 -> -EFAULT");
    /* A buffer that runs off the end of our image into unmapped space. */
    CHECK_EQ(hyp_xen_version(XENVER_capabilities,
                             (void *)(((uint64_t)image_end + (8UL << 20)) - 16)),
             -EFAULT, "capabilities straddling into unmapped space -> -EFAULT");
    /* Read-only destination: our own page tables. */
    CHECK_EQ(hyp_xen_version(XENVER_extraversion, (void *)start_info->pt_base),
             -EFAULT, "extraversion into read-only page table -> -EFAULT");
}
