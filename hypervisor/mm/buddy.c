/* Binary buddy allocator over the frame table. See vesta/buddy.h for the representation. */
#include "vesta/buddy.h"
#include "vesta/errno.h"

void buddy_init(struct buddy *b, struct frame *table, uint64_t nr_frames)
{
    frame_table_init(table, nr_frames);
    b->table = table;
    b->nr_frames = nr_frames > FRAME_NIL ? FRAME_NIL : nr_frames;
    b->free_frames = 0;
    b->dirty_frames = 0;
    for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++)
        frame_list_init(&b->free[o]);
}

static bool is_free_head(const struct buddy *b, uint64_t mfn, unsigned order)
{
    const struct frame *f = &b->table[mfn];
    return (f->count_info & FRAME_C_FREE) && f->flags_or_order == order;
}

/* Marks a block free, keeping each frame's ZEROED flag; returns whether all of them have it. */
static bool mark_free(struct buddy *b, uint64_t mfn, unsigned order)
{
    uint64_t n = 1ULL << order;
    bool zeroed = true;
    for (uint64_t i = 0; i < n; i++) {
        struct frame *f = &b->table[mfn + i];
        uint64_t z = f->count_info & FRAME_C_ZEROED;
        zeroed = zeroed && z;
        b->dirty_frames += !z;
        f->count_info = FRAME_C_FREE | z; /* type_info: the caller's stamp, kept (buddy.h) */
        f->owner = FRAME_OWNER_NONE;
        f->flags_or_order = FRAME_ORDER_NONE;
    }
    return zeroed;
}

static void mark_allocated(struct buddy *b, uint64_t mfn, unsigned order)
{
    uint64_t n = 1ULL << order;
    for (uint64_t i = 0; i < n; i++) {
        struct frame *f = &b->table[mfn + i];
        b->dirty_frames -= !(f->count_info & FRAME_C_ZEROED);
        f->count_info &= FRAME_C_ZEROED; /* type_info: the stamp from the free, for the caller to read (buddy.h) */
        f->owner = FRAME_OWNER_NONE;
        f->flags_or_order = 0;
    }
}

/* Puts a free block's head on its list: known-zero blocks first, so that allocations find them before blocks
 * that still need scrubbing, which wait at the tail for buddy_alloc_unzeroed(). */
static void list_block(struct buddy *b, uint64_t mfn, unsigned order, bool zeroed)
{
    struct frame *head = &b->table[mfn];
    head->flags_or_order = order;
    if (zeroed) {
        head->count_info |= FRAME_C_BLOCK_ZEROED;
        frame_list_add_head(b->table, &b->free[order], (uint32_t)mfn);
    } else {
        head->count_info &= ~FRAME_C_BLOCK_ZEROED;
        frame_list_add_tail(b->table, &b->free[order], (uint32_t)mfn);
    }
}

/* Inserts an already-marked free block, merging it with its buddy for as long as the buddy is free and whole. */
static void insert_block(struct buddy *b, uint64_t mfn, unsigned order, bool zeroed)
{
    b->free_frames += 1ULL << order;
    while (order < BUDDY_MAX_ORDER) {
        uint64_t buddy = mfn ^ (1ULL << order);
        if (buddy + (1ULL << order) > b->nr_frames || !is_free_head(b, buddy, order))
            break;
        frame_list_remove(b->table, &b->free[order], (uint32_t)buddy);
        zeroed = zeroed && (b->table[buddy].count_info & FRAME_C_BLOCK_ZEROED);
        b->table[buddy].count_info &= ~FRAME_C_BLOCK_ZEROED;
        b->table[mfn].count_info &= ~FRAME_C_BLOCK_ZEROED;
        b->table[buddy].flags_or_order = FRAME_ORDER_NONE;
        b->table[mfn].flags_or_order = FRAME_ORDER_NONE;
        if (buddy < mfn)
            mfn = buddy;
        order++;
    }
    list_block(b, mfn, order, zeroed);
}

static unsigned largest_order(uint64_t mfn, uint64_t count)
{
    unsigned order = 0;
    while (order < BUDDY_MAX_ORDER && !(mfn & (1ULL << order)) && (2ULL << order) <= count)
        order++;
    return order;
}

static void add_run(struct buddy *b, uint64_t mfn, uint64_t count)
{
    while (count) {
        unsigned order = largest_order(mfn, count);
        insert_block(b, mfn, order, mark_free(b, mfn, order));
        mfn += 1ULL << order;
        count -= 1ULL << order;
    }
}

uint64_t buddy_add_range(struct buddy *b, uint64_t mfn, uint64_t count)
{
    if (mfn >= b->nr_frames)
        return 0;
    if (count > b->nr_frames - mfn)
        count = b->nr_frames - mfn;

    uint64_t added = 0, end = mfn + count;
    while (mfn < end) {
        if (b->table[mfn].count_info & FRAME_C_FREE) {
            mfn++;
            continue;
        }
        uint64_t run = mfn;
        while (run < end && !(b->table[run].count_info & FRAME_C_FREE))
            run++;
        add_run(b, mfn, run - mfn);
        added += run - mfn;
        mfn = run;
    }
    return added;
}

/* Takes free block [head, 2^from) off its list and splits it down to the naturally aligned 2^order block that
 * contains `target`, which it returns; the other halves go back on the lists. A half of a known-zero block is
 * known zero; a half of any other block is listed as needing scrubbing (its frames' own ZEROED flags still tell
 * the truth). */
static int64_t take_block_containing(struct buddy *b, uint64_t head, unsigned from, unsigned order, uint64_t target)
{
    bool zeroed = b->table[head].count_info & FRAME_C_BLOCK_ZEROED;
    b->table[head].count_info &= ~FRAME_C_BLOCK_ZEROED;
    frame_list_remove(b->table, &b->free[from], (uint32_t)head);
    b->free_frames -= 1ULL << from;
    while (from > order) {
        from--;
        uint64_t half = 1ULL << from, other = head + half;
        if (target >= other) {
            other = head;
            head += half;
        }
        list_block(b, other, from, zeroed);
        b->free_frames += half;
    }
    mark_allocated(b, head, order);
    return (int64_t)head;
}

static int64_t take_block(struct buddy *b, uint64_t mfn, unsigned from, unsigned order)
{
    return take_block_containing(b, mfn, from, order, mfn);
}

int64_t buddy_alloc(struct buddy *b, unsigned order)
{
    if (order > BUDDY_MAX_ORDER)
        return -1;
    for (unsigned o = order; o <= BUDDY_MAX_ORDER; o++) {
        if (!frame_list_empty(&b->free[o]))
            return take_block(b, b->free[o].head, o, order);
    }
    return -1;
}

int64_t buddy_alloc_below(struct buddy *b, unsigned order, uint64_t max_mfn)
{
    if (order > BUDDY_MAX_ORDER)
        return -1;
    /* Smallest fitting order first to avoid breaking up large blocks; the list walk is fine for a rare call. */
    for (unsigned o = order; o <= BUDDY_MAX_ORDER; o++) {
        for (uint32_t i = b->free[o].head; i != FRAME_NIL; i = b->table[i].next) {
            if (i + (1ULL << order) - 1 <= max_mfn)
                return take_block(b, i, o, order);
        }
    }
    return -1;
}

/* Blocks listed as needing scrubbing may in fact be all zero (halves of a split, conservatively marked): such a
 * block is relisted as known zero on sight, and otherwise the part taken is the one holding the first frame
 * without FRAME_C_ZEROED, so every call that returns a block gives the scrubber at least one frame to clear. */
int64_t buddy_alloc_unzeroed(struct buddy *b, unsigned max_order, unsigned *order)
{
    if (max_order > BUDDY_MAX_ORDER)
        max_order = BUDDY_MAX_ORDER;
    for (unsigned o = BUDDY_MAX_ORDER + 1; o-- > 0;) {
        uint32_t tail;
        while ((tail = b->free[o].tail) != FRAME_NIL && !(b->table[tail].count_info & FRAME_C_BLOCK_ZEROED)) {
            uint64_t n = 1ULL << o, i = 0;
            while (i < n && (b->table[tail + i].count_info & FRAME_C_ZEROED))
                i++;
            if (i == n) {
                frame_list_remove(b->table, &b->free[o], tail);
                list_block(b, tail, o, true);
                continue;
            }
            *order = o < max_order ? o : max_order;
            return take_block_containing(b, tail, o, *order, tail + i);
        }
    }
    return -1;
}

int buddy_free(struct buddy *b, uint64_t mfn, unsigned order)
{
    if (order > BUDDY_MAX_ORDER || (mfn & ((1ULL << order) - 1)) || mfn >= b->nr_frames ||
        (1ULL << order) > b->nr_frames - mfn)
        return -EINVAL;
    for (uint64_t i = 0; i < (1ULL << order); i++) {
        if (b->table[mfn + i].count_info & (FRAME_C_FREE | FRAME_C_RESERVED))
            return -EINVAL;
    }
    insert_block(b, mfn, order, mark_free(b, mfn, order));
    return 0;
}

uint64_t buddy_free_frames(const struct buddy *b)
{
    return b->free_frames;
}

uint64_t buddy_dirty_frames(const struct buddy *b)
{
    return b->dirty_frames;
}

uint64_t buddy_free_blocks(const struct buddy *b, unsigned order)
{
    return order > BUDDY_MAX_ORDER ? 0 : b->free[order].count;
}
