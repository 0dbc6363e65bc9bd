/* ELF64 validation, PT_LOAD iteration and Xen note parsing on images built in the test. */
#include "testlib.h"
#include "vesta/elf.h"
#include "vesta/errno.h"

#include <stdlib.h>

#define IMG_SIZE 4096
#define PH_OFF 64
#define NOTE_OFF 256
#define SEG1_OFF 1024
#define SEG2_OFF 2048
#define SH_OFF 3072

#define VBASE 0xffffffff80000000ULL
#define KSTART 0xffffffff81000000ULL

struct img {
    uint8_t b[IMG_SIZE];
    size_t note_end;
};

static void w16(struct img *m, size_t off, uint16_t v) { memcpy(m->b + off, &v, 2); }
static void w32(struct img *m, size_t off, uint32_t v) { memcpy(m->b + off, &v, 4); }
static void w64(struct img *m, size_t off, uint64_t v) { memcpy(m->b + off, &v, 8); }

static void phdr(struct img *m, unsigned i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
                 uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
    size_t p = PH_OFF + 56 * i;
    w32(m, p, type);
    w32(m, p + 4, flags);
    w64(m, p + 8, off);
    w64(m, p + 16, vaddr);
    w64(m, p + 24, paddr);
    w64(m, p + 32, filesz);
    w64(m, p + 40, memsz);
    w64(m, p + 48, 0x1000);
}

static void note(struct img *m, const char *name, uint32_t type, const void *desc, uint32_t descsz)
{
    uint32_t namesz = (uint32_t)strlen(name) + 1;
    size_t p = m->note_end;
    w32(m, p, namesz);
    w32(m, p + 4, descsz);
    w32(m, p + 8, type);
    memcpy(m->b + p + 12, name, namesz);
    p += 12 + ALIGN_UP(namesz, 4);
    memcpy(m->b + p, desc, descsz);
    m->note_end = p + ALIGN_UP(descsz, 4);
}

static void note_str(struct img *m, uint32_t type, const char *s)
{
    note(m, "Xen", type, s, (uint32_t)strlen(s) + 1);
}

static void note_num(struct img *m, uint32_t type, uint64_t v, uint32_t size)
{
    note(m, "Xen", type, &v, size); /* little-endian host: the low bytes come first */
}

/* Finalises the note segment size after notes were added. */
static void notes_done(struct img *m)
{
    w64(m, PH_OFF + 2 * 56 + 32, m->note_end - NOTE_OFF);
    w64(m, PH_OFF + 2 * 56 + 40, m->note_end - NOTE_OFF);
}

static struct img *build(bool with_notes)
{
    struct img *m = calloc(1, sizeof(*m));

    memcpy(m->b, "\177ELF", 4);
    m->b[4] = 2; /* ELFCLASS64 */
    m->b[5] = 1; /* little endian */
    m->b[6] = 1;
    w16(m, 16, 2); /* ET_EXEC */
    w16(m, 18, 62); /* EM_X86_64 */
    w32(m, 20, 1);
    w64(m, 24, KSTART + 0x40);
    w64(m, 32, PH_OFF);
    w16(m, 52, 64);
    w16(m, 54, 56);
    w16(m, 56, 3);
    w16(m, 58, 64);

    phdr(m, 0, 1, ELF_PF_R | ELF_PF_X, SEG1_OFF, KSTART, 0x1000000, 256, 0x1000);
    phdr(m, 1, 1, ELF_PF_R | ELF_PF_W, SEG2_OFF, KSTART + 0x1000, 0x1001000, 128, 0x2000);
    phdr(m, 2, 4, ELF_PF_R, NOTE_OFF, 0, 0, 0, 0);
    memset(m->b + SEG1_OFF, 0x90, 256);
    memset(m->b + SEG2_OFF, 0x11, 128);

    m->note_end = NOTE_OFF;
    if (with_notes) {
        note(m, "GNU", 3, "\x01\x02\x03\x04", 4); /* foreign note, skipped */
        note_str(m, XEN_ELFNOTE_GUEST_OS, "linux");
        note_str(m, XEN_ELFNOTE_GUEST_VERSION, "2.6");
        note_str(m, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
        note_str(m, XEN_ELFNOTE_LOADER, "generic");
        note_num(m, XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
        note_num(m, XEN_ELFNOTE_PADDR_OFFSET, 0, 8);
        note_num(m, XEN_ELFNOTE_ENTRY, KSTART + 0x100, 8);
        note_num(m, XEN_ELFNOTE_HYPERCALL_PAGE, KSTART + 0x200, 8);
        note_num(m, XEN_ELFNOTE_INIT_P2M, 0x8000000000ULL, 8);
        note_num(m, XEN_ELFNOTE_HV_START_LOW, 0xF5800000, 4);
        note_num(m, XEN_ELFNOTE_SUSPEND_CANCEL, 1, 4);
        note_num(m, XEN_ELFNOTE_MOD_START_PFN, 1, 2);
        note_num(m, XEN_ELFNOTE_PHYS32_ENTRY, 0x1000040, 1); /* 1-byte encoding: low byte only */
        note_str(m, XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb||some_future_thing");
        note_num(m, XEN_ELFNOTE_SUPPORTED_FEATURES, 1u << XENFEAT_dom0, 4);
        note_str(m, XEN_ELFNOTE_PAE_MODE, "yes");
        note_str(m, XEN_ELFNOTE_BSD_SYMTAB, "yes");
        note(m, "Xen", XEN_ELFNOTE_L1_MFN_VALID, "\x01\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0", 16);
        note_num(m, 0x1234, 7, 3); /* unknown Xen note type, odd size: ignored */
    }
    notes_done(m);
    return m;
}

TEST(elf_valid_with_notes)
{
    struct img *m = build(true);
    struct xen_elf_info xi;

    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), 0);
    CHECK(xi.error == NULL);
    CHECK(xi.has_xen_notes);
    CHECK_EQ(xi.elf_entry, KSTART + 0x40);
    CHECK_EQ(xi.entry, KSTART + 0x100);
    CHECK_EQ(xi.virt_base, VBASE);
    CHECK_EQ(xi.paddr_offset, 0);
    CHECK_EQ(xi.hypercall_page, KSTART + 0x200);
    CHECK_EQ(xi.init_p2m, 0x8000000000ULL);
    CHECK_EQ(xi.hv_start_low, 0xF5800000);
    CHECK_EQ(xi.phys32_entry, 0x40);
    CHECK(xi.suspend_cancel);
    CHECK(xi.mod_start_pfn);
    CHECK(xi.bsd_symtab);
    CHECK_STR(xi.guest_os, "linux");
    CHECK_STR(xi.guest_version, "2.6");
    CHECK_STR(xi.xen_version, "xen-3.0");
    CHECK_STR(xi.loader, "generic");
    CHECK_STR(xi.pae_mode, "yes");
    CHECK_EQ(xi.features_required, 1u << XENFEAT_writable_page_tables);
    CHECK_EQ(xi.features_supported, (1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_pae_pgdir_above_4gb) |
                                        (1u << XENFEAT_dom0));
    CHECK(xi.notes_present & (1u << XEN_ELFNOTE_L1_MFN_VALID));
    CHECK(xi.notes_present & (1u << XEN_ELFNOTE_ENTRY));
    CHECK(!(xi.notes_present & (1u << XEN_ELFNOTE_PHYS32_RELOC)));
    CHECK_EQ(xi.virt_kstart, KSTART);
    CHECK_EQ(xi.virt_kend, KSTART + 0x1000 + 0x2000);
    free(m);
}

TEST(elf_defaults_without_notes)
{
    struct img *m = build(false);
    struct xen_elf_info xi;

    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), 0);
    CHECK(!xi.has_xen_notes);
    CHECK_EQ(xi.entry, KSTART + 0x40);
    CHECK_EQ(xi.virt_base, 0);
    CHECK_EQ(xi.paddr_offset, 0);
    CHECK_EQ(xi.hypercall_page, XEN_ELF_UNSET);
    CHECK_EQ(xi.init_p2m, XEN_ELF_UNSET);
    CHECK_EQ(xi.features_supported, 0);
    CHECK_STR(xi.guest_os, "");

    /* Without notes the extent is the segments' physical addresses (virt_base 0, paddr_offset 0). */
    CHECK_EQ(xi.virt_kstart, 0x1000000);
    CHECK_EQ(xi.virt_kend, 0x1003000);

    /* With notes an absent PADDR_OFFSET means 0 (Xen's rule), so the extent moves by the whole virt_base. */
    m->note_end = NOTE_OFF;
    note_num(m, XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
    notes_done(m);
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), 0);
    CHECK_EQ(xi.paddr_offset, 0);
    CHECK_EQ(xi.virt_kstart, VBASE + 0x1000000);
    free(m);
}

TEST(elf_notes_from_sections)
{
    struct img *m = build(true);
    struct xen_elf_info xi;

    w32(m, PH_OFF + 2 * 56, 0); /* PT_NOTE -> PT_NULL */
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), 0);
    CHECK(!xi.has_xen_notes);

    /* Null section, then a SHT_NOTE section over the same bytes. */
    w64(m, 40, SH_OFF);
    w16(m, 60, 2);
    w32(m, SH_OFF + 64 + 4, 7);
    w64(m, SH_OFF + 64 + 24, NOTE_OFF);
    w64(m, SH_OFF + 64 + 32, m->note_end - NOTE_OFF);
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), 0);
    CHECK(xi.has_xen_notes);
    CHECK_STR(xi.guest_os, "linux");
    CHECK_EQ(xi.virt_base, VBASE);

    w64(m, SH_OFF + 64 + 32, IMG_SIZE); /* note section out of bounds */
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), -ENOEXEC);
    w64(m, SH_OFF + 64 + 32, m->note_end - NOTE_OFF);
    w16(m, 60, 200); /* section table out of bounds */
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), -ENOEXEC);
    CHECK(xi.error != NULL);
    free(m);
}

struct seen {
    int n;
    struct elf_segment seg[4];
    int stop_at;
};

static int collect(void *ctx, const struct elf_segment *s)
{
    struct seen *v = ctx;
    if (v->n < 4)
        v->seg[v->n] = *s;
    v->n++;
    return v->n == v->stop_at ? 42 : 0;
}

TEST(elf_for_each_load_segments)
{
    struct img *m = build(true);
    struct seen v = {0};

    CHECK_EQ(elf_for_each_load(m->b, IMG_SIZE, collect, &v), 0);
    CHECK_EQ(v.n, 2);
    CHECK_EQ(v.seg[0].vaddr, KSTART);
    CHECK_EQ(v.seg[0].paddr, 0x1000000);
    CHECK_EQ(v.seg[0].filesz, 256);
    CHECK_EQ(v.seg[0].memsz, 0x1000);
    CHECK_EQ(v.seg[0].flags, ELF_PF_R | ELF_PF_X);
    CHECK(v.seg[0].data == m->b + SEG1_OFF);
    CHECK_EQ(((const uint8_t *)v.seg[1].data)[127], 0x11);
    CHECK_EQ(v.seg[1].flags, ELF_PF_R | ELF_PF_W);

    struct seen w = {.stop_at = 1};
    CHECK_EQ(elf_for_each_load(m->b, IMG_SIZE, collect, &w), 42);
    CHECK_EQ(w.n, 1);

    m->b[0] = 0;
    CHECK_EQ(elf_for_each_load(m->b, IMG_SIZE, collect, &v), -ENOEXEC);
    free(m);
}

/* Applies one corruption to a fresh image and expects parsing to fail with rc. */
static void expect_bad(void (*corrupt)(struct img *), size_t size, int rc)
{
    struct img *m = build(true);
    struct xen_elf_info xi;

    corrupt(m);
    CHECK_EQ(elf_parse_xen(m->b, size, &xi), rc);
    CHECK(xi.error != NULL);
    free(m);
}

static void c_none(struct img *m) { (void)m; }
static void c_magic(struct img *m) { m->b[1] = 'X'; }
static void c_class32(struct img *m) { m->b[4] = 1; }
static void c_bigendian(struct img *m) { m->b[5] = 2; }
static void c_version(struct img *m) { m->b[6] = 0; }
static void c_machine(struct img *m) { w16(m, 18, 3); }
static void c_dyn(struct img *m) { w16(m, 16, 3); }
static void c_phentsize(struct img *m) { w16(m, 54, 32); }
static void c_phnum0(struct img *m) { w16(m, 56, 0); }
static void c_phnum_xnum(struct img *m) { w16(m, 56, 0xFFFF); }
static void c_phoff_oob(struct img *m) { w64(m, 32, IMG_SIZE - 100); }
static void c_phoff_wrap(struct img *m) { w64(m, 32, UINT64_MAX - 50); }
static void c_seg_oob(struct img *m) { w64(m, PH_OFF + 8, IMG_SIZE - 100); }
static void c_seg_off_wrap(struct img *m) { w64(m, PH_OFF + 8, UINT64_MAX - 10); }
static void c_filesz_gt_memsz(struct img *m) { w64(m, PH_OFF + 56 + 32, 0x3000); }
static void c_vaddr_wrap(struct img *m) { w64(m, PH_OFF + 16, UINT64_MAX - 0x10); }
static void c_paddr_wrap(struct img *m) { w64(m, PH_OFF + 24, UINT64_MAX - 0x10); }
static void c_no_load(struct img *m) { w32(m, PH_OFF, 0); w32(m, PH_OFF + 56, 6); }
static void c_note_oob(struct img *m) { w64(m, PH_OFF + 2 * 56 + 32, IMG_SIZE); }

TEST(elf_bad_headers)
{
    expect_bad(c_none, 63, -ENOEXEC);
    expect_bad(c_none, 0, -ENOEXEC);
    expect_bad(c_magic, IMG_SIZE, -ENOEXEC);
    expect_bad(c_class32, IMG_SIZE, -ENOEXEC);
    expect_bad(c_bigendian, IMG_SIZE, -ENOEXEC);
    expect_bad(c_version, IMG_SIZE, -ENOEXEC);
    expect_bad(c_machine, IMG_SIZE, -ENOEXEC);
    expect_bad(c_dyn, IMG_SIZE, -ENOEXEC);
    expect_bad(c_phentsize, IMG_SIZE, -ENOEXEC);
    expect_bad(c_phnum0, IMG_SIZE, -ENOEXEC);
    expect_bad(c_phnum_xnum, IMG_SIZE, -ENOEXEC);
    expect_bad(c_phoff_oob, IMG_SIZE, -ENOEXEC);
    expect_bad(c_phoff_wrap, IMG_SIZE, -ENOEXEC);
    expect_bad(c_none, PH_OFF + 56 * 3 - 1, -ENOEXEC); /* phdr table truncated */
    expect_bad(c_seg_oob, IMG_SIZE, -ENOEXEC);
    expect_bad(c_seg_off_wrap, IMG_SIZE, -ENOEXEC);
    expect_bad(c_none, SEG2_OFF + 100, -ENOEXEC); /* second segment truncated */
    expect_bad(c_filesz_gt_memsz, IMG_SIZE, -ENOEXEC);
    expect_bad(c_vaddr_wrap, IMG_SIZE, -ENOEXEC);
    expect_bad(c_paddr_wrap, IMG_SIZE, -ENOEXEC);
    expect_bad(c_no_load, IMG_SIZE, -ENOEXEC);
    expect_bad(c_note_oob, IMG_SIZE, -ENOEXEC);

    struct xen_elf_info xi;
    CHECK_EQ(elf_parse_xen(NULL, 100, &xi), -ENOEXEC);
}

TEST(elf_bad_notes)
{
    struct xen_elf_info xi;
    struct img *m = build(false);

    /* Unknown required feature. */
    note_str(m, XEN_ELFNOTE_FEATURES, "writable_page_tables|!teleportation");
    notes_done(m);
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), -EINVAL);
    CHECK(xi.error != NULL);

    /* Numeric note of an unsupported size. */
    m->note_end = NOTE_OFF;
    note_num(m, XEN_ELFNOTE_ENTRY, 0x1234, 3);
    notes_done(m);
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), -EINVAL);

    /* SUPPORTED_FEATURES not a multiple of 4. */
    m->note_end = NOTE_OFF;
    note_num(m, XEN_ELFNOTE_SUPPORTED_FEATURES, 1, 2);
    notes_done(m);
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), -EINVAL);

    /* Descriptor size running past the segment. */
    m->note_end = NOTE_OFF;
    note_str(m, XEN_ELFNOTE_GUEST_OS, "linux");
    notes_done(m);
    w32(m, NOTE_OFF + 4, 0xFFFFFFF0u);
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), -EINVAL);
    w32(m, NOTE_OFF + 4, 6);
    w32(m, NOTE_OFF, 0xFFFFFFFDu); /* name size wrapping when padded */
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), -EINVAL);

    /* Strings: unterminated and overlong are clamped, not rejected. */
    m->note_end = NOTE_OFF;
    note(m, "Xen", XEN_ELFNOTE_GUEST_OS, "abcdef", 3);
    char longs[200];
    memset(longs, 'L', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    note_str(m, XEN_ELFNOTE_LOADER, longs);
    note(m, "Xen", XEN_ELFNOTE_FEATURES, "dom0|!writable_page", 4); /* cut to "dom0" */
    notes_done(m);
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), 0);
    CHECK_STR(xi.guest_os, "abc");
    CHECK_EQ(strlen(xi.loader), XEN_ELF_STR - 1);
    CHECK_EQ(xi.features_supported, 1u << XENFEAT_dom0);
    CHECK_EQ(xi.features_required, 0);

    /* A note named "Xenon" or "Xe" is not a Xen note. */
    m->note_end = NOTE_OFF;
    note(m, "Xenon", XEN_ELFNOTE_GUEST_OS, "bsd", 4);
    note(m, "Xe", XEN_ELFNOTE_GUEST_OS, "bsd", 4);
    notes_done(m);
    CHECK_EQ(elf_parse_xen(m->b, IMG_SIZE, &xi), 0);
    CHECK(!xi.has_xen_notes);
    free(m);
}

TEST(elf_truncation_and_fuzz_never_crash)
{
    struct img *m = build(true);
    struct xen_elf_info xi;
    uint64_t seed = 0xe1f5eedULL;
    int ok_count = 0;

    /* Every prefix of a valid image: copied to an exact-size heap buffer so ASan sees any overrun. */
    for (size_t len = 0; len <= IMG_SIZE; len += 7) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, m->b, len);
        int rc = elf_parse_xen(copy, len, &xi);
        CHECK(rc == 0 || rc == -ENOEXEC || rc == -EINVAL);
        free(copy);
    }

    /* Random corruption of the headers and notes. */
    for (int it = 0; it < 5000; it++) {
        struct img *c = malloc(sizeof(*c));
        memcpy(c, m, sizeof(*c));
        int flips = 1 + (int)(test_rand(&seed) % 8);
        for (int k = 0; k < flips; k++) {
            uint64_t r = test_rand(&seed);
            size_t pos = (r >> 8) % (m->note_end + 16);
            c->b[pos] = (uint8_t)r;
        }
        int rc = elf_parse_xen(c->b, IMG_SIZE, &xi);
        CHECK(rc == 0 || rc == -ENOEXEC || rc == -EINVAL);
        if (rc == 0)
            ok_count++;
        free(c);
    }
    CHECK(ok_count > 0); /* some corruptions are harmless */
    free(m);
}
