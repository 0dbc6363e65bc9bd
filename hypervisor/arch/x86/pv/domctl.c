/* The x86 PV domctl ops (Xen's arch_do_domctl for a PV domain): what a toolstack building, saving or inspecting
 * a 64-bit PV domain asks of its machine state. The dispatcher (common/domctl.c) has looked the domain up,
 * checked privilege and taken the domctl lock. */
#include <public/domctl.h>
#include <vesta/cpu_policy.h>
#include <vesta/domain.h>
#include <vesta/domctl.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>
#include <vesta/timer.h>

/* The hypercall page goes into a frame of d that can be written (not a page table or descriptor page). */
long pv_domctl_hypercall_init(struct xen_domctl *op, struct domain *d)
{
    mfn_t mfn = op->u.hypercall_init.gmfn; /* a PV gfn is the mfn */
    if (!mfn_valid(mfn) || !pv_get_page(d, mfn))
        return -EINVAL;
    if (frame_get_type(mfn_to_frame(mfn), FRAME_T_WRITABLE, NULL, NULL)) {
        pv_put_page(mfn);
        return -EPERM;
    }
    pv_write_hypercall_page(mfn_to_virt(mfn));
    frame_put_type(mfn_to_frame(mfn), NULL, NULL);
    pv_put_page(mfn);
    return 0;
}

/* Guests are 64-bit; 32-bit PV (compat) guests are not supported, which Xen built without them also answers
 * with -EOPNOTSUPP. */
long pv_domctl_address_size(struct xen_domctl *op, struct domain *d)
{
    if (op->cmd == XEN_DOMCTL_get_address_size) {
        op->u.address_size.size = d->address_size;
        return 0;
    }
    switch (op->u.address_size.size) {
    case 64:
        return 0;
    case 32:
        return -EOPNOTSUPP;
    default:
        return -EINVAL;
    }
}

/* A PV guest here always reads the host TSC (Xen's "native" mode: no emulation). The default and never-emulate
 * modes are just that; always-emulate is refused, since nothing here could keep it. */
long pv_domctl_tscinfo(struct xen_domctl *op, struct domain *d)
{
    struct xen_domctl_tsc_info *t = &op->u.tsc_info;
    if (d == current_domain())
        return -EINVAL;
    if (op->cmd == XEN_DOMCTL_gettscinfo) {
        t->tsc_mode = d->tsc_mode;
        t->gtsc_khz = (uint32_t)tsc_khz;
        t->incarnation = 0;
        t->elapsed_nsec = 0;
        return 0;
    }
    switch (t->tsc_mode) {
    case XEN_DOMCTL_TSC_MODE_DEFAULT:
    case XEN_DOMCTL_TSC_MODE_NEVER_EMULATE:
        d->tsc_mode = t->tsc_mode;
        return 0;
    case XEN_DOMCTL_TSC_MODE_ALWAYS_EMULATE:
        return -EOPNOTSUPP;
    default:
        return -EINVAL;
    }
}

/* The page type of each frame the caller names (save/restore and the toolstack's page-table walks): its level
 * if it is a validated page table, pinned or not, XTAB if it is not d's to name. */
long pv_domctl_getpageframeinfo3(struct xen_domctl *op, struct domain *d)
{
    uint64_t num = op->u.getpageframeinfo3.num, arr = op->u.getpageframeinfo3.array.p;
    if (num > 1024)
        return -E2BIG;
    for (uint64_t i = 0; i < num; i++) {
        uint64_t gfn;
        if (copy_from_guest(&gfn, arr + i * 8, 8))
            return -EFAULT;
        uint64_t type = XEN_DOMCTL_PFINFO_NOTAB;
        mfn_t mfn = gfn;
        if (!mfn_valid(mfn) || !pv_get_page(d, mfn) ) {
            type = XEN_DOMCTL_PFINFO_XTAB;
        } else {
            struct frame *f = mfn_to_frame(mfn);
            uint64_t ti = __atomic_load_n(&f->type_info, __ATOMIC_ACQUIRE);
            if (frame_count_flags(f) & FRAME_C_XEN)
                type = XEN_DOMCTL_PFINFO_XTAB; /* a hypervisor frame shared with d, not its memory */
            else if (frame_type_is_pagetable(ti & FRAME_T_MASK) && (ti & FRAME_T_COUNT_MASK))
                type = ((ti & FRAME_T_MASK) >> FRAME_T_SHIFT) << XEN_DOMCTL_PFINFO_LTAB_SHIFT;
            if (type != XEN_DOMCTL_PFINFO_XTAB) {
                if (ti & FRAME_T_PINNED)
                    type |= XEN_DOMCTL_PFINFO_LPINTAB;
                else if (!(ti & FRAME_T_VALIDATED))
                    type = XEN_DOMCTL_PFINFO_NOTAB;
            }
            pv_put_page(mfn);
        }
        if (copy_to_guest(arr + i * 8, &type, 8))
            return -EFAULT;
    }
    return 0;
}

/* The CPUID and MSR policy (pv/cpuid.c keeps it): read, or replaced before the domain first runs. */
long pv_domctl_get_cpu_policy(struct xen_domctl *op, struct domain *d)
{
    return cpu_policy_get(d, &op->u.cpu_policy);
}

long pv_domctl_set_cpu_policy(struct xen_domctl *op, struct domain *d)
{
    if (d == current_domain())
        return -EINVAL;
    domain_pause(d);
    long rc = d->creation_finished ? -EEXIST : cpu_policy_set(d, &op->u.cpu_policy);
    domain_unpause(d);
    return rc;
}
