/* The single-entry rules of PV page tables (vesta/pte_rules.h), each tried from the side a guest would use to
 * break it. */
#include "testlib.h"
#include "vesta/pte_rules.h"

#define FRAME 0x1234000UL

TEST(pte_superpages_refused_everywhere)
{
    for (unsigned int level = 2; level <= 4; level++)
        CHECK((FRAME | PTE_P | PTE_PSE) & ~pte_allowed(level, true));
    /* In an L1 entry bit 7 is PAT: a cache attribute, so only with I/O privilege. */
    CHECK((FRAME | PTE_P | PTE_PAT) & ~pte_allowed(1, false));
    CHECK(!((FRAME | PTE_P | PTE_PAT) & ~pte_allowed(1, true)));
}

TEST(pte_cache_attributes_need_io_privilege)
{
    uint64_t uc = FRAME | PTE_P | PTE_RW | PTE_PCD | PTE_PWT;
    CHECK(uc & ~pte_allowed(1, false));
    CHECK(!(uc & ~pte_allowed(1, true)));
    /* Never above L1, privileged or not. */
    for (unsigned int level = 2; level <= 4; level++)
        CHECK(uc & ~pte_allowed(level, true));
}

TEST(pte_global_only_in_l1)
{
    CHECK(!((FRAME | PTE_P | PTE_G) & ~pte_allowed(1, false)));
    for (unsigned int level = 2; level <= 4; level++)
        CHECK((FRAME | PTE_P | PTE_G) & ~pte_allowed(level, false));
}

TEST(pte_available_and_nx_bits_are_the_guests)
{
    uint64_t e = FRAME | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | PTE_AVAIL | PTE_AVAIL_HIGH | PTE_NX;
    for (unsigned int level = 1; level <= 4; level++)
        CHECK_EQ(e & ~pte_allowed(level, false), 0);
}

TEST(pte_adjust_kernel_mapping_gets_user_bit_and_loses_global)
{
    uint64_t k = pte_adjust(FRAME | PTE_P | PTE_RW | PTE_G, 1);
    CHECK(k & PTE_US);
    CHECK(k & PTE_GUEST_KERNEL);
    CHECK(!(k & PTE_G));
    /* A genuine user mapping keeps its global bit. */
    uint64_t u = pte_adjust(FRAME | PTE_P | PTE_US | PTE_G, 1);
    CHECK(u & PTE_G);
    CHECK(!(u & PTE_GUEST_KERNEL));
    /* The guest cannot sneak a global kernel mapping in by setting the marker itself. */
    uint64_t m = pte_adjust(FRAME | PTE_P | PTE_US | PTE_GUEST_KERNEL | PTE_G, 1);
    CHECK(!(m & PTE_G));
}

TEST(pte_adjust_upper_levels)
{
    CHECK(pte_adjust(FRAME | PTE_P, 2) & PTE_US);
    CHECK(pte_adjust(FRAME | PTE_P, 3) & PTE_US);
    uint64_t l4 = pte_adjust(FRAME | PTE_P, 4);
    CHECK((l4 & (PTE_US | PTE_A)) == (PTE_US | PTE_A));
    /* Not-present entries are left exactly as written. */
    CHECK_EQ(pte_adjust(0xdeadbeef000UL, 1), 0xdeadbeef000UL);
    CHECK_EQ(pte_adjust(0, 4), 0);
}

TEST(pte_fastpath_never_changes_frame_or_writability)
{
    uint64_t old = FRAME | PTE_P | PTE_A;
    CHECK(pte_fastpath(old, old | PTE_D | PTE_NX | PTE_AVAIL));
    CHECK(!pte_fastpath(old, old | PTE_RW));              /* write permission needs a writable type */
    CHECK(!pte_fastpath(old, (old + 0x1000) | PTE_A));   /* another frame */
    CHECK(!pte_fastpath(old, old | PTE_PCD));             /* caching */
    CHECK(!pte_fastpath(old, old & ~PTE_P));             /* removal drops references */
    CHECK(!pte_fastpath(old & ~PTE_P, old));             /* installing takes them */
}

TEST(pte_mmio_is_uncached_unless_chosen)
{
    uint64_t wb = FRAME | PTE_P;
    CHECK_EQ(pte_mmio_cache_flip(wb) & PTE_CACHE, PTE_PWT | PTE_PCD);
    CHECK_EQ(pte_mmio_cache_flip(wb | PTE_PWT) & PTE_CACHE, PTE_PWT | PTE_PCD);
    CHECK_EQ(pte_mmio_cache_flip(wb | PTE_PWT | PTE_PAT) & PTE_CACHE, PTE_PWT | PTE_PCD);
    CHECK_EQ(pte_mmio_cache_flip(wb | PTE_PCD) & PTE_CACHE, PTE_PCD);    /* UC-: already uncached */
    CHECK_EQ(pte_mmio_cache_flip(wb | PTE_PAT) & PTE_CACHE, PTE_PAT);   /* WC as the guest chose */
    CHECK_EQ(pte_mmio_cache_flip(wb) & PTE_FRAME, FRAME);
}

TEST(pte_hypervisor_l4_slots)
{
    CHECK(pte_guest_l4_slot(0));
    CHECK(pte_guest_l4_slot(255));
    for (unsigned int i = 256; i <= 271; i++)
        CHECK(!pte_guest_l4_slot(i));
    CHECK(pte_guest_l4_slot(272));
    CHECK(pte_guest_l4_slot(511));
}
