/* vcpu_op: bringing secondary vCPUs up and down, their timers, where their shared structures live (vcpu_info,
 * runstate area, time area), NMIs and physical ids. Xen 4.17 semantics (common/domain.c common_vcpu_op,
 * arch/x86/domain.c do_vcpu_op and arch_set_info_guest). */
#include <public/sched.h>
#include <public/vcpu.h>
#include <vesta/domain.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/setup.h>
#include <vesta/x86.h>

#define MILLISECS(ms) ((uint64_t)(ms) * 1000000ULL)
#define STIME_DELTA_MAX (~0ULL >> 2)
#define X86_EFLAGS_IOPL (3UL << 12)
#define X86_EFLAGS_NT (1UL << 14)
#define X86_EFLAGS_VM (1UL << 17)
/* The assists a 64-bit PV guest may ask for (Xen's PV64_VM_ASSIST_MASK). */
#define VMASST_VALID_MASK                                                                                          \
    ((1UL << VMASST_TYPE_4gb_segments) | (1UL << VMASST_TYPE_4gb_segments_notify) |                               \
     (1UL << VMASST_TYPE_writable_pagetables) | (1UL << VMASST_TYPE_pae_extended_cr3) |                           \
     (1UL << VMASST_TYPE_architectural_iopl) | (1UL << VMASST_TYPE_runstate_update_flag) |                        \
     (1UL << VMASST_TYPE_m2p_strict))

/* Serialises vCPU initialisation and vcpu_info moves (Xen's domain_lock; these are rare). */
static spinlock_t vcpu_op_lock = SPINLOCK_INIT;

static struct vcpu *domain_vcpu(const struct domain *d, unsigned long id)
{
    return id < d->max_vcpus ? __atomic_load_n(&d->vcpus[id], __ATOMIC_ACQUIRE) : NULL;
}

static bool canonical(uint64_t va) { return (uint64_t)((int64_t)(va << 16) >> 16) == va; }

/* A 64-bit PV guest's selectors always carry RPL 3 (its kernel runs in ring 3). */
static uint64_t fixup_sel(uint64_t sel) { return (sel & 3) == 3 ? sel : (sel & ~3UL) | 3; }

/* set_gdt lives in arch/x86/pv/descriptors.c. Until it exists, only an empty GDT can be given; a non-empty one
 * is refused with -EINVAL, Xen's answer for GDT frames it cannot take. */
__attribute__((weak)) int pv_set_gdt(struct vcpu *v, const uint64_t *frames, unsigned int entries)
{
    (void)v;
    (void)frames;
    return entries ? -EINVAL : 0;
}

/* MXCSR bits the CPU accepts (from FXSAVE's MXCSR_MASK; 0xffbf when it reports 0). A context with others set
 * would make FXRSTOR fault. */
static uint32_t mxcsr_mask(void)
{
    static uint32_t mask;
    if (!mask) {
        uint8_t img[512] __aligned(16);
        memset(img, 0, sizeof(img));
        unsigned long cr0 = read_cr0();
        __asm__ volatile("clts; fxsave64 %0" : "=m"(img));
        write_cr0(cr0);
        uint32_t m;
        memcpy(&m, img + 28, 4);
        mask = m ? m : 0xffbf;
    }
    return mask;
}

/* Does c name exactly the page-table bases and descriptor tables v already has? (A context given to an
 * initialised vCPU may change registers and callbacks, nothing that holds references.) */
static bool same_bases(const struct vcpu *v, const struct vcpu_guest_context *c)
{
    const struct pv_vcpu *pv = &v->pv;
    bool same = (c->ctrlreg[3] >> PAGE_SHIFT) == pv->kernel_l4 && (c->ctrlreg[1] >> PAGE_SHIFT) == pv->user_l4;
    if (!pv->user_l4)
        same &= !c->ctrlreg[1] && (c->flags & VGCF_in_kernel);
    same &= c->gdt_ents == pv->gdt_ents;
    for (unsigned int i = 0; same && i < (c->gdt_ents + 511) / 512; i++)
        same = c->gdt_frames[i] == pv->gdt_frames[i];
    same &= c->ldt_ents == pv->ldt_ents && (!pv->ldt_ents || c->ldt_base == pv->ldt_base);
    return same;
}

/* Xen's arch_set_info_guest for a 64-bit PV vCPU (VCPUOP_initialise, XEN_DOMCTL_setvcpucontext). A vCPU that
 * was initialised before may only be given the bases it has (-EOPNOTSUPP otherwise), which is how the toolstack
 * resumes a suspended domain. The caller holds vcpu_op_lock, and v is not running. VGCF_online is the caller's. */
static long set_info_guest(struct vcpu *v, struct vcpu_guest_context *c)
{
    struct domain *d = v->domain;
    struct cpu_user_regs *r = &c->user_regs;
    if (!canonical(r->rip) || !canonical(r->rsp) || !canonical(c->kernel_sp) ||
        (c->ldt_ents && !canonical(c->ldt_base)) || !canonical(c->fs_base) || !canonical(c->gs_base_kernel) ||
        !canonical(c->gs_base_user) || !canonical(c->event_callback_eip) ||
        !canonical(c->syscall_callback_eip) || !canonical(c->failsafe_callback_eip))
        return -EINVAL;
    for (unsigned int i = 0; i < 256; i++) {
        if (!canonical(c->trap_ctxt[i].address))
            return -EINVAL;
        c->trap_ctxt[i].cs = (uint16_t)fixup_sel(c->trap_ctxt[i].cs);
    }
    if (!(c->ldt_base < (1UL << 47) || c->ldt_base >= HYPERVISOR_VIRT_END))
        return -EINVAL;
    if ((c->ldt_base & (PAGE_SIZE - 1)) || c->ldt_ents > 8192)
        return -EINVAL;
    if (v->id == 0 && (c->vm_assist & ~VMASST_VALID_MASK))
        return -EINVAL;
    if ((c->gdt_ents + 511) / 512 > ARRAY_SIZE(v->pv.gdt_frames))
        return -EINVAL;
    if (!v->is_initialised) {
        if (!(c->flags & VGCF_in_kernel) && !c->ctrlreg[1])
            return -EINVAL;
    } else if (!same_bases(v, c)) {
        return -EOPNOTSUPP;
    }

    struct pv_vcpu *pv = &v->pv;
    pv->kernel_ss = fixup_sel(c->kernel_ss);
    pv->kernel_sp = c->kernel_sp;
    pv->event_callback = c->event_callback_eip;
    pv->failsafe_callback = c->failsafe_callback_eip;
    pv->syscall_callback = c->syscall_callback_eip;
    pv->failsafe_disables_events = c->flags & VGCF_failsafe_disables_events;
    pv->syscall_disables_events = c->flags & VGCF_syscall_disables_events;
    pv->fs_base = c->fs_base;
    pv->gs_base_kernel = c->gs_base_kernel;
    pv->gs_base_user = c->gs_base_user;
    pv->ctrlreg0_ts = c->ctrlreg[0] & X86_CR0_TS;
    memset(pv->dr, 0, sizeof(pv->dr));
    memcpy(pv->traps, c->trap_ctxt, sizeof(pv->traps));
    pv->iopl = (unsigned int)((r->rflags & X86_EFLAGS_IOPL) >> 12);
    pv->ds = r->ds;
    pv->es = r->es;
    pv->fs = r->fs;
    pv->gs = r->gs;

    if (c->flags & VGCF_I387_VALID) {
        memcpy(v->fpu_state, c->fpu_ctxt, sizeof(v->fpu_state));
        uint32_t mxcsr;
        memcpy(&mxcsr, v->fpu_state + 24, 4);
        mxcsr &= mxcsr_mask();
        memcpy(v->fpu_state + 24, &mxcsr, 4);
    } else {
        vcpu_init_fpu(v);
    }

    struct cpu_regs *g = &v->regs;
    memset(g, 0, sizeof(*g));
    g->r15 = r->r15, g->r14 = r->r14, g->r13 = r->r13, g->r12 = r->r12;
    g->rbp = r->rbp, g->rbx = r->rbx, g->r11 = r->r11, g->r10 = r->r10;
    g->r9 = r->r9, g->r8 = r->r8, g->rax = r->rax, g->rcx = r->rcx;
    g->rdx = r->rdx, g->rsi = r->rsi, g->rdi = r->rdi;
    g->rip = r->rip;
    g->cs = fixup_sel(r->cs);
    g->ss = fixup_sel(r->ss);
    g->rsp = r->rsp;
    /* IOPL is virtual; real interrupts stay enabled. NT and VM cannot be returned to in long mode. */
    g->rflags = (r->rflags & ~(X86_EFLAGS_IOPL | X86_EFLAGS_NT | X86_EFLAGS_VM)) | X86_EFLAGS_IF;
    if (v->is_initialised)
        return 0;

    pv->ldt_ents = (unsigned int)c->ldt_ents;
    pv->ldt_base = c->ldt_ents ? c->ldt_base : 0;
    if (v->id == 0)
        d->vm_assist = c->vm_assist;
    int rc = pv_set_gdt(v, c->gdt_frames, (unsigned int)c->gdt_ents);
    if (rc)
        return rc;
    mfn_t kl4 = c->ctrlreg[3] >> PAGE_SHIFT, ul4 = c->ctrlreg[1] >> PAGE_SHIFT;
    rc = pv_get_table_ref(d, kl4, FRAME_T_L4);
    if (!rc && c->ctrlreg[1]) {
        rc = pv_get_table_ref(d, ul4, FRAME_T_L4);
        if (rc)
            pv_put_table_ref(kl4);
    }
    if (rc) {
        pv_set_gdt(v, NULL, 0);
        return rc;
    }
    pv->kernel_l4 = kl4;
    pv->user_l4 = c->ctrlreg[1] ? ul4 : 0;
    pv->kernel_mode = c->flags & VGCF_in_kernel;
    if (v->id == 0)
        update_domain_wallclock(d);
    v->is_initialised = true;
    return 0;
}

/* VGCF_online takes the vCPU out of "down"; without it, it goes (back) down. From the guest (VCPUOP_initialise)
 * the vCPU is left blocked: Xen does not wake it either, and VCPUOP_up then has nothing to do; unlike Xen, an
 * event sent to it later does wake it. From the toolstack the domain is paused, and unpausing starts it. */
static void set_online(struct vcpu *v, bool online, bool blocked)
{
    if (!online) {
        __atomic_fetch_or(&v->pause_flags, VPF_DOWN, __ATOMIC_SEQ_CST);
        vcpu_sleep_nosync(v);
        return;
    }
    if (blocked)
        __atomic_fetch_or(&v->pause_flags, VPF_BLOCKED, __ATOMIC_SEQ_CST);
    __atomic_fetch_and(&v->pause_flags, ~VPF_DOWN, __ATOMIC_SEQ_CST);
    vcpu_wake(v);
}

/* XEN_DOMCTL_setvcpucontext: v's domain is paused by the caller. Unlike VCPUOP_initialise, an initialised vCPU
 * may be given a context again (with the bases it has). */
long vcpu_set_context(struct vcpu *v, struct vcpu_guest_context *c)
{
    spin_lock(&vcpu_op_lock);
    long rc = set_info_guest(v, c);
    if (!rc)
        set_online(v, c->flags & VGCF_online, false);
    spin_unlock(&vcpu_op_lock);
    return rc;
}

/* XEN_DOMCTL_getvcpucontext (Xen's arch_get_info_guest): v is paused and its state saved. */
void vcpu_get_context(struct vcpu *v, struct vcpu_guest_context *c)
{
    const struct pv_vcpu *pv = &v->pv;
    const struct cpu_regs *g = &v->regs;
    memset(c, 0, sizeof(*c));
    memcpy(c->fpu_ctxt, v->fpu_state, sizeof(c->fpu_ctxt));
    c->flags = VGCF_i387_valid; /* the FPU image is always kept initialised here */
    if (pv->failsafe_disables_events)
        c->flags |= VGCF_failsafe_disables_events;
    if (pv->syscall_disables_events)
        c->flags |= VGCF_syscall_disables_events;
    if (!(__atomic_load_n(&v->pause_flags, __ATOMIC_ACQUIRE) & VPF_DOWN))
        c->flags |= VGCF_online;
    if (pv->kernel_mode)
        c->flags |= VGCF_in_kernel;
    struct cpu_user_regs *r = &c->user_regs;
    r->r15 = g->r15, r->r14 = g->r14, r->r13 = g->r13, r->r12 = g->r12;
    r->rbp = g->rbp, r->rbx = g->rbx, r->r11 = g->r11, r->r10 = g->r10;
    r->r9 = g->r9, r->r8 = g->r8, r->rax = g->rax, r->rcx = g->rcx;
    r->rdx = g->rdx, r->rsi = g->rsi, r->rdi = g->rdi;
    r->rip = g->rip;
    r->cs = (uint16_t)g->cs;
    r->rflags = g->rflags | ((uint64_t)pv->iopl << 12); /* IOPL is virtual: merged back */
    r->rsp = g->rsp;
    r->ss = (uint16_t)g->ss;
    r->ds = pv->ds, r->es = pv->es, r->fs = pv->fs, r->gs = pv->gs;
    r->saved_upcall_mask = v->vcpu_info ? v->vcpu_info->evtchn_upcall_mask : 1;
    memcpy(c->trap_ctxt, pv->traps, sizeof(c->trap_ctxt));
    for (unsigned int i = 0; i < 8; i++)
        c->debugreg[i] = pv_get_debugreg(v, i);
    c->ldt_base = pv->ldt_ents ? pv->ldt_base : 0;
    c->ldt_ents = pv->ldt_ents;
    memcpy(c->gdt_frames, pv->gdt_frames, sizeof(c->gdt_frames));
    c->gdt_ents = pv->gdt_ents;
    c->kernel_ss = pv->kernel_ss;
    c->kernel_sp = pv->kernel_sp;
    c->ctrlreg[0] = pv->ctrlreg0_ts ? X86_CR0_TS : 0;
    c->ctrlreg[3] = pv->kernel_l4 << PAGE_SHIFT;
    c->ctrlreg[1] = pv->user_l4 << PAGE_SHIFT;
    c->ctrlreg[4] = pv_guest_cr4(v);
    c->event_callback_eip = pv->event_callback;
    c->failsafe_callback_eip = pv->failsafe_callback;
    c->syscall_callback_eip = pv->syscall_callback;
    c->vm_assist = v->domain->vm_assist;
    c->fs_base = pv->fs_base;
    c->gs_base_kernel = pv->gs_base_kernel;
    c->gs_base_user = pv->gs_base_user;
}

static long vcpu_initialise(struct vcpu *v, unsigned long arg)
{
    if (!v->vcpu_info)
        return -EINVAL; /* vCPUs from 32 up need register_vcpu_info first */
    struct vcpu_guest_context *c = xmalloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    long rc;
    if (copy_from_guest(c, arg, sizeof(*c))) {
        rc = -EFAULT;
    } else {
        spin_lock(&vcpu_op_lock);
        rc = v->is_initialised ? -EEXIST : set_info_guest(v, c);
        if (!rc && (c->flags & VGCF_online))
            set_online(v, true, true);
        spin_unlock(&vcpu_op_lock);
    }
    xfree(c);
    return rc;
}

static long vcpu_up(struct vcpu *v)
{
    if (!v->is_initialised)
        return -EINVAL;
    if (__atomic_fetch_and(&v->pause_flags, ~VPF_DOWN, __ATOMIC_SEQ_CST) & VPF_DOWN)
        vcpu_wake(v);
    return 0;
}

static bool vcpu_is_down(const struct vcpu *v) { return __atomic_load_n(&v->pause_flags, __ATOMIC_ACQUIRE) & VPF_DOWN; }

/* Taking down the last vCPU that is up powers the domain off. */
static long vcpu_down(struct vcpu *v)
{
    struct domain *d = v->domain;
    bool others = false;
    for_each_vcpu (d, o)
        if (o != v && !vcpu_is_down(o))
            others = true;
    if (!others) {
        domain_shutdown(d, SHUTDOWN_poweroff);
        return 0;
    }
    if (!(__atomic_fetch_or(&v->pause_flags, VPF_DOWN, __ATOMIC_SEQ_CST) & VPF_DOWN))
        vcpu_sleep_nosync(v);
    return 0;
}

/* Move vcpu_info into a guest frame (gfn = mfn for PV) that takes a writable type reference, then mark
 * everything pending so no event is lost in the move. */
static long map_vcpu_info(struct vcpu *v, uint64_t mfn, uint32_t offset)
{
    struct domain *d = v->domain;
    if (offset > PAGE_SIZE - sizeof(struct vcpu_info) || (offset & 7))
        return -ENXIO;
    if (v->vcpu_info_mfn)
        return -EINVAL;
    if (v != current_vcpu() && !vcpu_is_down(v))
        return -EINVAL;
    if (mfn >= max_mfn || !pv_get_page(d, mfn))
        return -EINVAL;
    if (pv_get_page_type(d, mfn, FRAME_T_WRITABLE)) {
        pv_put_page(mfn);
        return -EINVAL;
    }
    struct vcpu_info *ni = (struct vcpu_info *)((char *)mfn_to_virt(mfn) + offset);
    if (!v->vcpu_info) {
        memset(ni, 0, sizeof(*ni));
        ni->evtchn_upcall_mask = 1;
    } else {
        memcpy(ni, v->vcpu_info, sizeof(*ni));
    }
    __atomic_store_n(&v->vcpu_info, ni, __ATOMIC_RELEASE);
    v->vcpu_info_mfn = mfn;
    __atomic_store_n(&ni->evtchn_pending_sel, ~0UL, __ATOMIC_SEQ_CST);
    vcpu_mark_events_pending(v);
    return 0;
}

/* Teardown (pv_vcpu_release): the registered page is given back; vcpu_info returns to shared_info's slot, or
 * none beyond the legacy 32. v is paused. */
void unmap_vcpu_info(struct vcpu *v)
{
    mfn_t mfn = v->vcpu_info_mfn;
    if (!mfn)
        return;
    struct domain *d = v->domain;
    __atomic_store_n(&v->vcpu_info, v->id < XEN_LEGACY_MAX_VCPUS ? &d->shared_info->vcpu_info[v->id] : NULL,
                     __ATOMIC_RELEASE);
    v->vcpu_info_mfn = 0;
    pv_put_page_type(mfn);
    pv_put_page(mfn);
}

/* Xen answers only for a hardware-domain vCPU whose affinity is a single CPU; dom0's spans every online CPU, so
 * that means a one-CPU machine. The id is that of the physical CPU numbered like the vCPU. */
static long get_physid(struct vcpu *v, unsigned long arg)
{
    if (v->domain->id != 0 || nr_cpus_online != 1)
        return -EINVAL;
    struct percpu *pc = v->id < MAX_CPUS ? percpu[v->id] : NULL;
    uint32_t apic = pc ? pc->apic_id : ~0u, acpi = pc ? v->id : ~0u;
    struct vcpu_get_physid id = {.phys_id = apic | ((uint64_t)acpi << 32)};
    return copy_to_guest_obj(arg, &id) ? -EFAULT : 0;
}

HC(do_vcpu_op)
{
    unsigned long cmd = a1, arg = a3;
    struct vcpu *cur = current_vcpu();
    struct domain *d = cur->domain;
    struct vcpu *v = domain_vcpu(d, (uint32_t)a2);
    if (!v)
        return -ENOENT;
    (void)a4, (void)a5, (void)a6;

    switch (cmd) {
    case VCPUOP_initialise:
        return vcpu_initialise(v, arg);
    case VCPUOP_up:
        return vcpu_up(v);
    case VCPUOP_down:
        return vcpu_down(v);
    case VCPUOP_is_up:
        return !vcpu_is_down(v);
    case VCPUOP_get_runstate_info: {
        struct vcpu_runstate_info rs;
        vcpu_runstate_get(v, &rs);
        return copy_to_guest_obj(arg, &rs) ? -EFAULT : 0;
    }
    case VCPUOP_register_runstate_memory_area: {
        struct vcpu_register_runstate_memory_area area;
        if (copy_from_guest_obj(&area, arg))
            return -EFAULT;
        if (!guest_range_ok(area.addr.p, sizeof(struct vcpu_runstate_info)))
            return -EFAULT;
        v->runstate_guest_va = area.addr.p;
        if (!area.addr.p)
            return 0;
        struct vcpu_runstate_info rs;
        if (v == cur) {
            update_runstate_area(v);
        } else {
            vcpu_runstate_get(v, &rs);
            copy_to_guest_obj(area.addr.p, &rs); /* a fault here is not reported, as in Xen */
        }
        return 0;
    }
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer set;
        if (copy_from_guest_obj(&set, arg))
            return -EFAULT;
        if (set.period_ns < MILLISECS(1) || set.period_ns > STIME_DELTA_MAX)
            return -EINVAL;
        vcpu_set_periodic_timer(v, set.period_ns);
        return 0;
    }
    case VCPUOP_stop_periodic_timer:
        vcpu_set_periodic_timer(v, 0);
        return 0;
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer set;
        if (v != cur)
            return -EINVAL;
        if (copy_from_guest_obj(&set, arg))
            return -EFAULT;
        /* Xen 4.17 ignores VCPU_SSHOTTMR_future: a deadline already past raises the event at once. */
        if (set.timeout_abs_ns < now_ns()) {
            timer_stop(&v->singleshot_timer);
            send_timer_event(v);
            return 0;
        }
        timer_set(&v->singleshot_timer, set.timeout_abs_ns);
        return 0;
    }
    case VCPUOP_stop_singleshot_timer:
        if (v != cur)
            return -EINVAL;
        timer_stop(&v->singleshot_timer);
        return 0;
    case VCPUOP_register_vcpu_info: {
        struct vcpu_register_vcpu_info info;
        if (copy_from_guest_obj(&info, arg))
            return -EFAULT;
        spin_lock(&vcpu_op_lock);
        long rc = map_vcpu_info(v, info.mfn, info.offset);
        spin_unlock(&vcpu_op_lock);
        update_vcpu_system_time(v, true);
        return rc;
    }
    case VCPUOP_send_nmi:
        if (arg)
            return -EINVAL;
        if (!__atomic_exchange_n(&v->pv.nmi_pending, true, __ATOMIC_SEQ_CST))
            vcpu_kick(v);
        return 0;
    case VCPUOP_get_physid:
        return get_physid(v, arg);
    case VCPUOP_register_vcpu_time_memory_area: {
        struct vcpu_register_time_memory_area area;
        if (copy_from_guest_obj(&area, arg))
            return -EFAULT;
        if (!guest_range_ok(area.addr.p, sizeof(struct vcpu_time_info)))
            return -EFAULT;
        v->time_info_guest_va = area.addr.p;
        update_vcpu_system_time(v, true);
        return 0;
    }
    default:
        return -ENOSYS;
    }
}
