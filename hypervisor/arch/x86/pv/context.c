/* PV vCPU context: the SYSCALL set-up, the exit path's work, switching between vCPUs and guest modes, and lazy
 * FPU state. */
#include <public/callback.h>
#include <vesta/domain.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

extern uint64_t pv_syscall_slots[];
extern const char pv_syscall64_stubs[], pv_syscall32_stubs[];

#define X86_EFLAGS_TF (1UL << 8)
#define X86_EFLAGS_DF (1UL << 10)
#define X86_EFLAGS_IOPL (3UL << 12)
#define X86_EFLAGS_NT (1UL << 14)
#define X86_EFLAGS_RF (1UL << 16)
#define X86_EFLAGS_VM (1UL << 17)

void pv_cpu_init(unsigned int cpu)
{
    struct percpu *pc = percpu[cpu];
    pv_syscall_slots[cpu * 2] = (uint64_t)pc->stack + STACK_SIZE - sizeof(struct cpu_info);
    /* STAR: SYSCALL loads CS 0xe008 / SS 0xe010; SYSRET would load 0xe033 / 0xe02b. */
    wrmsr(MSR_STAR, ((uint64_t)(GUEST_CS32 & ~3) << 48) | ((uint64_t)HYPERVISOR_CS << 32));
    wrmsr(MSR_LSTAR, (uint64_t)pv_syscall64_stubs + cpu * 64);
    wrmsr(MSR_CSTAR, (uint64_t)pv_syscall32_stubs + cpu * 64);
    wrmsr(MSR_SFMASK, X86_EFLAGS_TF | X86_EFLAGS_IF | X86_EFLAGS_DF | X86_EFLAGS_IOPL | X86_EFLAGS_NT |
                          X86_EFLAGS_AC);
    sched_init_cpu(cpu);
}

/* ---- FPU: lazily switched. CR0.TS is set whenever the registers do not hold the running vCPU's state or the
 * guest asked for TS (fpu_taskswitch); the #NM handler loads the state. */

static inline void clts(void) { __asm__ volatile("clts"); }
static inline void stts(void) { write_cr0(read_cr0() | X86_CR0_TS); }

void vcpu_init_fpu(struct vcpu *v)
{
    memset(v->fpu_state, 0, sizeof(v->fpu_state));
    *(uint16_t *)&v->fpu_state[0] = 0x37f;    /* FCW after FNINIT */
    *(uint32_t *)&v->fpu_state[24] = 0x1f80;  /* MXCSR at reset */
}

void fpu_ensure_loaded(struct vcpu *v)
{
    struct percpu *pc = this_cpu();
    clts();
    if (pc->fpu_owner == v)
        return;
    if (pc->fpu_owner)
        __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])pc->fpu_owner->fpu_state));
    __asm__ volatile("fxrstor64 %0" ::"m"(*(uint8_t(*)[512])v->fpu_state));
    pc->fpu_owner = v;
}

/* v's FPU state leaves this CPU's registers (the caller runs on v's CPU, where alone it can be owner). TS is
 * set afterwards: with no owner, whoever runs next must trap on first use. */
static void fpu_release_here(struct vcpu *v, bool save)
{
    struct percpu *pc = this_cpu();
    if (pc->fpu_owner != v)
        return;
    if (save) {
        clts();
        __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])v->fpu_state));
    }
    pc->fpu_owner = NULL;
    stts();
}

/* Runs fn(arg) on cpu: here directly (interrupts off, as a cross-CPU call would run it), else by a call. */
static void run_on_cpu(unsigned int cpu, void (*fn)(void *), void *arg)
{
    if (cpu == smp_processor_id()) {
        unsigned long f = local_irq_save();
        fn(arg);
        local_irq_restore(f);
        return;
    }
    struct cpumask one;
    cpumask_clear_all(&one);
    cpumask_set(&one, cpu);
    smp_call_function_mask(&one, fn, arg);
}

static void sync_execstate_here(void *arg) { fpu_release_here(arg, true); }

/* State the context switch leaves on the CPU lazily (the FPU registers) goes back into v, so that it can be read
 * (getvcpucontext) or replaced. v is not running (vcpu_sleep_sync()). */
void vcpu_sync_execstate(struct vcpu *v) { run_on_cpu(v->processor, sync_execstate_here, v); }

static struct vcpu *seg_owner[MAX_CPUS]; /* whose descriptor tables and segment registers each CPU holds */

static void forget_here(void *arg)
{
    struct vcpu *v = arg;
    fpu_release_here(v, false);
    if (seg_owner[smp_processor_id()] == v) {
        pv_clear_gdt_ldt_window();
        seg_owner[smp_processor_id()] = NULL;
    }
}

/* v is going away: its CPU must keep no pointer to it, nor show its descriptor pages in its window (they are
 * about to lose the type that made showing them safe). v is paused and not running. */
void pv_vcpu_forget(struct vcpu *v) { run_on_cpu(v->processor, forget_here, v); }

/* Teardown (common/domain.c): everything v's context holds on its domain's frames -- descriptor tables,
 * page-table bases, the page its vcpu_info moved to -- is given back, after its CPU stopped showing it. */
void pv_vcpu_release(struct vcpu *v)
{
    ASSERT(!v->is_running);
    pv_vcpu_forget(v);
    pv_set_gdt(v, NULL, 0);
    pv_destroy_ldt(v);
    if (v->pv.user_l4)
        pv_put_table_ref(v->pv.user_l4);
    if (v->pv.kernel_l4)
        pv_put_table_ref(v->pv.kernel_l4);
    v->pv.user_l4 = v->pv.kernel_l4 = 0;
    unmap_vcpu_info(v);
}

/* ---- Guest modes. Kernel and user mode differ in their L4 and in which GS base is active; the other one waits
 * in MSR_KERNEL_GS_BASE, so switching is a SWAPGS. */

void pv_load_cr3(struct vcpu *v)
{
    mfn_t l4 = v->pv.kernel_mode || !v->pv.user_l4 ? v->pv.kernel_l4 : v->pv.user_l4;
    write_cr3(l4 << PAGE_SHIFT);
}

void toggle_guest_mode(struct vcpu *v)
{
    v->pv.kernel_mode = !v->pv.kernel_mode;
    __asm__ volatile("swapgs");
    pv_load_cr3(v);
}

void pv_write_gs_base_user(struct vcpu *v, uint64_t base)
{
    v->pv.gs_base_user = base;
    wrmsr(v->pv.kernel_mode ? MSR_KERNEL_GS_BASE : MSR_GS_BASE, base);
}

/* ---- Segment state, saved and restored only when vCPUs switch: the hypervisor itself never touches DS, ES, FS
 * or GS. */

static inline uint16_t read_sel(int which)
{
    uint16_t s = 0;
    switch (which) {
    case 0: __asm__ volatile("mov %%ds, %0" : "=r"(s)); break;
    case 1: __asm__ volatile("mov %%es, %0" : "=r"(s)); break;
    case 2: __asm__ volatile("mov %%fs, %0" : "=r"(s)); break;
    default: __asm__ volatile("mov %%gs, %0" : "=r"(s)); break;
    }
    return s;
}

/* Loads a selector; one the guest made invalid meanwhile (a changed GDT or LDT) does not load and becomes null,
 * and the guest hears about it through its failsafe callback. A selector in an LDT page not mapped yet faults
 * first and is mapped by pv_hypervisor_fault() before the load is retried. Clears ok if the load failed. */
#define LOAD_SEG(seg, val, ok)                                                                                     \
    __asm__ volatile("1: mov %k1, %%" seg "\n2:\n"                                                                 \
                     ".pushsection .fixup, \"ax\"\n"                                                               \
                     "3: xor %k0, %k0\n"                                                                           \
                     "   mov %k0, %%" seg "\n"                                                                     \
                     "   jmp 2b\n"                                                                                 \
                     ".popsection\n"                                                                               \
                     ".pushsection __ex_table, \"a\"\n"                                                            \
                     ".balign 4\n"                                                                                 \
                     ".long 1b - ., 3b - .\n"                                                                      \
                     ".popsection"                                                                                 \
                     : "+r"(ok)                                                                                    \
                     : "r"((unsigned int)(val)))

static void save_segments(struct vcpu *v)
{
    v->pv.ds = read_sel(0);
    v->pv.es = read_sel(1);
    v->pv.fs = read_sel(2);
    v->pv.gs = read_sel(3);
    v->pv.fs_base = rdmsr(MSR_FS_BASE);
    uint64_t active = rdmsr(MSR_GS_BASE), shadow = rdmsr(MSR_KERNEL_GS_BASE);
    v->pv.gs_base_kernel = v->pv.kernel_mode ? active : shadow;
    v->pv.gs_base_user = v->pv.kernel_mode ? shadow : active;
}

/* The failsafe frame, as Xen's load_segments builds it: lowest address first RCX, R11, DS, ES, FS, GS (the
 * selectors the guest had, not what loaded), RIP, CS (with the whole upcall mask byte in bits 32-39), RFLAGS, RSP,
 * SS, on the kernel stack (switching to kernel mode) or below the interrupted kernel stack pointer. */
static void failsafe_bounce(struct vcpu *v, struct cpu_regs *regs)
{
    struct domain *d = v->domain;
    uint64_t sp = (v->pv.kernel_mode ? regs->rsp : v->pv.kernel_sp) & ~0xfUL;
    uint8_t mask = v->vcpu_info ? v->vcpu_info->evtchn_upcall_mask : 1;
    uint64_t rflags = regs->rflags & ~(X86_EFLAGS_IF | X86_EFLAGS_IOPL);
    rflags |= (uint64_t)!mask << 9;
    if (d->vm_assist & (1UL << VMASST_TYPE_architectural_iopl))
        rflags |= (uint64_t)v->pv.iopl << 12;
    if (!v->pv.kernel_mode)
        toggle_guest_mode(v);
    else
        regs->cs &= ~3UL;
    uint64_t w[11] = {regs->rcx, regs->r11, v->pv.ds, v->pv.es, v->pv.fs, v->pv.gs,
                      regs->rip, (regs->cs & 0xffff) | ((uint64_t)mask << 32), rflags, regs->rsp, regs->ss};
    sp -= sizeof(w);
    if (copy_to_guest(sp, w, sizeof(w)))
        domain_crash(d, "cannot write the failsafe callback frame at %#lx (selectors ds %#x es %#x fs %#x gs %#x "
                     "did not load)", sp, v->pv.ds, v->pv.es, v->pv.fs, v->pv.gs);
    if (v->pv.failsafe_disables_events && v->vcpu_info)
        v->vcpu_info->evtchn_upcall_mask = 1;
    regs->vector |= TRAP_SYSCALL_EXIT;
    regs->rflags &= ~(X86_EFLAGS_AC | X86_EFLAGS_VM | X86_EFLAGS_RF | X86_EFLAGS_NT | X86_EFLAGS_IOPL |
                      X86_EFLAGS_TF);
    regs->ss = FLAT_KERNEL_SS;
    regs->rsp = sp;
    regs->cs = FLAT_KERNEL_CS;
    regs->rip = v->pv.failsafe_callback; /* as in Xen, even if none is registered */
}

/* Called with v's descriptor tables already in the window (pv_load_gdt_ldt) and its frame in regs. */
static void load_segments(struct vcpu *v, struct cpu_regs *regs)
{
    int ok = 1;
    LOAD_SEG("fs", v->pv.fs, ok);
    LOAD_SEG("gs", v->pv.gs, ok);
    LOAD_SEG("ds", v->pv.ds, ok);
    LOAD_SEG("es", v->pv.es, ok);
    wrmsr(MSR_FS_BASE, v->pv.fs_base);
    wrmsr(MSR_GS_BASE, v->pv.kernel_mode ? v->pv.gs_base_kernel : v->pv.gs_base_user);
    wrmsr(MSR_KERNEL_GS_BASE, v->pv.kernel_mode ? v->pv.gs_base_user : v->pv.gs_base_kernel);
    if (!ok)
        failsafe_bounce(v, regs);
}

/* ---- Debug registers (Xen: traps.c activate_debugregs / do_debug, domain.c context switch).
 *
 * A vCPU's DR0-3, DR6 and DR7 (validated by set_debugreg in physdev.c) are in the CPU only while it runs, and
 * only if its DR7 enables a breakpoint: switching away from such a vCPU disables DR7, switching to one loads them
 * all. The hypervisor's own accesses to guest memory can then hit a guest data breakpoint; that #DB arrives in
 * ring 0 and is noted and ignored (data breakpoints are traps, the access has completed), as Xen does. (A #DB
 * from the guest itself updates the guest's DR6 view in pv/traps.c.) */

#define DR6_DEFAULT 0xffff0ff0UL     /* Xen's X86_DR6_DEFAULT: the value with no condition recorded */
#define DR7_ACTIVE_MASK 0xffUL       /* L0-3 / G0-3 */
#define DR6_TRAPS 0xfUL              /* B0-B3 */
#define DR7_RW_SHIFT 16
#define DR7_RW_EXECUTE 0UL

#define READ_DR(n) ({ uint64_t v_; __asm__ volatile("mov %%db" #n ", %0" : "=r"(v_)); v_; })
#define WRITE_DR(n, val) __asm__ volatile("mov %0, %%db" #n ::"r"((uint64_t)(val)))

/* A DR6 value of 0 in v->pv.dr means "never written": the architectural default. */
static uint64_t vcpu_dr6(const struct vcpu *v) { return v->pv.dr[6] ? v->pv.dr[6] : DR6_DEFAULT; }

static bool dr7_active(const struct vcpu *v) { return (v->pv.dr[7] & DR7_ACTIVE_MASK) != 0; }

void pv_load_debugregs(struct vcpu *v)
{
    WRITE_DR(0, v->pv.dr[0]);
    WRITE_DR(1, v->pv.dr[1]);
    WRITE_DR(2, v->pv.dr[2]);
    WRITE_DR(3, v->pv.dr[3]);
    WRITE_DR(6, vcpu_dr6(v));
    if (dr7_active(v))
        WRITE_DR(7, v->pv.dr[7]);
}

/* set_debugreg on the running vCPU: the new value goes into the CPU at once. DR7 turning active loads the others,
 * which the context switch skipped while it was inactive. */
void pv_debugreg_written(struct vcpu *v, unsigned int reg, bool dr7_was_active)
{
    switch (reg) {
    case 0: WRITE_DR(0, v->pv.dr[0]); break;
    case 1: WRITE_DR(1, v->pv.dr[1]); break;
    case 2: WRITE_DR(2, v->pv.dr[2]); break;
    case 3: WRITE_DR(3, v->pv.dr[3]); break;
    case 6: WRITE_DR(6, vcpu_dr6(v)); break;
    case 7:
        if (dr7_active(v) && !dr7_was_active) {
            WRITE_DR(0, v->pv.dr[0]);
            WRITE_DR(1, v->pv.dr[1]);
            WRITE_DR(2, v->pv.dr[2]);
            WRITE_DR(3, v->pv.dr[3]);
            WRITE_DR(6, vcpu_dr6(v));
        }
        WRITE_DR(7, v->pv.dr[7] ? v->pv.dr[7] : 0x400);
        break;
    default:
        break;
    }
}

bool pv_debug_trap_hypervisor(struct cpu_regs *regs)
{
    uint64_t dr6 = READ_DR(6);
    WRITE_DR(6, DR6_DEFAULT);
    if (regs->rflags & X86_EFLAGS_TF) {
        /* Single-stepping into the hypervisor: no entry path leaves TF set, but never loop on it. */
        pr_warn("#DB in the hypervisor with TF set at %#lx: TF cleared", regs->rip);
        regs->rflags &= ~X86_EFLAGS_TF;
    }
    if (dr6 & DR6_TRAPS) {
        /* Guests cannot aim breakpoints at hypervisor addresses, so an instruction breakpoint here would be a
         * fault that repeats forever: disable everything rather than hang. */
        uint64_t dr7 = READ_DR(7);
        for (unsigned int bp = 0; bp < 4; bp++)
            if ((dr6 & (1UL << bp)) && (dr7 & (3UL << (bp * 2))) &&
                ((dr7 >> (DR7_RW_SHIFT + bp * 4)) & 3) == DR7_RW_EXECUTE) {
                pr_err("instruction breakpoint hit in the hypervisor at %#lx: debug registers disabled",
                       regs->rip);
                WRITE_DR(7, 0);
                break;
            }
    }
    pr_debug("#DB in the hypervisor at %#lx (dr6 %#lx), ignored", regs->rip, dr6);
    return true;
}

/* ---- Switching. */

static void idle_entry(void) { sched_run(); }

__noreturn void context_switch(struct vcpu *prev, struct vcpu *next)
{
    struct percpu *pc = this_cpu();
    struct cpu_regs *frame = guest_frame();
    local_irq_disable();
    if (prev) {
        prev->regs = *frame;
        if (dr7_active(prev))
            WRITE_DR(7, 0); /* its breakpoints must not fire for anyone else */
        save_segments(prev);
        vcpu_sched_out(prev); /* events/time: periodic timer, runstate area (prev's page tables still loaded) */
    }
    /* Once prev's page tables are no longer loaded, its state is all saved: it may be read, or torn down. */
    if (!next) {
        write_cr3(virt_to_maddr(idle_pg_table));
        context_switch_done(prev);
        reset_stack_and_call(frame, idle_entry);
    }
    tlb_enter_domain_begin(next->domain);
    pv_load_cr3(next);
    context_switch_done(prev);
    tlb_enter_domain_end(next->domain);
    pv_load_guest_cr4(next);
    if (dr7_active(next))
        pv_load_debugregs(next);
    if (pc->fpu_owner == next && !next->pv.ctrlreg0_ts)
        clts();
    else
        stts();
    *frame = next->regs;
    vcpu_sched_in(next); /* events/time: runstate area, periodic timer, vcpu_time_info */
    /* Like Xen's lazy switch: coming back from idle to the vCPU whose state the CPU still holds reloads nothing
     * (so a selector the guest invalidated meanwhile keeps working until a real switch, as on Xen). */
    if (prev || seg_owner[pc->cpu] != next) {
        pv_load_gdt_ldt(next);
        load_segments(next, frame);
        seg_owner[pc->cpu] = next;
    }
    reset_stack_and_return_to_guest(frame);
}

/* ---- The exit path. */

void pv_exit_work(struct cpu_regs *regs)
{
    if (regs != guest_frame())
        return; /* an NMI or machine check on its IST stack: straight back */
    struct percpu *pc = this_cpu();
    for (;;) {
        local_irq_disable();
        if (pc->softirq_pending) {
            local_irq_enable();
            do_softirq();
            continue;
        }
        struct vcpu *v = pc->curr;
        if (v && v->pv.nmi_pending && !v->pv.nmi_masked) {
            local_irq_enable();
            pv_deliver_nmi(v, regs);
            continue;
        }
        if (v && v->vcpu_info && v->vcpu_info->evtchn_upcall_pending && !v->vcpu_info->evtchn_upcall_mask &&
            v->pv.event_callback) {
            local_irq_enable();
            pv_deliver_event(v, regs);
            continue;
        }
        if (v && (uint64_t)((int64_t)(regs->rip << 16) >> 16) != regs->rip) {
            /* Returning to a non-canonical RIP (e.g. a SYSCALL that was the last instruction below the canonical
             * boundary): hardware raises #GP(0) on the return itself, which Xen passes on to the guest. Some CPUs
             * and emulators instead fault on the fetch afterwards; raising it here gives every guest the #GP. */
            local_irq_enable();
            pv_inject_exception(v, regs, TRAP_GP, 0);
            continue;
        }
        if (v)
            pv_exit_to_guest(v, regs);
        return;
    }
}
