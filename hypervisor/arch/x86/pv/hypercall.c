/* Hypercall entry and dispatch for 64-bit PV guests.
 *
 * A guest kernel's SYSCALL is a hypercall: the number in %rax, arguments in %rdi, %rsi, %rdx, %r10, %r8, %r9,
 * the result back in %rax. A SYSCALL from guest user mode is the guest's own system call and is bounced to the
 * kernel's syscall callback. Numbers without a handler return -ENOSYS, as Xen does.
 *
 * Continuations (Xen's hypercall_create_continuation): a long operation stops when hypercall_preempt_check()
 * says other work is waiting, records in its arguments where to resume, and returns hypercall_continue(). The
 * guest's registers are rewritten so that, once the vCPU returns to the guest (softirqs and events had their
 * turn, the vCPU may even have been descheduled), it executes the SYSCALL again with those arguments. Inside a
 * multicall the entry's own arguments are rewritten instead and the multicall continues from that entry; a
 * guest therefore never sees the operation stop half-way. */
#include <public/callback.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/percpu.h>
#include <vesta/pv.h>
#include <vesta/timer.h>
#include <vesta/x86.h>

static const hypercall_fn hypercall_table[64] = {
    [__HYPERVISOR_set_trap_table] = do_set_trap_table,
    [__HYPERVISOR_mmu_update] = do_mmu_update,
    [__HYPERVISOR_set_gdt] = do_set_gdt,
    [__HYPERVISOR_stack_switch] = do_stack_switch,
    [__HYPERVISOR_set_callbacks] = do_set_callbacks,
    [__HYPERVISOR_fpu_taskswitch] = do_fpu_taskswitch,
    [__HYPERVISOR_sched_op_compat] = do_sched_op_compat,
    [__HYPERVISOR_platform_op] = do_platform_op,
    [__HYPERVISOR_set_debugreg] = do_set_debugreg,
    [__HYPERVISOR_get_debugreg] = do_get_debugreg,
    [__HYPERVISOR_update_descriptor] = do_update_descriptor,
    [__HYPERVISOR_memory_op] = do_memory_op,
    [__HYPERVISOR_multicall] = do_multicall,
    [__HYPERVISOR_update_va_mapping] = do_update_va_mapping,
    [__HYPERVISOR_set_timer_op] = do_set_timer_op,
    [__HYPERVISOR_event_channel_op_compat] = do_event_channel_op_compat,
    [__HYPERVISOR_xen_version] = do_xen_version,
    [__HYPERVISOR_console_io] = do_console_io,
    [__HYPERVISOR_grant_table_op] = do_grant_table_op,
    [__HYPERVISOR_vm_assist] = do_vm_assist,
    [__HYPERVISOR_update_va_mapping_otherdomain] = do_update_va_mapping_otherdomain,
    [__HYPERVISOR_vcpu_op] = do_vcpu_op,
    [__HYPERVISOR_set_segment_base] = do_set_segment_base,
    [__HYPERVISOR_mmuext_op] = do_mmuext_op,
    [__HYPERVISOR_nmi_op] = do_nmi_op,
    [__HYPERVISOR_sched_op] = do_sched_op,
    [__HYPERVISOR_callback_op] = do_callback_op,
    [__HYPERVISOR_event_channel_op] = do_event_channel_op_hc,
    [__HYPERVISOR_physdev_op] = do_physdev_op,
    [__HYPERVISOR_sysctl] = do_sysctl,
    [__HYPERVISOR_domctl] = do_domctl,
    [__HYPERVISOR_mca] = do_mca,
};

/* The multicall being run on this CPU: a continuation inside it is recorded here instead of in the guest's
 * registers. (A multicall runs without being preempted between its checks, so one slot per CPU suffices.) */
static struct multicall_state {
    bool active, preempted;
    unsigned long args[6];
} mc_state[MAX_CPUS];

bool hypercall_preempt_check(void)
{
    struct percpu *pc = this_cpu();
    if (__atomic_load_n(&pc->softirq_pending, __ATOMIC_ACQUIRE))
        return true;
    struct vcpu *v = pc->curr;
    return v && v->vcpu_info && v->vcpu_info->evtchn_upcall_pending && !v->vcpu_info->evtchn_upcall_mask;
}

long hypercall_continue(unsigned long nr, unsigned int nargs, const unsigned long *args)
{
    ASSERT(nargs <= 6);
    struct multicall_state *mc = &mc_state[smp_processor_id()];
    if (mc->active) {
        for (unsigned int i = 0; i < nargs; i++)
            mc->args[i] = args[i];
        mc->preempted = true;
        return nr;
    }
    struct cpu_regs *r = guest_frame();
    uint64_t *regs[6] = {&r->rdi, &r->rsi, &r->rdx, &r->r10, &r->r8, &r->r9};
    for (unsigned int i = 0; i < nargs; i++)
        *regs[i] = args[i];
    r->rip -= 2; /* back over the SYSCALL (0f 05); the caller's return value, nr, becomes RAX again */
    return nr;
}

#ifdef VESTA_HYPERCALL_STATS
static const char *const hypercall_names[64] = {
    [__HYPERVISOR_set_trap_table] = "set_trap_table",
    [__HYPERVISOR_mmu_update] = "mmu_update",
    [__HYPERVISOR_set_gdt] = "set_gdt",
    [__HYPERVISOR_stack_switch] = "stack_switch",
    [__HYPERVISOR_set_callbacks] = "set_callbacks",
    [__HYPERVISOR_fpu_taskswitch] = "fpu_taskswitch",
    [__HYPERVISOR_sched_op_compat] = "sched_op_compat",
    [__HYPERVISOR_platform_op] = "platform_op",
    [__HYPERVISOR_set_debugreg] = "set_debugreg",
    [__HYPERVISOR_get_debugreg] = "get_debugreg",
    [__HYPERVISOR_update_descriptor] = "update_descriptor",
    [__HYPERVISOR_memory_op] = "memory_op",
    [__HYPERVISOR_multicall] = "multicall",
    [__HYPERVISOR_update_va_mapping] = "update_va_mapping",
    [__HYPERVISOR_set_timer_op] = "set_timer_op",
    [__HYPERVISOR_event_channel_op_compat] = "event_channel_op_compat",
    [__HYPERVISOR_xen_version] = "xen_version",
    [__HYPERVISOR_console_io] = "console_io",
    [__HYPERVISOR_grant_table_op] = "grant_table_op",
    [__HYPERVISOR_vm_assist] = "vm_assist",
    [__HYPERVISOR_update_va_mapping_otherdomain] = "update_va_mapping_otherdomain",
    [__HYPERVISOR_iret] = "iret",
    [__HYPERVISOR_vcpu_op] = "vcpu_op",
    [__HYPERVISOR_set_segment_base] = "set_segment_base",
    [__HYPERVISOR_mmuext_op] = "mmuext_op",
    [__HYPERVISOR_nmi_op] = "nmi_op",
    [__HYPERVISOR_sched_op] = "sched_op",
    [__HYPERVISOR_callback_op] = "callback_op",
    [__HYPERVISOR_event_channel_op] = "event_channel_op",
    [__HYPERVISOR_physdev_op] = "physdev_op",
    [__HYPERVISOR_sysctl] = "sysctl",
    [__HYPERVISOR_domctl] = "domctl",
    [__HYPERVISOR_mca] = "mca",
};
#endif

long pv_do_hypercall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4,
                     unsigned long a5, unsigned long a6)
{
    if (nr >= ARRAY_SIZE(hypercall_table) || !hypercall_table[nr])
        return -ENOSYS;
#ifdef VESTA_HYPERCALL_STATS
    uint64_t start = rdtsc();
    long rc = hypercall_table[nr](a1, a2, a3, a4, a5, a6);
    struct percpu *pc = this_cpu();
    pc->hc_count[nr]++;
    pc->hc_tsc[nr] += rdtsc() - start;
    return rc;
#else
    return hypercall_table[nr](a1, a2, a3, a4, a5, a6);
#endif
}

/* Debug key 'p': in a build with HYPERCALL_STATS=1 (Makefile), calls and time per hypercall since boot or the
 * last reset ('P'), summed over CPUs. A batch's entries are counted on their own as well as inside the
 * multicall's time. Counting is a build option because even a flag test on this path shows in the path-length
 * benchmark. */
void hypercall_stats_dump(bool reset)
{
#ifndef VESTA_HYPERCALL_STATS
    (void)reset;
    printk("Hypercall statistics are not built in (make HYPERCALL_STATS=1)");
#else
    uint64_t khz = tsc_khz ? tsc_khz : 1;
    printk("Hypercalls (calls, total ms, average us):");
    for (unsigned int nr = 0; nr < 64; nr++) {
        uint64_t n = 0, t = 0;
        for (unsigned int c = 0; c < MAX_CPUS; c++) {
            struct percpu *pc = percpu[c];
            if (!pc)
                continue;
            n += pc->hc_count[nr];
            t += pc->hc_tsc[nr];
            if (reset)
                pc->hc_count[nr] = pc->hc_tsc[nr] = 0;
        }
        if (n)
            printk("  %2u %-24s %9lu %9lu.%03lu %7lu.%03lu", nr, hypercall_names[nr] ? hypercall_names[nr] : "?", n,
                   t / khz, t * 1000 / khz % 1000, t * 1000 / khz / n, t * 1000000 / khz / n % 1000);
    }
#endif
}

void pv_syscall_entry(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    local_irq_enable();
    /* Not a hypercall: from guest user mode, or from 32-bit code in any mode (traps.c). */
    if (regs->vector == VEC_SYSCALL32 || !v->pv.kernel_mode) {
        pv_bounce_user_syscall(v, regs);
        return;
    }
    v->hypercalls++;
    if (regs->rax == __HYPERVISOR_iret) {
        regs->rax = (uint64_t)do_iret(regs);
        return;
    }
    regs->rax = (uint64_t)pv_do_hypercall(regs->rax, regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8,
                                          regs->r9);
}

/* Each entry's result is written back as it completes; a bad entry pointer ends the batch with -EFAULT. iret
 * and multicall itself cannot be batched (Xen gives them -ENOSYS... as results). An entry that asks to continue
 * gets its rewritten arguments stored back into the guest's list, and the multicall continues from it. */
HC(do_multicall)
{
    unsigned long list = a1, nr = a2;
    struct multicall_state *mc = &mc_state[smp_processor_id()];
    for (unsigned long i = 0; i < nr; i++) {
        struct multicall_entry e;
        uint64_t va = list + i * sizeof(e);
        if (i && hypercall_preempt_check()) {
            unsigned long args[2] = {va, nr - i};
            return hypercall_continue(__HYPERVISOR_multicall, 2, args);
        }
        if (copy_from_guest(&e, va, sizeof(e)))
            return -EFAULT;
        long rc;
        if (e.op == __HYPERVISOR_iret) {
            /* As in Xen 4.17: iret runs (on the frame at the caller's stack) and ends the batch, and the multicall
             * returns its result (the RAX from the frame). */
            rc = do_iret(guest_frame());
            (void)copy_to_guest(va + offsetof(struct multicall_entry, result), &rc, sizeof(rc));
            return rc;
        }
        if (e.op == __HYPERVISOR_multicall) {
            rc = -EINVAL; /* Xen refuses a multicall inside a multicall with -EINVAL */
        } else {
            memcpy(mc->args, e.args, sizeof(mc->args)); /* a continuation rewrites only some of them */
            mc->active = true;
            mc->preempted = false;
            rc = pv_do_hypercall(e.op, e.args[0], e.args[1], e.args[2], e.args[3], e.args[4], e.args[5]);
            mc->active = false;
        }
        if (mc->preempted) {
            memcpy(e.args, mc->args, sizeof(e.args));
            if (copy_to_guest(va + offsetof(struct multicall_entry, args), e.args, sizeof(e.args)))
                return -EFAULT;
            unsigned long args[2] = {va, nr - i};
            return hypercall_continue(__HYPERVISOR_multicall, 2, args);
        }
        if (copy_to_guest(va + offsetof(struct multicall_entry, result), &rc, sizeof(rc)))
            return -EFAULT;
        if (current_domain()->is_shutting_down)
            break;
    }
    return 0;
}
