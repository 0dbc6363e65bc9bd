/* Moving bitmaps (CPU and node maps) between the hypervisor and a toolstack's struct xenctl_bitmap.
 *
 * Xen's rules, which the toolstack relies on: the hypervisor's map has nbits bits; the caller's has nr_bits
 * (rounded up to whole bytes). Writing copies the bytes both have and zero-fills the rest of the caller's map;
 * reading takes the bytes both have, drops the bits beyond nr_bits in the caller's last byte, and leaves the
 * hypervisor's bits beyond the caller's map clear. */
#ifndef VESTA_XENCTL_BITMAP_H
#define VESTA_XENCTL_BITMAP_H

#include <public/domctl.h>
#include <vesta/types.h>

#define XENCTL_BITMAP_MAX_BITS 256 /* the widest map the hypervisor has (a struct cpumask) */

/* bits[] is little-endian words of 64 bits; nbits <= XENCTL_BITMAP_MAX_BITS. 0 or -EFAULT. */
int bitmap_to_xenctl(const struct xenctl_bitmap *dst, const uint64_t *bits, unsigned int nbits);
int xenctl_to_bitmap(uint64_t *bits, unsigned int nbits, const struct xenctl_bitmap *src);

#endif
