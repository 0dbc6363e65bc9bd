/* bzImage header parsing on small synthetic images. */
#include "testlib.h"
#include "vesta/bzimage.h"

#include <stdlib.h>

#define BZ_SIZE 8192

static void put16(uint8_t *b, size_t o, uint16_t v) { memcpy(b + o, &v, 2); }
static void put32(uint8_t *b, size_t o, uint32_t v) { memcpy(b + o, &v, 4); }

/* setup_sects 3: protected-mode code at 0x800, payload 0x100 into it, 64 bytes, ending in its size. */
static uint8_t *build_bz(const void *magic, size_t mlen)
{
    uint8_t *b = calloc(1, BZ_SIZE);

    b[0x1f1] = 3;
    memcpy(b + 0x202, "HdrS", 4);
    put16(b, 0x206, 0x020f);
    put32(b, 0x248, 0x100);
    put32(b, 0x24c, 64);
    memcpy(b + 0x900, magic, mlen);
    put32(b, 0x900 + 60, 0x03edb0b4);
    return b;
}

TEST(bzimage_xz_payload)
{
    uint8_t *b = build_bz("\3757zXZ\0", 6);
    struct bzimage_info bi;
    const char *why = "unset";

    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, &why), 1);
    CHECK(why == NULL);
    CHECK_EQ(bi.version, 0x020f);
    CHECK_EQ(bi.setup_sects, 3);
    CHECK_EQ(bi.payload_offset, 0x100);
    CHECK_EQ(bi.payload_length, 64);
    CHECK_EQ(bi.payload_start, 0x900);
    CHECK(bi.payload == b + 0x900);
    CHECK_EQ(bi.decompressed_len, 0x03edb0b4);
    CHECK_EQ(bi.comp, BZIMAGE_COMP_XZ);
    CHECK_STR(bzimage_comp_name(bi.comp), "xz");
    free(b);
}

TEST(bzimage_identify_magics)
{
    static const struct {
        const char *m;
        size_t n;
        enum bzimage_comp c;
        const char *name;
    } t[] = {
        { "\037\213\010", 3, BZIMAGE_COMP_GZIP, "gzip" },
        { "\037\236", 2, BZIMAGE_COMP_GZIP, "gzip" },
        { "BZh9", 4, BZIMAGE_COMP_BZIP2, "bzip2" },
        { "\3757zXZ\0", 6, BZIMAGE_COMP_XZ, "xz" },
        { "\135\0\0\200", 4, BZIMAGE_COMP_LZMA, "lzma" },
        { "\211LZO\0", 5, BZIMAGE_COMP_LZO, "lzo" },
        { "\002\041\114\030", 4, BZIMAGE_COMP_LZ4, "lz4" },
        { "\050\265\057\375", 4, BZIMAGE_COMP_ZSTD, "zstd" },
        { "\177ELF\2", 5, BZIMAGE_COMP_ELF, "elf" },
        { "\3757zX", 4, BZIMAGE_COMP_UNKNOWN, "unknown" }, /* truncated magic */
        { "\0\0\0\0", 4, BZIMAGE_COMP_UNKNOWN, "unknown" },
    };

    for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
        CHECK_EQ(bzimage_identify(t[i].m, t[i].n), t[i].c);
        CHECK_STR(bzimage_comp_name(t[i].c), t[i].name);
    }
    CHECK_EQ(bzimage_identify("", 0), BZIMAGE_COMP_UNKNOWN);
    CHECK_STR(bzimage_comp_name((enum bzimage_comp)99), "unknown");

    /* Through the container too. */
    uint8_t *b = build_bz("\050\265\057\375", 4);
    struct bzimage_info bi;
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, NULL), 1);
    CHECK_EQ(bi.comp, BZIMAGE_COMP_ZSTD);
    free(b);
}

TEST(bzimage_not_bzimage)
{
    uint8_t *b = build_bz("\177ELF", 4);
    struct bzimage_info bi;

    CHECK_EQ(bzimage_parse(b, 0x24f, &bi, NULL), 0); /* too short for the payload fields */
    memcpy(b + 0x202, "HdrT", 4);
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, NULL), 0);
    /* A plain ELF is not a bzImage; identify says what it is. */
    memset(b, 0, BZ_SIZE);
    memcpy(b, "\177ELF", 4);
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, NULL), 0);
    CHECK_EQ(bzimage_identify(b, BZ_SIZE), BZIMAGE_COMP_ELF);
    free(b);
}

TEST(bzimage_errors)
{
    uint8_t *b = build_bz("BZh", 3);
    struct bzimage_info bi;
    const char *why;

    put16(b, 0x206, 0x0207);
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, &why), -EINVAL);
    CHECK_STR(why, "bzImage boot protocol older than 2.08");
    put16(b, 0x206, 0x0208);
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, &why), 1);
    CHECK_EQ(bi.comp, BZIMAGE_COMP_BZIP2);

    /* Payload ending exactly at the end of the image is fine; one byte more is not. */
    put32(b, 0x24c, BZ_SIZE - 0x900);
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, &why), 1);
    put32(b, 0x24c, BZ_SIZE - 0x900 + 1);
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, &why), -ENOEXEC);
    CHECK_STR(why, "bzImage payload lies outside the image");
    put32(b, 0x24c, 64);
    put32(b, 0x248, 0xffffffff);
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, &why), -ENOEXEC);
    put32(b, 0x248, 0x100);
    b[0x1f1] = 0xff;
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, &why), -ENOEXEC);
    b[0x1f1] = 3;
    put32(b, 0x24c, 3);
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, &why), -ENOEXEC);
    CHECK_STR(why, "bzImage payload too short");
    free(b);
}

TEST(bzimage_zero_setup_sects)
{
    uint8_t *b = build_bz("", 0);
    struct bzimage_info bi;

    /* The boot protocol reads 0 as 4 sectors: protected-mode code at 0xa00. */
    b[0x1f1] = 0;
    memcpy(b + 0xa00 + 0x100, "\037\213", 2);
    CHECK_EQ(bzimage_parse(b, BZ_SIZE, &bi, NULL), 1);
    CHECK_EQ(bi.payload_start, 0xb00);
    CHECK_EQ(bi.comp, BZIMAGE_COMP_GZIP);
    free(b);
}
