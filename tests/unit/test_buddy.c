/* Buddy allocator: splitting, coalescing, alignment, limits, error detection and a randomised shadow check. */
#include "testlib.h"
#include "vesta/buddy.h"
#include "vesta/errno.h"

#include <stdlib.h>

static struct frame *new_table(uint64_t n)
{
    struct frame *t = malloc(n * sizeof(*t));
    CHECK(t != NULL);
    return t;
}

/* Recomputes the free count from the lists and checks the per-frame markings agree with them. */
static bool consistent(const struct buddy *b)
{
    uint64_t total = 0;
    for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++) {
        uint64_t blocks = 0;
        for (uint32_t i = b->free[o].head; i != FRAME_NIL; i = b->table[i].next) {
            if (i & ((1u << o) - 1) || b->table[i].flags_or_order != o)
                return false;
            for (uint64_t k = 0; k < (1ULL << o); k++) {
                if (!(b->table[i + k].count_info & FRAME_C_FREE))
                    return false;
                if (k && b->table[i + k].flags_or_order != FRAME_ORDER_NONE)
                    return false;
            }
            blocks++;
        }
        if (blocks != b->free[o].count)
            return false;
        total += blocks << o;
    }
    return total == b->free_frames;
}

TEST(buddy_add_aligned_and_unaligned)
{
    struct buddy b;
    struct frame *t = new_table(1024);

    buddy_init(&b, t, 1024);
    CHECK_EQ(buddy_free_frames(&b), 0);
    CHECK_EQ(buddy_alloc(&b, 0), -1);

    /* [3, 29) -> 3, 4-7, 8-15, 16-23, 24-27, 28 */
    CHECK_EQ(buddy_add_range(&b, 3, 26), 26);
    CHECK_EQ(buddy_free_frames(&b), 26);
    CHECK_EQ(buddy_free_blocks(&b, 0), 2);
    CHECK_EQ(buddy_free_blocks(&b, 2), 2);
    CHECK_EQ(buddy_free_blocks(&b, 3), 2);
    CHECK(consistent(&b));

    /* Filling the holes coalesces up to one 32-frame block. */
    CHECK_EQ(buddy_add_range(&b, 0, 3), 3);
    CHECK_EQ(buddy_add_range(&b, 29, 3), 3);
    CHECK_EQ(buddy_free_blocks(&b, 5), 1);
    CHECK_EQ(buddy_free_blocks(&b, 0), 0);
    CHECK_EQ(buddy_free_frames(&b), 32);
    CHECK(consistent(&b));

    /* Re-adding free frames is a no-op; ranges are clipped to the table. */
    CHECK_EQ(buddy_add_range(&b, 0, 40), 8);
    CHECK_EQ(buddy_free_frames(&b), 40);
    CHECK_EQ(buddy_add_range(&b, 1000, 100), 24);
    CHECK_EQ(buddy_add_range(&b, 5000, 1), 0);
    CHECK_EQ(buddy_add_range(&b, 1023, UINT64_MAX), 0);
    CHECK(consistent(&b));
    free(t);
}

TEST(buddy_split_and_coalesce)
{
    struct buddy b;
    struct frame *t = new_table(64);

    buddy_init(&b, t, 64);
    buddy_add_range(&b, 0, 64);
    CHECK_EQ(buddy_free_blocks(&b, 6), 1);

    int64_t a = buddy_alloc(&b, 0);
    CHECK_EQ(a, 0);
    CHECK_EQ(buddy_free_frames(&b), 63);
    for (unsigned o = 0; o < 6; o++)
        CHECK_EQ(buddy_free_blocks(&b, o), 1); /* one buddy left over at each level */
    CHECK_EQ(t[0].count_info, 0);
    CHECK_EQ(t[0].owner, FRAME_OWNER_NONE);

    int64_t c = buddy_alloc(&b, 3);
    CHECK_EQ(c, 8);
    CHECK_EQ(c % 8, 0);
    CHECK(consistent(&b));

    CHECK_EQ(buddy_free(&b, (uint64_t)a, 0), 0);
    CHECK_EQ(buddy_free(&b, (uint64_t)c, 3), 0);
    CHECK_EQ(buddy_free_blocks(&b, 6), 1);
    CHECK_EQ(buddy_free_frames(&b), 64);
    CHECK(consistent(&b));
    free(t);
}

/* The heap keeps a TLB-clock stamp in a free frame's type_info: it must survive merging and splitting, and
 * frames never freed come back with 0. */
TEST(buddy_keeps_free_stamps)
{
    struct buddy b;
    struct frame *t = new_table(16);
    buddy_init(&b, t, 16);
    buddy_add_range(&b, 0, 16);
    int64_t a = buddy_alloc(&b, 2);
    CHECK_EQ(a, 0);
    for (unsigned i = 0; i < 4; i++)
        CHECK_EQ(t[i].type_info, 0);
    t[0].type_info = 7;
    t[1].type_info = 9;
    t[2].type_info = 0;
    t[3].type_info = 5;
    CHECK_EQ(buddy_free(&b, 0, 2), 0);
    CHECK_EQ(buddy_free_blocks(&b, 4), 1); /* merged back into one block */
    CHECK_EQ(buddy_alloc(&b, 0), 0);       /* split again: the single frame keeps its own stamp */
    CHECK_EQ(t[0].type_info, 7);
    CHECK_EQ(buddy_alloc(&b, 0), 1);
    CHECK_EQ(t[1].type_info, 9);
    CHECK_EQ(buddy_alloc(&b, 1), 2);
    CHECK_EQ(t[3].type_info, 5);
    CHECK(consistent(&b));
    free(t);
}

/* Scrubbing: the scrubber takes blocks not known to be zero (at most max_order at a time) until none is left;
 * frames freed back with FRAME_C_ZEROED form known-zero blocks, which allocations get first; per-frame flags come
 * back with the frames. */
TEST(buddy_scrub_cycle)
{
    struct buddy b;
    struct frame *t = new_table(64);
    buddy_init(&b, t, 64);
    buddy_add_range(&b, 0, 64);
    CHECK_EQ(buddy_dirty_frames(&b), 64); /* fresh memory: all of it to scrub */
    unsigned order = 99;
    uint64_t scrubbed = 0;
    int64_t m;
    while ((m = buddy_alloc_unzeroed(&b, 2, &order)) >= 0) {
        CHECK(order <= 2);
        for (uint64_t i = 0; i < (1ULL << order); i++) {
            CHECK_EQ(t[m + i].count_info, 0); /* never zeroed */
            t[m + i].count_info = FRAME_C_ZEROED;
        }
        CHECK_EQ(buddy_free(&b, (uint64_t)m, order), 0);
        scrubbed += 1ULL << order;
        CHECK(consistent(&b));
        if (scrubbed > 64)
            break; /* no progress: the loop must end after 64 frames */
    }
    CHECK_EQ(scrubbed, 64);
    CHECK_EQ(buddy_dirty_frames(&b), 0);
    CHECK_EQ(buddy_free_blocks(&b, 6), 1); /* all merged back */
    CHECK(t[0].count_info & FRAME_C_BLOCK_ZEROED);

    /* A dirty frame freed next to zeroed ones: the merged block is not known zero, but its frames keep their own
     * flags, and the scrubber finds it. */
    int64_t a = buddy_alloc(&b, 0);
    CHECK(a >= 0);
    CHECK_EQ(t[a].count_info, FRAME_C_ZEROED);
    CHECK_EQ(buddy_dirty_frames(&b), 0); /* an allocated frame is no longer counted either way */
    t[a].count_info = 0; /* used, then freed with unknown contents */
    CHECK_EQ(buddy_free(&b, (uint64_t)a, 0), 0);
    CHECK_EQ(buddy_dirty_frames(&b), 1);
    CHECK_EQ(buddy_free_blocks(&b, 6), 1);
    CHECK(!(t[0].count_info & FRAME_C_BLOCK_ZEROED));
    m = buddy_alloc_unzeroed(&b, 6, &order);
    CHECK_EQ(m, 0);
    CHECK_EQ(order, 6);
    CHECK_EQ(buddy_dirty_frames(&b), 0); /* taken by the scrubber */
    for (uint64_t i = 0; i < 64; i++)
        CHECK_EQ(t[i].count_info, (int64_t)i == a ? 0 : FRAME_C_ZEROED);
    CHECK_EQ(buddy_free(&b, 0, 6), 0);
    CHECK_EQ(buddy_dirty_frames(&b), 1);

    /* With a smaller batch, the scrubber is handed the part that holds the dirty frame, not the zeroed rest. */
    m = buddy_alloc_unzeroed(&b, 0, &order);
    CHECK_EQ(m, a);
    CHECK_EQ(order, 0);
    t[a].count_info = FRAME_C_ZEROED;
    CHECK_EQ(buddy_free(&b, (uint64_t)a, 0), 0);
    CHECK_EQ(buddy_dirty_frames(&b), 0);
    CHECK_EQ(buddy_alloc_unzeroed(&b, 0, &order), -1); /* the conservatively marked halves are found zero */
    CHECK_EQ(buddy_free_blocks(&b, 6), 1);
    CHECK(t[0].count_info & FRAME_C_BLOCK_ZEROED);
    CHECK(consistent(&b));
    free(t);
}

/* Known-zero blocks are listed before blocks that need scrubbing, so allocations take them first. */
TEST(buddy_prefers_zeroed_blocks)
{
    struct buddy b;
    struct frame *t = new_table(16);
    buddy_init(&b, t, 16);
    buddy_add_range(&b, 0, 16);
    int64_t lo = buddy_alloc(&b, 3), hi = buddy_alloc(&b, 3);
    CHECK(lo >= 0 && hi >= 0 && lo != hi);
    for (unsigned i = 0; i < 8; i++)
        t[hi + i].count_info = FRAME_C_ZEROED;
    CHECK_EQ(buddy_free(&b, (uint64_t)lo, 3), 0); /* dirty first... */
    CHECK_EQ(buddy_free(&b, (uint64_t)hi, 3), 0); /* ...then zeroed: they merge into one dirty block */
    CHECK_EQ(buddy_free_blocks(&b, 4), 1);
    int64_t x = buddy_alloc(&b, 3); /* splitting a dirty block: both halves listed as dirty */
    CHECK(x >= 0);
    for (unsigned i = 0; i < 8; i++)
        t[x + i].count_info = FRAME_C_ZEROED;
    CHECK_EQ(buddy_free(&b, (uint64_t)x, 3), 0);
    /* Now split again: take one order-3 block, zero it, return it unmerged by holding the other half. */
    int64_t p = buddy_alloc(&b, 3), q = buddy_alloc(&b, 3);
    CHECK(p >= 0 && q >= 0);
    for (unsigned i = 0; i < 8; i++)
        t[q + i].count_info = FRAME_C_ZEROED;
    t[p].count_info = 0;
    CHECK_EQ(buddy_free(&b, (uint64_t)q, 3), 0); /* zeroed, alone on the order-3 list */
    int64_t r = buddy_alloc(&b, 0);               /* comes from the zeroed block */
    CHECK(r >= q && r < q + 8);
    CHECK_EQ(t[r].count_info, FRAME_C_ZEROED);
    free(t);
}

TEST(buddy_exhaustion)
{
    struct buddy b;
    struct frame *t = new_table(16);

    buddy_init(&b, t, 16);
    buddy_add_range(&b, 0, 16);
    CHECK_EQ(buddy_alloc(&b, 5), -1); /* larger than everything */
    CHECK_EQ(buddy_alloc(&b, BUDDY_MAX_ORDER + 1), -1);
    for (int i = 0; i < 16; i++)
        CHECK(buddy_alloc(&b, 0) >= 0);
    CHECK_EQ(buddy_alloc(&b, 0), -1);
    CHECK_EQ(buddy_free_frames(&b), 0);
    free(t);
}

TEST(buddy_free_errors)
{
    struct buddy b;
    struct frame *t = new_table(64);

    buddy_init(&b, t, 64);
    buddy_add_range(&b, 0, 32);

    int64_t a = buddy_alloc(&b, 2);
    CHECK(a >= 0);
    CHECK_EQ(buddy_free(&b, (uint64_t)a + 1, 1), -EINVAL); /* misaligned */
    CHECK_EQ(buddy_free(&b, (uint64_t)a, BUDDY_MAX_ORDER + 1), -EINVAL);
    CHECK_EQ(buddy_free(&b, 64, 0), -EINVAL); /* past the end */
    CHECK_EQ(buddy_free(&b, 0, 7), -EINVAL); /* block runs past the end */
    CHECK_EQ(buddy_free(&b, 40, 0), -EINVAL); /* never given to the allocator */
    uint64_t before = buddy_free_frames(&b);
    CHECK_EQ(buddy_free(&b, (uint64_t)a, 2), 0);
    CHECK_EQ(buddy_free(&b, (uint64_t)a, 2), -EINVAL); /* double free */
    CHECK_EQ(buddy_free(&b, (uint64_t)a + 2, 0), -EINVAL); /* part of a free block */
    CHECK_EQ(buddy_free(&b, 0, 5), -EINVAL); /* covers free frames */
    CHECK_EQ(buddy_free_frames(&b), before + 4);
    CHECK(consistent(&b));
    free(t);
}

TEST(buddy_alloc_below)
{
    struct buddy b;
    struct frame *t = new_table(4096);

    buddy_init(&b, t, 4096);
    buddy_add_range(&b, 2048, 2048); /* one high block */
    CHECK_EQ(buddy_alloc_below(&b, 0, 2047), -1);
    buddy_add_range(&b, 256, 8); /* a small low block */
    CHECK_EQ(buddy_alloc_below(&b, 4, 2047), -1); /* the low block is too small */
    int64_t a = buddy_alloc_below(&b, 2, 2047);
    CHECK(a >= 256 && a + 3 <= 2047);
    /* Inclusive limit: a block ending exactly at max_mfn qualifies. */
    int64_t c = buddy_alloc_below(&b, 2, 263);
    CHECK_EQ(c, 260);
    CHECK_EQ(buddy_alloc_below(&b, 0, 2047), -1);
    /* A large block straddling the limit is split and its low end used. */
    int64_t d = buddy_alloc_below(&b, 0, 2048);
    CHECK_EQ(d, 2048);
    CHECK(consistent(&b));
    CHECK_EQ(buddy_alloc_below(&b, BUDDY_MAX_ORDER + 1, UINT64_MAX), -1);
    free(t);
}

TEST(buddy_max_order_blocks)
{
    uint64_t n = (1ULL << BUDDY_MAX_ORDER) * 2 + 5;
    struct buddy b;
    struct frame *t = new_table(n);

    buddy_init(&b, t, n);
    CHECK_EQ(buddy_add_range(&b, 0, n), n);
    CHECK_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 2); /* never coalesced beyond MAX_ORDER */
    int64_t a = buddy_alloc(&b, BUDDY_MAX_ORDER);
    CHECK(a == 0 || a == (int64_t)(1ULL << BUDDY_MAX_ORDER));
    CHECK_EQ(buddy_free(&b, (uint64_t)a, BUDDY_MAX_ORDER), 0);
    CHECK_EQ(buddy_free_blocks(&b, BUDDY_MAX_ORDER), 2);
    CHECK(consistent(&b));
    free(t);
}

TEST(buddy_randomised_against_shadow)
{
    enum { N = 4096, MAXLIVE = 512, ITER = 20000 };
    struct buddy b;
    struct frame *t = new_table(N);
    static bool used[N];
    static struct {
        uint64_t mfn;
        unsigned order;
    } live[MAXLIVE];
    unsigned nlive = 0;
    uint64_t seed = 0x5eed1234abcdULL, shadow_free;
    bool ok = true;

    memset(used, 0, sizeof(used));
    buddy_init(&b, t, N);
    /* Two ranges with a hole, unaligned ends. */
    buddy_add_range(&b, 1, 1500);
    buddy_add_range(&b, 1700, N - 1700 - 3);
    for (uint64_t i = 0; i < N; i++)
        used[i] = !((i >= 1 && i < 1501) || (i >= 1700 && i < N - 3));
    shadow_free = 1500 + (N - 1700 - 3);

    for (int it = 0; it < ITER && ok; it++) {
        uint64_t r = test_rand(&seed);
        if (nlive < MAXLIVE && (r & 3) != 0) {
            unsigned order = (unsigned)((r >> 8) % 7);
            int64_t m = (r >> 16) & 1 ? buddy_alloc(&b, order) : buddy_alloc_below(&b, order, (r >> 20) % N);
            if (m < 0)
                continue;
            if ((uint64_t)m & ((1ULL << order) - 1) || (uint64_t)m + (1ULL << order) > N)
                ok = false;
            for (uint64_t k = 0; ok && k < (1ULL << order); k++) {
                if (used[m + k])
                    ok = false; /* handed out twice */
                used[m + k] = true;
            }
            shadow_free -= 1ULL << order;
            live[nlive].mfn = (uint64_t)m;
            live[nlive].order = order;
            nlive++;
        } else if (nlive) {
            unsigned idx = (unsigned)((r >> 8) % nlive);
            if (buddy_free(&b, live[idx].mfn, live[idx].order) != 0)
                ok = false;
            for (uint64_t k = 0; k < (1ULL << live[idx].order); k++)
                used[live[idx].mfn + k] = false;
            shadow_free += 1ULL << live[idx].order;
            /* Double free must be caught. */
            if ((r & 0x30) == 0 && buddy_free(&b, live[idx].mfn, live[idx].order) != -EINVAL)
                ok = false;
            live[idx] = live[--nlive];
        }
        if (buddy_free_frames(&b) != shadow_free)
            ok = false;
        if (it % 1000 == 0 && !consistent(&b))
            ok = false;
    }
    CHECK(ok);
    CHECK(consistent(&b));

    /* Freeing everything must coalesce back to the same free total. */
    while (nlive) {
        nlive--;
        CHECK_EQ(buddy_free(&b, live[nlive].mfn, live[nlive].order), 0);
    }
    CHECK_EQ(buddy_free_frames(&b), 1500 + (N - 1700 - 3));
    CHECK(consistent(&b));
    free(t);
}
