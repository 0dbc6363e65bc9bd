/* Exceptions and events delivered to PV guests: the guest's virtual IDT (set_trap_table), its callbacks, the
 * bounce frame written on its kernel stack, and the hypercalls that go with them (iret, stack_switch,
 * set_segment_base, fpu_taskswitch). Behaviour follows Xen 4.17 (x86_64/entry.S create_bounce_frame,
 * pv/traps.c, pv/iret.c, pv/callback.c, pv/misc-hypercalls.c, traps.c). */
#include <public/callback.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/pv.h>
#include <vesta/x86.h>

#define X86_EFLAGS_TF (1UL << 8)
#define X86_EFLAGS_DF (1UL << 10)
#define X86_EFLAGS_IOPL (3UL << 12)
#define X86_EFLAGS_NT (1UL << 14)
#define X86_EFLAGS_RF (1UL << 16)
#define X86_EFLAGS_VM (1UL << 17)

#define PFEC_USER (1u << 2)
#define PFEC_RSVD (1u << 3)
#define XEC_IDT (1u << 1)
#define XEC_TI (1u << 2)

#define DR6_DEFAULT 0xffff0ff0UL

static bool canonical(uint64_t va) { return (uint64_t)((int64_t)(va << 16) >> 16) == va; }

static bool arch_iopl(const struct domain *d) { return d->vm_assist & (1UL << VMASST_TYPE_architectural_iopl); }

/* ---- The bounce frame. */

/* The ABI's frame, lowest address first: RCX, R11, [error code,] RIP, CS (the saved upcall mask in bits 32-39),
 * RFLAGS (IF = events were unmasked; IOPL = the virtual IOPL under architectural_iopl), RSP, SS. From guest user
 * mode it goes on the kernel stack registered with stack_switch and the vCPU enters kernel mode; from kernel mode it
 * goes below the interrupted stack pointer and CS has its RPL cleared, which is how the guest tells the two apart.
 * (The failsafe frame is built by the context switch, context.c.) */
bool pv_create_bounce_frame(struct vcpu *v, struct cpu_regs *regs, const struct trap_bounce *tb)
{
    struct domain *d = v->domain;
    uint64_t cs = regs->cs, sp;
    if (!v->pv.kernel_mode) {
        toggle_guest_mode(v);
        sp = v->pv.kernel_sp;
    } else {
        sp = regs->rsp;
        cs &= ~3UL;
    }
    sp &= ~0xfUL;
    /* Xen refuses a stack top inside the hypervisor hole (or just above it, where the frame would reach in). */
    if (sp > HYPERVISOR_VIRT_START && sp < HYPERVISOR_VIRT_END + 64) {
        domain_crash(d, "bounce frame for %s %u: guest stack pointer %#lx is in the hypervisor area (%s)",
                     tb->flags & TBF_EXCEPTION ? "exception" : "event", (unsigned int)regs->vector, sp,
                     cs & 3 ? "from stack_switch" : "kernel stack");
        return false;
    }
    /* Xen copies the mask byte with the three padding bytes after it into bits 32-63 of the CS slot. */
    uint8_t *mask = v->vcpu_info ? &v->vcpu_info->evtchn_upcall_mask : NULL;
    uint32_t saved = 1;
    if (mask)
        memcpy(&saved, mask, 4);
    if ((tb->flags & TBF_INTERRUPT) && mask)
        *mask |= 1;

    uint64_t w[8];
    unsigned int n = 0;
    w[n++] = regs->rcx;
    w[n++] = regs->r11;
    if (tb->flags & TBF_ERRCODE)
        w[n++] = tb->error_code;
    w[n++] = regs->rip;
    w[n++] = (cs & 0xffff) | ((uint64_t)saved << 32);
    uint64_t rflags = (uint32_t)regs->rflags & ~(X86_EFLAGS_IF | X86_EFLAGS_IOPL);
    if (!(saved & 0xff))
        rflags |= X86_EFLAGS_IF;
    if (arch_iopl(d))
        rflags |= (uint64_t)v->pv.iopl << 12;
    w[n++] = rflags;
    w[n++] = regs->rsp;
    w[n++] = regs->ss;
    sp -= n * 8;
    if (copy_to_guest(sp, w, n * 8)) {
        domain_crash(d, "cannot write the bounce frame for %s %u at %#lx (%s)",
                     tb->flags & TBF_EXCEPTION ? "exception" : "event", (unsigned int)regs->vector, sp,
                     cs & 3 ? "stack from stack_switch" : "kernel stack");
        return false;
    }
    if (!tb->target) {
        domain_crash(d, "no guest handler to deliver %s %u to", tb->flags & TBF_EXCEPTION ? "exception" : "event",
                     (unsigned int)regs->vector);
        return false;
    }
    v->bounces++;
    regs->vector |= TRAP_SYSCALL_EXIT;
    regs->rip = tb->target;
    regs->cs = FLAT_KERNEL_CS;
    regs->ss = FLAT_KERNEL_SS;
    regs->rsp = sp;
    regs->rflags &= ~(X86_EFLAGS_AC | X86_EFLAGS_VM | X86_EFLAGS_RF | X86_EFLAGS_NT | X86_EFLAGS_TF);
    return true;
}

void pv_inject_exception(struct vcpu *v, struct cpu_regs *regs, unsigned int vector, int error_code)
{
    const struct trap_info *ti = &v->pv.traps[vector];
    struct trap_bounce tb = {.flags = TBF_EXCEPTION, .target = ti->address};
    if (error_code >= 0) {
        tb.flags |= TBF_ERRCODE;
        tb.error_code = (uint32_t)error_code;
    }
    if (TI_GET_IF(ti))
        tb.flags |= TBF_INTERRUPT;
    if (!ti->address) {
        pr_warn("d%uv%u: unhandled exception %u (error code %#x) at %016lx", v->domain->id, v->id, vector,
                error_code, regs->rip);
        if (vector == TRAP_PF && v->vcpu_info)
            pr_warn("d%uv%u: faulting address %016lx", v->domain->id, v->id, v->vcpu_info->arch.cr2);
    }
    regs->vector = vector;
    pv_create_bounce_frame(v, regs, &tb);
}

/* #PF for the guest: CR2 goes to vcpu_info, and the error code's user bit tells the guest's mode, not the CPU's
 * (the guest kernel runs in ring 3 too). */
static void inject_page_fault(struct vcpu *v, struct cpu_regs *regs, uint32_t ec, uint64_t cr2)
{
    if (v->vcpu_info)
        v->vcpu_info->arch.cr2 = cr2;
    ec &= ~PFEC_USER;
    if (!v->pv.kernel_mode)
        ec |= PFEC_USER;
    pv_inject_exception(v, regs, TRAP_PF, (int)ec);
}

/* A software interrupt through the guest's trap table (no error code; the handler's TI flag masks events). */
static void inject_soft_int(struct vcpu *v, struct cpu_regs *regs, unsigned int vector)
{
    const struct trap_info *ti = &v->pv.traps[vector];
    struct trap_bounce tb = {.flags = TBF_EXCEPTION | (TI_GET_IF(ti) ? TBF_INTERRUPT : 0), .target = ti->address};
    regs->vector = vector;
    pv_create_bounce_frame(v, regs, &tb);
}

bool pv_deliver_event(struct vcpu *v, struct cpu_regs *regs)
{
    struct trap_bounce tb = {.flags = TBF_INTERRUPT, .target = v->pv.event_callback};
    return pv_create_bounce_frame(v, regs, &tb);
}

/* A virtual NMI goes to trap-table vector 2 (where CALLBACKTYPE_nmi puts it); further NMIs wait until the guest's
 * next HYPERVISOR_iret. Without a handler the NMI is dropped, as Xen does. */
bool pv_deliver_nmi(struct vcpu *v, struct cpu_regs *regs)
{
    if (!v->pv.nmi_pending || v->pv.nmi_masked)
        return false;
    v->pv.nmi_pending = false;
    const struct trap_info *ti = &v->pv.traps[TRAP_NMI];
    if (!ti->address)
        return false;
    v->pv.nmi_masked = true;
    struct trap_bounce tb = {.flags = TI_GET_IF(ti) ? TBF_INTERRUPT : 0, .target = ti->address};
    regs->vector = TRAP_NMI;
    return pv_create_bounce_frame(v, regs, &tb);
}

/* A SYSCALL the guest kernel does not get as a hypercall: from guest user mode (64-bit, and 32-bit compatibility
 * code in any mode), to the registered callback with DF cleared (the ABI's virtual SFMASK); without a callback the
 * guest gets #UD at the SYSCALL instruction instead, as Xen's switch_to_kernel does. */
void pv_bounce_user_syscall(struct vcpu *v, struct cpu_regs *regs)
{
    uint64_t target = regs->vector == VEC_SYSCALL32 ? v->syscall32_callback : v->pv.syscall_callback;
    if (!target) {
        regs->rip -= 2;
        pv_inject_exception(v, regs, TRAP_UD, -1);
        return;
    }
    struct trap_bounce tb = {.flags = v->pv.syscall_disables_events ? TBF_INTERRUPT : 0, .target = target};
    if (pv_create_bounce_frame(v, regs, &tb))
        regs->rflags &= ~X86_EFLAGS_DF;
}

/* ---- Software interrupts. All IDT gates are DPL 0, so from the guest (ring 3) INT n, INT3 and INTO raise #GP
 * with the IDT flag in the error code. The vector comes from the instruction, not the error code, which QEMU gets
 * wrong in 64-bit mode. Xen's IDT lets #BP and #OF through without looking at the guest's DPL, and delivers
 * INT 0x80 straight to a registered handler; for any other vector the guest's gate DPL decides (kernel mode may
 * use DPL >= 1, user mode DPL 3), else the guest gets #GP(vector << 3 | IDT). */
static bool decode_soft_int(struct cpu_regs *regs, unsigned int *vector, unsigned int *len)
{
    uint8_t insn[16];
    size_t n = sizeof(insn);
    while (n && copy_from_guest(insn, regs->rip, n))
        n /= 2; /* near the end of a mapping: try fewer bytes */
    for (unsigned int i = 0; i < n; i++) {
        uint8_t b = insn[i];
        bool prefix = b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 ||
                      b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65 || (b >= 0x40 && b <= 0x4f);
        if (prefix)
            continue;
        if (b == 0xcc) {
            *vector = TRAP_BP;
            *len = i + 1;
            return true;
        }
        if (b == 0xcd && i + 1 < n) {
            *vector = insn[i + 1];
            *len = i + 2;
            return true;
        }
        return false;
    }
    return false;
}

static bool emulate_soft_int(struct vcpu *v, struct cpu_regs *regs)
{
    unsigned int vector, len;
    if ((regs->error_code & 3) != XEC_IDT || !decode_soft_int(regs, &vector, &len))
        return false;
    const struct trap_info *ti = &v->pv.traps[vector];
    if (vector == TRAP_BP || vector == TRAP_OF) {
        regs->rip += len;
        pv_inject_exception(v, regs, vector, -1);
        return true;
    }
    bool permitted = TI_GET_DPL(ti) >= (v->pv.kernel_mode ? 1u : 3u);
    if (vector == 0x80 && ti->address)
        permitted = true; /* Xen's direct INT 0x80 gate does not look at the DPL */
    if (!permitted) {
        pv_inject_exception(v, regs, TRAP_GP, (int)((vector << 3) | XEC_IDT));
        return true;
    }
    regs->rip += len;
    inject_soft_int(v, regs, vector);
    return true;
}

/* ---- Exceptions from guest context. */

static inline uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}

static inline void write_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" ::"r"(v)); }

/* A #PF in this CPU's LDT window, from the CPU reading a descriptor for the guest: map the guest's LDT page and
 * retry; if the guest has no such page, the guest gets the fault at its own LDT address (or #GP if that address
 * would not be canonical), as Xen's handle_ldt_mapping_fault does. */
static bool ldt_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2, bool from_guest)
{
    unsigned int offset;
    if ((regs->error_code & (PFEC_USER | PFEC_RSVD)) || !pv_ldt_window_offset(cr2, &offset))
        return false;
    if (pv_map_ldt_page(v, cr2))
        return true;
    if (!from_guest)
        return false;
    uint64_t linear = v->pv.ldt_base + offset;
    if (!canonical(linear))
        pv_inject_exception(v, regs, TRAP_GP, (int)((offset & ~3u) | XEC_TI));
    else
        inject_page_fault(v, regs, (uint32_t)regs->error_code, linear);
    return true;
}

void pv_handle_exception(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    unsigned int vec = (unsigned int)regs->vector;
    int ec = -1;
    switch (vec) {
    case TRAP_PF: {
        uint64_t cr2 = read_cr2();
        local_irq_enable();
        if (ldt_fault(v, regs, cr2, true))
            return;
        if ((regs->error_code & 3) == 3 && pv_handle_pt_write_fault(v, regs, cr2))
            return;
        inject_page_fault(v, regs, (uint32_t)regs->error_code, cr2);
        return;
    }
    case TRAP_GP:
        local_irq_enable();
        if (emulate_soft_int(v, regs))
            return;
        if (regs->error_code == 0 && pv_emulate_privileged(v, regs))
            return;
        pv_inject_exception(v, regs, TRAP_GP, (int)regs->error_code);
        return;
    case TRAP_NM:
        fpu_ensure_loaded(v);
        if (v->pv.ctrlreg0_ts) {
            v->pv.ctrlreg0_ts = false;
            pv_inject_exception(v, regs, TRAP_NM, -1);
        }
        return;
    case TRAP_UD:
        local_irq_enable();
        if (pv_emulate_forced(v, regs))
            return;
        break;
    case TRAP_DB: {
        /* The guest reads DR6 through get_debugreg / mov from %dr6: keep the bits this #DB set, as Xen does, and
         * put the hardware register back to its default. */
        uint64_t dr6 = read_dr6();
        write_dr6(DR6_DEFAULT);
        if (!v->pv.dr[6])
            v->pv.dr[6] = DR6_DEFAULT;
        v->pv.dr[6] |= dr6 & ~DR6_DEFAULT;
        v->pv.dr[6] &= dr6 | ~DR6_DEFAULT;
        break;
    }
    case TRAP_DF:
    case TRAP_TS:
    case TRAP_NP:
    case TRAP_SS:
    case TRAP_AC:
        ec = (int)regs->error_code;
        break;
    default:
        break;
    }
    local_irq_enable();
    pv_inject_exception(v, regs, vec, ec);
}

/* ---- Faults in hypervisor context on the guest's behalf. */

extern const char guest_iretq[]; /* entry.S: the IRETQ that enters a guest */

/* The IRETQ into the guest faulted on the guest's own state (a bad CS or SS from HYPERVISOR_iret, a non-canonical
 * RIP, an LDT page not mapped yet). Like Xen's pre-exception table, turn it into the same exception taken in guest
 * context: rebuild the guest frame (the CPU's fault frame overwrote the part below RIP; the registers still hold
 * the guest's values, saved in regs) and handle it as a guest exception. */
static __noreturn void reflect_iret_fault(struct cpu_regs *regs)
{
    struct cpu_regs *g = guest_frame();
    const struct cpu_regs f = *regs; /* the fault frame overlaps the lower part of g */
    g->r15 = f.r15;
    g->r14 = f.r14;
    g->r13 = f.r13;
    g->r12 = f.r12;
    g->rbp = f.rbp;
    g->rbx = f.rbx;
    g->r11 = f.r11;
    g->r10 = f.r10;
    g->r9 = f.r9;
    g->r8 = f.r8;
    g->rax = f.rax;
    g->rcx = f.rcx;
    g->rdx = f.rdx;
    g->rsi = f.rsi;
    g->rdi = f.rdi;
    g->vector = f.vector;
    g->error_code = f.error_code;
    pv_handle_exception(g);
    reset_stack_and_return_to_guest(g);
}

bool pv_hypervisor_fault(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    if (!v || (regs->cs & 3))
        return false;
    if (regs->rip == (uint64_t)guest_iretq && regs->rsp == (uint64_t)&guest_frame()->rip)
        reflect_iret_fault(regs);
    if (regs->vector == TRAP_PF)
        return ldt_fault(v, regs, read_cr2(), false);
    return false;
}

/* The last step before IRETQ into the guest (interrupts off). Xen leaves by SYSRET after a hypercall, after a
 * bounce and after HYPERVISOR_iret with VGCF_in_syscall, unless RIP is not canonical: the guest then sees RCX = RIP,
 * R11 = RFLAGS and the flat selectors SYSRET loads. Every exit forces IF on and IOPL/VM off, as Xen's does. */
void pv_exit_to_guest(struct vcpu *v, struct cpu_regs *regs)
{
    (void)v;
    regs->rflags = (regs->rflags & ~(X86_EFLAGS_IOPL | X86_EFLAGS_VM)) | X86_EFLAGS_IF;
    if (!(regs->vector & TRAP_SYSCALL_EXIT) || !canonical(regs->rip))
        return;
    regs->r11 = regs->rflags;
    if (regs->cs == FLAT_USER_CS32) {
        regs->rip = (uint32_t)regs->rip;
    } else {
        regs->cs = FLAT_USER_CS64;
    }
    regs->rcx = regs->rip;
    regs->ss = FLAT_USER_SS;
    /* SYSRET: RFLAGS from R11 with RF and VM clear and the reserved bits normalised. */
    regs->rflags = (regs->r11 & 0x3c7fd7UL) | 2;
}

/* ---- Hypercalls. */

long do_iret(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    struct iret_context ic;
    if (copy_from_guest(&ic, regs->rsp, sizeof(ic))) {
        domain_crash(v->domain, "HYPERVISOR_iret: cannot read the iret frame at %#lx", regs->rsp);
        return 0;
    }
    if ((ic.cs & 3) == 3) {
        if (!v->pv.user_l4) {
            domain_crash(v->domain, "HYPERVISOR_iret to user mode without a user page table");
            return 0;
        }
        if (v->pv.kernel_mode)
            toggle_guest_mode(v);
    }
    if (arch_iopl(v->domain))
        v->pv.iopl = (ic.rflags >> 12) & 3;
    regs->rip = ic.rip;
    regs->cs = ic.cs | 3;
    regs->rflags = (ic.rflags & ~(X86_EFLAGS_IOPL | X86_EFLAGS_VM)) | X86_EFLAGS_IF;
    regs->rsp = ic.rsp;
    regs->ss = ic.ss | 3;
    if (!(ic.flags & VGCF_in_syscall)) {
        regs->vector &= ~(uint64_t)TRAP_SYSCALL_EXIT;
        regs->r11 = ic.r11;
        regs->rcx = ic.rcx;
    }
    if (v->vcpu_info)
        v->vcpu_info->evtchn_upcall_mask = !(ic.rflags & X86_EFLAGS_IF);
    v->pv.nmi_masked = false; /* the NMI handler's iret re-enables virtual NMIs */
    return (long)ic.rax;
}

/* Entries are taken until one with a zero address. A long list is continued by re-executing the hypercall (its
 * number is 0, which is also what a continuation returns in RAX), as Xen's preemption does. */
#define TRAP_TABLE_BATCH 256

HC(do_set_trap_table)
{
    struct vcpu *v = current_vcpu();
    uint64_t list = a1;
    if (!list) {
        memset(v->pv.traps, 0, sizeof(v->pv.traps));
        return 0;
    }
    for (unsigned int i = 0;; i++) {
        struct trap_info ti;
        if (copy_from_guest(&ti, list, sizeof(ti)))
            return -EFAULT;
        if (!ti.address)
            return 0;
        if (!canonical(ti.address))
            return -EINVAL;
        if ((ti.cs & 3) < 3)
            ti.cs = (ti.cs & ~3) | 3;
        v->pv.traps[ti.vector] = ti;
        list += sizeof(ti);
        struct cpu_regs *regs = guest_frame();
        if (i + 1 == TRAP_TABLE_BATCH && regs->vector == VEC_SYSCALL64 && regs->rax == __HYPERVISOR_set_trap_table) {
            regs->rip -= 2;
            regs->rdi = list;
            return __HYPERVISOR_set_trap_table;
        }
    }
}

static long register_callback(struct vcpu *v, const struct callback_register *r)
{
    if (!canonical(r->address))
        return -EINVAL;
    bool mask = r->flags & CALLBACKF_mask_events;
    switch (r->type) {
    case CALLBACKTYPE_event:
        v->pv.event_callback = r->address;
        return 0;
    case CALLBACKTYPE_failsafe:
        v->pv.failsafe_callback = r->address;
        v->pv.failsafe_disables_events = mask;
        return 0;
    case CALLBACKTYPE_syscall:
        v->pv.syscall_callback = r->address;
        v->pv.syscall_disables_events = mask;
        return 0;
    case CALLBACKTYPE_syscall32:
        v->syscall32_callback = r->address;
        v->syscall32_disables_events = mask;
        return 0;
    case CALLBACKTYPE_sysenter:
        v->sysenter_callback = r->address;
        v->sysenter_disables_events = mask;
        return 0;
    case CALLBACKTYPE_nmi: {
        /* The NMI handler is trap-table vector 2, entered with events masked. */
        struct trap_info *ti = &v->pv.traps[TRAP_NMI];
        ti->vector = TRAP_NMI;
        ti->flags = TI_MASK_EVENTS;
        ti->cs = FLAT_KERNEL_CS;
        ti->address = r->address;
        v->pv.nmi_callback = r->address;
        /* An NMI reason already latched for vCPU 0 would otherwise be lost. */
        if (v->id == 0 && v->domain->shared_info && v->domain->shared_info->arch.nmi_reason)
            v->pv.nmi_pending = true;
        return 0;
    }
    default:
        return -ENOSYS;
    }
}

/* Xen ignores the individual results (a non-canonical address is just not registered) and returns 0. */
HC(do_set_callbacks)
{
    struct vcpu *v = current_vcpu();
    struct callback_register ev = {.type = CALLBACKTYPE_event, .address = a1};
    struct callback_register fs = {.type = CALLBACKTYPE_failsafe, .address = a2};
    struct callback_register sc = {.type = CALLBACKTYPE_syscall, .address = a3};
    register_callback(v, &ev);
    register_callback(v, &fs);
    register_callback(v, &sc);
    return 0;
}

HC(do_callback_op)
{
    struct vcpu *v = current_vcpu();
    switch (a1) {
    case CALLBACKOP_register: {
        struct callback_register r;
        if (copy_from_guest_obj(&r, a2))
            return -EFAULT;
        return register_callback(v, &r);
    }
    case CALLBACKOP_unregister: {
        struct callback_unregister u;
        if (copy_from_guest_obj(&u, a2))
            return -EFAULT;
        switch (u.type) {
        case CALLBACKTYPE_event:
        case CALLBACKTYPE_failsafe:
        case CALLBACKTYPE_syscall:
        case CALLBACKTYPE_syscall32:
        case CALLBACKTYPE_sysenter:
            return -EINVAL;
        case CALLBACKTYPE_nmi:
            memset(&v->pv.traps[TRAP_NMI], 0, sizeof(v->pv.traps[TRAP_NMI]));
            v->pv.nmi_callback = 0;
            return 0;
        default:
            return -ENOSYS;
        }
    }
    default:
        return -ENOSYS;
    }
}

/* Recorded as given (RPL forced to 3); the stack is only checked when a bounce frame is written on it. */
HC(do_stack_switch)
{
    struct vcpu *v = current_vcpu();
    v->pv.kernel_ss = (a1 & 3) < 3 ? (a1 & ~3UL) | 3 : a1;
    v->pv.kernel_sp = a2;
    return 0;
}

HC(do_fpu_taskswitch)
{
    struct vcpu *v = current_vcpu();
    if (a1) {
        v->pv.ctrlreg0_ts = true;
        write_cr0(read_cr0() | X86_CR0_TS);
    } else {
        v->pv.ctrlreg0_ts = false;
        if (this_cpu()->fpu_owner == v)
            __asm__ volatile("clts");
    }
    return 0;
}

HC(do_set_segment_base)
{
    struct vcpu *v = current_vcpu();
    switch ((unsigned int)a1) {
    case SEGBASE_FS:
        if (!canonical(a2))
            return -EINVAL;
        wrmsr(MSR_FS_BASE, a2);
        v->pv.fs_base = a2;
        return 0;
    case SEGBASE_GS_USER:
        if (!canonical(a2))
            return -EINVAL;
        pv_write_gs_base_user(v, a2);
        return 0;
    case SEGBASE_GS_KERNEL:
        if (!canonical(a2))
            return -EINVAL;
        wrmsr(v->pv.kernel_mode ? MSR_GS_BASE : MSR_KERNEL_GS_BASE, a2);
        v->pv.gs_base_kernel = a2;
        return 0;
    case SEGBASE_GS_USER_SEL: {
        /* Load the user %gs (with the user GS base active) from the GDT/LDT. Xen never fails this: a selector
         * that does not load becomes null with base 0, and the caller can re-read %gs to find out. A selector in
         * a not yet mapped LDT page faults here and is mapped by pv_hypervisor_fault(). */
        unsigned int sel = (uint16_t)a2;
        if (sel > 3)
            sel |= 3;
        __asm__ volatile("swapgs\n"
                         "1: mov %k0, %%gs\n"
                         "2: swapgs\n"
                         ".pushsection .fixup, \"ax\"\n"
                         "3: xor %k0, %k0\n"
                         "   mov %k0, %%gs\n"
                         "   jmp 2b\n"
                         ".popsection\n"
                         ".pushsection __ex_table, \"a\"\n"
                         ".balign 4\n"
                         ".long 1b - ., 3b - .\n"
                         ".popsection"
                         : "+r"(sel));
        if (sel <= 3)
            wrmsr(MSR_KERNEL_GS_BASE, 0); /* a null selector leaves a zero base on every vendor, as in Xen */
        v->pv.gs_base_user = rdmsr(MSR_KERNEL_GS_BASE);
        return 0;
    }
    default:
        return -EINVAL;
    }
}
