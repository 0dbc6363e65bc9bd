/* Binary buddy allocator for machine frames, keeping its state in the frame table.
 *
 * A free block of 2^order frames has FRAME_C_FREE set on every frame; its first frame (the head) carries the order
 * in flags_or_order and is linked on the free list of that order, the others carry FRAME_ORDER_NONE. Marking every
 * frame costs O(block size) per operation but lets buddy_free catch a double free of any part of a block.
 * Not thread-safe: the caller holds the heap lock. */
#ifndef VESTA_BUDDY_H
#define VESTA_BUDDY_H

#include "vesta/frame.h"

#define BUDDY_MAX_ORDER 18 /* 2^18 frames = 1 GiB */

struct buddy {
    struct frame *table;
    uint64_t nr_frames; /* frames the allocator may manage (see buddy_init) */
    uint64_t free_frames;
    struct frame_list free[BUDDY_MAX_ORDER + 1];
};

/* Also resets every table entry with frame_table_init, so all frames start reserved until added. At most
 * 2^32 - 1 frames are managed: index 0xFFFFFFFF is FRAME_NIL and cannot be linked, so a 2^32-entry table loses
 * its last frame. */
void buddy_init(struct buddy *b, struct frame *table, uint64_t nr_frames);

/* Hands [mfn, mfn + count) to the allocator, clipped to the managed frames. Frames that are already free are
 * skipped rather than added twice. Unaligned ranges are cut into maximal naturally-aligned blocks, which then
 * coalesce with free neighbours. Returns the number of frames added. */
uint64_t buddy_add_range(struct buddy *b, uint64_t mfn, uint64_t count);

/* Return the first frame of a naturally aligned block of 2^order frames, or -1. The frames come back with
 * count_info 0 (no flags, no references), type_info 0 and owner FRAME_OWNER_NONE. */
int64_t buddy_alloc(struct buddy *b, unsigned order);
/* As buddy_alloc, but every frame of the block is <= max_mfn (inclusive). */
int64_t buddy_alloc_below(struct buddy *b, unsigned order, uint64_t max_mfn);

/* Returns 0, or -EINVAL (nothing changed) if order is too large, mfn is misaligned or out of range, or any frame
 * of the block is already free or was never given to the allocator; the caller should treat that as fatal. */
int buddy_free(struct buddy *b, uint64_t mfn, unsigned order);

uint64_t buddy_free_frames(const struct buddy *b);
/* Number of free blocks of exactly this order (0 for an out-of-range order). */
uint64_t buddy_free_blocks(const struct buddy *b, unsigned order);

#endif
