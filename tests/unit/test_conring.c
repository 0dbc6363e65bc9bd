/* Console ring arithmetic: what sysctl readconsole returns for plain, incremental and clearing reads, across the
 * buffer's end and across the 2^32 wrap of the byte counters. The expected values follow Xen 4.17's
 * read_console_ring() rules (start index in (cons, prod], pieces up to the buffer end, clear to the read end). */
#include "testlib.h"
#include "vesta/conring.h"
#include "vesta/errno.h"

#include <stdio.h>

struct sink {
    char out[256];
    uint32_t calls;
    int fail_at;  /* call number that returns -EFAULT, or -1 */
};

static int sink_copy(void *ctx, uint32_t offset, const char *src, uint32_t len)
{
    struct sink *k = ctx;
    if ((int)k->calls++ == k->fail_at)
        return -EFAULT;
    if (offset + len > sizeof(k->out))
        return -EFAULT;
    memcpy(k->out + offset, src, len);
    return 0;
}

/* A 16-byte ring whose counters start at 'base' (to put the wrap of the 32-bit counters where a test wants it). */
static struct conring ring16(char *buf, uint32_t base)
{
    return (struct conring){.buf = buf, .size = 16, .prod = base, .cons = base};
}

/* readconsole on r: returns the bytes read as a string, updates *index like the sysctl does. */
static const char *readcons(struct conring *r, bool incremental, bool clear, uint32_t *index, uint32_t max,
                            uint32_t *count, struct sink *k)
{
    memset(k, 0, sizeof(*k));
    k->fail_at = -1;
    uint32_t pos = conring_read_start(r->cons, r->prod, incremental, *index);
    int rc = conring_read(r, &pos, r->prod, max, count, sink_copy, k);
    CHECK_EQ(rc, 0);
    if (clear)
        r->cons = conring_clear_to(r->cons, pos, r->prod, r->size);
    *index = pos;
    k->out[*count] = 0;
    return k->out;
}

TEST(conring_put_keeps_last_size_bytes)
{
    char buf[16];
    struct conring r = ring16(buf, 0);
    conring_put(&r, "hello", 5);
    CHECK_EQ(r.prod - r.cons, 5);
    conring_put(&r, "0123456789abcdefXY", 18);
    CHECK_EQ(r.prod, 23);
    CHECK_EQ(r.cons, 7); /* only the last 16 bytes are held */
    struct sink k;
    uint32_t idx = 0, n;
    CHECK_STR(readcons(&r, false, false, &idx, 100, &n, &k), "23456789abcdefXY");
    CHECK_EQ(n, 16);
    CHECK_EQ(idx, 23);
    CHECK_EQ(k.calls, 2); /* the held bytes run across the end of the buffer: two pieces */
}

TEST(conring_non_incremental_ignores_index)
{
    char buf[16];
    struct conring r = ring16(buf, 0);
    conring_put(&r, "abcdef", 6);
    struct sink k;
    uint32_t idx = 4, n;
    CHECK_STR(readcons(&r, false, false, &idx, 100, &n, &k), "abcdef");
    CHECK_EQ(idx, 6);
}

TEST(conring_incremental_reads_only_new_bytes)
{
    char buf[16];
    struct conring r = ring16(buf, 0);
    struct sink k;
    uint32_t idx = 0, n;
    conring_put(&r, "abc", 3);
    /* index 0 == cons: not inside (cons, prod], so the read starts at the oldest byte */
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "abc");
    CHECK_EQ(idx, 3);
    conring_put(&r, "de", 2);
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "de");
    CHECK_EQ(idx, 5);
    /* index == prod: a valid start that yields nothing */
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "");
    CHECK_EQ(n, 0);
    CHECK_EQ(idx, 5);
    CHECK_EQ(k.calls, 0);
}

TEST(conring_incremental_stale_index_restarts_at_oldest)
{
    char buf[16];
    struct conring r = ring16(buf, 0);
    struct sink k;
    uint32_t n;
    conring_put(&r, "0123456789abcdefghij", 20); /* cons 4, prod 20 */
    uint32_t idx = 2;                          /* overwritten since */
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "456789abcdefghij");
    idx = 99; /* beyond prod */
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "456789abcdefghij");
    idx = 10;
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "abcdefghij");
}

TEST(conring_count_limits_read_and_index_follows)
{
    char buf[16];
    struct conring r = ring16(buf, 0);
    struct sink k;
    uint32_t idx = 0, n;
    conring_put(&r, "abcdefghij", 10);
    CHECK_STR(readcons(&r, true, false, &idx, 4, &n, &k), "abcd");
    CHECK_EQ(n, 4);
    CHECK_EQ(idx, 4);
    CHECK_STR(readcons(&r, true, false, &idx, 4, &n, &k), "efgh");
    CHECK_STR(readcons(&r, true, false, &idx, 4, &n, &k), "ij");
    CHECK_EQ(n, 2);
    /* count 0 copies nothing and leaves the start where it was */
    idx = 5;
    CHECK_STR(readcons(&r, true, false, &idx, 0, &n, &k), "");
    CHECK_EQ(idx, 5);
}

TEST(conring_clear_discards_what_was_read)
{
    char buf[16];
    struct conring r = ring16(buf, 0);
    struct sink k;
    uint32_t idx = 0, n;
    conring_put(&r, "abcdefghij", 10);
    CHECK_STR(readcons(&r, false, true, &idx, 4, &n, &k), "abcd");
    CHECK_EQ(r.cons, 4); /* only the part read is gone */
    idx = 0;
    CHECK_STR(readcons(&r, false, true, &idx, 100, &n, &k), "efghij");
    CHECK_EQ(r.cons, 10);
    idx = 0;
    CHECK_STR(readcons(&r, false, false, &idx, 100, &n, &k), "");
    conring_put(&r, "new", 3);
    CHECK_STR(readcons(&r, false, false, &idx, 100, &n, &k), "new");
}

TEST(conring_counters_wrap_at_2_32)
{
    char buf[16];
    struct conring r = ring16(buf, 0xfffffff8u);
    struct sink k;
    uint32_t n;
    conring_put(&r, "0123456789", 10); /* prod wraps to 2 */
    CHECK_EQ(r.prod, 2);
    CHECK_EQ(r.cons, 0xfffffff8u);
    uint32_t idx = 0xfffffffcu; /* inside (cons, prod] across the wrap */
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "456789");
    CHECK_EQ(idx, 2);
    idx = 1;
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "9");
    idx = 3; /* just past prod: stale */
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "0123456789");
    idx = 0xfffffff0u; /* before cons: stale */
    CHECK_STR(readcons(&r, true, false, &idx, 100, &n, &k), "0123456789");
    conring_put(&r, "abcdefghijkl", 12); /* cons now wraps too */
    CHECK_EQ(r.cons, 0xfffffffe + 0u);
    idx = 0;
    CHECK_STR(readcons(&r, false, true, &idx, 5, &n, &k), "6789a"); /* the last 16 of the 22 bytes */
    CHECK_EQ(r.cons, 3);
}

TEST(conring_clear_never_moves_back)
{
    /* Writers overran the reader: cons is pulled up to prod - size, not back to the read's end. */
    CHECK_EQ(conring_clear_to(40, 10, 60, 16), 44);
    /* Another clearing read got further: keep its position. */
    CHECK_EQ(conring_clear_to(30, 20, 32, 16), 30);
    /* The ordinary case. */
    CHECK_EQ(conring_clear_to(10, 20, 25, 16), 20);
    /* Across the wrap. */
    CHECK_EQ(conring_clear_to(0xfffffff0u, 2, 4, 16), 2);
}

TEST(conring_copy_error_stops_and_reports_progress)
{
    char buf[16];
    struct conring r = ring16(buf, 0);
    conring_put(&r, "0123456789abcdefXY", 18); /* two pieces: 2..15 then 0..1 */
    struct sink k;
    memset(&k, 0, sizeof(k));
    k.fail_at = 1;
    uint32_t pos = r.cons, done;
    CHECK_EQ(conring_read(&r, &pos, r.prod, 100, &done, sink_copy, &k), -EFAULT);
    CHECK_EQ(done, 14);
    CHECK_EQ(pos, 16);
}
