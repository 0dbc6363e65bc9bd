/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: event channels.
 *
 * HYPERVISOR_event_channel_op(unsigned cmd, void *arg)
 *   cmd is EVTCHNOP_*, arg points at the matching struct evtchn_* (IN fields
 *   read, OUT fields written back).  Returns 0 or a negative errno:
 *     -EINVAL  bad port / vcpu / virq, or port in the wrong state
 *     -ENOSPC  no free port
 *     -EPERM   caller not allowed to act on another domain or PIRQ
 *     -ESRCH   named domain does not exist
 *     -EEXIST  VIRQ/PIRQ already bound
 *     -ENOENT  vCPU not initialised (bind_vcpu)
 *     -ENOSYS  unknown cmd
 *
 * A port is "pending" when its bit in shared_info.evtchn_pending is set
 * (2-level ABI).  Setting a pending bit on an unmasked port also sets the
 * matching selector bit in the bound vCPU's vcpu_info and, if that was a
 * 0->1 transition, evtchn_upcall_pending, after which an upcall is
 * delivered unless evtchn_upcall_mask is set.
 */
#ifndef VESTA_PUBLIC_EVENT_CHANNEL_H
#define VESTA_PUBLIC_EVENT_CHANNEL_H

#include "xen.h"

#define EVTCHNOP_bind_interdomain   0
#define EVTCHNOP_bind_virq          1
#define EVTCHNOP_bind_pirq          2
#define EVTCHNOP_close              3
#define EVTCHNOP_send               4
#define EVTCHNOP_status             5
#define EVTCHNOP_alloc_unbound      6
#define EVTCHNOP_bind_ipi           7
#define EVTCHNOP_bind_vcpu          8
#define EVTCHNOP_unmask             9
#define EVTCHNOP_reset             10
#define EVTCHNOP_init_control      11
#define EVTCHNOP_expand_array      12
#define EVTCHNOP_set_priority      13
/* 14 is used internally by Xen (reset continuation); guests never pass it. */

typedef uint32_t evtchn_port_t;

/*
 * alloc_unbound: allocate a fresh port in <dom> (must be DOMID_SELF unless
 * privileged) that accepts one interdomain binding from <remote_dom>
 * (DOMID_SELF allowed for loopback).  The port enters EVTCHNSTAT_unbound.
 */
struct evtchn_alloc_unbound {
    domid_t dom;               /* IN  */
    domid_t remote_dom;        /* IN  */
    evtchn_port_t port;        /* OUT */
};

/*
 * bind_interdomain: connect a fresh local port to <remote_dom, remote_port>,
 * which must be unbound and accept the caller.  Both ends become
 * EVTCHNSTAT_interdomain; the local port is marked pending straight away.
 */
struct evtchn_bind_interdomain {
    domid_t remote_dom;        /* IN  */
    uint16_t _pad0;
    evtchn_port_t remote_port; /* IN  */
    evtchn_port_t local_port;  /* OUT */
};

/*
 * bind_virq: bind VIRQ <virq> on <vcpu> to a fresh port.  Global VIRQs must
 * be bound on vCPU0.  Each per-vCPU VIRQ can be bound once per vCPU and the
 * vCPU cannot later be changed.  -EEXIST if already bound.
 */
struct evtchn_bind_virq {
    uint32_t virq;             /* IN: VIRQ_* */
    uint32_t vcpu;             /* IN  */
    evtchn_port_t port;        /* OUT */
};

/* bind_pirq: bind physical IRQ <pirq> (privileged / passthrough domains). */
#define BIND_PIRQ__WILL_SHARE   1
struct evtchn_bind_pirq {
    uint32_t pirq;             /* IN  */
    uint32_t flags;            /* IN: BIND_PIRQ__* */
    evtchn_port_t port;        /* OUT */
};

/* bind_ipi: fresh port whose sends notify <vcpu> of the same domain. */
struct evtchn_bind_ipi {
    uint32_t vcpu;             /* IN  */
    evtchn_port_t port;        /* OUT */
};

/* close: free <port>.  An interdomain peer reverts to EVTCHNSTAT_unbound. */
struct evtchn_close {
    evtchn_port_t port;        /* IN */
};

/* send: raise the event at the other end of <port> (interdomain: the peer
 * port; IPI: the port itself; unbound: silently ignored). */
struct evtchn_send {
    evtchn_port_t port;        /* IN */
};

/* status: describe <dom, port> (other domains require privilege). */
#define EVTCHNSTAT_closed       0   /* not in use                        */
#define EVTCHNSTAT_unbound      1   /* awaiting an interdomain binding   */
#define EVTCHNSTAT_interdomain  2   /* connected to a remote port        */
#define EVTCHNSTAT_pirq         3   /* bound to a physical IRQ           */
#define EVTCHNSTAT_virq         4   /* bound to a virtual IRQ            */
#define EVTCHNSTAT_ipi          5   /* bound as an IPI                   */

struct evtchn_status {
    domid_t dom;               /* IN  */
    uint16_t _pad0;
    evtchn_port_t port;        /* IN  */
    uint32_t status;           /* OUT: EVTCHNSTAT_* */
    uint32_t vcpu;             /* OUT: vCPU notified by this port */
    union {
        struct {
            domid_t dom;       /* domain allowed to bind */
        } unbound;
        struct {
            domid_t dom;
            uint16_t _pad0;
            evtchn_port_t port;
        } interdomain;
        uint32_t pirq;
        uint32_t virq;
    } u;                       /* OUT, selected by status */
};

/*
 * bind_vcpu: make <port> notify <vcpu>.  Only unbound, interdomain, PIRQ and global
 * VIRQ ports may be moved; IPI and per-vCPU VIRQ ports give -EINVAL.
 * Newly allocated ports notify vCPU0.
 */
struct evtchn_bind_vcpu {
    evtchn_port_t port;        /* IN */
    uint32_t vcpu;             /* IN */
};

/* unmask: clear the mask bit of <port>; if it is pending, re-run the
 * notification (selector + upcall) as if it had just been raised. */
struct evtchn_unmask {
    evtchn_port_t port;        /* IN */
};

/* reset: close every port of <dom> (DOMID_SELF unless privileged); a
 * self-reset also drops back from the FIFO to the 2-level ABI. */
struct evtchn_reset {
    domid_t dom;               /* IN */
};

/* init_control: switch the vCPU to the FIFO ABI; its control block is at
 * byte <offset> of guest frame <control_gfn>. */
struct evtchn_init_control {
    uint64_t control_gfn;      /* IN  */
    uint32_t offset;           /* IN  */
    uint32_t vcpu;             /* IN  */
    uint8_t  link_bits;        /* OUT: EVTCHN_FIFO_LINK_BITS */
    uint8_t  _pad[7];
};

/* expand_array: add one page (guest frame <array_gfn>) of event words. */
struct evtchn_expand_array {
    uint64_t array_gfn;        /* IN */
};

/* set_priority: FIFO priority of <port> (0 highest .. 15 lowest). */
struct evtchn_set_priority {
    evtchn_port_t port;        /* IN */
    uint32_t priority;         /* IN */
};

/* Argument of the legacy hypercall 16 (event_channel_op_compat). */
struct evtchn_op {
    uint32_t cmd;
    union {
        struct evtchn_alloc_unbound     alloc_unbound;
        struct evtchn_bind_interdomain  bind_interdomain;
        struct evtchn_bind_virq         bind_virq;
        struct evtchn_bind_pirq         bind_pirq;
        struct evtchn_bind_ipi          bind_ipi;
        struct evtchn_close             close;
        struct evtchn_send              send;
        struct evtchn_status            status;
        struct evtchn_bind_vcpu         bind_vcpu;
        struct evtchn_unmask            unmask;
    } u;
};

typedef struct evtchn_alloc_unbound    evtchn_alloc_unbound_t;
typedef struct evtchn_bind_interdomain evtchn_bind_interdomain_t;
typedef struct evtchn_bind_virq        evtchn_bind_virq_t;
typedef struct evtchn_bind_pirq        evtchn_bind_pirq_t;
typedef struct evtchn_bind_ipi         evtchn_bind_ipi_t;
typedef struct evtchn_close            evtchn_close_t;
typedef struct evtchn_send             evtchn_send_t;
typedef struct evtchn_status           evtchn_status_t;
typedef struct evtchn_bind_vcpu        evtchn_bind_vcpu_t;
typedef struct evtchn_unmask           evtchn_unmask_t;
typedef struct evtchn_reset            evtchn_reset_t;
typedef struct evtchn_init_control     evtchn_init_control_t;
typedef struct evtchn_expand_array     evtchn_expand_array_t;
typedef struct evtchn_set_priority     evtchn_set_priority_t;
typedef struct evtchn_op               evtchn_op_t;

_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "alloc_unbound");
_Static_assert(offsetof(struct evtchn_alloc_unbound, port) == 4, "au.port");
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "bind_interdomain");
_Static_assert(offsetof(struct evtchn_bind_interdomain, remote_port) == 4, "bi.rp");
_Static_assert(offsetof(struct evtchn_bind_interdomain, local_port) == 8, "bi.lp");
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "bind_virq");
_Static_assert(sizeof(struct evtchn_bind_pirq) == 12, "bind_pirq");
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "bind_ipi");
_Static_assert(sizeof(struct evtchn_close) == 4, "close");
_Static_assert(sizeof(struct evtchn_send) == 4, "send");
_Static_assert(sizeof(struct evtchn_status) == 24, "status");
_Static_assert(offsetof(struct evtchn_status, port) == 4, "status.port");
_Static_assert(offsetof(struct evtchn_status, status) == 8, "status.status");
_Static_assert(offsetof(struct evtchn_status, u) == 16, "status.u");
_Static_assert(offsetof(struct evtchn_status, u.interdomain.port) == 20, "st.ip");
_Static_assert(sizeof(struct evtchn_bind_vcpu) == 8, "bind_vcpu");
_Static_assert(sizeof(struct evtchn_unmask) == 4, "unmask");
_Static_assert(sizeof(struct evtchn_reset) == 2, "reset");
_Static_assert(sizeof(struct evtchn_init_control) == 24, "init_control");
_Static_assert(offsetof(struct evtchn_init_control, link_bits) == 16, "ic.lb");
_Static_assert(sizeof(struct evtchn_expand_array) == 8, "expand_array");
_Static_assert(sizeof(struct evtchn_set_priority) == 8, "set_priority");
_Static_assert(sizeof(struct evtchn_op) == 28, "evtchn_op");
_Static_assert(offsetof(struct evtchn_op, u) == 4, "evtchn_op.u");

/* ---- 2-level ABI ---- */

/* 64 selector bits x 64 bits per word = 4096 ports for a 64-bit guest. */
#define EVTCHN_2L_NR_CHANNELS  (sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64)

/* ---- FIFO ABI ---- */

#define EVTCHN_FIFO_PRIORITY_MAX       0
#define EVTCHN_FIFO_PRIORITY_DEFAULT   7
#define EVTCHN_FIFO_PRIORITY_MIN      15
#define EVTCHN_FIFO_MAX_QUEUES        (EVTCHN_FIFO_PRIORITY_MIN + 1)

/* One 32-bit word per port in the event array pages. */
typedef uint32_t event_word_t;

#define EVTCHN_FIFO_PENDING    31   /* bit numbers within event_word_t */
#define EVTCHN_FIFO_MASKED     30
#define EVTCHN_FIFO_LINKED     29
#define EVTCHN_FIFO_BUSY       28
#define EVTCHN_FIFO_LINK_BITS  17
#define EVTCHN_FIFO_LINK_MASK  ((1u << EVTCHN_FIFO_LINK_BITS) - 1)
#define EVTCHN_FIFO_NR_CHANNELS (1u << EVTCHN_FIFO_LINK_BITS)

/* Per-vCPU control block: ready bit q => queue q non-empty; head[q] is the
 * first port of queue q. */
struct evtchn_fifo_control_block {
    uint32_t ready;
    uint32_t _rsvd;
    uint32_t head[EVTCHN_FIFO_MAX_QUEUES];
};
typedef struct evtchn_fifo_control_block evtchn_fifo_control_block_t;

_Static_assert(sizeof(struct evtchn_fifo_control_block) == 72, "fifo cb");

#endif /* VESTA_PUBLIC_EVENT_CHANNEL_H */
