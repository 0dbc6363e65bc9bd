/* Multiboot 1 and 2 boot information parsers. Layouts are from the Multiboot 0.6.96 and 2.0 specifications. */
#include "vesta/bootinfo.h"
#include "vesta/errno.h"
#include "vesta/string.h"

/* Multiboot 1 info flags and field offsets. */
#define MB1_F_MEM (1u << 0)
#define MB1_F_CMDLINE (1u << 2)
#define MB1_F_MODS (1u << 3)
#define MB1_F_MMAP (1u << 6)
#define MB1_F_LOADER (1u << 9)

#define MB1_OFF_FLAGS 0
#define MB1_OFF_MEM_LOWER 4
#define MB1_OFF_MEM_UPPER 8
#define MB1_OFF_CMDLINE 16
#define MB1_OFF_MODS_COUNT 20
#define MB1_OFF_MODS_ADDR 24
#define MB1_OFF_MMAP_LENGTH 44
#define MB1_OFF_MMAP_ADDR 48
#define MB1_OFF_LOADER 64
#define MB1_MOD_SIZE 16
#define MB1_MMAP_MIN_SIZE 20 /* base, length, type after the size field */

/* Multiboot 2 tags. */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_MMAP_ENTRY_MIN 24

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

static uint32_t get32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t get64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static int read_phys(phys_map_fn map, void *ctx, uint64_t pa, void *dst, size_t len)
{
    const void *p = map(pa, len, ctx);
    if (!p)
        return -EFAULT;
    memcpy(dst, p, len);
    return 0;
}

static int read32(phys_map_fn map, void *ctx, uint64_t pa, uint32_t *v)
{
    return read_phys(map, ctx, pa, v, sizeof(*v));
}

static void reset(struct boot_info *bi, int protocol)
{
    memset(bi, 0, sizeof(*bi));
    bi->protocol = protocol;
    /* Slot 0 is a shared "" so that every string field can always point somewhere valid. */
    bi->strbuf[0] = '\0';
    bi->strused = 1;
    bi->loader_name = bi->strbuf;
    bi->cmdline = bi->strbuf;
}

/* Room for the next string including its terminator. */
static size_t str_room(const struct boot_info *bi)
{
    size_t room = BOOT_STRBUF_SIZE - bi->strused;
    return room < BOOT_STRING_MAX ? room : BOOT_STRING_MAX;
}

static char *str_finish(struct boot_info *bi, size_t len)
{
    if (len == 0)
        return bi->strbuf;
    char *s = &bi->strbuf[bi->strused];
    s[len] = '\0';
    bi->strused += len + 1;
    return s;
}

/* Copies a string that lies in already-mapped memory and may lack its terminator within srclen. */
static char *stash(struct boot_info *bi, const char *src, size_t srclen)
{
    size_t room = str_room(bi), len = 0;

    while (len < srclen && src[len] != '\0') {
        if (len + 1 >= room) {
            bi->warnings |= BOOT_WARN_STRING_TRUNCATED;
            break;
        }
        bi->strbuf[bi->strused + len] = src[len];
        len++;
    }
    if (len == srclen && srclen != 0)
        bi->warnings |= BOOT_WARN_STRING_TRUNCATED; /* unterminated */
    return str_finish(bi, len);
}

/* Copies a NUL-terminated string at a physical address. Mapped a byte at a time because nothing says how long it
 * is, and a string running into inaccessible memory must be cut there rather than fault. */
static int stash_phys(struct boot_info *bi, phys_map_fn map, void *ctx, uint64_t pa, char **out)
{
    size_t room = str_room(bi), len = 0;

    for (;; len++) {
        const char *c = map(pa + len, 1, ctx);
        if (!c) {
            if (len == 0)
                return -EFAULT;
            bi->warnings |= BOOT_WARN_STRING_TRUNCATED;
            break;
        }
        if (*c == '\0')
            break;
        if (len + 1 >= room) {
            bi->warnings |= BOOT_WARN_STRING_TRUNCATED;
            break;
        }
        bi->strbuf[bi->strused + len] = *c;
    }
    *out = str_finish(bi, len);
    return 0;
}

static void add_region(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
    if (len == 0)
        return;
    if (len > UINT64_MAX - base) {
        len = UINT64_MAX - base;
        bi->warnings |= BOOT_WARN_MEM_CLAMPED;
        if (len == 0)
            return;
    }
    if (bi->nr_mem == BOOT_MAX_MEM) {
        /* Firmware maps with this many entries are usually fragmented into touching same-type runs. */
        boot_memmap_sanitize(bi);
        if (bi->nr_mem == BOOT_MAX_MEM) {
            bi->warnings |= BOOT_WARN_MEM_DROPPED;
            return;
        }
    }
    bi->mem[bi->nr_mem].base = base;
    bi->mem[bi->nr_mem].len = len;
    bi->mem[bi->nr_mem].type = type;
    bi->nr_mem++;
}

static void add_basic_mem(struct boot_info *bi, uint32_t lower_kib, uint32_t upper_kib)
{
    /* mem_lower counts from 0 (at most 640 KiB in practice), mem_upper from 1 MiB up to the first hole. */
    add_region(bi, 0, (uint64_t)lower_kib << 10, BOOT_MEM_RAM);
    add_region(bi, 1ULL << 20, (uint64_t)upper_kib << 10, BOOT_MEM_RAM);
}

static int add_module(struct boot_info *bi, uint64_t start, uint64_t end, struct boot_module **mod)
{
    if (end < start)
        return -EINVAL;
    if (bi->nr_mods == BOOT_MAX_MODS) {
        bi->warnings |= BOOT_WARN_MODS_DROPPED;
        *mod = NULL;
        return 0;
    }
    *mod = &bi->mods[bi->nr_mods++];
    (*mod)->start = start;
    (*mod)->end = end;
    (*mod)->cmdline = bi->strbuf;
    return 0;
}

static int mb1_mmap(struct boot_info *bi, phys_map_fn map, void *ctx, uint32_t addr, uint32_t length)
{
    if ((uint64_t)addr + length > (1ULL << 32))
        return -EINVAL;

    uint64_t off = 0;
    while (off < length) {
        uint32_t size;
        uint8_t ent[MB1_MMAP_MIN_SIZE];

        /* The size field excludes itself; anything beyond the three standard fields is skipped. */
        if (length - off < 4 + MB1_MMAP_MIN_SIZE)
            return -EINVAL;
        if (read32(map, ctx, addr + off, &size))
            return -EFAULT;
        if (size < MB1_MMAP_MIN_SIZE || size > length - off - 4)
            return -EINVAL;
        if (read_phys(map, ctx, addr + off + 4, ent, sizeof(ent)))
            return -EFAULT;
        add_region(bi, get64(ent), get64(ent + 8), get32(ent + 16));
        off += 4 + (uint64_t)size;
    }
    return 0;
}

static int mb1_mods(struct boot_info *bi, phys_map_fn map, void *ctx, uint32_t addr, uint32_t count)
{
    if ((uint64_t)addr + (uint64_t)count * MB1_MOD_SIZE > (1ULL << 32))
        return -EINVAL;

    for (uint32_t i = 0; i < count; i++) {
        uint32_t m[4]; /* mod_start, mod_end, string, reserved */
        struct boot_module *mod;
        int rc;

        if (bi->nr_mods == BOOT_MAX_MODS) {
            bi->warnings |= BOOT_WARN_MODS_DROPPED;
            break;
        }
        if (read_phys(map, ctx, addr + (uint64_t)i * MB1_MOD_SIZE, m, sizeof(m)))
            return -EFAULT;
        rc = add_module(bi, m[0], m[1], &mod);
        if (rc)
            return rc;
        if (m[2] != 0) {
            rc = stash_phys(bi, map, ctx, m[2], &mod->cmdline);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int multiboot1_parse(uint32_t info_pa, phys_map_fn map, void *ctx, struct boot_info *out)
{
    uint32_t flags, v[2];
    int rc;

    reset(out, 1);
    if (read32(map, ctx, info_pa, &flags))
        return -EFAULT;

    if (flags & MB1_F_CMDLINE) {
        if (read32(map, ctx, (uint64_t)info_pa + MB1_OFF_CMDLINE, &v[0]))
            return -EFAULT;
        rc = stash_phys(out, map, ctx, v[0], &out->cmdline);
        if (rc)
            return rc;
    }
    if (flags & MB1_F_LOADER) {
        if (read32(map, ctx, (uint64_t)info_pa + MB1_OFF_LOADER, &v[0]))
            return -EFAULT;
        rc = stash_phys(out, map, ctx, v[0], &out->loader_name);
        if (rc)
            return rc;
    }
    if (flags & MB1_F_MODS) {
        if (read_phys(map, ctx, (uint64_t)info_pa + MB1_OFF_MODS_COUNT, v, sizeof(v)))
            return -EFAULT;
        rc = mb1_mods(out, map, ctx, v[1], v[0]);
        if (rc)
            return rc;
    }
    if (flags & MB1_F_MMAP) {
        if (read_phys(map, ctx, (uint64_t)info_pa + MB1_OFF_MMAP_LENGTH, v, sizeof(v)))
            return -EFAULT;
        rc = mb1_mmap(out, map, ctx, v[1], v[0]);
        if (rc)
            return rc;
    }
    if (out->nr_mem == 0 && (flags & MB1_F_MEM)) {
        if (read_phys(map, ctx, (uint64_t)info_pa + MB1_OFF_MEM_LOWER, v, sizeof(v)))
            return -EFAULT;
        add_basic_mem(out, v[0], v[1]);
    }
    if (out->nr_mem == 0)
        return -ENODATA;
    boot_memmap_sanitize(out);
    return 0;
}

static void mb2_mmap(struct boot_info *bi, const uint8_t *tag, uint32_t size, int *rc)
{
    if (size < 16) {
        *rc = -EINVAL;
        return;
    }
    uint32_t esize = get32(tag + 8);
    /* The spec promises a multiple of 8 and at least base, length, type and a reserved word. */
    if (esize < MB2_MMAP_ENTRY_MIN || (esize & 7)) {
        *rc = -EINVAL;
        return;
    }
    for (uint32_t off = 16; size - off >= esize; off += esize) {
        const uint8_t *e = tag + off;
        add_region(bi, get64(e), get64(e + 8), get32(e + 16));
    }
}

static void mb2_rsdp(struct boot_info *bi, const uint8_t *data, uint32_t len, bool v2)
{
    size_t need = v2 ? RSDP_V2_LEN : RSDP_V1_LEN;

    /* An ACPI 2.0+ RSDP supersedes a 1.0 one whatever the tag order. */
    if (len < need || memcmp(data, "RSD PTR ", 8) != 0)
        return;
    if (!v2 && bi->has_rsdp)
        return;
    memset(bi->rsdp, 0, sizeof(bi->rsdp));
    memcpy(bi->rsdp, data, need);
    bi->has_rsdp = true;
}

int multiboot2_parse(uint32_t info_pa, phys_map_fn map, void *ctx, struct boot_info *out)
{
    uint32_t total, meminfo[2] = {0, 0};
    bool have_meminfo = false, have_cmdline = false, have_loader = false, rsdp_v2 = false;
    int rc = 0;

    reset(out, 2);
    if (info_pa & 7)
        return -EINVAL;
    if (read32(map, ctx, info_pa, &total))
        return -EFAULT;
    if (total < 16) /* header plus end tag */
        return -EINVAL;
    const uint8_t *info = map(info_pa, total, ctx);
    if (!info)
        return -EFAULT;

    uint64_t off = 8;
    for (;;) {
        if (total - off < 8)
            return -EINVAL; /* no end tag */
        const uint8_t *tag = info + off;
        uint32_t type = get32(tag), size = get32(tag + 4);
        if (size < 8 || size > total - off)
            return -EINVAL;
        if (type == MB2_TAG_END)
            break;

        const char *data = (const char *)tag + 8;
        switch (type) {
        case MB2_TAG_CMDLINE:
            if (!have_cmdline)
                out->cmdline = stash(out, data, size - 8);
            have_cmdline = true;
            break;
        case MB2_TAG_LOADER:
            if (!have_loader)
                out->loader_name = stash(out, data, size - 8);
            have_loader = true;
            break;
        case MB2_TAG_MODULE: {
            struct boot_module *mod;
            if (size < 16)
                return -EINVAL;
            rc = add_module(out, get32(tag + 8), get32(tag + 12), &mod);
            if (rc)
                return rc;
            if (mod)
                mod->cmdline = stash(out, (const char *)tag + 16, size - 16);
            break;
        }
        case MB2_TAG_MEMINFO:
            if (size < 16)
                return -EINVAL;
            meminfo[0] = get32(tag + 8);
            meminfo[1] = get32(tag + 12);
            have_meminfo = true;
            break;
        case MB2_TAG_MMAP:
            mb2_mmap(out, tag, size, &rc);
            if (rc)
                return rc;
            break;
        case MB2_TAG_ACPI_OLD:
            if (!rsdp_v2)
                mb2_rsdp(out, (const uint8_t *)data, size - 8, false);
            break;
        case MB2_TAG_ACPI_NEW:
            mb2_rsdp(out, (const uint8_t *)data, size - 8, true);
            rsdp_v2 = out->has_rsdp;
            break;
        default:
            /* Framebuffer, ELF sections, EFI tables and the like are of no use to us. */
            break;
        }
        off += ALIGN_UP((uint64_t)size, 8);
    }

    if (out->nr_mem == 0 && have_meminfo)
        add_basic_mem(out, meminfo[0], meminfo[1]);
    if (out->nr_mem == 0)
        return -ENODATA;
    boot_memmap_sanitize(out);
    return 0;
}

/* Higher wins an overlap. Unknown types rank with reserved: not knowing what it is, we must not use it. */
static unsigned type_rank(uint32_t type)
{
    switch (type) {
    case BOOT_MEM_RAM:
        return 1;
    case BOOT_MEM_ACPI:
        return 2;
    case BOOT_MEM_NVS:
        return 3;
    case BOOT_MEM_BAD:
        return 5;
    default:
        return 4;
    }
}

static uint64_t region_end(const struct boot_mem_region *r)
{
    return r->len > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->len;
}

void boot_memmap_sanitize(struct boot_info *bi)
{
    /* Sweep over every region boundary in address order; each elementary interval takes the highest-ranked type
     * covering it. Quadratic, but n <= 128 and this runs once. The output (about 3 KiB of stack) is built apart
     * because it can be larger than the input while the sweep still needs all of the input. */
    struct boot_mem_region outv[BOOT_MAX_MEM];
    unsigned n = bi->nr_mem < BOOT_MAX_MEM ? bi->nr_mem : BOOT_MAX_MEM, nout = 0;
    uint64_t pos = UINT64_MAX;
    bool any = false;

    for (unsigned i = 0; i < n; i++) {
        if (bi->mem[i].len && bi->mem[i].base < pos) {
            pos = bi->mem[i].base;
            any = true;
        }
    }

    while (any) {
        uint64_t next = UINT64_MAX;
        bool have_next = false;
        unsigned best = 0;
        uint32_t type = 0;

        for (unsigned i = 0; i < n; i++) {
            const struct boot_mem_region *r = &bi->mem[i];
            uint64_t end = region_end(r);
            if (r->len == 0)
                continue;
            if (r->base <= pos && pos < end && type_rank(r->type) > best) {
                best = type_rank(r->type);
                type = r->type;
            }
            if (r->base > pos && r->base <= next) {
                next = r->base;
                have_next = true;
            }
            if (end > pos && end <= next) {
                next = end;
                have_next = true;
            }
        }
        if (!have_next)
            break;
        if (best) {
            struct boot_mem_region *last = nout ? &outv[nout - 1] : NULL;
            if (last && last->type == type && last->base + last->len == pos) {
                last->len += next - pos;
            } else if (nout < BOOT_MAX_MEM) {
                outv[nout].base = pos;
                outv[nout].len = next - pos;
                outv[nout].type = type;
                nout++;
            } else {
                bi->warnings |= BOOT_WARN_MEM_DROPPED;
            }
        }
        pos = next;
    }

    memcpy(bi->mem, outv, nout * sizeof(outv[0]));
    bi->nr_mem = nout;
}

/* GRUB 2 hands over only the words after a path (for the kernel and for modules); other loaders, QEMU's
 * included, put the path first. GRUB Legacy calls itself "GNU GRUB 0.9x", GRUB 2 "GRUB 2.xx" (or "GRUB 1.9x"
 * for its betas): Xen tells them apart by the digit after "GRUB ", and so do we. */
static bool loader_is_grub2(const char *name)
{
    for (const char *p = name ? name : ""; *p; p++)
        if (!strncmp(p, "GRUB ", 5))
            return p[5] != '0';
    return false;
}

const char *boot_cmdline_args(const struct boot_info *bi, const char *cmdline)
{
    const char *s = cmdline ? cmdline : "";

    while (*s == ' ')
        s++;
    if (loader_is_grub2(bi->loader_name))
        return s;
    while (*s && *s != ' ')
        s++;
    while (*s == ' ')
        s++;
    return s;
}

const char *boot_module_args(const struct boot_info *bi, const struct boot_module *mod)
{
    return boot_cmdline_args(bi, mod->cmdline);
}
