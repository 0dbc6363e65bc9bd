/* The domctl interface (common/domctl.c): the per-op handlers other subsystems provide, and what sysctl shares. */
#ifndef VESTA_DOMCTL_H
#define VESTA_DOMCTL_H

#include <public/domctl.h>

struct domain;

/* XEN_DOMCTL_getdomaininfo's record of d (also sysctl getdomaininfolist's). */
void domain_get_info(struct domain *d, struct xen_domctl_getdomaininfo *info);

/* Handlers: op is the caller's request, copied in (and back, for ops that answer); d the target, referenced. */
long sched_domctl(struct xen_domctl *op, struct domain *d);                 /* common/sched.c */
long pv_domctl_hypercall_init(struct xen_domctl *op, struct domain *d);     /* arch/x86/pv/domctl.c ... */
long pv_domctl_address_size(struct xen_domctl *op, struct domain *d);
long pv_domctl_tscinfo(struct xen_domctl *op, struct domain *d);
long pv_domctl_getpageframeinfo3(struct xen_domctl *op, struct domain *d);
long pv_domctl_get_cpu_policy(struct xen_domctl *op, struct domain *d);
long pv_domctl_set_cpu_policy(struct xen_domctl *op, struct domain *d);

#endif
