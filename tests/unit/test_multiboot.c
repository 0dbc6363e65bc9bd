/* Multiboot 1/2 parsing against info blocks built in a fake physical memory, plus memory map sanitizing. */
#include "testlib.h"
#include "vesta/bootinfo.h"
#include "vesta/errno.h"

#include <stdlib.h>

/* Physical [FAKE_BASE, FAKE_BASE + FAKE_SIZE) backed by a heap buffer, so ASan catches any stray access. */
#define FAKE_BASE 0x10000u
#define FAKE_SIZE 0x20000u

struct fake {
    uint8_t *mem;
    unsigned maps;
};

static const void *fake_map(uint64_t pa, size_t len, void *ctx)
{
    struct fake *f = ctx;
    f->maps++;
    if (pa < FAKE_BASE || pa - FAKE_BASE > FAKE_SIZE || len > FAKE_SIZE - (pa - FAKE_BASE))
        return NULL;
    return f->mem + (pa - FAKE_BASE);
}

static struct fake *fake_new(void)
{
    struct fake *f = calloc(1, sizeof(*f));
    f->mem = calloc(1, FAKE_SIZE);
    return f;
}

static void fake_free(struct fake *f)
{
    free(f->mem);
    free(f);
}

static void *at(struct fake *f, uint32_t pa)
{
    return f->mem + (pa - FAKE_BASE);
}

static void put32(struct fake *f, uint32_t pa, uint32_t v)
{
    memcpy(at(f, pa), &v, 4);
}

static void put64(struct fake *f, uint32_t pa, uint64_t v)
{
    memcpy(at(f, pa), &v, 8);
}

static void putstr(struct fake *f, uint32_t pa, const char *s)
{
    memcpy(at(f, pa), s, strlen(s) + 1);
}

static struct boot_info *new_bi(void)
{
    struct boot_info *bi = malloc(sizeof(*bi));
    memset(bi, 0xA5, sizeof(*bi)); /* parsers must not rely on a zeroed struct */
    return bi;
}

static bool region_is(const struct boot_info *bi, unsigned i, uint64_t base, uint64_t len, uint32_t type)
{
    return i < bi->nr_mem && bi->mem[i].base == base && bi->mem[i].len == len && bi->mem[i].type == type;
}

static bool sorted_disjoint(const struct boot_info *bi)
{
    for (unsigned i = 1; i < bi->nr_mem; i++) {
        if (bi->mem[i].base < bi->mem[i - 1].base + bi->mem[i - 1].len)
            return false;
    }
    return true;
}

/* ---- Multiboot 1 ---- */

#define MB1_INFO 0x10000u
#define MB1_CMDLINE 0x11000u
#define MB1_LOADER 0x11100u
#define MB1_MODS 0x11200u
#define MB1_STRS 0x11300u
#define MB1_MMAP 0x12000u

static void mb1_mmap_entry(struct fake *f, uint32_t *pa, uint64_t base, uint64_t len, uint32_t type)
{
    put32(f, *pa, 20);
    put64(f, *pa + 4, base);
    put64(f, *pa + 12, len);
    put32(f, *pa + 20, type);
    *pa += 24;
}

static void mb1_build(struct fake *f)
{
    put32(f, MB1_INFO, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
    put32(f, MB1_INFO + 4, 639);
    put32(f, MB1_INFO + 8, 2096128);
    put32(f, MB1_INFO + 16, MB1_CMDLINE);
    putstr(f, MB1_CMDLINE, "console=com1 dom0_mem=1G");
    put32(f, MB1_INFO + 64, MB1_LOADER);
    putstr(f, MB1_LOADER, "qemu");

    put32(f, MB1_INFO + 20, 2);
    put32(f, MB1_INFO + 24, MB1_MODS);
    put32(f, MB1_MODS + 0, 0x200000);
    put32(f, MB1_MODS + 4, 0x400000);
    put32(f, MB1_MODS + 8, MB1_STRS);
    putstr(f, MB1_STRS, "/boot/vmlinuz root=/dev/sda1 ro");
    put32(f, MB1_MODS + 16, 0x400000);
    put32(f, MB1_MODS + 20, 0x480000);
    put32(f, MB1_MODS + 24, MB1_STRS + 0x100);
    putstr(f, MB1_STRS + 0x100, "/boot/initrd.img");

    uint32_t pa = MB1_MMAP;
    mb1_mmap_entry(f, &pa, 0x100000, 0x7fe00000, 1); /* deliberately out of order */
    mb1_mmap_entry(f, &pa, 0, 0x9fc00, 1);
    mb1_mmap_entry(f, &pa, 0x9fc00, 0x400, 2);
    mb1_mmap_entry(f, &pa, 0xf0000, 0x10000, 2);
    mb1_mmap_entry(f, &pa, 0x7ff00000, 0x100000, 3);
    mb1_mmap_entry(f, &pa, 0xfec00000, 0x1000, 2);
    mb1_mmap_entry(f, &pa, 0x100000000ULL, 0x80000000ULL, 1);
    put32(f, MB1_INFO + 44, pa - MB1_MMAP);
    put32(f, MB1_INFO + 48, MB1_MMAP);
}

TEST(mb1_valid)
{
    struct fake *f = fake_new();
    struct boot_info *bi = new_bi();

    mb1_build(f);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK_EQ(bi->protocol, 1);
    CHECK_STR(bi->cmdline, "console=com1 dom0_mem=1G");
    CHECK_STR(bi->loader_name, "qemu");
    CHECK_EQ(bi->nr_mods, 2);
    CHECK_EQ(bi->mods[0].start, 0x200000);
    CHECK_EQ(bi->mods[0].end, 0x400000);
    CHECK_STR(bi->mods[0].cmdline, "/boot/vmlinuz root=/dev/sda1 ro");
    CHECK_STR(boot_module_args(bi, &bi->mods[0]), "root=/dev/sda1 ro");
    CHECK_STR(bi->mods[1].cmdline, "/boot/initrd.img");
    CHECK_STR(boot_module_args(bi, &bi->mods[1]), "");
    CHECK_EQ(bi->warnings, 0);
    CHECK(!bi->has_rsdp);

    CHECK_EQ(bi->nr_mem, 7);
    CHECK(region_is(bi, 0, 0, 0x9fc00, 1));
    CHECK(region_is(bi, 1, 0x9fc00, 0x400, 2));
    CHECK(region_is(bi, 2, 0xf0000, 0x10000, 2));
    CHECK(region_is(bi, 3, 0x100000, 0x7fe00000, 1));
    CHECK(region_is(bi, 4, 0x7ff00000, 0x100000, 3));
    CHECK(region_is(bi, 5, 0xfec00000, 0x1000, 2));
    CHECK(region_is(bi, 6, 0x100000000ULL, 0x80000000ULL, 1));
    free(bi);
    fake_free(f);
}

TEST(mb1_fallback_mem_and_minimal)
{
    struct fake *f = fake_new();
    struct boot_info *bi = new_bi();

    put32(f, MB1_INFO, 1u << 0);
    put32(f, MB1_INFO + 4, 640);
    put32(f, MB1_INFO + 8, 0x3ff00000 >> 10);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK_EQ(bi->nr_mem, 2);
    CHECK(region_is(bi, 0, 0, 640 << 10, 1));
    CHECK(region_is(bi, 1, 0x100000, 0x3ff00000, 1));
    CHECK_STR(bi->cmdline, "");
    CHECK_STR(bi->loader_name, "");
    CHECK_EQ(bi->nr_mods, 0);

    /* An mmap takes precedence over mem_lower/mem_upper. */
    mb1_build(f);
    put32(f, MB1_INFO + 8, 1);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK_EQ(bi->nr_mem, 7);

    put32(f, MB1_INFO, 0);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -ENODATA);
    free(bi);
    fake_free(f);
}

TEST(mb1_bad_pointers)
{
    struct fake *f = fake_new();
    struct boot_info *bi = new_bi();

    CHECK_EQ(multiboot1_parse(0x1000, fake_map, f, bi), -EFAULT);
    CHECK_EQ(multiboot1_parse(FAKE_BASE + FAKE_SIZE - 2, fake_map, f, bi), -EFAULT);

    mb1_build(f);
    put32(f, MB1_INFO + 16, 0x5000); /* cmdline outside memory */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EFAULT);

    mb1_build(f);
    put32(f, MB1_MODS + 24, 0xFFFFFFF0u); /* module string outside memory */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EFAULT);

    mb1_build(f);
    put32(f, MB1_INFO + 24, FAKE_BASE + FAKE_SIZE - 8); /* module array runs off the end */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EFAULT);

    mb1_build(f);
    put32(f, MB1_INFO + 48, 0x1000); /* mmap outside memory */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EFAULT);
    free(bi);
    fake_free(f);
}

TEST(mb1_malformed_counts)
{
    struct fake *f = fake_new();
    struct boot_info *bi = new_bi();

    mb1_build(f);
    put32(f, MB1_INFO + 20, 0xFFFFFFFFu); /* count * 16 wraps the 32-bit space */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EINVAL);

    mb1_build(f);
    put32(f, MB1_MODS + 4, 0x1FFFFF); /* end before start */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EINVAL);

    mb1_build(f);
    put32(f, MB1_MMAP, 12); /* entry smaller than its fields */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EINVAL);

    mb1_build(f);
    put32(f, MB1_MMAP, 0x1000); /* entry larger than the map */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EINVAL);

    mb1_build(f);
    put32(f, MB1_INFO + 44, 24 * 7 - 1); /* map length cuts the last entry */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EINVAL);

    mb1_build(f);
    put32(f, MB1_INFO + 44, 0xFFFFFF00u); /* map wraps the 32-bit space */
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), -EINVAL);

    /* A larger size field (future fields) is honoured when stepping. */
    mb1_build(f);
    uint32_t pa = MB1_MMAP;
    put32(f, pa, 28);
    put64(f, pa + 4, 0);
    put64(f, pa + 12, 0x1000);
    put32(f, pa + 20, 1);
    pa += 32;
    mb1_mmap_entry(f, &pa, 0x2000, 0x1000, 1);
    put32(f, MB1_INFO + 44, pa - MB1_MMAP);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK_EQ(bi->nr_mem, 2);
    CHECK(region_is(bi, 1, 0x2000, 0x1000, 1));

    /* More modules than we keep: the first 16 survive. */
    mb1_build(f);
    for (uint32_t i = 0; i < 20; i++) {
        put32(f, MB1_MODS + 16 * i, 0x1000000 + i * 0x1000);
        put32(f, MB1_MODS + 16 * i + 4, 0x1000000 + i * 0x1000 + 0x800);
        put32(f, MB1_MODS + 16 * i + 8, 0);
    }
    put32(f, MB1_INFO + 20, 20);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK_EQ(bi->nr_mods, BOOT_MAX_MODS);
    CHECK(bi->warnings & BOOT_WARN_MODS_DROPPED);
    CHECK_EQ(bi->mods[15].start, 0x1000000 + 15 * 0x1000);
    CHECK_STR(bi->mods[3].cmdline, "");
    free(bi);
    fake_free(f);
}

TEST(mb1_strings_clamped)
{
    struct fake *f = fake_new();
    struct boot_info *bi = new_bi();

    /* Unterminated command line running into the end of accessible memory. */
    mb1_build(f);
    uint32_t tail = FAKE_BASE + FAKE_SIZE - 10;
    memset(at(f, tail), 'q', 10);
    put32(f, MB1_INFO + 16, tail);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK_STR(bi->cmdline, "qqqqqqqqqq");
    CHECK(bi->warnings & BOOT_WARN_STRING_TRUNCATED);

    /* Overlong string: clamped at the per-string limit. */
    mb1_build(f);
    memset(at(f, 0x20000), 'z', 5000);
    put32(f, MB1_INFO + 16, 0x20000);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK_EQ(strlen(bi->cmdline), BOOT_STRING_MAX - 1);
    CHECK(bi->warnings & BOOT_WARN_STRING_TRUNCATED);
    CHECK_STR(bi->loader_name, "qemu");

    /* Exhausting the string buffer: every string stays terminated and inside it. */
    mb1_build(f);
    memset(at(f, 0x20000), 'm', 1500);
    *(char *)at(f, 0x20000 + 1500) = '\0';
    put32(f, MB1_INFO + 16, 0);
    put32(f, MB1_INFO, 1u << 3 | 1u << 0);
    for (uint32_t i = 0; i < 16; i++) {
        put32(f, MB1_MODS + 16 * i, 0x1000000);
        put32(f, MB1_MODS + 16 * i + 4, 0x1000000);
        put32(f, MB1_MODS + 16 * i + 8, 0x20000);
    }
    put32(f, MB1_INFO + 20, 16);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK(bi->warnings & BOOT_WARN_STRING_TRUNCATED);
    CHECK(bi->strused <= BOOT_STRBUF_SIZE);
    CHECK_EQ(strlen(bi->mods[0].cmdline), 1500);
    for (unsigned i = 0; i < 16; i++) {
        const char *s = bi->mods[i].cmdline;
        CHECK(s >= bi->strbuf && s < bi->strbuf + BOOT_STRBUF_SIZE);
        CHECK(s + strlen(s) < bi->strbuf + BOOT_STRBUF_SIZE);
    }
    CHECK_STR(bi->mods[15].cmdline, "");
    free(bi);
    fake_free(f);
}

TEST(mb1_many_mmap_entries)
{
    struct fake *f = fake_new();
    struct boot_info *bi = new_bi();

    /* 300 touching RAM pieces: compacted on the fly, nothing lost. */
    mb1_build(f);
    uint32_t pa = MB1_MMAP;
    for (unsigned i = 0; i < 300; i++)
        mb1_mmap_entry(f, &pa, (uint64_t)i << 12, 0x1000, 1);
    put32(f, MB1_INFO + 44, pa - MB1_MMAP);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK_EQ(bi->nr_mem, 1);
    CHECK(region_is(bi, 0, 0, 300 << 12, 1));
    CHECK_EQ(bi->warnings & BOOT_WARN_MEM_DROPPED, 0);

    /* 300 alternating entries cannot be compacted: the map is capped and says so. */
    pa = MB1_MMAP;
    for (unsigned i = 0; i < 300; i++)
        mb1_mmap_entry(f, &pa, (uint64_t)i << 12, 0x1000, 1 + (i & 1));
    put32(f, MB1_INFO + 44, pa - MB1_MMAP);
    CHECK_EQ(multiboot1_parse(MB1_INFO, fake_map, f, bi), 0);
    CHECK_EQ(bi->nr_mem, BOOT_MAX_MEM);
    CHECK(bi->warnings & BOOT_WARN_MEM_DROPPED);
    CHECK(sorted_disjoint(bi));
    free(bi);
    fake_free(f);
}

/* ---- Multiboot 2 ---- */

#define MB2_INFO 0x10000u

struct mb2 {
    struct fake *f;
    uint32_t off;
};

static uint32_t tag_begin(struct mb2 *m, uint32_t type)
{
    m->off = (uint32_t)ALIGN_UP(m->off, 8);
    put32(m->f, MB2_INFO + m->off, type);
    return m->off;
}

static void tag_end(struct mb2 *m, uint32_t start, uint32_t size)
{
    put32(m->f, MB2_INFO + start + 4, size);
    m->off = start + size;
}

static void tag_string(struct mb2 *m, uint32_t type, const char *s)
{
    uint32_t t = tag_begin(m, type);
    putstr(m->f, MB2_INFO + t + 8, s);
    tag_end(m, t, 8 + (uint32_t)strlen(s) + 1);
}

static void tag_module(struct mb2 *m, uint32_t start, uint32_t end, const char *s)
{
    uint32_t t = tag_begin(m, 3);
    put32(m->f, MB2_INFO + t + 8, start);
    put32(m->f, MB2_INFO + t + 12, end);
    putstr(m->f, MB2_INFO + t + 16, s);
    tag_end(m, t, 16 + (uint32_t)strlen(s) + 1);
}

static void tag_rsdp(struct mb2 *m, bool v2, uint8_t marker)
{
    uint32_t t = tag_begin(m, v2 ? 15 : 14), len = v2 ? 36 : 20;
    uint8_t *p = at(m->f, MB2_INFO + t + 8);
    memcpy(p, "RSD PTR ", 8);
    for (uint32_t i = 8; i < len; i++)
        p[i] = marker;
    tag_end(m, t, 8 + len);
}

static void mb2_finish(struct mb2 *m)
{
    uint32_t t = tag_begin(m, 0);
    tag_end(m, t, 8);
    put32(m->f, MB2_INFO, m->off);
    put32(m->f, MB2_INFO + 4, 0);
}

static void mb2_build(struct mb2 *m, bool with_mmap)
{
    memset(m->f->mem, 0, FAKE_SIZE);
    m->off = 8;
    tag_string(m, 1, "loglvl=all com1=115200,8n1");
    tag_string(m, 2, "GRUB 2.12");
    tag_module(m, 0x1000000, 0x1800000, "/vmlinuz console=hvc0 earlyprintk=xen");
    tag_module(m, 0x1800000, 0x1900000, "/initrd");
    uint32_t t = tag_begin(m, 4);
    put32(m->f, MB2_INFO + t + 8, 639);
    put32(m->f, MB2_INFO + t + 12, 523264);
    tag_end(m, t, 16);
    t = tag_begin(m, 8); /* framebuffer: ignored */
    tag_end(m, t, 38);
    tag_rsdp(m, true, 0x22);
    tag_rsdp(m, false, 0x11); /* must not displace the v2 one */
    if (with_mmap) {
        static const struct {
            uint64_t base, len;
            uint32_t type;
        } e[] = {
            {0, 0x9f000, 1}, {0x9f000, 0x1000, 2}, {0x100000, 0x3ff00000, 1}, {0x3ffe0000, 0x20000, 4},
        };
        t = tag_begin(m, 6);
        put32(m->f, MB2_INFO + t + 8, 24);
        put32(m->f, MB2_INFO + t + 12, 0);
        for (unsigned i = 0; i < 4; i++) {
            put64(m->f, MB2_INFO + t + 16 + 24 * i, e[i].base);
            put64(m->f, MB2_INFO + t + 24 + 24 * i, e[i].len);
            put32(m->f, MB2_INFO + t + 32 + 24 * i, e[i].type);
        }
        tag_end(m, t, 16 + 4 * 24);
    }
    t = tag_begin(m, 12); /* EFI64 system table: ignored */
    put64(m->f, MB2_INFO + t + 8, 0xdeadbeef);
    tag_end(m, t, 16);
    mb2_finish(m);
}

TEST(mb2_valid)
{
    struct mb2 m = {.f = fake_new()};
    struct boot_info *bi = new_bi();

    mb2_build(&m, true);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), 0);
    CHECK_EQ(bi->protocol, 2);
    CHECK_STR(bi->cmdline, "loglvl=all com1=115200,8n1");
    CHECK_STR(bi->loader_name, "GRUB 2.12");
    CHECK_EQ(bi->nr_mods, 2);
    CHECK_EQ(bi->mods[0].start, 0x1000000);
    CHECK_EQ(bi->mods[0].end, 0x1800000);
    /* GRUB 2 passes no path, so the module's text is taken whole. */
    CHECK_STR(boot_module_args(bi, &bi->mods[0]), "/vmlinuz console=hvc0 earlyprintk=xen");
    CHECK_STR(bi->mods[1].cmdline, "/initrd");
    CHECK(bi->has_rsdp);
    CHECK(!memcmp(bi->rsdp, "RSD PTR ", 8));
    CHECK_EQ(bi->rsdp[35], 0x22);
    CHECK_EQ(bi->warnings, 0);
    /* The ACPI NVS region at the top overrides the RAM below it. */
    CHECK_EQ(bi->nr_mem, 4);
    CHECK(region_is(bi, 0, 0, 0x9f000, 1));
    CHECK(region_is(bi, 1, 0x9f000, 0x1000, 2));
    CHECK(region_is(bi, 2, 0x100000, 0x3fee0000, 1));
    CHECK(region_is(bi, 3, 0x3ffe0000, 0x20000, 4));

    /* Without an mmap tag the basic meminfo is used. */
    mb2_build(&m, false);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), 0);
    CHECK_EQ(bi->nr_mem, 2);
    CHECK(region_is(bi, 1, 0x100000, 523264ULL << 10, 1));
    free(bi);
    fake_free(m.f);
}

TEST(mb2_rsdp_variants)
{
    struct mb2 m = {.f = fake_new()};
    struct boot_info *bi = new_bi();

    memset(m.f->mem, 0, FAKE_SIZE);
    m.off = 8;
    tag_rsdp(&m, false, 0x11);
    uint32_t t = tag_begin(&m, 4);
    put32(m.f, MB2_INFO + t + 8, 1);
    put32(m.f, MB2_INFO + t + 12, 1);
    tag_end(&m, t, 16);
    mb2_finish(&m);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), 0);
    CHECK(bi->has_rsdp);
    CHECK_EQ(bi->rsdp[19], 0x11);
    CHECK_EQ(bi->rsdp[20], 0); /* v1: rest zeroed */

    /* A v2 tag later in the list replaces the v1 copy; a bad signature is ignored. */
    m.off -= 8;
    tag_rsdp(&m, true, 0x33);
    uint32_t bad = tag_begin(&m, 15);
    memset(at(m.f, MB2_INFO + bad + 8), 'x', 36);
    tag_end(&m, bad, 44);
    mb2_finish(&m);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), 0);
    CHECK_EQ(bi->rsdp[35], 0x33);

    /* A truncated RSDP tag is ignored. */
    memset(m.f->mem, 0, FAKE_SIZE);
    m.off = 8;
    t = tag_begin(&m, 14);
    memcpy(at(m.f, MB2_INFO + t + 8), "RSD PTR ", 8);
    tag_end(&m, t, 8 + 12);
    t = tag_begin(&m, 4);
    put32(m.f, MB2_INFO + t + 8, 1);
    tag_end(&m, t, 16);
    mb2_finish(&m);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), 0);
    CHECK(!bi->has_rsdp);
    free(bi);
    fake_free(m.f);
}

TEST(mb2_malformed)
{
    struct mb2 m = {.f = fake_new()};
    struct boot_info *bi = new_bi();

    mb2_build(&m, true);
    CHECK_EQ(multiboot2_parse(MB2_INFO + 4, fake_map, m.f, bi), -EINVAL); /* misaligned */
    CHECK_EQ(multiboot2_parse(0x1000, fake_map, m.f, bi), -EFAULT);

    put32(m.f, MB2_INFO, 8);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -EINVAL); /* too small for an end tag */
    put32(m.f, MB2_INFO, FAKE_SIZE + 8);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -EFAULT); /* beyond accessible memory */

    /* Total size cutting the list before the end tag. */
    mb2_build(&m, true);
    put32(m.f, MB2_INFO, m.off - 8);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -EINVAL);

    /* A tag claiming to be larger than the whole info block. */
    mb2_build(&m, true);
    put32(m.f, MB2_INFO + 8 + 4, 0x100000);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -EINVAL);

    /* A tag size below the header size. */
    mb2_build(&m, true);
    put32(m.f, MB2_INFO + 8 + 4, 4);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -EINVAL);

    /* End tag missing: list runs into zero padding, which has type 0 size 0. */
    mb2_build(&m, true);
    put32(m.f, MB2_INFO + m.off - 8, 99);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -EINVAL);

    /* Bad mmap entry sizes. */
    uint32_t sizes[] = {0, 20, 28};
    for (unsigned i = 0; i < 3; i++) {
        memset(m.f->mem, 0, FAKE_SIZE);
        m.off = 8;
        uint32_t t = tag_begin(&m, 6);
        put32(m.f, MB2_INFO + t + 8, sizes[i]);
        tag_end(&m, t, 16 + 48);
        mb2_finish(&m);
        CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -EINVAL);
    }

    /* Module tag too short, and module ending before it starts. */
    memset(m.f->mem, 0, FAKE_SIZE);
    m.off = 8;
    uint32_t t = tag_begin(&m, 3);
    tag_end(&m, t, 12);
    mb2_finish(&m);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -EINVAL);
    memset(m.f->mem, 0, FAKE_SIZE);
    m.off = 8;
    tag_module(&m, 0x2000, 0x1000, "x");
    mb2_finish(&m);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -EINVAL);

    /* No memory information at all. */
    memset(m.f->mem, 0, FAKE_SIZE);
    m.off = 8;
    tag_string(&m, 1, "x");
    mb2_finish(&m);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), -ENODATA);
    free(bi);
    fake_free(m.f);
}

TEST(mb2_unterminated_and_partial)
{
    struct mb2 m = {.f = fake_new()};
    struct boot_info *bi = new_bi();

    /* Command line tag whose string fills the tag without a terminator. */
    memset(m.f->mem, 0, FAKE_SIZE);
    m.off = 8;
    uint32_t t = tag_begin(&m, 1);
    memcpy(at(m.f, MB2_INFO + t + 8), "abcdefgh", 8);
    tag_end(&m, t, 16);
    t = tag_begin(&m, 3);
    put32(m.f, MB2_INFO + t + 8, 0x1000);
    put32(m.f, MB2_INFO + t + 12, 0x1000);
    tag_end(&m, t, 16); /* no string at all */
    t = tag_begin(&m, 4);
    put32(m.f, MB2_INFO + t + 12, 1);
    tag_end(&m, t, 16);
    mb2_finish(&m);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), 0);
    CHECK_STR(bi->cmdline, "abcdefgh");
    CHECK(bi->warnings & BOOT_WARN_STRING_TRUNCATED);
    CHECK_EQ(bi->nr_mods, 1);
    CHECK_STR(bi->mods[0].cmdline, "");
    CHECK_STR(boot_module_args(bi, &bi->mods[0]), "");

    /* A trailing partial mmap entry is ignored; a wrapping region is clamped. */
    memset(m.f->mem, 0, FAKE_SIZE);
    m.off = 8;
    t = tag_begin(&m, 6);
    put32(m.f, MB2_INFO + t + 8, 24);
    put64(m.f, MB2_INFO + t + 16, 0xFFFFFFFFFFFFF000ULL);
    put64(m.f, MB2_INFO + t + 24, 0x2000);
    put32(m.f, MB2_INFO + t + 32, 2);
    tag_end(&m, t, 16 + 24 + 20);
    mb2_finish(&m);
    CHECK_EQ(multiboot2_parse(MB2_INFO, fake_map, m.f, bi), 0);
    CHECK_EQ(bi->nr_mem, 1);
    CHECK(region_is(bi, 0, 0xFFFFFFFFFFFFF000ULL, 0xFFF, 2));
    CHECK(bi->warnings & BOOT_WARN_MEM_CLAMPED);
    free(bi);
    fake_free(m.f);
}

/* ---- sanitize and module args ---- */

static void set_regions(struct boot_info *bi, const struct boot_mem_region *r, unsigned n)
{
    memset(bi, 0, sizeof(*bi));
    memcpy(bi->mem, r, n * sizeof(*r));
    bi->nr_mem = n;
}

TEST(memmap_sanitize_overlaps)
{
    struct boot_info *bi = new_bi();

    const struct boot_mem_region a[] = {{0, 100, 1}, {50, 10, 2}};
    set_regions(bi, a, 2);
    boot_memmap_sanitize(bi);
    CHECK_EQ(bi->nr_mem, 3);
    CHECK(region_is(bi, 0, 0, 50, 1));
    CHECK(region_is(bi, 1, 50, 10, 2));
    CHECK(region_is(bi, 2, 60, 40, 1));

    const struct boot_mem_region b[] = {{200, 100, 1}, {100, 100, 1}, {300, 0, 2}, {400, 10, 1}};
    set_regions(bi, b, 4);
    boot_memmap_sanitize(bi);
    CHECK_EQ(bi->nr_mem, 2);
    CHECK(region_is(bi, 0, 100, 200, 1));
    CHECK(region_is(bi, 1, 400, 10, 1));

    const struct boot_mem_region c[] = {{5, 10, 5}, {0, 10, 2}, {90, 20, 3}, {0, 100, 1}, {95, 10, 4}};
    set_regions(bi, c, 5);
    boot_memmap_sanitize(bi);
    CHECK_EQ(bi->nr_mem, 6);
    CHECK(region_is(bi, 0, 0, 5, 2));
    CHECK(region_is(bi, 1, 5, 10, 5));
    CHECK(region_is(bi, 2, 15, 75, 1));
    CHECK(region_is(bi, 3, 90, 5, 3));
    CHECK(region_is(bi, 4, 95, 10, 4));
    CHECK(region_is(bi, 5, 105, 5, 3));

    /* An unknown type is treated as reserved, not RAM. */
    const struct boot_mem_region d[] = {{0, 0x1000, 1}, {0x800, 0x100, 12}};
    set_regions(bi, d, 2);
    boot_memmap_sanitize(bi);
    CHECK_EQ(bi->nr_mem, 3);
    CHECK(region_is(bi, 1, 0x800, 0x100, 12));

    /* Identical duplicates collapse; nested same-type regions merge. */
    const struct boot_mem_region e[] = {{0, 10, 1}, {0, 10, 1}, {2, 3, 1}};
    set_regions(bi, e, 3);
    boot_memmap_sanitize(bi);
    CHECK_EQ(bi->nr_mem, 1);
    CHECK(region_is(bi, 0, 0, 10, 1));

    set_regions(bi, e, 0);
    boot_memmap_sanitize(bi);
    CHECK_EQ(bi->nr_mem, 0);

    /* Region reaching the very top of the address space. */
    const struct boot_mem_region g[] = {{UINT64_MAX - 0xFFF, 0x1000, 1}, {UINT64_MAX - 0x7FF, 0x800, 2}};
    set_regions(bi, g, 2);
    boot_memmap_sanitize(bi);
    CHECK_EQ(bi->nr_mem, 2);
    CHECK(region_is(bi, 0, UINT64_MAX - 0xFFF, 0x800, 1));
    CHECK(region_is(bi, 1, UINT64_MAX - 0x7FF, 0x7FF, 2));
    free(bi);
}

TEST(memmap_sanitize_overflowing_output)
{
    struct boot_info *bi = new_bi();
    struct boot_mem_region r[BOOT_MAX_MEM];

    /* One RAM region with 100 reserved holes needs 201 output regions. */
    r[0] = (struct boot_mem_region){0, 1000 * 0x1000, 1};
    for (unsigned i = 1; i <= 100; i++)
        r[i] = (struct boot_mem_region){(uint64_t)i * 0x4000, 0x1000, 2};
    set_regions(bi, r, 101);
    boot_memmap_sanitize(bi);
    CHECK_EQ(bi->nr_mem, BOOT_MAX_MEM);
    CHECK(bi->warnings & BOOT_WARN_MEM_DROPPED);
    CHECK(sorted_disjoint(bi));
    CHECK(region_is(bi, 0, 0, 0x4000, 1));
    CHECK(region_is(bi, 1, 0x4000, 0x1000, 2));
    free(bi);
}

TEST(module_args)
{
    static struct boot_info plain; /* loader "": not GRUB 2, the path comes first */
    struct boot_module m = {0};

    CHECK_STR(boot_module_args(&plain, &m), "");
    char s1[] = "/boot/vmlinuz root=/dev/xvda1 ro";
    m.cmdline = s1;
    CHECK_STR(boot_module_args(&plain, &m), "root=/dev/xvda1 ro");
    char s2[] = "   /k    a  b ";
    m.cmdline = s2;
    CHECK_STR(boot_module_args(&plain, &m), "a  b ");
    char s3[] = "/k";
    m.cmdline = s3;
    CHECK_STR(boot_module_args(&plain, &m), "");
    char s4[] = "/k   ";
    m.cmdline = s4;
    CHECK_STR(boot_module_args(&plain, &m), "");
    char s5[] = "";
    m.cmdline = s5;
    CHECK_STR(boot_module_args(&plain, &m), "");
}

TEST(grub2_command_lines_have_no_path)
{
    static struct boot_info bi;
    char grub2[] = "GRUB 2.06-13+deb12u2", legacy[] = "GNU GRUB 0.97", qemu[] = "qemu";
    char line[] = "  console=com1 dom0_mem=1G";

    bi.loader_name = grub2;
    CHECK_STR(boot_cmdline_args(&bi, line), "console=com1 dom0_mem=1G");
    bi.loader_name = legacy;
    CHECK_STR(boot_cmdline_args(&bi, line), "dom0_mem=1G");
    bi.loader_name = qemu;
    CHECK_STR(boot_cmdline_args(&bi, line), "dom0_mem=1G");
    CHECK_STR(boot_cmdline_args(&bi, NULL), "");
}
