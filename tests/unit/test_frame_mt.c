/* Frame counting under real concurrency: the lock-free paths must keep validation exclusive and counts exact. */
#include "testlib.h"
#include "vesta/errno.h"
#include "vesta/frame.h"

#include <pthread.h>

#define THREADS 4
#define ROUNDS 20000

struct shared {
    struct frame f;
    int in_callback; /* validate/devalidate running right now */
    int overlaps;
    int validations, devalidations;
    int type_errors;
};

static int mt_validate(struct frame *f, uint64_t type, void *ctx)
{
    struct shared *s = ctx;
    (void)f;
    (void)type;
    if (__atomic_fetch_add(&s->in_callback, 1, __ATOMIC_ACQ_REL) != 0)
        __atomic_fetch_add(&s->overlaps, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->validations, 1, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&s->in_callback, 1, __ATOMIC_ACQ_REL);
    return 0;
}

static void mt_devalidate(struct frame *f, uint64_t type, void *ctx)
{
    struct shared *s = ctx;
    (void)f;
    (void)type;
    if (__atomic_fetch_add(&s->in_callback, 1, __ATOMIC_ACQ_REL) != 0)
        __atomic_fetch_add(&s->overlaps, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->devalidations, 1, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&s->in_callback, 1, __ATOMIC_ACQ_REL);
}

static void *worker(void *arg)
{
    struct shared *s = arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (!frame_get_ref(&s->f, 3))
            __atomic_fetch_add(&s->type_errors, 1, __ATOMIC_RELAXED);
        /* Half the threads want a page table, half a writable page: they must exclude each other. */
        uint64_t type = (i & 1) ? FRAME_T_L1 : FRAME_T_WRITABLE;
        int rc = frame_get_type(&s->f, type, mt_validate, s);
        if (rc == 0) {
            if (frame_type(&s->f) != type)
                __atomic_fetch_add(&s->type_errors, 1, __ATOMIC_RELAXED);
            frame_put_type(&s->f, mt_devalidate, s);
        } else if (rc != -EBUSY) {
            __atomic_fetch_add(&s->type_errors, 1, __ATOMIC_RELAXED);
        }
        frame_put_ref(&s->f);
    }
    return NULL;
}

TEST(frame_concurrent_refs_and_types)
{
    static struct shared s;
    pthread_t t[THREADS];

    memset(&s, 0, sizeof(s));
    frame_table_init(&s.f, 1);
    s.f.owner = 3;
    s.f.count_info = FRAME_C_ALLOCATED | 1;

    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, worker, &s), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);

    CHECK_EQ(s.overlaps, 0);
    CHECK_EQ(s.type_errors, 0);
    CHECK_EQ(s.validations, s.devalidations);
    CHECK(s.validations > 0);
    CHECK_EQ(frame_ref_count(&s.f), 1);
    CHECK_EQ(frame_type_count(&s.f), 0);
}
