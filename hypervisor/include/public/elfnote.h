/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: ELF notes read by the domain builder.
 *
 * A PV kernel describes itself with notes of owner name "Xen" (namesz 4,
 * "Xen\0") in a PT_NOTE segment.  Numeric notes are little-endian integers
 * of 4 or 8 bytes (use the descsz); string notes are NUL-terminated ASCII.
 */
#ifndef VESTA_PUBLIC_ELFNOTE_H
#define VESTA_PUBLIC_ELFNOTE_H

#define XEN_ELFNOTE_INFO                 0  /* string: NAME=VALUE            */
#define XEN_ELFNOTE_ENTRY                1  /* num: entry point VA           */
#define XEN_ELFNOTE_HYPERCALL_PAGE       2  /* num: VA to fill with the
                                               hypercall page               */
#define XEN_ELFNOTE_VIRT_BASE            3  /* num: virtual base of the image;
                                               VA = paddr - PADDR_OFFSET +
                                               VIRT_BASE (default 0)        */
#define XEN_ELFNOTE_PADDR_OFFSET         4  /* num: subtract from ELF paddr
                                               (default 0)                  */
#define XEN_ELFNOTE_XEN_VERSION          5  /* string: e.g. "xen-3.0"        */
#define XEN_ELFNOTE_GUEST_OS             6  /* string: e.g. "linux"          */
#define XEN_ELFNOTE_GUEST_VERSION        7  /* string                        */
#define XEN_ELFNOTE_LOADER               8  /* string: "generic"             */
#define XEN_ELFNOTE_PAE_MODE             9  /* string: 32-bit only           */
#define XEN_ELFNOTE_FEATURES            10  /* string: "f1|!f2" (XENFEAT_)   */
#define XEN_ELFNOTE_BSD_SYMTAB          11  /* string: "yes"/"no"            */
#define XEN_ELFNOTE_HV_START_LOW        12  /* num: lowest hypervisor hole
                                               start (32-bit)               */
#define XEN_ELFNOTE_L1_MFN_VALID        13  /* num pairs: mask/value         */
#define XEN_ELFNOTE_SUSPEND_CANCEL      14  /* num: supports cancel (1)      */
#define XEN_ELFNOTE_INIT_P2M            15  /* num: VA for the initial p2m,
                                               mapped outside the image     */
#define XEN_ELFNOTE_MOD_START_PFN       16  /* num: accepts mod_start as PFN */
#define XEN_ELFNOTE_SUPPORTED_FEATURES  17  /* num: XENFEAT_ bitmap (32-bit) */
#define XEN_ELFNOTE_PHYS32_ENTRY        18  /* num: PVH 32-bit entry point   */
#define XEN_ELFNOTE_MAX                 XEN_ELFNOTE_PHYS32_ENTRY

/* Notes found in crash dumps / core files, not in kernels. */
#define XEN_ELFNOTE_CRASH_INFO                 0x1000001
#define XEN_ELFNOTE_CRASH_REGS                 0x1000002
#define XEN_ELFNOTE_DUMPCORE_NONE              0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER            0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION       0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION    0x2000003

#endif /* VESTA_PUBLIC_ELFNOTE_H */
