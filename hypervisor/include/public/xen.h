/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: core definitions.
 *
 * This is the binary contract between Vesta and x86-64 paravirtual (PV)
 * guests built for Xen 4.17.  Every number, field order and size in this
 * directory is fixed by that ABI; the prose is ours.  All structures are
 * laid out for the x86-64 (LP64) ABI and are checked with _Static_assert.
 *
 * Conventions used throughout public/:
 *   - Hypercalls return a signed long in %rax: 0 or a positive result on
 *     success, a negated Xen errno value on failure (see vesta/errno.h).
 *   - "Guest handle" fields carry a 64-bit guest-virtual address of a buffer
 *     in the calling guest (struct xen_guest_handle).  The hypervisor must
 *     copy through them with fault-safe accessors; guests fill them with
 *     xen_set_guest_handle().
 *   - IN fields are read by the hypervisor, OUT fields are written back.
 */
#ifndef VESTA_PUBLIC_XEN_H
#define VESTA_PUBLIC_XEN_H

#include <stddef.h>
#include <stdint.h>

#if !defined(__x86_64__)
#error "Vesta's public ABI headers describe the x86-64 PV ABI only"
#endif

/* ------------------------------------------------------------------ */
/* Interface version                                                   */
/* ------------------------------------------------------------------ */

/*
 * Xen 4.17's public headers advertise interface 0x00040e00 as the newest
 * (xen-compat.h).  Vesta implements that revision; we always expose the
 * newest layout of every structure (no compatibility variants).
 */
#define XEN_LATEST_INTERFACE_VERSION     0x00040e00
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__        XEN_LATEST_INTERFACE_VERSION
#endif

/* ------------------------------------------------------------------ */
/* Basic scalar types                                                  */
/* ------------------------------------------------------------------ */

typedef uint64_t xen_ulong_t;     /* "unsigned long" of a 64-bit guest  */
typedef uint64_t xen_pfn_t;       /* frame number (MFN, GFN or PFN)     */
typedef uint16_t domid_t;         /* domain identifier                  */
typedef uint64_t xen_callback_t;  /* x86-64: plain virtual address      */
typedef uint8_t  xen_domain_handle_t[16];   /* toolstack UUID          */

typedef struct xen_uuid {
    uint8_t a[16];
} xen_uuid_t;

/*
 * Guest handle.  On x86-64 every handle is one 64-bit virtual address in
 * the guest's current address space, 8-byte aligned inside structures.
 * A zero address is the "null handle".  Xen types its handles per element
 * type; the element type is recorded here in the field comments instead.
 */
typedef struct xen_guest_handle {
    uint64_t p;
} xen_guest_handle_t;

#define xen_set_guest_handle(h, ptr) ((h).p = (uint64_t)(uintptr_t)(ptr))
#define xen_guest_handle_is_null(h)  ((h).p == 0)

_Static_assert(sizeof(xen_guest_handle_t) == 8, "guest handle is 64-bit");

/* Flexible array member marker for variable-length structures. */
#define XEN_FLEX_ARRAY_DIM

/* ------------------------------------------------------------------ */
/* Hypercall numbers                                                   */
/* ------------------------------------------------------------------ */

/*
 * A 64-bit PV guest makes hypercall N by calling hypercall_page + N * 32
 * (see docs/abi-notes.md).  Arguments are in %rdi, %rsi, %rdx, %r10, %r8.
 * Numbers without a handler return -ENOSYS.
 */
#define __HYPERVISOR_set_trap_table                  0
#define __HYPERVISOR_mmu_update                      1
#define __HYPERVISOR_set_gdt                         2
#define __HYPERVISOR_stack_switch                    3
#define __HYPERVISOR_set_callbacks                   4
#define __HYPERVISOR_fpu_taskswitch                  5
#define __HYPERVISOR_sched_op_compat                 6  /* legacy (<3.0.2) */
#define __HYPERVISOR_platform_op                     7
#define __HYPERVISOR_set_debugreg                    8
#define __HYPERVISOR_get_debugreg                    9
#define __HYPERVISOR_update_descriptor              10
/*                                                  11 is unallocated */
#define __HYPERVISOR_memory_op                      12
#define __HYPERVISOR_multicall                      13
#define __HYPERVISOR_update_va_mapping              14
#define __HYPERVISOR_set_timer_op                   15
#define __HYPERVISOR_event_channel_op_compat        16  /* legacy */
#define __HYPERVISOR_xen_version                    17
#define __HYPERVISOR_console_io                     18
#define __HYPERVISOR_physdev_op_compat              19  /* legacy */
#define __HYPERVISOR_grant_table_op                 20
#define __HYPERVISOR_vm_assist                      21
#define __HYPERVISOR_update_va_mapping_otherdomain  22
#define __HYPERVISOR_iret                           23  /* x86 only */
#define __HYPERVISOR_vcpu_op                        24
#define __HYPERVISOR_set_segment_base               25  /* x86-64 only */
#define __HYPERVISOR_mmuext_op                      26
#define __HYPERVISOR_xsm_op                         27
#define __HYPERVISOR_nmi_op                         28
#define __HYPERVISOR_sched_op                       29
#define __HYPERVISOR_callback_op                    30
#define __HYPERVISOR_xenoprof_op                    31
#define __HYPERVISOR_event_channel_op               32
#define __HYPERVISOR_physdev_op                     33
#define __HYPERVISOR_hvm_op                         34
#define __HYPERVISOR_sysctl                         35
#define __HYPERVISOR_domctl                         36
#define __HYPERVISOR_kexec_op                       37
#define __HYPERVISOR_tmem_op                        38  /* removed; -ENOSYS */
#define __HYPERVISOR_argo_op                        39
#define __HYPERVISOR_xenpmu_op                      40
#define __HYPERVISOR_dm_op                          41
#define __HYPERVISOR_hypfs_op                       42
/* 43..47 unallocated.  48..55 are reserved for architecture use. */
#define __HYPERVISOR_arch_0                         48  /* x86: mca */
#define __HYPERVISOR_arch_1                         49  /* x86: paging_domctl_cont */
#define __HYPERVISOR_arch_2                         50
#define __HYPERVISOR_arch_3                         51
#define __HYPERVISOR_arch_4                         52
#define __HYPERVISOR_arch_5                         53
#define __HYPERVISOR_arch_6                         54
#define __HYPERVISOR_arch_7                         55

#define __HYPERVISOR_mca                 __HYPERVISOR_arch_0
#define __HYPERVISOR_paging_domctl_cont  __HYPERVISOR_arch_1

/* Number of 32-byte entries in a 4 KiB hypercall page. */
#define XEN_HYPERCALL_PAGE_ENTRIES       128
#define XEN_HYPERCALL_ENTRY_SIZE         32

/* ------------------------------------------------------------------ */
/* Virtual interrupts (bind with EVTCHNOP_bind_virq)                   */
/* ------------------------------------------------------------------ */

/* "per-vCPU" VIRQs are bound separately on each vCPU; "global" ones on
 * vCPU0 only (and may be moved with EVTCHNOP_bind_vcpu). */
#define VIRQ_TIMER        0   /* per-vCPU: timer deadline / timebase update */
#define VIRQ_DEBUG        1   /* per-vCPU: debug-key dump request          */
#define VIRQ_CONSOLE      2   /* global, dom0: console input available    */
#define VIRQ_DOM_EXC      3   /* global, dom0: a domain changed state      */
#define VIRQ_TBUF         4   /* global, dom0: trace buffers have data     */
/*                        5      unallocated                               */
#define VIRQ_DEBUGGER     6   /* global, dom0: a domain paused for debug   */
#define VIRQ_XENOPROF     7   /* per-vCPU: profiling sample available      */
#define VIRQ_CON_RING     8   /* global, dom0: console ring has new bytes  */
#define VIRQ_PCPU_STATE   9   /* global, dom0: physical CPU state changed  */
#define VIRQ_MEM_EVENT   10   /* global, dom0: memory event                */
#define VIRQ_ARGO        11   /* global: Argo message notification         */
#define VIRQ_ENOMEM      12   /* global, dom0: hypervisor heap running low */
#define VIRQ_XENPMU      13   /* per-vCPU: PMU interrupt                   */
#define VIRQ_ARCH_0      16   /* x86: VIRQ_MCA, machine check (global, dom0) */
#define VIRQ_ARCH_1      17
#define VIRQ_ARCH_2      18
#define VIRQ_ARCH_3      19
#define VIRQ_ARCH_4      20
#define VIRQ_ARCH_5      21
#define VIRQ_ARCH_6      22
#define VIRQ_ARCH_7      23
#define NR_VIRQS         24

#define VIRQ_MCA         VIRQ_ARCH_0

/* ------------------------------------------------------------------ */
/* HYPERVISOR_mmu_update(struct mmu_update reqs[], unsigned count,     */
/*                       unsigned *done, unsigned foreigndom)          */
/* ------------------------------------------------------------------ */

/*
 * Each request names a target by machine address in ptr; the low two bits
 * of ptr select the command (ptr is at least 8-byte aligned otherwise).
 *
 * MMU_NORMAL_PT_UPDATE: ptr is the machine address of a page-table entry
 *   inside a frame currently typed as an L1..L4 page table of the
 *   page-table owner; val is the new entry.  The entry is validated before
 *   it is written (ownership and type of the referenced frame, reserved
 *   flags, no writable mapping of page-table/descriptor frames, no access
 *   to the hypervisor area).  Failure: -EINVAL / -EPERM / -ENOMEM etc.
 * MMU_MACHPHYS_UPDATE: ptr is the machine address of a frame owned by the
 *   caller; the machine-to-phys table entry for that frame (ptr >> 12) is
 *   set to val (a PFN).
 * MMU_PT_UPDATE_PRESERVE_AD: as NORMAL, but the Accessed and Dirty bits of
 *   the existing entry are kept (OR-ed into the new value) atomically.
 * MMU_PT_UPDATE_NO_TRANSLATE: as NORMAL; val is never GFN-translated even
 *   for translated page-table owners.
 *
 * foreigndom: DOMID_SELF, or the domain whose frames val may reference
 * (privileged callers).  Bits 31:16 may hold (page-table owner domid + 1).
 * count may carry MMU_UPDATE_PREEMPTED (bit 31) on a continuation; *done
 * (if non-null) receives the number of requests completed.
 */
#define MMU_NORMAL_PT_UPDATE          0
#define MMU_MACHPHYS_UPDATE           1
#define MMU_PT_UPDATE_PRESERVE_AD     2
#define MMU_PT_UPDATE_NO_TRANSLATE    3

#define MMU_UPDATE_PREEMPTED          (~(~0U >> 1))   /* bit 31 of count */

struct mmu_update {
    uint64_t ptr;   /* machine address of target | MMU_* command        */
    uint64_t val;   /* new PTE value, or PFN for MMU_MACHPHYS_UPDATE    */
};
typedef struct mmu_update mmu_update_t;

_Static_assert(sizeof(struct mmu_update) == 16, "mmu_update size");
_Static_assert(offsetof(struct mmu_update, val) == 8, "mmu_update.val");

/* ------------------------------------------------------------------ */
/* HYPERVISOR_mmuext_op(struct mmuext_op ops[], unsigned count,        */
/*                      unsigned *done, unsigned foreigndom)           */
/* ------------------------------------------------------------------ */

/*
 *  cmd                      arg1          arg2       meaning
 *  PIN_L1..L4_TABLE         mfn           -          validate frame as an
 *                                                    Ln table and hold the
 *                                                    type (pin)
 *  UNPIN_TABLE              mfn           -          drop the pin
 *  NEW_BASEPTR              mfn           -          load kernel L4 (CR3)
 *  NEW_USER_BASEPTR         mfn (0=none)  -          set user-mode L4
 *  TLB_FLUSH_LOCAL          -             -          flush this vCPU's TLB
 *  INVLPG_LOCAL             linear_addr   -          invlpg on this vCPU
 *  TLB_FLUSH_MULTI          -             vcpumask   flush listed vCPUs
 *  INVLPG_MULTI             linear_addr   vcpumask
 *  TLB_FLUSH_ALL            -             -          all vCPUs of domain
 *  INVLPG_ALL               linear_addr   -
 *  FLUSH_CACHE              -             -          wbinvd (needs perms)
 *  SET_LDT                  linear_addr   nr_ents    install guest LDT
 *  CLEAR_PAGE               mfn           -          zero a frame
 *  COPY_PAGE                mfn (dst)     src_mfn    copy a frame
 *  FLUSH_CACHE_GLOBAL       -             -          wbinvd on all CPUs
 *  MARK_SUPER / UNMARK_SUPER  mfn         -          superpage (unsupported
 *                                                    in 4.17: -EOPNOTSUPP)
 */
#define MMUEXT_PIN_L1_TABLE        0
#define MMUEXT_PIN_L2_TABLE        1
#define MMUEXT_PIN_L3_TABLE        2
#define MMUEXT_PIN_L4_TABLE        3
#define MMUEXT_UNPIN_TABLE         4
#define MMUEXT_NEW_BASEPTR         5
#define MMUEXT_TLB_FLUSH_LOCAL     6
#define MMUEXT_INVLPG_LOCAL        7
#define MMUEXT_TLB_FLUSH_MULTI     8
#define MMUEXT_INVLPG_MULTI        9
#define MMUEXT_TLB_FLUSH_ALL      10
#define MMUEXT_INVLPG_ALL         11
#define MMUEXT_FLUSH_CACHE        12
#define MMUEXT_SET_LDT            13
/*                                14 unallocated */
#define MMUEXT_NEW_USER_BASEPTR   15
#define MMUEXT_CLEAR_PAGE         16
#define MMUEXT_COPY_PAGE          17
#define MMUEXT_FLUSH_CACHE_GLOBAL 18
#define MMUEXT_MARK_SUPER         19
#define MMUEXT_UNMARK_SUPER       20

struct mmuext_op {
    uint32_t cmd;                 /* MMUEXT_*                          */
    uint32_t _pad0;
    union {
        xen_pfn_t mfn;            /* pin/unpin, baseptrs, clear/copy   */
        uint64_t  linear_addr;    /* invlpg, set_ldt                   */
    } arg1;
    union {
        uint32_t           nr_ents;   /* SET_LDT                        */
        xen_guest_handle_t vcpumask;  /* *_MULTI: -> bitmap of vCPUs    */
        xen_pfn_t          src_mfn;   /* COPY_PAGE                      */
    } arg2;
};
typedef struct mmuext_op mmuext_op_t;

_Static_assert(sizeof(struct mmuext_op) == 24, "mmuext_op size");
_Static_assert(offsetof(struct mmuext_op, arg1) == 8, "mmuext_op.arg1");
_Static_assert(offsetof(struct mmuext_op, arg2) == 16, "mmuext_op.arg2");

/* ------------------------------------------------------------------ */
/* HYPERVISOR_update_va_mapping(va, new_pte, flags)                    */
/* ------------------------------------------------------------------ */

/*
 * Writes the L1 entry mapping va in the current address space (validated
 * like MMU_NORMAL_PT_UPDATE), then flushes as the flags ask.  The low two
 * bits choose the flush type.  The remaining bits, flags & ~3, are either
 * 0 (UVMF_LOCAL: this vCPU only), 4 (UVMF_ALL: every vCPU of the domain),
 * or otherwise (UVMF_MULTI) a guest pointer to a bitmap of vCPUs to flush.
 */
#define UVMF_NONE            0UL        /* no flush                     */
#define UVMF_TLB_FLUSH       1UL        /* flush whole TLB(s)           */
#define UVMF_INVLPG          2UL        /* flush the single va          */
#define UVMF_FLUSHTYPE_MASK  3UL
#define UVMF_MULTI           0UL        /* OR in the vcpumask pointer   */
#define UVMF_LOCAL           0UL        /* only this vCPU               */
#define UVMF_ALL             (1UL << 2) /* every vCPU of the domain     */

/* ------------------------------------------------------------------ */
/* HYPERVISOR_console_io(cmd, count, buffer)                           */
/* ------------------------------------------------------------------ */

/* write: emit count bytes from buffer on the hypervisor console (dom0 /
 * permitted domains).  read: copy up to count bytes of pending console
 * input into buffer; returns the number of bytes read. */
#define CONSOLEIO_write   0
#define CONSOLEIO_read    1

/* ------------------------------------------------------------------ */
/* HYPERVISOR_vm_assist(cmd, type)                                     */
/* ------------------------------------------------------------------ */

/* Enable or disable an optional hypervisor behaviour for the calling
 * domain.  Types outside the supported set return -EINVAL. */
#define VMASST_CMD_enable                 0
#define VMASST_CMD_disable                1

#define VMASST_TYPE_4gb_segments          0  /* x86-32 only                 */
#define VMASST_TYPE_4gb_segments_notify   1  /* x86-32 only                 */
#define VMASST_TYPE_writable_pagetables   2  /* trap+emulate PT writes      */
#define VMASST_TYPE_pae_extended_cr3      3  /* 32-bit PAE only             */
#define VMASST_TYPE_architectural_iopl    4  /* IOPL in iret/bounce frames  */
#define VMASST_TYPE_runstate_update_flag  5  /* XEN_RUNSTATE_UPDATE bit     */
#define VMASST_TYPE_m2p_strict           32  /* hide non-guest M2P entries  */

/* ------------------------------------------------------------------ */
/* Special domain identifiers                                          */
/* ------------------------------------------------------------------ */

#define DOMID_FIRST_RESERVED  0x7FF0U
#define DOMID_SELF            0x7FF0U  /* the calling domain            */
#define DOMID_IO              0x7FF1U  /* owner of MMIO / I/O frames     */
#define DOMID_XEN             0x7FF2U  /* owner of hypervisor frames     */
#define DOMID_COW             0x7FF3U  /* owner of shared (CoW) frames   */
#define DOMID_INVALID         0x7FF4U  /* "no domain"                    */
#define DOMID_IDLE            0x7FFFU  /* the idle domain                */
#define DOMID_MASK            0x7FFFU

/* ------------------------------------------------------------------ */
/* HYPERVISOR_multicall(struct multicall_entry calls[], unsigned nr)   */
/* ------------------------------------------------------------------ */

/* Executes each entry as hypercall 'op' with args[]; the hypercall's return
 * value is stored in 'result'.  The multicall itself returns 0 unless the
 * list could not be read. */
struct multicall_entry {
    xen_ulong_t op;
    xen_ulong_t result;
    xen_ulong_t args[6];
};
typedef struct multicall_entry multicall_entry_t;

_Static_assert(sizeof(struct multicall_entry) == 64, "multicall_entry size");
_Static_assert(offsetof(struct multicall_entry, args) == 16, "multicall args");

/* ------------------------------------------------------------------ */
/* x86-64 architectural pieces                                         */
/* ------------------------------------------------------------------ */

/*
 * Flat selectors that live in the hypervisor-reserved part of every GDT
 * (GDT entries from FIRST_RESERVED_GDT_ENTRY upwards).  A 64-bit PV kernel
 * runs in ring 3, so kernel and user selectors are the same values.
 *   0xe023 = GDT index 0x1c04 (7172), RPL 3: 32-bit code
 *   0xe02b = index 7173, RPL 3: data
 *   0xe033 = index 7174, RPL 3: 64-bit code
 */
#define FLAT_RING3_CS32   0xe023
#define FLAT_RING3_CS64   0xe033
#define FLAT_RING3_DS32   0xe02b
#define FLAT_RING3_DS64   0x0000     /* null selector */
#define FLAT_RING3_SS32   0xe02b
#define FLAT_RING3_SS64   0xe02b

#define FLAT_KERNEL_DS64  FLAT_RING3_DS64
#define FLAT_KERNEL_DS32  FLAT_RING3_DS32
#define FLAT_KERNEL_DS    FLAT_KERNEL_DS64
#define FLAT_KERNEL_CS64  FLAT_RING3_CS64
#define FLAT_KERNEL_CS32  FLAT_RING3_CS32
#define FLAT_KERNEL_CS    FLAT_KERNEL_CS64
#define FLAT_KERNEL_SS64  FLAT_RING3_SS64
#define FLAT_KERNEL_SS32  FLAT_RING3_SS32
#define FLAT_KERNEL_SS    FLAT_KERNEL_SS64

#define FLAT_USER_DS64    FLAT_RING3_DS64
#define FLAT_USER_DS32    FLAT_RING3_DS32
#define FLAT_USER_DS      FLAT_USER_DS64
#define FLAT_USER_CS64    FLAT_RING3_CS64
#define FLAT_USER_CS32    FLAT_RING3_CS32
#define FLAT_USER_CS      FLAT_USER_CS64
#define FLAT_USER_SS64    FLAT_RING3_SS64
#define FLAT_USER_SS32    FLAT_RING3_SS32
#define FLAT_USER_SS      FLAT_USER_SS64

/* The guest may use GDT frames 0..13; frames 14 and 15 (entries 7168..8191)
 * belong to the hypervisor. */
#define FIRST_RESERVED_GDT_PAGE   14
#ifndef FIRST_RESERVED_GDT_BYTE
#define FIRST_RESERVED_GDT_BYTE   (14 * 4096)
#endif
#ifndef FIRST_RESERVED_GDT_ENTRY
#define FIRST_RESERVED_GDT_ENTRY  7168
#endif

/*
 * The guest-visible hypervisor hole: PML4 slots 256..271.  PV guests may
 * not map anything here.  Its first 256 GiB hold the read-only
 * machine-to-phys table (one 8-byte PFN per MFN).
 */
#define HYPERVISOR_VIRT_START   0xFFFF800000000000UL
#define HYPERVISOR_VIRT_END     0xFFFF880000000000UL
#define MACH2PHYS_VIRT_START    0xFFFF800000000000UL
#define MACH2PHYS_VIRT_END      0xFFFF804000000000UL
#define MACH2PHYS_NR_ENTRIES    ((MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) >> 3)

/* CR3 values carried in structures hold a frame number shifted by 12. */
#define xen_pfn_to_cr3(pfn)     ((uint64_t)(pfn) << 12)
#define xen_cr3_to_pfn(cr3)     ((uint64_t)(cr3) >> 12)

/* HYPERVISOR_set_segment_base(which, base): loads a segment base. */
#define SEGBASE_FS            0   /* FS base                              */
#define SEGBASE_GS_USER       1   /* user GS base (the one swapgs hides)  */
#define SEGBASE_GS_KERNEL     2   /* kernel (active) GS base              */
#define SEGBASE_GS_USER_SEL   3   /* load user %gs selector = base[15:0]  */

/* x86 exception vector numbers (used as trap_info.vector). */
#define TRAP_divide_error      0
#define TRAP_debug             1
#define TRAP_nmi               2
#define TRAP_int3              3
#define TRAP_overflow          4
#define TRAP_bounds            5
#define TRAP_invalid_op        6
#define TRAP_no_device         7
#define TRAP_double_fault      8
#define TRAP_copro_seg         9
#define TRAP_invalid_tss      10
#define TRAP_no_segment       11
#define TRAP_stack_error      12
#define TRAP_gp_fault         13
#define TRAP_page_fault       14
#define TRAP_spurious_int     15
#define TRAP_copro_error      16
#define TRAP_alignment_check  17
#define TRAP_machine_check    18
#define TRAP_simd_error       19
#define TRAP_virtualisation   20

/*
 * One virtual IDT entry, installed with HYPERVISOR_set_trap_table (an array
 * terminated by an entry whose address is 0).
 *   flags[1:0]: lowest guest privilege allowed to raise the vector with a
 *               software INT (0 = kernel only, 3 = user too)
 *   flags[2]:   if set, event delivery is masked on entry (like an
 *               interrupt gate clearing IF)
 */
struct trap_info {
    uint8_t  vector;
    uint8_t  flags;
    uint16_t cs;          /* ignored for 64-bit guests (FLAT_KERNEL_CS)  */
    uint32_t _pad0;
    uint64_t address;     /* handler entry point; 0 = no handler          */
};
typedef struct trap_info trap_info_t;

#define TI_DPL_MASK         3u
#define TI_MASK_EVENTS      4u
#define TI_GET_DPL(ti)      ((ti)->flags & TI_DPL_MASK)
#define TI_GET_IF(ti)       ((ti)->flags & TI_MASK_EVENTS)
#define TI_SET_DPL(ti, d)   ((ti)->flags |= (uint8_t)((d) & TI_DPL_MASK))
#define TI_SET_IF(ti, on)   ((ti)->flags |= (uint8_t)((on) ? TI_MASK_EVENTS : 0))

_Static_assert(sizeof(struct trap_info) == 16, "trap_info size");
_Static_assert(offsetof(struct trap_info, cs) == 2, "trap_info.cs");
_Static_assert(offsetof(struct trap_info, address) == 8, "trap_info.address");

/*
 * Saved register frame.  Layout is the hypervisor's own entry frame; guests
 * see it inside vcpu_guest_context.  error_code and entry_vector are private
 * to the hypervisor.  saved_upcall_mask shares the word after cs.
 */
struct cpu_user_regs {
    uint64_t r15;
    uint64_t r14;
    uint64_t r13;
    uint64_t r12;
    uint64_t rbp;
    uint64_t rbx;
    uint64_t r11;
    uint64_t r10;
    uint64_t r9;
    uint64_t r8;
    uint64_t rax;
    uint64_t rcx;
    uint64_t rdx;
    uint64_t rsi;
    uint64_t rdi;
    uint32_t error_code;
    uint32_t entry_vector;
    uint64_t rip;
    uint16_t cs;
    uint16_t _pad0;
    uint8_t  saved_upcall_mask;
    uint8_t  _pad1[3];
    uint64_t rflags;      /* rflags.IF mirrors !saved_upcall_mask          */
    uint64_t rsp;
    uint16_t ss, _pad2[3];
    uint16_t es, _pad3[3];
    uint16_t ds, _pad4[3];
    uint16_t fs, _pad5[3];
    uint16_t gs, _pad6[3];
};
typedef struct cpu_user_regs cpu_user_regs_t;

_Static_assert(sizeof(struct cpu_user_regs) == 200, "cpu_user_regs size");
_Static_assert(offsetof(struct cpu_user_regs, rax) == 80, "regs.rax");
_Static_assert(offsetof(struct cpu_user_regs, rdi) == 112, "regs.rdi");
_Static_assert(offsetof(struct cpu_user_regs, error_code) == 120, "regs.ec");
_Static_assert(offsetof(struct cpu_user_regs, entry_vector) == 124, "regs.ev");
_Static_assert(offsetof(struct cpu_user_regs, rip) == 128, "regs.rip");
_Static_assert(offsetof(struct cpu_user_regs, cs) == 136, "regs.cs");
_Static_assert(offsetof(struct cpu_user_regs, saved_upcall_mask) == 140,
               "regs.saved_upcall_mask");
_Static_assert(offsetof(struct cpu_user_regs, rflags) == 144, "regs.rflags");
_Static_assert(offsetof(struct cpu_user_regs, rsp) == 152, "regs.rsp");
_Static_assert(offsetof(struct cpu_user_regs, ss) == 160, "regs.ss");
_Static_assert(offsetof(struct cpu_user_regs, gs) == 192, "regs.gs");

/*
 * Full vCPU state: VCPUOP_initialise input and XEN_DOMCTL_{get,set}vcpucontext.
 */
#define _VGCF_i387_valid                0
#define VGCF_i387_valid                 (1U << _VGCF_i387_valid)
#define VGCF_I387_VALID                 VGCF_i387_valid
#define _VGCF_in_kernel                 2
#define VGCF_in_kernel                  (1U << _VGCF_in_kernel)
#define VGCF_IN_KERNEL                  VGCF_in_kernel
#define _VGCF_failsafe_disables_events  3
#define VGCF_failsafe_disables_events   (1U << _VGCF_failsafe_disables_events)
#define _VGCF_syscall_disables_events   4
#define VGCF_syscall_disables_events    (1U << _VGCF_syscall_disables_events)
#define _VGCF_online                    5
#define VGCF_online                     (1U << _VGCF_online)

struct vcpu_guest_context {
    uint8_t  fpu_ctxt[512];        /* FXSAVE image; valid if VGCF_i387_valid */
    uint64_t flags;                /* VGCF_*                                 */
    struct cpu_user_regs user_regs;
    struct trap_info trap_ctxt[256];   /* virtual IDT                      */
    uint64_t ldt_base;             /* LDT linear address                     */
    uint64_t ldt_ents;             /* LDT entry count                        */
    uint64_t gdt_frames[16];       /* GDT machine frames                     */
    uint64_t gdt_ents;             /* GDT entry count                        */
    uint64_t kernel_ss;            /* stack used on user->kernel transitions */
    uint64_t kernel_sp;
    uint64_t ctrlreg[8];           /* CR3 in [3] (xen_pfn_to_cr3), user L4 in
                                      [1]; CR0/CR4 partially honoured       */
    uint64_t debugreg[8];
    uint64_t event_callback_eip;
    uint64_t failsafe_callback_eip;
    uint64_t syscall_callback_eip;
    uint64_t vm_assist;            /* bitmap of VMASST_TYPE_*                */
    uint64_t fs_base;
    uint64_t gs_base_kernel;
    uint64_t gs_base_user;
};
typedef struct vcpu_guest_context vcpu_guest_context_t;

_Static_assert(sizeof(struct vcpu_guest_context) == 5168, "vgc size");
_Static_assert(offsetof(struct vcpu_guest_context, flags) == 512, "vgc.flags");
_Static_assert(offsetof(struct vcpu_guest_context, user_regs) == 520, "vgc.regs");
_Static_assert(offsetof(struct vcpu_guest_context, trap_ctxt) == 720, "vgc.trap");
_Static_assert(offsetof(struct vcpu_guest_context, ldt_base) == 4816, "vgc.ldt");
_Static_assert(offsetof(struct vcpu_guest_context, gdt_frames) == 4832, "vgc.gdt");
_Static_assert(offsetof(struct vcpu_guest_context, kernel_ss) == 4968, "vgc.kss");
_Static_assert(offsetof(struct vcpu_guest_context, ctrlreg) == 4984, "vgc.cr");
_Static_assert(offsetof(struct vcpu_guest_context, debugreg) == 5048, "vgc.dr");
_Static_assert(offsetof(struct vcpu_guest_context, event_callback_eip) == 5112,
               "vgc.event_cb");
_Static_assert(offsetof(struct vcpu_guest_context, vm_assist) == 5136, "vgc.vma");
_Static_assert(offsetof(struct vcpu_guest_context, fs_base) == 5144, "vgc.fs");

/*
 * Frame consumed by HYPERVISOR_iret, found at the guest %rsp when the
 * hypercall is made (the hypercall page pushes rcx, r11 and rax itself).
 * If flags has VGCF_in_syscall, r11/rcx are discarded and the return is
 * SYSRET-like; otherwise rax, r11, rcx, cs:rip, rflags, ss:rsp are all
 * restored.  A cs RPL of 3 returns to user mode (switching to the user
 * page tables); any other RPL returns to kernel mode.  rflags.IF sets the
 * new evtchn_upcall_mask (IF=1 -> unmasked).
 */
#define _VGCF_in_syscall   8
#define VGCF_in_syscall    (1U << _VGCF_in_syscall)
#define VGCF_IN_SYSCALL    VGCF_in_syscall

struct iret_context {
    uint64_t rax;     /* lowest address: %rsp at the syscall instruction */
    uint64_t r11;
    uint64_t rcx;
    uint64_t flags;   /* VGCF_in_syscall or 0 */
    uint64_t rip;
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
};

_Static_assert(sizeof(struct iret_context) == 72, "iret_context size");
_Static_assert(offsetof(struct iret_context, flags) == 24, "iret.flags");
_Static_assert(offsetof(struct iret_context, ss) == 64, "iret.ss");

struct arch_vcpu_info {
    uint64_t cr2;     /* faulting address of the last #PF bounced to guest */
    uint64_t pad;
};
typedef struct arch_vcpu_info arch_vcpu_info_t;

_Static_assert(sizeof(struct arch_vcpu_info) == 16, "arch_vcpu_info size");

struct arch_shared_info {
    uint64_t  max_pfn;                     /* entries in the guest p2m      */
    xen_pfn_t pfn_to_mfn_frame_list_list;  /* 3-level p2m root (MFN); 0 =
                                              unset, ~0 = use p2m_vaddr   */
    uint64_t  nmi_reason;
    uint64_t  p2m_cr3;                     /* address space of p2m_vaddr   */
    uint64_t  p2m_vaddr;                   /* linear p2m list              */
    uint64_t  p2m_generation;              /* odd while p2m being changed  */
};
typedef struct arch_shared_info arch_shared_info_t;

_Static_assert(sizeof(struct arch_shared_info) == 48, "arch_shared_info size");

/* Console mode values for dom0_vga_console_info.video_type. */
#define XEN_VGATYPE_TEXT_MODE_3   0x03
#define XEN_VGATYPE_VESA_LFB      0x23
#define XEN_VGATYPE_EFI_LFB       0x70

/* Cursor/framebuffer description handed to dom0 (start_info.console.dom0). */
struct dom0_vga_console_info {
    uint8_t video_type;          /* XEN_VGATYPE_* */
    uint8_t _pad0[3];
    union {
        struct {
            uint16_t font_height;
            uint16_t cursor_x;
            uint16_t cursor_y;
            uint16_t rows;
            uint16_t columns;
        } text_mode_3;
        struct {
            uint16_t width;           /* pixels */
            uint16_t height;
            uint16_t bytes_per_line;
            uint16_t bits_per_pixel;
            uint32_t lfb_base;        /* low 32 bits of framebuffer address */
            uint32_t lfb_size;        /* in 64 KiB units */
            uint8_t  red_pos, red_size;
            uint8_t  green_pos, green_size;
            uint8_t  blue_pos, blue_size;
            uint8_t  rsvd_pos, rsvd_size;
            uint32_t gbl_caps;        /* VBE capabilities */
            uint16_t mode_attrs;      /* VBE mode attributes */
            uint16_t pad;
            uint32_t ext_lfb_base;    /* high 32 bits of framebuffer address */
        } vesa_lfb;
    } u;
};
typedef struct dom0_vga_console_info dom0_vga_console_info_t;

_Static_assert(sizeof(struct dom0_vga_console_info) == 40, "vga info size");
_Static_assert(offsetof(struct dom0_vga_console_info, u) == 4, "vga info.u");
_Static_assert(offsetof(struct dom0_vga_console_info, u.vesa_lfb.lfb_base) == 12,
               "vga lfb_base");
_Static_assert(offsetof(struct dom0_vga_console_info, u.vesa_lfb.gbl_caps) == 28,
               "vga gbl_caps");
_Static_assert(offsetof(struct dom0_vga_console_info, u.vesa_lfb.ext_lfb_base) == 36,
               "vga ext_lfb_base");

/* ------------------------------------------------------------------ */
/* Time, vcpu_info, shared_info                                        */
/* ------------------------------------------------------------------ */

/* Number of vcpu_info slots embedded in shared_info.  vCPUs >= 32 must
 * register their own vcpu_info with VCPUOP_register_vcpu_info. */
#define XEN_LEGACY_MAX_VCPUS   32

/*
 * Per-vCPU time parameters.  The hypervisor makes 'version' odd, updates
 * the fields, then makes it even again; readers retry while version is odd
 * or changed across their read.  System time (ns since boot) now is
 *   system_time + (((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32
 * where a negative tsc_shift means a right shift.
 */
#define XEN_PVCLOCK_TSC_STABLE_BIT   (1u << 0)  /* TSC is synchronised     */
#define XEN_PVCLOCK_GUEST_STOPPED    (1u << 1)

struct vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;        /* TSC when the values were sampled  */
    uint64_t system_time;          /* ns since boot at tsc_timestamp     */
    uint32_t tsc_to_system_mul;    /* 32.32 fixed-point ns per tick      */
    int8_t   tsc_shift;
    uint8_t  flags;                /* XEN_PVCLOCK_*                      */
    uint8_t  pad1[2];
};
typedef struct vcpu_time_info vcpu_time_info_t;

_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info size");
_Static_assert(offsetof(struct vcpu_time_info, tsc_timestamp) == 8, "tsc_ts");
_Static_assert(offsetof(struct vcpu_time_info, system_time) == 16, "sys_time");
_Static_assert(offsetof(struct vcpu_time_info, tsc_to_system_mul) == 24, "mul");
_Static_assert(offsetof(struct vcpu_time_info, tsc_shift) == 28, "shift");
_Static_assert(offsetof(struct vcpu_time_info, flags) == 29, "flags");

/*
 * Per-vCPU event delivery state.
 *  evtchn_upcall_pending: set (to 1) by the hypervisor when an event is
 *    pending for this vCPU; the guest clears it before scanning.
 *  evtchn_upcall_mask: the guest's "interrupt flag" (1 = upcalls masked).
 *    Written by the guest without locking; the hypervisor sets it on event
 *    and interrupt-gate exception delivery and reloads it on iret.
 *  evtchn_pending_sel: selector; bit i set => word i of
 *    shared_info.evtchn_pending may have pending, unmasked ports bound here.
 */
struct vcpu_info {
    uint8_t  evtchn_upcall_pending;
    uint8_t  evtchn_upcall_mask;
    uint8_t  _pad0[6];
    xen_ulong_t evtchn_pending_sel;
    struct arch_vcpu_info arch;
    struct vcpu_time_info time;
};
typedef struct vcpu_info vcpu_info_t;

_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info size");
_Static_assert(offsetof(struct vcpu_info, evtchn_upcall_mask) == 1, "mask");
_Static_assert(offsetof(struct vcpu_info, evtchn_pending_sel) == 8, "sel");
_Static_assert(offsetof(struct vcpu_info, arch) == 16, "vcpu_info.arch");
_Static_assert(offsetof(struct vcpu_info, time) == 32, "vcpu_info.time");

/*
 * The shared-info page (one 4 KiB frame per domain).
 *  evtchn_pending[]: bit p = port p pending.  Set by the hypervisor,
 *    cleared by the guest.
 *  evtchn_mask[]: bit p = port p masked.  Owned by the guest; the
 *    hypervisor only reads it (and EVTCHNOP_unmask clears it).
 *  wc_*: wall-clock time (Unix epoch) at system time 0, protected by
 *    wc_version with the same odd/even protocol as vcpu_time_info.
 *    Seconds are wc_sec | (uint64_t)wc_sec_hi << 32.
 */
struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    xen_ulong_t evtchn_pending[sizeof(xen_ulong_t) * 8];
    xen_ulong_t evtchn_mask[sizeof(xen_ulong_t) * 8];
    uint32_t wc_version;
    uint32_t wc_sec;
    uint32_t wc_nsec;
    uint32_t wc_sec_hi;
    struct arch_shared_info arch;
};
typedef struct shared_info shared_info_t;

#define xen_wc_sec_hi wc_sec_hi

_Static_assert(sizeof(struct shared_info) == 3136, "shared_info size");
_Static_assert(sizeof(struct shared_info) <= 4096, "shared_info fits a page");
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 2048, "pending");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 2560, "mask");
_Static_assert(offsetof(struct shared_info, wc_version) == 3072, "wc_version");
_Static_assert(offsetof(struct shared_info, wc_sec_hi) == 3084, "wc_sec_hi");
_Static_assert(offsetof(struct shared_info, arch) == 3088, "shinfo.arch");

/* ------------------------------------------------------------------ */
/* start_info: handed to the guest in %rsi at its first instruction    */
/* ------------------------------------------------------------------ */

/*
 * Built by the domain builder in guest memory and mapped in the initial
 * page tables.  Fields up to the console union are rewritten on resume
 * from suspend; the rest are only valid at first boot.
 * magic is "xen-3.0-x86_64" (NUL padded) for a 64-bit PV guest.
 */
#define XEN_START_INFO_MAGIC   "xen-3.0-x86_64"
#define MAX_GUEST_CMDLINE      1024

#define SIF_PRIVILEGED       (1U << 0)  /* domain may use privileged ops   */
#define SIF_INITDOMAIN       (1U << 1)  /* this is the initial domain      */
#define SIF_MULTIBOOT_MOD    (1U << 2)  /* mod_start is a multiboot mod list */
#define SIF_MOD_START_PFN    (1U << 3)  /* mod_start is a PFN, not a VA    */
#define SIF_VIRT_P2M_4TOOLS  (1U << 4)  /* tools understand linear p2m     */
#define SIF_PM_MASK          (0xFFU << 8)  /* reserved for power management */

struct start_info {
    char      magic[32];        /* XEN_START_INFO_MAGIC                   */
    uint64_t  nr_pages;         /* pages allocated to the domain           */
    uint64_t  shared_info;      /* machine ADDRESS of the shared_info page */
    uint32_t  flags;            /* SIF_*                                   */
    uint32_t  _pad0;
    xen_pfn_t store_mfn;        /* xenstore ring MFN                       */
    uint32_t  store_evtchn;     /* xenstore event channel                  */
    uint32_t  _pad1;
    union {
        struct {                /* unprivileged domains                    */
            xen_pfn_t mfn;      /* console ring MFN                        */
            uint32_t  evtchn;   /* console event channel                   */
            uint32_t  _pad;
        } domU;
        struct {                /* initial domain                          */
            uint32_t info_off;  /* byte offset of dom0_vga_console_info
                                   from the start of this structure        */
            uint32_t info_size; /* its size                                */
        } dom0;
    } console;
    uint64_t  pt_base;          /* VA of the initial L4 page table         */
    uint64_t  nr_pt_frames;     /* frames used by the initial page tables  */
    uint64_t  mfn_list;         /* VA of the p2m array (PFN -> MFN)        */
    uint64_t  mod_start;        /* VA (or PFN, SIF_MOD_START_PFN) of the
                                   initial ramdisk / module                */
    uint64_t  mod_len;          /* its length in bytes                     */
    int8_t    cmd_line[MAX_GUEST_CMDLINE];
    uint64_t  first_p2m_pfn;    /* first PFN of the initial p2m (when
                                   XEN_ELFNOTE_INIT_P2M was used)          */
    uint64_t  nr_p2m_frames;    /* number of frames backing it             */
};
typedef struct start_info start_info_t;

_Static_assert(sizeof(struct start_info) == 1168, "start_info size");
_Static_assert(offsetof(struct start_info, nr_pages) == 32, "si.nr_pages");
_Static_assert(offsetof(struct start_info, shared_info) == 40, "si.shared_info");
_Static_assert(offsetof(struct start_info, flags) == 48, "si.flags");
_Static_assert(offsetof(struct start_info, store_mfn) == 56, "si.store_mfn");
_Static_assert(offsetof(struct start_info, store_evtchn) == 64, "si.store_evtchn");
_Static_assert(offsetof(struct start_info, console) == 72, "si.console");
_Static_assert(offsetof(struct start_info, console.domU.evtchn) == 80, "si.con_ev");
_Static_assert(offsetof(struct start_info, pt_base) == 88, "si.pt_base");
_Static_assert(offsetof(struct start_info, mfn_list) == 104, "si.mfn_list");
_Static_assert(offsetof(struct start_info, mod_len) == 120, "si.mod_len");
_Static_assert(offsetof(struct start_info, cmd_line) == 128, "si.cmd_line");
_Static_assert(offsetof(struct start_info, first_p2m_pfn) == 1152, "si.p2m");

/* Element of the module list when SIF_MULTIBOOT_MOD is set. */
struct xen_multiboot_mod_list {
    uint32_t mod_start;   /* physical address of first byte          */
    uint32_t mod_end;     /* physical address of last byte (inclusive) */
    uint32_t cmdline;     /* physical address of NUL-terminated string */
    uint32_t pad;         /* must be zero                            */
};

_Static_assert(sizeof(struct xen_multiboot_mod_list) == 16, "mb mod size");

#endif /* VESTA_PUBLIC_XEN_H */
