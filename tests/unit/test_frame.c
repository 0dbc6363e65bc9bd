/* Frame table: reference counts, type rules, pinning, dirty tracking and frame lists. */
#include "testlib.h"
#include "vesta/errno.h"
#include "vesta/frame.h"

static struct frame one_frame(uint32_t owner, uint64_t refs)
{
    struct frame f;
    frame_table_init(&f, 1);
    f.owner = owner;
    f.count_info = FRAME_C_ALLOCATED | refs;
    return f;
}

TEST(frame_size_and_init)
{
    struct frame t[3];
    CHECK_EQ(sizeof(struct frame), 32);
    frame_table_init(t, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(t[i].count_info, FRAME_C_RESERVED);
        CHECK_EQ(t[i].type_info, 0);
        CHECK_EQ(t[i].owner, FRAME_OWNER_NONE);
        CHECK_EQ(t[i].next, FRAME_NIL);
        CHECK_EQ(t[i].prev, FRAME_NIL);
    }
}

TEST(frame_ref_get_put)
{
    struct frame f = one_frame(5, 1);

    CHECK(frame_get_ref(&f, 5));
    CHECK_EQ(frame_ref_count(&f), 2);
    CHECK(!frame_get_ref(&f, 6)); /* wrong owner */
    CHECK_EQ(frame_ref_count(&f), 2);
    CHECK(!frame_put_ref(&f));
    CHECK(frame_put_ref(&f)); /* last one */
    CHECK_EQ(frame_ref_count(&f), 0);
    CHECK(!frame_get_ref(&f, 5)); /* not in use any more */
    CHECK(!frame_put_ref(&f)); /* underflow refused */
    CHECK_EQ(frame_ref_count(&f), 0);
    CHECK_EQ(frame_count_flags(&f), FRAME_C_ALLOCATED); /* flags untouched by counting */
}

TEST(frame_ref_overflow)
{
    struct frame f = one_frame(1, FRAME_C_COUNT_MASK - 1);

    CHECK(frame_get_ref(&f, 1));
    CHECK_EQ(frame_ref_count(&f), FRAME_C_COUNT_MASK);
    CHECK(!frame_get_ref(&f, 1));
    CHECK_EQ(frame_ref_count(&f), FRAME_C_COUNT_MASK);
    CHECK(f.count_info & FRAME_C_ALLOCATED); /* the carry never reaches the flags */
}

TEST(frame_flags_and_dirty)
{
    struct frame f = one_frame(1, 1);

    frame_set_count_flags(&f, FRAME_C_DIRTY | 0x7); /* count bits must be ignored */
    CHECK_EQ(frame_ref_count(&f), 1);
    CHECK(frame_count_flags(&f) & FRAME_C_DIRTY);
    CHECK(frame_test_and_clear_dirty(&f));
    CHECK(!frame_test_and_clear_dirty(&f));
    frame_set_count_flags(&f, FRAME_C_XEN);
    frame_clear_count_flags(&f, FRAME_C_XEN | FRAME_C_ALLOCATED);
    CHECK_EQ(frame_count_flags(&f), 0);
    CHECK_EQ(frame_ref_count(&f), 1);
}

struct vctx {
    int validated, devalidated;
    int result;
    uint64_t last_type;
    uint64_t seen_type_info;
};

static int validate_cb(struct frame *f, uint64_t type, void *ctx)
{
    struct vctx *v = ctx;
    v->validated++;
    v->last_type = type;
    v->seen_type_info = f->type_info;
    return v->result;
}

static void devalidate_cb(struct frame *f, uint64_t type, void *ctx)
{
    struct vctx *v = ctx;
    v->devalidated++;
    v->last_type = type;
    v->seen_type_info = f->type_info;
}

TEST(frame_type_pagetable_validated_once)
{
    struct frame f = one_frame(1, 1);
    struct vctx v = {0};

    CHECK_EQ(frame_get_type(&f, FRAME_T_L1, validate_cb, &v), 0);
    CHECK_EQ(v.validated, 1);
    CHECK_EQ(v.last_type, FRAME_T_L1);
    /* During validation the count is already 1 and the frame not yet validated. */
    CHECK_EQ(v.seen_type_info, FRAME_T_L1 | 1);
    CHECK(frame_type_validated(&f));
    CHECK_EQ(frame_get_type(&f, FRAME_T_L1, validate_cb, &v), 0);
    CHECK_EQ(frame_get_type(&f, FRAME_T_L1, validate_cb, &v), 0);
    CHECK_EQ(v.validated, 1);
    CHECK_EQ(frame_type_count(&f), 3);
    CHECK_EQ(frame_type(&f), FRAME_T_L1);

    CHECK_EQ(frame_put_type(&f, devalidate_cb, &v), 0);
    CHECK_EQ(frame_put_type(&f, devalidate_cb, &v), 0);
    CHECK_EQ(v.devalidated, 0);
    CHECK_EQ(frame_put_type(&f, devalidate_cb, &v), 0);
    CHECK_EQ(v.devalidated, 1);
    /* Teardown runs with the count pinned at 1 and validated clear. */
    CHECK_EQ(v.seen_type_info, FRAME_T_L1 | 1);
    CHECK_EQ(frame_type_count(&f), 0);
    CHECK(!frame_type_validated(&f));
    CHECK_EQ(frame_put_type(&f, devalidate_cb, &v), -EINVAL); /* underflow */

    /* A page table is re-validated after its last reference went. */
    CHECK_EQ(frame_get_type(&f, FRAME_T_L1, validate_cb, &v), 0);
    CHECK_EQ(v.validated, 2);
}

/* Teardown breaking a cycle: a validated table whose type references are held elsewhere is devalidated once, by
 * force; the references left then drop without devalidating again, and the frame can take a type afresh. */
TEST(frame_type_force_devalidate)
{
    struct frame f = one_frame(1, 1);
    struct vctx v = {0};

    CHECK_EQ(frame_get_type(&f, FRAME_T_L3, validate_cb, &v), 0);
    CHECK_EQ(frame_get_type(&f, FRAME_T_L3, validate_cb, &v), 0);
    CHECK(!frame_test_and_set_pinned(&f));
    CHECK(!frame_force_devalidate(&f, FRAME_T_L2, devalidate_cb, &v)); /* another level: untouched */
    CHECK_EQ(v.devalidated, 0);
    CHECK(frame_force_devalidate(&f, FRAME_T_L3, devalidate_cb, &v));
    CHECK_EQ(v.devalidated, 1);
    CHECK_EQ(v.last_type, FRAME_T_L3);
    CHECK(!frame_type_validated(&f));
    CHECK(!(f.type_info & FRAME_T_PINNED)); /* a pin means nothing once devalidated */
    CHECK_EQ(frame_type_count(&f), 2);    /* the cycle's references are still counted */
    CHECK(!frame_force_devalidate(&f, FRAME_T_L3, devalidate_cb, &v)); /* only once */
    CHECK_EQ(frame_put_type(&f, devalidate_cb, &v), 0);
    CHECK_EQ(frame_put_type(&f, devalidate_cb, &v), 0);
    CHECK_EQ(v.devalidated, 1);
    CHECK_EQ(frame_type_count(&f), 0);
    CHECK_EQ(frame_get_type(&f, FRAME_T_WRITABLE, NULL, NULL), 0); /* free to become anything */

    struct frame g = one_frame(1, 1);
    CHECK(!frame_force_devalidate(&g, FRAME_T_L3, devalidate_cb, &v)); /* untyped: nothing to do */
}

TEST(frame_type_change_rules)
{
    struct frame f = one_frame(1, 1);
    struct vctx v = {0};

    CHECK_EQ(frame_get_type(&f, FRAME_T_WRITABLE, validate_cb, &v), 0);
    CHECK_EQ(v.validated, 0); /* data pages need no validation */
    CHECK(frame_type_validated(&f));
    CHECK_EQ(frame_get_type(&f, FRAME_T_L2, validate_cb, &v), -EBUSY);
    CHECK_EQ(frame_get_type(&f, FRAME_T_SEG_DESC, validate_cb, &v), -EBUSY);
    CHECK_EQ(frame_type(&f), FRAME_T_WRITABLE);
    CHECK_EQ(frame_type_count(&f), 1);
    CHECK_EQ(frame_put_type(&f, devalidate_cb, &v), 0);
    CHECK_EQ(v.devalidated, 0);

    /* Count 0: the type may change now. */
    CHECK_EQ(frame_get_type(&f, FRAME_T_L2, validate_cb, &v), 0);
    CHECK_EQ(v.validated, 1);
    CHECK_EQ(frame_get_type(&f, FRAME_T_WRITABLE, validate_cb, &v), -EBUSY);
    CHECK_EQ(frame_put_type(&f, devalidate_cb, &v), 0);
    CHECK_EQ(v.devalidated, 1);
    CHECK_EQ(frame_get_type(&f, FRAME_T_WRITABLE, validate_cb, &v), 0);
    CHECK_EQ(frame_type(&f), FRAME_T_WRITABLE);

    CHECK_EQ(frame_get_type(&f, FRAME_T_NONE, validate_cb, &v), -EINVAL);
    CHECK_EQ(frame_get_type(&f, FRAME_T_WRITABLE | 1, validate_cb, &v), -EINVAL);
}

TEST(frame_type_validate_failure)
{
    struct frame f = one_frame(1, 1);
    struct vctx v = {.result = -EPERM};

    CHECK_EQ(frame_get_type(&f, FRAME_T_L4, validate_cb, &v), -EPERM);
    CHECK_EQ(frame_type_count(&f), 0);
    CHECK(!frame_type_validated(&f));
    v.result = 1; /* a positive failure is still a failure */
    CHECK_EQ(frame_get_type(&f, FRAME_T_L4, validate_cb, &v), -EINVAL);
    CHECK_EQ(frame_type_count(&f), 0);
    /* After a failed validation the frame may take another type. */
    CHECK_EQ(frame_get_type(&f, FRAME_T_WRITABLE, validate_cb, &v), 0);
    CHECK_EQ(frame_put_type(&f, NULL, NULL), 0);
    v.result = 0;
    CHECK_EQ(frame_get_type(&f, FRAME_T_L4, validate_cb, &v), 0);
    CHECK_EQ(v.validated, 3);
}

TEST(frame_type_overflow)
{
    struct frame f = one_frame(1, 1);

    f.type_info = FRAME_T_WRITABLE | FRAME_T_VALIDATED | (FRAME_T_COUNT_MASK - 1);
    CHECK_EQ(frame_get_type(&f, FRAME_T_WRITABLE, NULL, NULL), 0);
    CHECK_EQ(frame_get_type(&f, FRAME_T_WRITABLE, NULL, NULL), -EOVERFLOW);
    CHECK_EQ(frame_type_count(&f), FRAME_T_COUNT_MASK);
    CHECK_EQ(frame_type(&f), FRAME_T_WRITABLE);
}

TEST(frame_type_pinning)
{
    struct frame f = one_frame(1, 1);
    struct vctx v = {0};

    CHECK_EQ(frame_get_type(&f, FRAME_T_L3, validate_cb, &v), 0);
    CHECK(!frame_test_and_set_pinned(&f));
    CHECK(frame_test_and_set_pinned(&f)); /* double pin detected */
    CHECK_EQ(frame_type_count(&f), 1);
    CHECK(frame_test_and_clear_pinned(&f));
    CHECK(!frame_test_and_clear_pinned(&f));
    CHECK(!frame_test_and_set_pinned(&f));
    /* The last put of a page table also drops a stale pin. */
    CHECK_EQ(frame_put_type(&f, devalidate_cb, &v), 0);
    CHECK_EQ(f.type_info & FRAME_T_PINNED, 0);
}

static bool list_matches(struct frame *t, const struct frame_list *l, const uint32_t *want, unsigned n)
{
    uint32_t i = l->head, prev = FRAME_NIL;
    unsigned k = 0;

    if (l->count != n)
        return false;
    while (i != FRAME_NIL) {
        if (k >= n || i != want[k] || t[i].prev != prev)
            return false;
        prev = i;
        i = t[i].next;
        k++;
    }
    return k == n && l->tail == (n ? want[n - 1] : FRAME_NIL);
}

TEST(frame_list_ops)
{
    struct frame t[8];
    struct frame_list l;

    frame_table_init(t, 8);
    frame_list_init(&l);
    CHECK(frame_list_empty(&l));
    CHECK_EQ(frame_list_pop_head(t, &l), FRAME_NIL);

    frame_list_add_tail(t, &l, 3);
    frame_list_add_tail(t, &l, 5);
    frame_list_add_head(t, &l, 1);
    frame_list_add_tail(t, &l, 7);
    CHECK(list_matches(t, &l, (const uint32_t[]){1, 3, 5, 7}, 4));

    frame_list_remove(t, &l, 5); /* middle */
    CHECK(list_matches(t, &l, (const uint32_t[]){1, 3, 7}, 3));
    CHECK_EQ(t[5].next, FRAME_NIL);
    CHECK_EQ(t[5].prev, FRAME_NIL);
    frame_list_remove(t, &l, 7); /* tail */
    CHECK(list_matches(t, &l, (const uint32_t[]){1, 3}, 2));
    CHECK_EQ(frame_list_pop_head(t, &l), 1);
    CHECK(list_matches(t, &l, (const uint32_t[]){3}, 1));
    CHECK_EQ(frame_list_pop_head(t, &l), 3);
    CHECK(frame_list_empty(&l));
    CHECK_EQ(l.tail, FRAME_NIL);
    CHECK_EQ(l.count, 0);
}
