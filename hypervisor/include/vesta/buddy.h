/* Binary buddy allocator for machine frames, keeping its state in the frame table.
 *
 * A free block of 2^order frames has FRAME_C_FREE set on every frame; its first frame (the head) carries the order
 * in flags_or_order and is linked on the free list of that order, the others carry FRAME_ORDER_NONE. Marking every
 * frame costs O(block size) per operation but lets buddy_free catch a double free of any part of a block.
 * While a frame is free its type_info is the caller's: whatever it held when the frame was freed (the heap keeps
 * a TLB-clock stamp there) is still there when the frame is allocated again, for the caller to read and reset.
 * Frames never freed since buddy_init have 0.
 * Scrubbing. A free frame with FRAME_C_ZEROED is known to hold only zeros; frames keep the flag through the
 * allocator (buddy_free takes it from the caller, allocation hands it back) so that whoever needs zeroed memory
 * clears only the frames without it. A free block's head carries FRAME_C_BLOCK_ZEROED when all its frames are
 * ZEROED (conservatively: a block split off one that was not may still be entirely zero). Such blocks are
 * listed first and handed out first; the others wait at the tails of the lists for buddy_alloc_unzeroed().
 * Not thread-safe: the caller holds the heap lock. */
#ifndef VESTA_BUDDY_H
#define VESTA_BUDDY_H

#include "vesta/frame.h"

#define BUDDY_MAX_ORDER 18 /* 2^18 frames = 1 GiB */

struct buddy {
    struct frame *table;
    uint64_t nr_frames; /* frames the allocator may manage (see buddy_init) */
    uint64_t free_frames;
    uint64_t dirty_frames; /* free frames not known to be zero: what scrubbing still has to clear */
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
 * count_info 0 or FRAME_C_ZEROED (no other flags, no references), owner FRAME_OWNER_NONE and type_info as it was
 * when freed. */
int64_t buddy_alloc(struct buddy *b, unsigned order);
/* As buddy_alloc, but every frame of the block is <= max_mfn (inclusive). */
int64_t buddy_alloc_below(struct buddy *b, unsigned order, uint64_t max_mfn);

/* For the scrubber: takes a free block that is not known to be entirely zero, of at most 2^max_order frames
 * (splitting a larger one), stores its order in *order and returns its first frame, or -1 if every free block is
 * known zero. The frames come back as from buddy_alloc. */
int64_t buddy_alloc_unzeroed(struct buddy *b, unsigned max_order, unsigned *order);

/* Returns 0, or -EINVAL (nothing changed) if order is too large, mfn is misaligned or out of range, or any frame
 * of the block is already free or was never given to the allocator; the caller should treat that as fatal. */
int buddy_free(struct buddy *b, uint64_t mfn, unsigned order);

uint64_t buddy_free_frames(const struct buddy *b);
uint64_t buddy_dirty_frames(const struct buddy *b); /* free frames without FRAME_C_ZEROED */
/* Number of free blocks of exactly this order (0 for an out-of-range order). */
uint64_t buddy_free_blocks(const struct buddy *b, unsigned order);

#endif
