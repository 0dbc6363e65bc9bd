/* ELF64 x86-64 kernel images: validation, PT_LOAD iteration and Xen's guest ELF notes.
 *
 * The image is untrusted: every offset and size is checked against the buffer before use, and the buffer need not
 * be aligned. */
#ifndef VESTA_ELF_H
#define VESTA_ELF_H

#include "vesta/types.h"

/* Note types and feature bits come from the public ABI headers. Kernels newer than the Xen 4.17 interface may
 * name a few more in their FEATURES note; the parser knows those names too, so they are listed here. */
#include "public/elfnote.h"
#include "public/features.h"

#define XEN_ELFNOTE_PHYS32_RELOC 19
#define XENFEAT_grant_map_identity 12 /* withdrawn from Xen's interface, still accepted by name */
#define XENFEAT_runstate_phys_area 18
#define XENFEAT_vcpu_time_phys_area 19
#define XENFEAT_dm_msix_all_writes 20

#define ELF_PF_X 1
#define ELF_PF_W 2
#define ELF_PF_R 4

struct elf_segment {
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
    uint32_t flags; /* ELF_PF_* */
    const void *data; /* image + offset: filesz bytes, the rest of memsz is zero-filled by the loader */
};

#define XEN_ELF_UNSET UINT64_MAX
#define XEN_ELF_STR 64

struct xen_elf_info {
    uint64_t elf_entry; /* e_entry */
    /* From the notes. Unset numbers are XEN_ELF_UNSET except where Xen defines a default: entry falls back to
     * e_entry, virt_base to 0 and paddr_offset to virt_base. */
    uint64_t entry, virt_base, paddr_offset, hypercall_page, init_p2m, hv_start_low, phys32_entry;
    bool mod_start_pfn; /* initrd may be passed unmapped, by pfn */
    bool suspend_cancel;
    bool bsd_symtab;
    char loader[XEN_ELF_STR], guest_os[XEN_ELF_STR], guest_version[XEN_ELF_STR], xen_version[XEN_ELF_STR];
    char pae_mode[XEN_ELF_STR];
    uint32_t features_supported, features_required; /* bit n = XENFEAT n; required bits are also supported */
    uint32_t notes_present; /* bit n set when note type n was seen */
    uint64_t virt_kstart, virt_kend; /* Xen's kernel extent: loadable segments' [lowest paddr, highest paddr +
                                      * memsz) moved by virt_base - paddr_offset */
    bool has_xen_notes;
    const char *error; /* static description when the result is negative */
};

/* Returns 0, -ENOEXEC (not a loadable ELF64 x86-64 executable, or a malformed one) or -EINVAL (the Xen notes are
 * malformed, or a required feature is unknown). out->error says why. Strings are copied, clamped to fit. */
int elf_parse_xen(const void *image, size_t size, struct xen_elf_info *out);

/* Validates the image as elf_parse_xen does, then calls cb for each PT_LOAD in table order. Stops at the first
 * non-zero cb result and returns it; otherwise 0, or -ENOEXEC for an invalid image. */
int elf_for_each_load(const void *image, size_t size, int (*cb)(void *ctx, const struct elf_segment *seg),
                      void *ctx);

#endif
