/* Linux bzImage containers: find the compressed kernel ELF inside one and say how it is compressed.
 *
 * A bzImage starts with the real-mode setup code, whose header (the x86 boot protocol, "HdrS" at offset 0x202)
 * gives the number of 512-byte setup sectors and, from protocol 2.08 on, where the payload lies:
 * (setup_sects + 1) * 512 + payload_offset, payload_length bytes. The payload is the compressed vmlinux ELF, and
 * its last four bytes hold the decompressed size, little endian. Decompression is someone else's job.
 *
 * The image is untrusted: every offset is checked against the buffer, which need not be aligned. */
#ifndef VESTA_BZIMAGE_H
#define VESTA_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vesta/errno.h"
#include "vesta/types.h"

enum bzimage_comp {
    BZIMAGE_COMP_UNKNOWN = 0,
    BZIMAGE_COMP_ELF,   /* not compressed: already an ELF image */
    BZIMAGE_COMP_GZIP,  /* 1f 8b, or 1f 9e (old gzip) */
    BZIMAGE_COMP_BZIP2, /* "BZh" */
    BZIMAGE_COMP_XZ,    /* fd "7zXZ" 00 */
    BZIMAGE_COMP_LZMA,  /* 5d 00 */
    BZIMAGE_COMP_LZO,   /* 89 "LZO" 00 */
    BZIMAGE_COMP_LZ4,   /* 02 21 (legacy LZ4 frame, as the kernel build writes it) */
    BZIMAGE_COMP_ZSTD,  /* 28 b5 2f fd */
};

struct bzimage_info {
    uint16_t version;          /* boot protocol version, major << 8 | minor */
    uint8_t setup_sects;       /* as stored in the header */
    uint32_t payload_offset;   /* from the header: relative to the protected-mode code */
    uint32_t payload_length;   /* from the header */
    size_t payload_start;      /* offset of the payload in the image */
    const void *payload;       /* image + payload_start */
    uint32_t decompressed_len; /* the payload's last four bytes: the size of the ELF once decompressed */
    enum bzimage_comp comp;
};

/* Examines image[0, size).
 *   1        a bzImage; out describes its payload (which may be of an unknown compression: check out->comp)
 *   0        no boot protocol header: not a bzImage (possibly a plain ELF; see bzimage_identify())
 *   -EINVAL  a bzImage older than protocol 2.08, which has no payload fields (Xen refuses these too)
 *   -ENOEXEC the payload fields point outside the image, or the payload is shorter than 4 bytes
 * *why (if why is non-NULL) gets a static sentence on a negative result.
 * Unlike Xen, a setup_sects of 0 is read as 4, as the boot protocol says. */
int bzimage_parse(const void *image, size_t size, struct bzimage_info *out, const char **why);

/* Identifies data by its leading magic bytes. */
enum bzimage_comp bzimage_identify(const void *data, size_t len);

/* "gzip", "xz", ... or "unknown". */
const char *bzimage_comp_name(enum bzimage_comp comp);

#endif
