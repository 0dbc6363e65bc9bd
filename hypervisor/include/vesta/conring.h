/* The console ring: the last bytes the hypervisor console printed, kept for the toolstack (`xl dmesg`, sysctl
 * readconsole).
 *
 * prod and cons are free-running byte counters that wrap at 2^32, as Xen's are: byte number n lives at
 * buf[n & (size - 1)]. prod - cons is the number of bytes readable, never more than size; writing past a full ring
 * drops the oldest bytes by moving cons forward. A reader's index is such a counter too, so it stays meaningful
 * while the ring wraps under it.
 *
 * This file is pure arithmetic with no locking; common/console.c owns the one ring and its lock. */
#ifndef VESTA_CONRING_H
#define VESTA_CONRING_H

#include <vesta/types.h>

struct conring {
    char *buf;
    uint32_t size;  /* a power of two */
    uint32_t prod;  /* bytes ever written */
    uint32_t cons;  /* oldest byte still held */
};

void conring_put(struct conring *r, const char *s, size_t n);

/* Where a read starts: at 'index' when the caller asks for an incremental read and index lies in (cons, prod],
 * otherwise at the oldest byte. (Xen's test: an index equal to cons, or one that fell out of the ring, restarts
 * at the oldest byte; prod itself is a valid start that yields nothing.) */
uint32_t conring_read_start(uint32_t cons, uint32_t prod, bool incremental, uint32_t index);

/* Copies bytes [*pos, prod) to the reader, at most max of them, in contiguous pieces; copy(ctx, offset, src,
 * len) places len bytes at offset in the reader's buffer and returns 0 or an error, which stops the read. On
 * return *pos is one past the last byte copied and *done the number copied (also on error). */
typedef int (*conring_copy_fn)(void *ctx, uint32_t offset, const char *src, uint32_t len);
int conring_read(const struct conring *r, uint32_t *pos, uint32_t prod, uint32_t max, uint32_t *done,
                 conring_copy_fn copy, void *ctx);

/* cons after a clearing read that ended at 'end': everything before end is discarded. The result never lies
 * before what the ring now holds (prod_now - size, if writers overran the reader meanwhile) nor before cons_now
 * (if another clearing read got further). */
uint32_t conring_clear_to(uint32_t cons_now, uint32_t end, uint32_t prod_now, uint32_t size);

#endif
