/* Exceptions and events delivered to PV guests: the guest's virtual IDT (set_trap_table), its callbacks, the
 * bounce frame written on its kernel stack, and the hypercalls that go with them (iret, stack_switch,
 * set_segment_base, fpu_taskswitch). */
#include <public/callback.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/pv.h>
#include <vesta/x86.h>

#define X86_EFLAGS_TF (1UL << 8)
#define X86_EFLAGS_IOPL (3UL << 12)
#define X86_EFLAGS_NT (1UL << 14)
#define X86_EFLAGS_RF (1UL << 16)
#define X86_EFLAGS_VM (1UL << 17)

#define PFEC_USER (1u << 2)

static bool canonical(uint64_t va) { return (uint64_t)((int64_t)(va << 16) >> 16) == va; }

/* The ABI's frame, lowest address first: RCX, R11, [DS, ES, FS, GS,] [error code,] RIP, CS (with the saved
 * event mask in bits 32-39), RFLAGS (IF = events were unmasked), RSP, SS. From guest user mode it goes on the
 * kernel stack registered with stack_switch and the vCPU enters kernel mode; from kernel mode it goes below the
 * interrupted stack pointer and CS has its RPL cleared, which is how the guest tells the two apart. */
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
    uint8_t saved_mask = v->vcpu_info ? v->vcpu_info->evtchn_upcall_mask : 1;
    if ((tb->flags & TBF_INTERRUPT) && v->vcpu_info)
        v->vcpu_info->evtchn_upcall_mask = 1;

    uint64_t w[13];
    unsigned int n = 0;
    w[n++] = regs->rcx;
    w[n++] = regs->r11;
    if (tb->flags & TBF_FAILSAFE) {
        w[n++] = v->pv.ds;
        w[n++] = v->pv.es;
        w[n++] = v->pv.fs;
        w[n++] = v->pv.gs;
    }
    if (tb->flags & TBF_ERRCODE)
        w[n++] = tb->error_code;
    w[n++] = regs->rip;
    w[n++] = (cs & 0xffff) | ((uint64_t)saved_mask << 32);
    uint64_t rflags = regs->rflags & ~(X86_EFLAGS_IF | X86_EFLAGS_IOPL);
    if (!saved_mask)
        rflags |= X86_EFLAGS_IF;
    if (d->vm_assist & (1UL << VMASST_TYPE_architectural_iopl))
        rflags |= (uint64_t)v->pv.iopl << 12;
    w[n++] = rflags;
    w[n++] = regs->rsp;
    w[n++] = regs->ss;
    sp -= n * 8;
    if (!tb->target) {
        domain_crash(d, "no handler to deliver %s %u to", tb->flags & TBF_EXCEPTION ? "exception" : "event",
                     (unsigned int)regs->vector);
        return false;
    }
    if (copy_to_guest(sp, w, n * 8)) {
        domain_crash(d, "cannot write a bounce frame at %#lx (kernel stack %s)", sp,
                     v->pv.kernel_mode ? "in use" : "from stack_switch");
        return false;
    }
    v->bounces++;
    regs->rip = tb->target;
    regs->cs = FLAT_KERNEL_CS;
    regs->ss = FLAT_KERNEL_SS;
    regs->rsp = sp;
    regs->rflags &= ~(X86_EFLAGS_AC | X86_EFLAGS_VM | X86_EFLAGS_RF | X86_EFLAGS_NT | X86_EFLAGS_TF);
    regs->rflags |= X86_EFLAGS_IF;
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
        pr_warn("d%uv%u: unhandled exception %u (error code %#x) at %016lx%s", v->domain->id, v->id, vector,
                error_code, regs->rip, vector == TRAP_PF ? " -- see CR2" : "");
        if (vector == TRAP_PF && v->vcpu_info)
            pr_warn("d%uv%u: faulting address %016lx", v->domain->id, v->id, v->vcpu_info->arch.cr2);
    }
    regs->vector = vector;
    pv_create_bounce_frame(v, regs, &tb);
}

bool pv_deliver_event(struct vcpu *v, struct cpu_regs *regs)
{
    struct trap_bounce tb = {.flags = TBF_INTERRUPT, .target = v->pv.event_callback};
    return pv_create_bounce_frame(v, regs, &tb);
}

/* int $n from the guest arrives as #GP (the IDT gates are DPL 0). The vector comes from the instruction bytes,
 * not the error code. The guest's gate DPL decides: kernel mode may use gates of DPL >= 1, user mode DPL 3. */
static bool emulate_soft_int(struct vcpu *v, struct cpu_regs *regs)
{
    uint8_t insn[2];
    if (copy_from_guest(insn, regs->rip, 2) || insn[0] != 0xcd)
        return false;
    const struct trap_info *ti = &v->pv.traps[insn[1]];
    unsigned int need = v->pv.kernel_mode ? 1 : 3;
    if (TI_GET_DPL(ti) < need || !ti->address) {
        pv_inject_exception(v, regs, TRAP_GP, (insn[1] << 3) | 2);
        return true;
    }
    regs->rip += 2;
    struct trap_bounce tb = {.flags = TI_GET_IF(ti) ? TBF_INTERRUPT : 0, .target = ti->address};
    regs->vector = insn[1];
    pv_create_bounce_frame(v, regs, &tb);
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
        if ((regs->error_code & 3) == 3 && pv_handle_pt_write_fault(v, regs, cr2))
            return;
        if (v->vcpu_info)
            v->vcpu_info->arch.cr2 = cr2;
        uint32_t e = (uint32_t)regs->error_code & ~PFEC_USER;
        if (!v->pv.kernel_mode)
            e |= PFEC_USER;
        pv_inject_exception(v, regs, TRAP_PF, (int)e);
        return;
    }
    case TRAP_GP:
        local_irq_enable();
        /* QEMU's error code for a refused int $n is unreliable in 64-bit mode: look at the instruction. */
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

long do_iret(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    struct iret_context ic;
    if (copy_from_guest(&ic, regs->rsp, sizeof(ic))) {
        domain_crash(v->domain, "iret: unreadable frame at %#lx", regs->rsp);
        return -EFAULT;
    }
    if ((ic.cs & 3) == 3) {
        if (!v->pv.user_l4) {
            domain_crash(v->domain, "iret to user mode without a user page table");
            return -EFAULT;
        }
        if (v->pv.kernel_mode)
            toggle_guest_mode(v);
    }
    if (v->domain->vm_assist & (1UL << VMASST_TYPE_architectural_iopl))
        v->pv.iopl = (ic.rflags >> 12) & 3;
    regs->rip = ic.rip;
    regs->cs = ic.cs | 3;
    regs->rflags = (ic.rflags & ~(X86_EFLAGS_IOPL | X86_EFLAGS_VM)) | X86_EFLAGS_IF;
    regs->rsp = ic.rsp;
    regs->ss = ic.ss | 3;
    if (!(ic.flags & VGCF_in_syscall)) {
        regs->r11 = ic.r11;
        regs->rcx = ic.rcx;
    }
    if (v->vcpu_info)
        v->vcpu_info->evtchn_upcall_mask = !(ic.rflags & X86_EFLAGS_IF);
    return (long)ic.rax;
}

HC(do_set_trap_table)
{
    struct vcpu *v = current_vcpu();
    if (!a1) {
        memset(v->pv.traps, 0, sizeof(v->pv.traps));
        return 0;
    }
    for (unsigned int i = 0; i < 256; i++) {
        struct trap_info ti;
        if (copy_from_guest(&ti, a1 + i * sizeof(ti), sizeof(ti)))
            return -EFAULT;
        if (!ti.address)
            return 0;
        if (!canonical(ti.address))
            return -EINVAL;
        v->pv.traps[ti.vector] = ti;
    }
    return 0;
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
    case CALLBACKTYPE_sysenter:
        return 0; /* 32-bit user code is not supported: the callbacks are accepted and never used */
    case CALLBACKTYPE_nmi:
        v->pv.nmi_callback = r->address;
        return 0;
    default:
        return -ENOSYS;
    }
}

HC(do_set_callbacks)
{
    struct vcpu *v = current_vcpu();
    struct callback_register ev = {.type = CALLBACKTYPE_event, .address = a1};
    struct callback_register fs = {.type = CALLBACKTYPE_failsafe, .address = a2};
    struct callback_register sc = {.type = CALLBACKTYPE_syscall, .address = a3};
    long rc = register_callback(v, &ev);
    if (!rc)
        rc = register_callback(v, &fs);
    if (!rc)
        rc = register_callback(v, &sc);
    return rc;
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

HC(do_stack_switch)
{
    struct vcpu *v = current_vcpu();
    v->pv.kernel_ss = a1 | 3;
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
    switch (a1) {
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
        unsigned int sel = (uint16_t)a2;
        if (sel > 3)
            sel |= 3;
        else
            sel = 0;
        /* Load the selector with the user GS base active; a bad selector becomes null. Either way the user base
         * then comes from what the load produced, normalised to 0 for null. */
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
        if (!sel)
            wrmsr(MSR_KERNEL_GS_BASE, 0);
        v->pv.gs_base_user = rdmsr(MSR_KERNEL_GS_BASE);
        return 0;
    }
    default:
        return -EINVAL;
    }
}
