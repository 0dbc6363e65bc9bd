/* Console ring arithmetic (see vesta/conring.h for the model). No locks here: the caller serialises writers and
 * takes its snapshot of prod/cons under its own lock; these functions only compute and copy. */
#include <vesta/conring.h>

void conring_put(struct conring *r, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        r->buf[r->prod++ & (r->size - 1)] = s[i];
    if (r->prod - r->cons > r->size)
        r->cons = r->prod - r->size;
}

uint32_t conring_read_start(uint32_t cons, uint32_t prod, bool incremental, uint32_t index)
{
    if (!incremental)
        return cons;
    /* "index in (cons, prod]" with both ends possibly on either side of a 2^32 wrap. */
    bool inside = cons <= prod ? (cons < index && index <= prod) : (cons < index || index <= prod);
    return inside ? index : cons;
}

int conring_read(const struct conring *r, uint32_t *pos, uint32_t prod, uint32_t max, uint32_t *done,
                 conring_copy_fn copy, void *ctx)
{
    uint32_t c = *pos, sofar = 0;
    int rc = 0;
    while (c != prod && sofar < max) {
        uint32_t idx = c & (r->size - 1);
        uint32_t len = prod - c;
        if (len > r->size - idx)
            len = r->size - idx; /* up to the end of the buffer; the rest comes from its start */
        if (len > max - sofar)
            len = max - sofar;
        rc = copy(ctx, sofar, &r->buf[idx], len);
        if (rc)
            break;
        sofar += len;
        c += len;
    }
    *pos = c;
    *done = sofar;
    return rc;
}

uint32_t conring_clear_to(uint32_t cons_now, uint32_t end, uint32_t prod_now, uint32_t size)
{
    uint32_t to = prod_now - end > size ? prod_now - size : end;
    /* Later of the two positions, comparing distances back from prod_now (both lie within 2^32 of it). */
    return prod_now - to < prod_now - cons_now ? to : cons_now;
}
