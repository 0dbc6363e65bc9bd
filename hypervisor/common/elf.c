/* ELF64 kernel image validation and Xen note parsing. Field offsets are those of the ELF-64 object file format;
 * note semantics follow Xen's public elfnote.h. See vesta/elf.h. */
#include "vesta/elf.h"
#include "vesta/errno.h"
#include "vesta/string.h"

#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define SHDR_SIZE 64

#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PN_XNUM 0xFFFF

#define PT_LOAD 1
#define PT_NOTE 4
#define SHT_NOTE 7

#define NOTE_HDR_SIZE 12

struct image {
    const uint8_t *base;
    size_t size;
    uint64_t phoff, shoff;
    unsigned phnum, shnum;
    uint64_t entry;
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* [off, off + len) lies within a buffer of size bytes. */
static bool in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static void seg_at(const struct image *im, unsigned i, uint32_t *type, struct elf_segment *seg)
{
    const uint8_t *p = im->base + im->phoff + (uint64_t)i * PHDR_SIZE;

    *type = rd32(p);
    seg->flags = rd32(p + 4);
    seg->offset = rd64(p + 8);
    seg->vaddr = rd64(p + 16);
    seg->paddr = rd64(p + 24);
    seg->filesz = rd64(p + 32);
    seg->memsz = rd64(p + 40);
    seg->align = rd64(p + 48);
    seg->data = NULL;
}

static int check_image(const void *image, size_t size, struct image *im, const char **why)
{
    const uint8_t *e = image;

    if (!image || size < EHDR_SIZE) {
        *why = "image smaller than an ELF header";
        return -ENOEXEC;
    }
    if (memcmp(e, "\177ELF", 4) != 0) {
        *why = "not an ELF image";
        return -ENOEXEC;
    }
    if (e[4] != ELFCLASS64 || e[5] != ELFDATA2LSB || e[6] != EV_CURRENT) {
        *why = "not a little-endian ELF64 version 1 image";
        return -ENOEXEC;
    }
    if (rd16(e + 18) != EM_X86_64) {
        *why = "not an x86-64 image";
        return -ENOEXEC;
    }
    if (rd16(e + 16) != ET_EXEC) {
        *why = "not an executable (ET_EXEC)";
        return -ENOEXEC;
    }

    im->base = e;
    im->size = size;
    im->entry = rd64(e + 24);
    im->phoff = rd64(e + 32);
    im->shoff = rd64(e + 40);
    im->phnum = rd16(e + 56);
    im->shnum = rd16(e + 60);

    if (rd16(e + 54) != PHDR_SIZE || im->phnum == 0 || im->phnum == PN_XNUM) {
        *why = "bad program header table size or count";
        return -ENOEXEC;
    }
    if (!in_bounds(im->phoff, (uint64_t)im->phnum * PHDR_SIZE, size)) {
        *why = "program header table outside the image";
        return -ENOEXEC;
    }

    unsigned loads = 0;
    for (unsigned i = 0; i < im->phnum; i++) {
        struct elf_segment s;
        uint32_t type;

        seg_at(im, i, &type, &s);
        if (type == PT_NOTE && !in_bounds(s.offset, s.filesz, size)) {
            *why = "note segment outside the image";
            return -ENOEXEC;
        }
        if (type != PT_LOAD)
            continue;
        loads++;
        if (s.filesz > s.memsz) {
            *why = "segment file size exceeds memory size";
            return -ENOEXEC;
        }
        if (!in_bounds(s.offset, s.filesz, size)) {
            *why = "segment outside the image";
            return -ENOEXEC;
        }
        if (s.memsz > UINT64_MAX - s.vaddr || s.memsz > UINT64_MAX - s.paddr) {
            *why = "segment address range overflows";
            return -ENOEXEC;
        }
    }
    if (loads == 0) {
        *why = "no loadable segments";
        return -ENOEXEC;
    }
    return 0;
}

int elf_for_each_load(const void *image, size_t size, int (*cb)(void *ctx, const struct elf_segment *seg),
                      void *ctx)
{
    struct image im;
    const char *why;
    int rc = check_image(image, size, &im, &why);

    if (rc)
        return rc;
    for (unsigned i = 0; i < im.phnum; i++) {
        struct elf_segment s;
        uint32_t type;

        seg_at(&im, i, &type, &s);
        if (type != PT_LOAD)
            continue;
        s.data = im.base + s.offset;
        rc = cb(ctx, &s);
        if (rc)
            return rc;
    }
    return 0;
}

static const char *const feature_names[] = {
    [XENFEAT_writable_page_tables] = "writable_page_tables",
    [XENFEAT_writable_descriptor_tables] = "writable_descriptor_tables",
    [XENFEAT_auto_translated_physmap] = "auto_translated_physmap",
    [XENFEAT_supervisor_mode_kernel] = "supervisor_mode_kernel",
    [XENFEAT_pae_pgdir_above_4gb] = "pae_pgdir_above_4gb",
    [XENFEAT_mmu_pt_update_preserve_ad] = "mmu_pt_update_preserve_ad",
    [XENFEAT_highmem_assist] = "highmem_assist",
    [XENFEAT_gnttab_map_avail_bits] = "gnttab_map_avail_bits",
    [XENFEAT_hvm_callback_vector] = "hvm_callback_vector",
    [XENFEAT_hvm_safe_pvclock] = "hvm_safe_pvclock",
    [XENFEAT_hvm_pirqs] = "hvm_pirqs",
    [XENFEAT_dom0] = "dom0",
    [XENFEAT_grant_map_identity] = "grant_map_identity",
    [XENFEAT_memory_op_vnode_supported] = "memory_op_vnode_supported",
    [XENFEAT_ARM_SMCCC_supported] = "ARM_SMCCC_supported",
    [XENFEAT_linux_rsdp_unrestricted] = "linux_rsdp_unrestricted",
    [XENFEAT_not_direct_mapped] = "not_direct_mapped",
    [XENFEAT_direct_mapped] = "direct_mapped",
    [XENFEAT_runstate_phys_area] = "runstate_phys_area",
    [XENFEAT_vcpu_time_phys_area] = "vcpu_time_phys_area",
    [XENFEAT_dm_msix_all_writes] = "dm_msix_all_writes",
};

/* "feat|!feat|..." where '!' marks a feature the kernel cannot run without. The string need not be terminated
 * within len. An unknown optional feature is harmless; an unknown required one means we cannot satisfy it. */
static int parse_features(const char *s, size_t len, struct xen_elf_info *out)
{
    size_t pos = 0;

    while (pos < len && s[pos] != '\0') {
        size_t start = pos;
        while (pos < len && s[pos] != '\0' && s[pos] != '|')
            pos++;
        const char *tok = s + start;
        size_t tlen = pos - start;
        if (pos < len && s[pos] == '|')
            pos++;

        bool required = tlen && tok[0] == '!';
        if (required) {
            tok++;
            tlen--;
        }
        if (tlen == 0)
            continue;

        bool known = false;
        for (uint32_t i = 0; i < ARRAY_SIZE(feature_names); i++) {
            if (strlen(feature_names[i]) == tlen && !memcmp(feature_names[i], tok, tlen)) {
                out->features_supported |= 1u << i;
                if (required)
                    out->features_required |= 1u << i;
                known = true;
                break;
            }
        }
        if (!known && required) {
            out->error = "kernel requires an unknown feature";
            return -EINVAL;
        }
    }
    return 0;
}

static void copy_str(char *dst, const uint8_t *src, size_t len)
{
    size_t n = 0;

    while (n < len && n < XEN_ELF_STR - 1 && src[n] != '\0') {
        dst[n] = (char)src[n];
        n++;
    }
    dst[n] = '\0';
}

static int note_number(const uint8_t *desc, uint32_t descsz, uint64_t *v, struct xen_elf_info *out)
{
    if (descsz != 1 && descsz != 2 && descsz != 4 && descsz != 8) {
        out->error = "numeric Xen note of unsupported size";
        return -EINVAL;
    }
    *v = 0;
    for (uint32_t i = 0; i < descsz; i++)
        *v |= (uint64_t)desc[i] << (8 * i);
    return 0;
}

static int xen_note(uint32_t type, const uint8_t *desc, uint32_t descsz, struct xen_elf_info *out)
{
    uint64_t v = 0;
    int rc = 0;

    switch (type) {
    case XEN_ELFNOTE_ENTRY:
    case XEN_ELFNOTE_HYPERCALL_PAGE:
    case XEN_ELFNOTE_VIRT_BASE:
    case XEN_ELFNOTE_PADDR_OFFSET:
    case XEN_ELFNOTE_HV_START_LOW:
    case XEN_ELFNOTE_SUSPEND_CANCEL:
    case XEN_ELFNOTE_INIT_P2M:
    case XEN_ELFNOTE_MOD_START_PFN:
    case XEN_ELFNOTE_PHYS32_ENTRY:
        rc = note_number(desc, descsz, &v, out);
        if (rc)
            return rc;
        break;
    default:
        break;
    }

    switch (type) {
    case XEN_ELFNOTE_ENTRY: out->entry = v; break;
    case XEN_ELFNOTE_HYPERCALL_PAGE: out->hypercall_page = v; break;
    case XEN_ELFNOTE_VIRT_BASE: out->virt_base = v; break;
    case XEN_ELFNOTE_PADDR_OFFSET: out->paddr_offset = v; break;
    case XEN_ELFNOTE_HV_START_LOW: out->hv_start_low = v; break;
    case XEN_ELFNOTE_SUSPEND_CANCEL: out->suspend_cancel = v != 0; break;
    case XEN_ELFNOTE_INIT_P2M: out->init_p2m = v; break;
    case XEN_ELFNOTE_MOD_START_PFN: out->mod_start_pfn = v != 0; break;
    case XEN_ELFNOTE_PHYS32_ENTRY: out->phys32_entry = v; break;
    case XEN_ELFNOTE_XEN_VERSION: copy_str(out->xen_version, desc, descsz); break;
    case XEN_ELFNOTE_GUEST_OS: copy_str(out->guest_os, desc, descsz); break;
    case XEN_ELFNOTE_GUEST_VERSION: copy_str(out->guest_version, desc, descsz); break;
    case XEN_ELFNOTE_LOADER: copy_str(out->loader, desc, descsz); break;
    case XEN_ELFNOTE_PAE_MODE: copy_str(out->pae_mode, desc, descsz); break;
    case XEN_ELFNOTE_BSD_SYMTAB: {
        char yes[XEN_ELF_STR];
        copy_str(yes, desc, descsz);
        out->bsd_symtab = !strcmp(yes, "yes");
        break;
    }
    case XEN_ELFNOTE_FEATURES:
        rc = parse_features((const char *)desc, descsz, out);
        break;
    case XEN_ELFNOTE_SUPPORTED_FEATURES:
        /* An array of 32-bit feature words; we know of only the first. */
        if (descsz < 4 || descsz % 4) {
            out->error = "SUPPORTED_FEATURES note of bad size";
            return -EINVAL;
        }
        out->features_supported |= rd32(desc);
        break;
    default:
        /* INFO, L1_MFN_VALID, PHYS32_RELOC and anything newer are recorded as present only. */
        break;
    }
    if (type < 32)
        out->notes_present |= 1u << type;
    return rc;
}

/* Walks a note area; returns the number of Xen notes or a negative errno. */
static int parse_notes(const uint8_t *p, uint64_t len, struct xen_elf_info *out)
{
    uint64_t off = 0;
    int found = 0;

    while (len - off >= NOTE_HDR_SIZE) {
        uint32_t namesz = rd32(p + off), descsz = rd32(p + off + 4), type = rd32(p + off + 8);
        uint64_t name_off = off + NOTE_HDR_SIZE;
        /* Name and descriptor are each padded to 4 bytes (Xen's and Linux's notes use 4 even in ELF64). */
        uint64_t desc_off = name_off + ALIGN_UP((uint64_t)namesz, 4);

        if (desc_off > len || descsz > len - desc_off) {
            out->error = "ELF note runs past its section";
            return -EINVAL;
        }
        if (namesz == 4 && !memcmp(p + name_off, "Xen", 4)) {
            int rc = xen_note(type, p + desc_off, descsz, out);
            if (rc)
                return rc;
            found++;
        }
        off = desc_off + ALIGN_UP((uint64_t)descsz, 4);
        if (off > len)
            break;
    }
    return found;
}

static int notes_from_sections(const struct image *im, struct xen_elf_info *out)
{
    int found = 0;

    if (im->shoff == 0 || im->shnum == 0)
        return 0;
    if (rd16(im->base + 58) != SHDR_SIZE || !in_bounds(im->shoff, (uint64_t)im->shnum * SHDR_SIZE, im->size)) {
        out->error = "section header table outside the image";
        return -ENOEXEC;
    }
    for (unsigned i = 0; i < im->shnum; i++) {
        const uint8_t *sh = im->base + im->shoff + (uint64_t)i * SHDR_SIZE;
        uint64_t off = rd64(sh + 24), len = rd64(sh + 32);

        if (rd32(sh + 4) != SHT_NOTE)
            continue;
        if (!in_bounds(off, len, im->size)) {
            out->error = "note section outside the image";
            return -ENOEXEC;
        }
        int rc = parse_notes(im->base + off, len, out);
        if (rc < 0)
            return rc;
        found += rc;
    }
    return found;
}

int elf_parse_xen(const void *image, size_t size, struct xen_elf_info *out)
{
    struct image im;
    int rc, found = 0;

    memset(out, 0, sizeof(*out));
    out->entry = out->virt_base = out->paddr_offset = XEN_ELF_UNSET;
    out->hypercall_page = out->init_p2m = out->hv_start_low = out->phys32_entry = XEN_ELF_UNSET;

    rc = check_image(image, size, &im, &out->error);
    if (rc)
        return rc;
    out->elf_entry = im.entry;

    /* The kernel's extent is taken from the loadable segments' physical addresses, as Xen does: Linux has a
     * per-CPU segment linked at virtual address 0, so virtual addresses would give a bogus start. Segments with
     * no access rights at all are not loaded. */
    uint64_t pstart = UINT64_MAX, pend = 0;
    for (unsigned i = 0; i < im.phnum; i++) {
        struct elf_segment s;
        uint32_t type;

        seg_at(&im, i, &type, &s);
        if (type == PT_LOAD) {
            if (!(s.flags & (ELF_PF_R | ELF_PF_W | ELF_PF_X)))
                continue;
            if (s.paddr < pstart)
                pstart = s.paddr;
            if (s.paddr + s.memsz > pend)
                pend = s.paddr + s.memsz;
        } else if (type == PT_NOTE) {
            rc = parse_notes(im.base + s.offset, s.filesz, out);
            if (rc < 0)
                return rc;
            found += rc;
        }
    }

    /* Sections are only a fallback: stripped kernels need not have a usable section table. */
    if (found == 0) {
        rc = notes_from_sections(&im, out);
        if (rc < 0)
            return rc;
        found = rc;
    }

    out->has_xen_notes = found > 0;
    if (out->paddr_offset != XEN_ELF_UNSET && out->virt_base == XEN_ELF_UNSET) {
        out->error = "PADDR_OFFSET note without VIRT_BASE";
        return -EINVAL;
    }
    if (out->entry == XEN_ELF_UNSET)
        out->entry = im.entry;
    if (out->virt_base == XEN_ELF_UNSET)
        out->virt_base = 0;
    /* With Xen notes an absent PADDR_OFFSET means 0; only kernels without notes (which predate them) had
     * physical addresses equal to virtual ones, and get virt_base. */
    if (out->paddr_offset == XEN_ELF_UNSET)
        out->paddr_offset = out->has_xen_notes ? 0 : out->virt_base;
    if (pstart > pend) {
        out->error = "no loadable segment";
        return -ENOEXEC;
    }
    out->virt_kstart = pstart + (out->virt_base - out->paddr_offset);
    out->virt_kend = pend + (out->virt_base - out->paddr_offset);
    out->error = NULL;
    return 0;
}
