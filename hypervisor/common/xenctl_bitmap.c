/* CPU and node maps to and from the toolstack's byte maps (vesta/xenctl_bitmap.h). Stateless; the guest copies
 * go through the checked helpers. */
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/xenctl_bitmap.h>

#define MAX_BYTES (XENCTL_BITMAP_MAX_BITS / 8)

static unsigned int bytes_for(uint64_t nbits) { return (unsigned int)((nbits + 7) / 8); }

/* bits[] as bytes, bits at or above nbits cleared. */
static void to_bytes(uint8_t *out, const uint64_t *bits, unsigned int nbits)
{
    for (unsigned int i = 0; i < bytes_for(nbits); i++)
        out[i] = (uint8_t)(bits[i / 8] >> (8 * (i % 8)));
    if (nbits % 8)
        out[nbits / 8] &= (uint8_t)((1u << (nbits % 8)) - 1);
}

int bitmap_to_xenctl(const struct xenctl_bitmap *dst, const uint64_t *bits, unsigned int nbits)
{
    uint8_t bytes[MAX_BYTES];
    BUG_ON(nbits > XENCTL_BITMAP_MAX_BITS);
    uint64_t guest_bytes = bytes_for(dst->nr_bits);
    unsigned int copy = (unsigned int)MIN(guest_bytes, (uint64_t)bytes_for(nbits));
    to_bytes(bytes, bits, nbits);
    if (copy && copy_to_guest(dst->bitmap.p, bytes, copy))
        return -EFAULT;
    if (guest_bytes > copy && clear_guest(dst->bitmap.p + copy, guest_bytes - copy))
        return -EFAULT;
    return 0;
}

int xenctl_to_bitmap(uint64_t *bits, unsigned int nbits, const struct xenctl_bitmap *src)
{
    uint8_t bytes[MAX_BYTES] = {0};
    BUG_ON(nbits > XENCTL_BITMAP_MAX_BITS);
    uint64_t guest_bytes = bytes_for(src->nr_bits);
    unsigned int copy = (unsigned int)MIN(guest_bytes, (uint64_t)bytes_for(nbits));
    if (copy) {
        if (copy_from_guest(bytes, src->bitmap.p, copy))
            return -EFAULT;
        if ((src->nr_bits % 8) && guest_bytes == copy) /* the caller's last byte is partly beyond its map */
            bytes[copy - 1] &= (uint8_t)((1u << (src->nr_bits % 8)) - 1);
    }
    for (unsigned int w = 0; w < (nbits + 63) / 64; w++)
        bits[w] = 0;
    for (unsigned int i = 0; i < bytes_for(nbits); i++)
        bits[i / 8] |= (uint64_t)bytes[i] << (8 * (i % 8));
    if (nbits % 64)
        bits[nbits / 64] &= (1ULL << (nbits % 64)) - 1;
    return 0;
}
