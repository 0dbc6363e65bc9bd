/* Choosing a new domain's id (pure: host-tested in tests/unit/test_domid.c). */
#ifndef VESTA_DOMID_H
#define VESTA_DOMID_H

#include <public/xen.h>
#include <vesta/types.h>

#define DOMID_BITMAP_WORDS (DOMID_FIRST_RESERVED / 64 + 1)

/* Xen's createdomain rule. want < DOMID_FIRST_RESERVED: exactly that id, -EEXIST if used. want = DOMID_INVALID:
 * the first free id after *rover (wrapping from DOMID_FIRST_RESERVED - 1 to 1: id 0 is only ever asked for),
 * which becomes the new *rover; -ENOMEM if none is free. On success *id is the id. */
int domid_pick(const uint64_t used[DOMID_BITMAP_WORDS], domid_t *rover, domid_t want, domid_t *id);

#endif
