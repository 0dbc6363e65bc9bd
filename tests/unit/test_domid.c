/* Choosing a new domain's id: Xen's createdomain rule (common/domid.c). */
#include "testlib.h"
#include "vesta/domid.h"
#include "vesta/errno.h"

static void use(uint64_t *used, domid_t id) { used[id / 64] |= 1UL << (id % 64); }

TEST(domid_explicit)
{
    uint64_t used[DOMID_BITMAP_WORDS] = {0};
    domid_t rover = 0, id = 0;
    use(used, 0);
    CHECK_EQ(domid_pick(used, &rover, 5, &id), 0);
    CHECK_EQ(id, 5);
    CHECK_EQ(rover, 0); /* asking for an id leaves the rover alone */
    use(used, 5);
    CHECK_EQ(domid_pick(used, &rover, 5, &id), -EEXIST);
    CHECK_EQ(domid_pick(used, &rover, 0, &id), -EEXIST);
    CHECK_EQ(domid_pick(used, &rover, DOMID_FIRST_RESERVED, &id), -EINVAL);
}

TEST(domid_rover_advances_and_skips_used)
{
    uint64_t used[DOMID_BITMAP_WORDS] = {0};
    domid_t rover = 0, id = 0;
    use(used, 0);
    use(used, 2);
    CHECK_EQ(domid_pick(used, &rover, DOMID_INVALID, &id), 0);
    CHECK_EQ(id, 1);
    use(used, id);
    CHECK_EQ(domid_pick(used, &rover, DOMID_INVALID, &id), 0);
    CHECK_EQ(id, 3); /* 2 is taken */
    /* A freed id is not reused at once: the rover goes on (Xen's behaviour, so ids differ between domains). */
    used[0] &= ~(1UL << 1);
    use(used, id);
    CHECK_EQ(domid_pick(used, &rover, DOMID_INVALID, &id), 0);
    CHECK_EQ(id, 4);
}

TEST(domid_wraps_past_reserved_to_one)
{
    uint64_t used[DOMID_BITMAP_WORDS] = {0};
    domid_t rover = DOMID_FIRST_RESERVED - 2, id = 0;
    use(used, 0);
    CHECK_EQ(domid_pick(used, &rover, DOMID_INVALID, &id), 0);
    CHECK_EQ(id, DOMID_FIRST_RESERVED - 1);
    use(used, id);
    CHECK_EQ(domid_pick(used, &rover, DOMID_INVALID, &id), 0);
    CHECK_EQ(id, 1); /* never 0, never a reserved id */
}

TEST(domid_full)
{
    uint64_t used[DOMID_BITMAP_WORDS];
    for (unsigned int i = 0; i < DOMID_BITMAP_WORDS; i++)
        used[i] = ~0UL;
    domid_t rover = 17, id = 0;
    CHECK_EQ(domid_pick(used, &rover, DOMID_INVALID, &id), -ENOMEM);
    CHECK_EQ(rover, 17);
    used[0] &= ~(1UL << 17); /* only the rover's own id is free: Xen does not hand it out either */
    CHECK_EQ(domid_pick(used, &rover, DOMID_INVALID, &id), -ENOMEM);
    used[0] &= ~(1UL << 16);
    CHECK_EQ(domid_pick(used, &rover, DOMID_INVALID, &id), 0);
    CHECK_EQ(id, 16);
}
