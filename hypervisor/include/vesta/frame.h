/* The frame table: one entry per machine frame, tracking ownership, references and page types.
 *
 * Reference and type counts follow Xen's PV memory model, because PV guests rely on its rules: a frame may be used
 * as a page table only while no writable mapping of it exists and vice versa, and it is validated once, when its
 * first page-table type reference is taken. All count updates are lock-free (compare-and-exchange), so callers
 * need no lock for them; the list helpers at the bottom are not atomic and need the lock of the list they touch. */
#ifndef VESTA_FRAME_H
#define VESTA_FRAME_H

#include "vesta/types.h"

/* Owner ids. The special values are numerically Xen's DOMID_IO, DOMID_XEN and DOMID_INVALID so that they can be
 * shown to, or compared against, guest-visible domain ids without translation. */
#define FRAME_OWNER_IO 0x7FF1u
#define FRAME_OWNER_XEN 0x7FF2u
#define FRAME_OWNER_NONE 0x7FF4u

#define FRAME_NIL 0xFFFFFFFFu /* "no frame" in list links; so frame index 0xFFFFFFFF can never be linked */
#define FRAME_ORDER_NONE 0xFFFFFFFFu /* flags_or_order of a free frame that is not the head of a free block */

/* count_info: general reference count in the low bits, state flags at the top. */
#define FRAME_C_ALLOCATED (1ULL << 63) /* the owner's allocation reference is held (counted in the count) */
#define FRAME_C_FREE (1ULL << 62) /* in the buddy allocator */
#define FRAME_C_RESERVED (1ULL << 61) /* not usable RAM (hole, firmware, MMIO) or never handed to the allocator */
#define FRAME_C_XEN (1ULL << 60) /* hypervisor heap / image */
#define FRAME_C_DIRTY (1ULL << 59) /* written since the log was last cleaned (live migration) */
#define FRAME_C_ZEROED (1ULL << 58) /* free frames only: contents known to be all zero (buddy.h) */
#define FRAME_C_BLOCK_ZEROED (1ULL << 57) /* free block heads only: every frame of the block is ZEROED */
#define FRAME_C_FLAGS_MASK (0x7FULL << 57)
#define FRAME_C_COUNT_MASK ((1ULL << 48) - 1)

/* type_info: page type in the top three bits, state flags below it, type reference count in the low bits. The
 * type numbers match Xen's PGT_* ordering so page-table levels compare naturally (L1 < L2 < L3 < L4). */
#define FRAME_T_SHIFT 61
#define FRAME_T_MASK (7ULL << FRAME_T_SHIFT)
#define FRAME_T_NONE (0ULL << FRAME_T_SHIFT)
#define FRAME_T_L1 (1ULL << FRAME_T_SHIFT)
#define FRAME_T_L2 (2ULL << FRAME_T_SHIFT)
#define FRAME_T_L3 (3ULL << FRAME_T_SHIFT)
#define FRAME_T_L4 (4ULL << FRAME_T_SHIFT)
#define FRAME_T_SEG_DESC (5ULL << FRAME_T_SHIFT) /* GDT/LDT page */
#define FRAME_T_SHARED (6ULL << FRAME_T_SHIFT)
#define FRAME_T_WRITABLE (7ULL << FRAME_T_SHIFT)
#define FRAME_T_VALIDATED (1ULL << 60) /* contents checked for the current type */
#define FRAME_T_PINNED (1ULL << 59) /* guest pinned the type (MMUEXT_PIN_*); holds one type reference */
#define FRAME_T_COUNT_MASK ((1ULL << 48) - 1)

struct frame {
    uint64_t count_info;
    uint64_t type_info;
    uint32_t owner; /* domain id or FRAME_OWNER_*; changes only while the general count is 0 */
    uint32_t flags_or_order; /* buddy: order of a free block's head frame */
    uint32_t next, prev; /* list links, frame indexes */
};
_Static_assert(sizeof(struct frame) == 32, "frame table entries must stay 32 bytes");

/* Puts every entry into the "reserved, unowned, unlinked" state; usable RAM is then handed to the allocator. */
void frame_table_init(struct frame *table, uint64_t nr_frames);

/* General references. get fails (false) if the frame is not in use (count 0), the count would overflow, or the
 * frame is not owned by owner. put returns true when it dropped the last reference: the caller must then free the
 * frame. A put on a zero count is a caller bug; it is refused and reported as false. */
bool frame_get_ref(struct frame *f, uint32_t owner);
bool frame_put_ref(struct frame *f);

static inline uint64_t frame_ref_count(const struct frame *f)
{
    return __atomic_load_n(&f->count_info, __ATOMIC_ACQUIRE) & FRAME_C_COUNT_MASK;
}

static inline uint64_t frame_count_flags(const struct frame *f)
{
    return __atomic_load_n(&f->count_info, __ATOMIC_ACQUIRE) & FRAME_C_FLAGS_MASK;
}

void frame_set_count_flags(struct frame *f, uint64_t flags);
void frame_clear_count_flags(struct frame *f, uint64_t flags);
/* Returns whether the frame was dirty; used by the migration log's "read and clean" pass. */
bool frame_test_and_clear_dirty(struct frame *f);

/* Page-table types need their contents checked before first use; the others do not. */
static inline bool frame_type_is_pagetable(uint64_t type)
{
    return type >= FRAME_T_L1 && type <= FRAME_T_L4;
}

typedef int (*frame_validate_fn)(struct frame *f, uint64_t type, void *ctx);
typedef void (*frame_devalidate_fn)(struct frame *f, uint64_t type, void *ctx);

/* Takes a type reference.
 *  0         success; if this was the first reference of a page-table type, validate ran and returned 0
 *  -EINVAL   type is FRAME_T_NONE or has bits outside FRAME_T_MASK
 *  -EBUSY    the frame currently has a different type with a non-zero type count
 *  -EOVERFLOW the type count is saturated
 *  <0        whatever validate returned (the frame is left untyped with count 0)
 * validate runs with the type count at 1 and FRAME_T_VALIDATED clear; concurrent callers for the same type wait
 * for it to finish (and retry from scratch if it fails), so it runs exactly once per use of the type. */
int frame_get_type(struct frame *f, uint64_t type, frame_validate_fn validate, void *ctx);

/* Drops a type reference. When the last reference of a validated page-table type goes, devalidate runs (it
 * typically drops the references the page table held); during it the count stays 1 with FRAME_T_VALIDATED clear
 * so that nobody can retype the frame underneath it. Returns 0, or -EINVAL on a put with a zero type count. */
int frame_put_type(struct frame *f, frame_devalidate_fn devalidate, void *ctx);

/* Teardown of a dead domain's tables (Xen's relinquish_memory): if f is a validated table of `type`, its
 * validation is revoked and devalidate drops what its entries held, although type references remain (held by a
 * cycle of linear page-table entries, which this breaks). Those references then drop without devalidating
 * again; until they have, the frame cannot take that type anew. Returns whether it devalidated. */
bool frame_force_devalidate(struct frame *f, uint64_t type, frame_devalidate_fn devalidate, void *ctx);

static inline uint64_t frame_type(const struct frame *f)
{
    return __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE) & FRAME_T_MASK;
}

static inline uint64_t frame_type_count(const struct frame *f)
{
    return __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE) & FRAME_T_COUNT_MASK;
}

static inline bool frame_type_validated(const struct frame *f)
{
    return (__atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE) & FRAME_T_VALIDATED) != 0;
}

/* Pinning is a flag on top of a type reference the caller already holds (the pin "keeps" that reference). These
 * return the previous state so that double pin / unpin of an unpinned frame can be refused. */
bool frame_test_and_set_pinned(struct frame *f);
bool frame_test_and_clear_pinned(struct frame *f);

/* Doubly-linked lists of frames, linked through the frame table by index. */
struct frame_list {
    uint32_t head, tail;
    uint64_t count;
};

void frame_list_init(struct frame_list *l);
void frame_list_add_head(struct frame *table, struct frame_list *l, uint32_t idx);
void frame_list_add_tail(struct frame *table, struct frame_list *l, uint32_t idx);
void frame_list_remove(struct frame *table, struct frame_list *l, uint32_t idx);
uint32_t frame_list_pop_head(struct frame *table, struct frame_list *l); /* FRAME_NIL if empty */

static inline bool frame_list_empty(const struct frame_list *l)
{
    return l->head == FRAME_NIL;
}

#endif
