/* bzImage header parsing: see vesta/bzimage.h. */
#include "vesta/bzimage.h"

/* Offsets in the x86 boot protocol's setup header. */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_HEADER 0x202 /* "HdrS" */
#define BZ_VERSION 0x206
#define BZ_PAYLOAD_OFFSET 0x248
#define BZ_PAYLOAD_LENGTH 0x24c
#define BZ_MIN_SIZE 0x250 /* through payload_length */

#define BZ_MIN_VERSION 0x0208 /* the first protocol with payload fields */

static uint32_t get_le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;

    while (n--)
        v = (v << 8) | p[n];
    return v;
}

static bool starts(const uint8_t *p, size_t len, const char *magic, size_t mlen)
{
    if (len < mlen)
        return false;
    for (size_t i = 0; i < mlen; i++)
        if (p[i] != (uint8_t)magic[i])
            return false;
    return true;
}

enum bzimage_comp bzimage_identify(const void *data, size_t len)
{
    const uint8_t *p = data;

    if (starts(p, len, "\177ELF", 4))
        return BZIMAGE_COMP_ELF;
    if (starts(p, len, "\037\213", 2) || starts(p, len, "\037\236", 2))
        return BZIMAGE_COMP_GZIP;
    if (starts(p, len, "BZh", 3))
        return BZIMAGE_COMP_BZIP2;
    if (starts(p, len, "\3757zXZ\0", 6))
        return BZIMAGE_COMP_XZ;
    if (starts(p, len, "\135\0", 2))
        return BZIMAGE_COMP_LZMA;
    if (starts(p, len, "\211LZO\0", 5))
        return BZIMAGE_COMP_LZO;
    if (starts(p, len, "\002\041", 2))
        return BZIMAGE_COMP_LZ4;
    if (starts(p, len, "\050\265\057\375", 4))
        return BZIMAGE_COMP_ZSTD;
    return BZIMAGE_COMP_UNKNOWN;
}

const char *bzimage_comp_name(enum bzimage_comp comp)
{
    switch (comp) {
    case BZIMAGE_COMP_ELF: return "elf";
    case BZIMAGE_COMP_GZIP: return "gzip";
    case BZIMAGE_COMP_BZIP2: return "bzip2";
    case BZIMAGE_COMP_XZ: return "xz";
    case BZIMAGE_COMP_LZMA: return "lzma";
    case BZIMAGE_COMP_LZO: return "lzo";
    case BZIMAGE_COMP_LZ4: return "lz4";
    case BZIMAGE_COMP_ZSTD: return "zstd";
    case BZIMAGE_COMP_UNKNOWN: break;
    }
    return "unknown";
}

static int fail(const char **why, const char *msg, int err)
{
    if (why)
        *why = msg;
    return err;
}

int bzimage_parse(const void *image, size_t size, struct bzimage_info *out, const char **why)
{
    const uint8_t *b = image;
    uint64_t start, len;

    if (why)
        *why = NULL;
    if (size < BZ_MIN_SIZE || !starts(b + BZ_HEADER, 4, "HdrS", 4))
        return 0;

    out->version = (uint16_t)get_le(b + BZ_VERSION, 2);
    if (out->version < BZ_MIN_VERSION)
        return fail(why, "bzImage boot protocol older than 2.08", -EINVAL);
    out->setup_sects = b[BZ_SETUP_SECTS];
    out->payload_offset = get_le(b + BZ_PAYLOAD_OFFSET, 4);
    out->payload_length = get_le(b + BZ_PAYLOAD_LENGTH, 4);

    /* 64-bit sums of values below 2^32 cannot overflow. */
    start = ((uint64_t)(out->setup_sects ? out->setup_sects : 4) + 1) * 512 + out->payload_offset;
    len = out->payload_length;
    if (start > size || len > size - start)
        return fail(why, "bzImage payload lies outside the image", -ENOEXEC);
    if (len < 4)
        return fail(why, "bzImage payload too short", -ENOEXEC);

    out->payload_start = (size_t)start;
    out->payload = b + start;
    out->decompressed_len = get_le(b + start + len - 4, 4);
    out->comp = bzimage_identify(out->payload, (size_t)len);
    return 1;
}
