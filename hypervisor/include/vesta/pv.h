/* The x86-64 PV machine: how guests enter and leave the hypervisor, and the PV-specific operations.
 *
 * Guest kernel and user both run in ring 3. Every entry from a guest (interrupt, exception, SYSCALL) leaves a
 * struct cpu_regs at the top of the CPU's stack (guest_frame()), and every exit goes through return_to_guest,
 * which calls pv_exit_work() for softirqs and event delivery. */
#ifndef VESTA_PV_H
#define VESTA_PV_H

#include <vesta/domain.h>
#include <vesta/flushtlb.h>
#include <vesta/percpu.h>
#include <vesta/traps.h>

#define VEC_SYSCALL64 0x100
#define VEC_SYSCALL32 0x101

static inline struct cpu_regs *guest_frame(void)
{
    return (struct cpu_regs *)((char *)get_cpu_info() - sizeof(struct cpu_regs));
}

static inline bool guest_mode(const struct cpu_regs *r) { return (r->cs & 3) == 3; }

/* entry.S */
__noreturn void reset_stack_and_return_to_guest(struct cpu_regs *frame);
__noreturn void reset_stack_and_call(void *stack_top, void (*fn)(void));

/* context.c */
void pv_cpu_init(unsigned int cpu);            /* SYSCALL MSRs for this CPU */
void pv_exit_work(struct cpu_regs *regs);
void pv_syscall_entry(struct cpu_regs *regs);
__noreturn void context_switch(struct vcpu *prev, struct vcpu *next); /* either may be NULL (idle) */
void toggle_guest_mode(struct vcpu *v);
void pv_load_cr3(struct vcpu *v);               /* the L4 for the vCPU's current mode */
void pv_write_gs_base_user(struct vcpu *v, uint64_t base);
void fpu_ensure_loaded(struct vcpu *v);
void vcpu_init_fpu(struct vcpu *v);
void pv_vcpu_release(struct vcpu *v);  /* teardown: what v's context holds (tables, bases, registered pages) */
void pv_vcpu_forget(struct vcpu *v);   /* v's CPU keeps no pointer to v nor shows its descriptor pages */

/* traps.c */
#define TBF_EXCEPTION 1
#define TBF_ERRCODE 2
#define TBF_INTERRUPT 8   /* mask events on delivery */
#define TBF_FAILSAFE 16
struct trap_bounce {
    uint32_t error_code;
    uint8_t flags;
    uint64_t target;
};
/* Rewrites regs so that the guest resumes in its kernel at tb->target with the ABI's frame on its kernel stack.
 * Returns false (after crashing the domain) if the frame cannot be written. */
bool pv_create_bounce_frame(struct vcpu *v, struct cpu_regs *regs, const struct trap_bounce *tb);
void pv_inject_exception(struct vcpu *v, struct cpu_regs *regs, unsigned int vector, int error_code);
void pv_handle_exception(struct cpu_regs *regs);
bool pv_deliver_event(struct vcpu *v, struct cpu_regs *regs);
long do_iret(struct cpu_regs *regs);

/* emulate.c: privileged instructions, CPUID, MSRs, port I/O. Returns true if the instruction was handled
 * (emulated, or an exception injected). */
bool pv_emulate_privileged(struct vcpu *v, struct cpu_regs *regs);
bool pv_emulate_forced(struct vcpu *v, struct cpu_regs *regs); /* ud2 'xen' prefix */
void pv_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b, uint32_t *c,
              uint32_t *d);

/* mm.c */
void m2p_init(void);                            /* the machine-to-phys table and its read-only alias */
void set_gpfn_from_mfn(mfn_t mfn, uint64_t pfn);
uint64_t get_gpfn_from_mfn(mfn_t mfn);
#define M2P_INVALID (~0UL)
int pv_get_page_type(struct domain *d, mfn_t mfn, uint64_t type);  /* with validation */
void pv_put_page_type(mfn_t mfn);
bool pv_get_page(struct domain *d, mfn_t mfn);  /* general reference on a page d may access */
void pv_put_page(mfn_t mfn);
int pv_get_table_ref(struct domain *d, mfn_t mfn, uint64_t type); /* general + validated table type reference */
void pv_put_table_ref(mfn_t mfn);
int pv_relinquish_memory(struct domain *d, unsigned int level);   /* teardown, level 4..2: 0 or -ERESTART */
void pv_init_guest_l4(struct domain *d, uint64_t *l4); /* hypervisor slots */
bool pv_handle_pt_write_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2);
bool pv_map_ldt_page(struct vcpu *v, uint64_t addr);   /* lazy LDT mapping on #PF in the window */
void pv_load_gdt_ldt(struct vcpu *v);          /* on context switch: map v's GDT/LDT into the CPU window */
void pv_clear_gdt_ldt_window(void);            /* this CPU's window shows no guest page any more */
/* dom0_build.c */
struct dom0_layout;
struct xen_elf_info;
struct boot_module;
int dom0_construct(const void *image, size_t image_len, const struct xen_elf_info *elf,
                   const struct dom0_layout *l, const char *cmdline, const struct boot_module *initrd,
                   unsigned int nr_vcpus);

/* Hypercalls (one handler per number; arguments as the guest passed them). */
typedef long (*hypercall_fn)(unsigned long, unsigned long, unsigned long, unsigned long, unsigned long,
                             unsigned long);
long pv_do_hypercall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4,
                     unsigned long a5, unsigned long a6);
void hypercall_stats_dump(bool reset); /* debug keys p and P */
/* Continuations (hypercall.c): a long operation checks hypercall_preempt_check() between units of work and,
 * when it says so, returns hypercall_continue(its number, its arguments rewritten to resume). */
bool hypercall_preempt_check(void);
long hypercall_continue(unsigned long nr, unsigned int nargs, const unsigned long *args);

#define HC(name) long name(unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4, \
                           unsigned long a5, unsigned long a6)
HC(do_set_trap_table);
HC(do_mmu_update);
HC(do_set_gdt);
HC(do_stack_switch);
HC(do_set_callbacks);
HC(do_fpu_taskswitch);
HC(do_platform_op);
HC(do_set_debugreg);
HC(do_get_debugreg);
HC(do_update_descriptor);
HC(do_memory_op);
HC(do_multicall);
HC(do_update_va_mapping);
HC(do_set_timer_op);
HC(do_xen_version);
HC(do_console_io);
HC(do_grant_table_op);
HC(do_vm_assist);
HC(do_update_va_mapping_otherdomain);
HC(do_vcpu_op);
HC(do_set_segment_base);
HC(do_mmuext_op);
HC(do_nmi_op);
HC(do_sched_op);
HC(do_callback_op);
HC(do_event_channel_op_hc);
HC(do_physdev_op);
HC(do_sched_op_compat);
HC(do_sysctl);
HC(do_domctl);

/* ---- memory area (memory_op, grant tables, physdev): helpers shared by those files. */

/* Xen's access_ok() for a 64-bit PV guest: only the START of a guest buffer is checked (lower half of the
 * 48-bit space, or above the hypervisor hole); a range running on into non-canonical space faults on the way
 * instead. Sub-ops that report a bad handle with their own error code (not -EFAULT) need exactly this test. */
static inline bool xen_addr_ok(uint64_t va)
{
    return va < (1UL << 47) || va >= 0xffff880000000000UL;
}

/* M2P backing frames (mm.c): the table is made of 2 MiB pieces. */
unsigned int m2p_nr_chunks(void);
mfn_t m2p_chunk_mfn(unsigned int i);

/* ---- Events, vCPU operations and guest time ---- */
HC(do_event_channel_op_compat);                 /* common/event_channel.c: hypercall 16 */
/* arch/x86/pv/descriptors.c: install a vCPU's GDT frames (VCPUOP_initialise); 0 entries drops them. */
int pv_set_gdt(struct vcpu *v, const uint64_t *frames, unsigned int entries);
/* Privileged-instruction emulation area. */
unsigned int pv_table_level(mfn_t mfn);                 /* mm.c: level of a validated table frame, or 0 */
int pv_write_l1_entry(struct domain *d, mfn_t table, unsigned int index, uint64_t new, uint64_t *expected);
long pv_new_guest_cr3(struct vcpu *v, mfn_t mfn);       /* mm.c: MMUEXT_NEW_BASEPTR for a CR3 write */
uint64_t pv_guest_cr4(const struct vcpu *v);
void pv_load_guest_cr4(const struct vcpu *v);          /* emulate.c: hardware CR4 bits the guest controls */
void pv_inject_page_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t addr, uint32_t error_code);
void pv_emul_done(struct vcpu *v, struct cpu_regs *regs, uint64_t next_rip); /* RIP, RF, single-step #DB */
uint64_t *pv_gpr(struct cpu_regs *regs, unsigned int n); /* general register n in encoding order */
struct x86_insn;
/* Copies and decodes the instruction at regs->rip. Returns 0, or -EFAULT after injecting a #PF for bytes that
 * could not be read, or -EINVAL if the bytes are not an instruction the decoder accepts. */
int pv_fetch_insn(struct vcpu *v, struct cpu_regs *regs, struct x86_insn *insn);
long pv_set_debugreg(struct vcpu *v, unsigned int reg, uint64_t value); /* emulate.c, Xen's set_debugreg */
uint64_t pv_get_debugreg(const struct vcpu *v, unsigned int reg);
void pv_write_hypercall_page(uint8_t *page);            /* dom0_build.c: fills a hypercall page */

/* ---- Descriptor tables, segments and trap delivery (pv/descriptors.c, pv/traps.c). */
int pv_set_gdt(struct vcpu *v, const uint64_t *frames, unsigned int entries); /* also for VCPUOP_initialise */
void pv_set_ldt(struct vcpu *v, uint64_t base, unsigned int ents);           /* MMUEXT_SET_LDT, args checked */
bool pv_destroy_ldt(struct vcpu *v);              /* drop the lazily mapped LDT pages; true if any were mapped */
bool pv_ldt_window_offset(uint64_t addr, unsigned int *offset); /* addr inside this CPU's LDT window? */
bool pv_check_descriptor(uint64_t *desc);         /* Xen's check_descriptor, with its fix-ups */
/* A fault in hypervisor context that belongs to the guest: the CPU reading an LDT page not mapped yet (loading
 * an LDT selector), or the final IRETQ to the guest faulting on the guest's state (bad CS/SS, non-canonical RIP),
 * which is reflected into the guest as Xen does. Returns true if handled (or does not return). */
bool pv_hypervisor_fault(struct cpu_regs *regs);
void pv_exit_to_guest(struct vcpu *v, struct cpu_regs *regs); /* last step before IRETQ, interrupts off */
bool pv_deliver_nmi(struct vcpu *v, struct cpu_regs *regs);   /* a pending, unmasked virtual NMI */
void pv_bounce_user_syscall(struct vcpu *v, struct cpu_regs *regs); /* SYSCALL not taken as a hypercall */
#define TRAP_SYSCALL_EXIT 0x100 /* in cpu_regs.vector: leave as SYSRET would (Xen's TRAP_syscall) */

/* ---- Grant tables, debug registers (grant area) ---- */
/* arch/x86/pv/mm.c: grant mappings in the current vCPU's page tables. addr is a linear address, or with
 * GNTMAP_contains_pte the machine address of the L1 entry. The grant code holds the references the entry stands
 * for. Return GNTST_okay or GNTST_general_error. replace: the entry must still map frame as the grant made it; it
 * becomes empty, or (new_addr != 0) takes over the entry that mapped new_addr. */
int pv_grant_create_mapping(uint64_t addr, mfn_t frame, unsigned int flags);
int pv_grant_replace_mapping(uint64_t addr, mfn_t frame, uint64_t new_addr, unsigned int flags);
/* arch/x86/pv/context.c: debug registers. */
void pv_load_debugregs(struct vcpu *v);        /* v is (becoming) current: its DR0-3, DR6, DR7 into the CPU */
void pv_debugreg_written(struct vcpu *v, unsigned int reg, bool dr7_was_active); /* v current: sync the CPU */
bool pv_debug_trap_hypervisor(struct cpu_regs *regs); /* #DB in the hypervisor: true if handled (resume) */

/* ---- Physical IRQs / platform (dom0 hardware access) ---- */
HC(do_mca);                                     /* arch/x86/mca.c: hypercall 48 (__HYPERVISOR_arch_0) */

#endif
