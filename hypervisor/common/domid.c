/* Choosing a new domain's id: Xen's rule, as a pure function over the bitmap of ids in use (the caller, domain.c,
 * holds the domain table's lock). */
#include <vesta/domid.h>
#include <vesta/errno.h>

static bool used_id(const uint64_t *used, domid_t id) { return (used[id / 64] >> (id % 64)) & 1; }

int domid_pick(const uint64_t used[DOMID_BITMAP_WORDS], domid_t *rover, domid_t want, domid_t *id)
{
    if (want != DOMID_INVALID) {
        if (want >= DOMID_FIRST_RESERVED)
            return -EINVAL;
        if (used_id(used, want))
            return -EEXIST;
        *id = want;
        return 0;
    }
    for (domid_t d = (domid_t)(*rover + 1); d != *rover; d++) {
        if (d >= DOMID_FIRST_RESERVED)
            d = 1;
        if (d == *rover)
            break;
        if (!used_id(used, d)) {
            *rover = d;
            *id = d;
            return 0;
        }
    }
    return -ENOMEM;
}
