/* Frame table reference/type counting and frame lists. See vesta/frame.h for the rules. */
#include "vesta/frame.h"
#include "vesta/errno.h"

void frame_table_init(struct frame *table, uint64_t nr_frames)
{
    for (uint64_t i = 0; i < nr_frames; i++) {
        table[i].count_info = FRAME_C_RESERVED;
        table[i].type_info = 0;
        table[i].owner = FRAME_OWNER_NONE;
        table[i].flags_or_order = 0;
        table[i].next = FRAME_NIL;
        table[i].prev = FRAME_NIL;
    }
}

static bool cas64(uint64_t *p, uint64_t *expected, uint64_t desired)
{
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

bool frame_get_ref(struct frame *f, uint32_t owner)
{
    /* The owner only changes while the count is 0, so checking it before and after taking the reference rules out
     * the frame having been freed and handed to someone else in between. */
    if (__atomic_load_n(&f->owner, __ATOMIC_ACQUIRE) != owner)
        return false;

    uint64_t x = __atomic_load_n(&f->count_info, __ATOMIC_ACQUIRE);
    for (;;) {
        uint64_t count = x & FRAME_C_COUNT_MASK;
        if (count == 0 || count == FRAME_C_COUNT_MASK)
            return false;
        if (cas64(&f->count_info, &x, x + 1))
            break;
    }

    if (__atomic_load_n(&f->owner, __ATOMIC_ACQUIRE) != owner) {
        /* Dropping what we just took can only be the last reference if everyone else let go meanwhile; the frame
         * is then leaked rather than freed here, as freeing is not this module's business. */
        frame_put_ref(f);
        return false;
    }
    return true;
}

bool frame_put_ref(struct frame *f)
{
    uint64_t x = __atomic_load_n(&f->count_info, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((x & FRAME_C_COUNT_MASK) == 0)
            return false;
        if (cas64(&f->count_info, &x, x - 1))
            return ((x - 1) & FRAME_C_COUNT_MASK) == 0;
    }
}

void frame_set_count_flags(struct frame *f, uint64_t flags)
{
    __atomic_fetch_or(&f->count_info, flags & FRAME_C_FLAGS_MASK, __ATOMIC_ACQ_REL);
}

void frame_clear_count_flags(struct frame *f, uint64_t flags)
{
    __atomic_fetch_and(&f->count_info, ~(flags & FRAME_C_FLAGS_MASK), __ATOMIC_ACQ_REL);
}

bool frame_test_and_clear_dirty(struct frame *f)
{
    return (__atomic_fetch_and(&f->count_info, ~FRAME_C_DIRTY, __ATOMIC_ACQ_REL) & FRAME_C_DIRTY) != 0;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause" ::: "memory");
#else
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

int frame_get_type(struct frame *f, uint64_t type, frame_validate_fn validate, void *ctx)
{
    if (type == FRAME_T_NONE || (type & ~FRAME_T_MASK))
        return -EINVAL;

    uint64_t x = __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE);
    uint64_t nx;
    for (;;) {
        uint64_t count = x & FRAME_T_COUNT_MASK;
        if (count == FRAME_T_COUNT_MASK)
            return -EOVERFLOW;
        if (count == 0) {
            if ((x & FRAME_T_MASK) != type || !(x & FRAME_T_VALIDATED)) {
                /* (Re)typing: a stale validation of another type, and any pin, are meaningless now. */
                nx = type | 1;
                /* Descriptor pages are checked like page tables (pv/descriptors.c). */
                if (!frame_type_is_pagetable(type) && type != FRAME_T_SEG_DESC)
                    nx |= FRAME_T_VALIDATED;
            } else {
                nx = x + 1;
            }
        } else {
            if ((x & FRAME_T_MASK) != type)
                return -EBUSY;
            if (!(x & FRAME_T_VALIDATED)) {
                /* Someone is validating (or devalidating) it right now; their outcome decides ours. */
                cpu_relax();
                x = __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE);
                continue;
            }
            nx = x + 1;
        }
        if (cas64(&f->type_info, &x, nx))
            break;
    }

    if (nx & FRAME_T_VALIDATED)
        return 0;

    int rc = validate ? validate(f, type, ctx) : 0;
    if (rc != 0) {
        /* We were the sole holder (waiters do not count themselves in), so the slot can simply be reset. */
        __atomic_store_n(&f->type_info, 0, __ATOMIC_RELEASE);
        return rc < 0 ? rc : -EINVAL;
    }
    __atomic_fetch_or(&f->type_info, FRAME_T_VALIDATED, __ATOMIC_RELEASE);
    return 0;
}

int frame_put_type(struct frame *f, frame_devalidate_fn devalidate, void *ctx)
{
    uint64_t x = __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE);
    for (;;) {
        uint64_t count = x & FRAME_T_COUNT_MASK;
        if (count == 0)
            return -EINVAL;
        if (count == 1 && frame_type_is_pagetable(x & FRAME_T_MASK) && (x & FRAME_T_VALIDATED)) {
            /* Keep the count at 1 with validated clear while tearing down, which makes other takers wait. */
            uint64_t nx = x & ~(FRAME_T_VALIDATED | FRAME_T_PINNED);
            if (!cas64(&f->type_info, &x, nx))
                continue;
            if (devalidate)
                devalidate(f, x & FRAME_T_MASK, ctx);
            __atomic_store_n(&f->type_info, nx - 1, __ATOMIC_RELEASE);
            return 0;
        }
        if (cas64(&f->type_info, &x, x - 1))
            return 0;
    }
}

bool frame_force_devalidate(struct frame *f, uint64_t type, frame_devalidate_fn devalidate, void *ctx)
{
    uint64_t x = __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE);
    do {
        if ((x & (FRAME_T_MASK | FRAME_T_VALIDATED)) != (type | FRAME_T_VALIDATED) || !(x & FRAME_T_COUNT_MASK))
            return false;
    } while (!cas64(&f->type_info, &x, x & ~(FRAME_T_VALIDATED | FRAME_T_PINNED)));
    if (devalidate)
        devalidate(f, type, ctx);
    return true;
}

bool frame_test_and_set_pinned(struct frame *f)
{
    return (__atomic_fetch_or(&f->type_info, FRAME_T_PINNED, __ATOMIC_ACQ_REL) & FRAME_T_PINNED) != 0;
}

bool frame_test_and_clear_pinned(struct frame *f)
{
    return (__atomic_fetch_and(&f->type_info, ~FRAME_T_PINNED, __ATOMIC_ACQ_REL) & FRAME_T_PINNED) != 0;
}

void frame_list_init(struct frame_list *l)
{
    l->head = FRAME_NIL;
    l->tail = FRAME_NIL;
    l->count = 0;
}

void frame_list_add_head(struct frame *table, struct frame_list *l, uint32_t idx)
{
    table[idx].prev = FRAME_NIL;
    table[idx].next = l->head;
    if (l->head != FRAME_NIL)
        table[l->head].prev = idx;
    else
        l->tail = idx;
    l->head = idx;
    l->count++;
}

void frame_list_add_tail(struct frame *table, struct frame_list *l, uint32_t idx)
{
    table[idx].next = FRAME_NIL;
    table[idx].prev = l->tail;
    if (l->tail != FRAME_NIL)
        table[l->tail].next = idx;
    else
        l->head = idx;
    l->tail = idx;
    l->count++;
}

void frame_list_remove(struct frame *table, struct frame_list *l, uint32_t idx)
{
    uint32_t next = table[idx].next, prev = table[idx].prev;

    if (prev != FRAME_NIL)
        table[prev].next = next;
    else
        l->head = next;
    if (next != FRAME_NIL)
        table[next].prev = prev;
    else
        l->tail = prev;
    table[idx].next = FRAME_NIL;
    table[idx].prev = FRAME_NIL;
    l->count--;
}

uint32_t frame_list_pop_head(struct frame *table, struct frame_list *l)
{
    uint32_t idx = l->head;

    if (idx != FRAME_NIL)
        frame_list_remove(table, l, idx);
    return idx;
}
