/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: guest callback registration.
 *
 * HYPERVISOR_callback_op(unsigned cmd, void *arg)
 *   Returns 0, -EINVAL (non-canonical address; unregistering a type that
 *   cannot be unregistered), -EFAULT or -ENOSYS (unknown cmd or type).
 *
 * The older HYPERVISOR_set_callbacks(event, failsafe, syscall) sets the
 * first three types at once (failsafe and syscall without mask_events).
 */
#ifndef VESTA_PUBLIC_CALLBACK_H
#define VESTA_PUBLIC_CALLBACK_H

#include "xen.h"

#define CALLBACKTYPE_event                0  /* event-channel upcall        */
#define CALLBACKTYPE_failsafe             1  /* could not restore guest
                                                segment state on return     */
#define CALLBACKTYPE_syscall              2  /* SYSCALL from 64-bit user    */
#define CALLBACKTYPE_sysenter_deprecated  3  /* x86-32 hypervisors only     */
#define CALLBACKTYPE_nmi                  4  /* NMI delivery                */
#define CALLBACKTYPE_sysenter             5  /* SYSENTER from 32-bit user   */
/*                                        6    unallocated                  */
#define CALLBACKTYPE_syscall32            7  /* SYSCALL from 32-bit user    */

/* Mask event delivery (set evtchn_upcall_mask) when entering the callback.
 * Ignored for event and NMI callbacks, which always mask. */
#define _CALLBACKF_mask_events   0
#define CALLBACKF_mask_events    (1U << _CALLBACKF_mask_events)

/* Register: arg = struct callback_register. */
#define CALLBACKOP_register      0
struct callback_register {
    uint16_t type;             /* CALLBACKTYPE_* */
    uint16_t flags;            /* CALLBACKF_*    */
    uint32_t _pad0;
    xen_callback_t address;    /* entry point (canonical VA) */
};
typedef struct callback_register callback_register_t;

/* Unregister: only CALLBACKTYPE_nmi can be removed; others -EINVAL. */
#define CALLBACKOP_unregister    1
struct callback_unregister {
    uint16_t type;
    uint16_t _unused;
};
typedef struct callback_unregister callback_unregister_t;

_Static_assert(sizeof(struct callback_register) == 16, "callback_register");
_Static_assert(offsetof(struct callback_register, address) == 8, "cr.address");
_Static_assert(sizeof(struct callback_unregister) == 4, "callback_unregister");

#endif /* VESTA_PUBLIC_CALLBACK_H */
