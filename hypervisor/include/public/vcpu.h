/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: per-vCPU operations.
 *
 * HYPERVISOR_vcpu_op(unsigned cmd, unsigned vcpuid, void *arg)
 *   Returns 0 (or the documented value) or a negative errno; -ENOENT if
 *   vcpuid does not name an existing vCPU of the caller, -EINVAL for bad
 *   arguments, -ENOSYS for unknown cmd.
 */
#ifndef VESTA_PUBLIC_VCPU_H
#define VESTA_PUBLIC_VCPU_H

#include "xen.h"

/* Give a not-yet-initialised vCPU its first register state.  arg is a
 * struct vcpu_guest_context.  -EEXIST if already initialised. */
#define VCPUOP_initialise                      0
/* Make an initialised vCPU runnable (-EINVAL if never initialised). */
#define VCPUOP_up                              1
/* Take a vCPU offline; synchronous only when a vCPU downs itself.  Downing
 * the last online vCPU shuts the domain down with SHUTDOWN_poweroff. */
#define VCPUOP_down                            2
/* Returns 1 if the vCPU is up, 0 if down. */
#define VCPUOP_is_up                           3
/* Copy the vCPU's struct vcpu_runstate_info to arg. */
#define VCPUOP_get_runstate_info               4
/* Register a guest area the hypervisor refreshes with the runstate each
 * time the vCPU is scheduled (struct vcpu_register_runstate_memory_area,
 * guest virtual address).  One area per vCPU; address 0 unregisters. */
#define VCPUOP_register_runstate_memory_area   5
/* Periodic timer raising VIRQ_TIMER every period_ns (minimum 1 ms in
 * practice; smaller periods give -EINVAL). */
#define VCPUOP_set_periodic_timer              6
#define VCPUOP_stop_periodic_timer             7
/* One-shot timer raising VIRQ_TIMER at timeout_abs_ns (system time).
 * Only the calling vCPU's own timer may be set (-EINVAL otherwise). */
#define VCPUOP_set_singleshot_timer            8
#define VCPUOP_stop_singleshot_timer           9
/* Move this vCPU's vcpu_info out of shared_info to <mfn, offset>; the
 * structure may not cross a page.  Once only (-EINVAL afterwards). */
#define VCPUOP_register_vcpu_info             10
/* Inject an NMI into the vCPU.  arg unused. */
#define VCPUOP_send_nmi                       11
/* x86: physical APIC/ACPI id of the pCPU this vCPU is pinned to
 * (privileged, pinned vCPUs only; otherwise -EINVAL). */
#define VCPUOP_get_physid                     12
/* Register a secondary copy of vcpu_time_info (guest virtual address),
 * updated together with the one in vcpu_info. */
#define VCPUOP_register_vcpu_time_memory_area 13

/* Runstates. */
#define RUNSTATE_running   0   /* executing on a pCPU                    */
#define RUNSTATE_runnable  1   /* ready, waiting for a pCPU               */
#define RUNSTATE_blocked   2   /* waiting for an event                    */
#define RUNSTATE_offline   3   /* neither runnable nor blocked (paused, down) */

/* Set in state_entry_time while the hypervisor rewrites a registered
 * runstate area (only with VMASST_TYPE_runstate_update_flag enabled). */
#define XEN_RUNSTATE_UPDATE   (1ULL << 63)

struct vcpu_runstate_info {
    int32_t  state;             /* RUNSTATE_* */
    uint32_t _pad0;
    uint64_t state_entry_time;  /* system time (ns) the state was entered */
    uint64_t time[4];           /* ns spent in each RUNSTATE_*            */
};

struct vcpu_register_runstate_memory_area {
    union {
        xen_guest_handle_t h;   /* -> struct vcpu_runstate_info */
        uint64_t p;
    } addr;
};

struct vcpu_set_periodic_timer {
    uint64_t period_ns;
};

/* Ask for -ETIME instead of an immediate event when the deadline has
 * already passed (the hypervisor may ignore the request). */
#define _VCPU_SSHOTTMR_future  0
#define VCPU_SSHOTTMR_future   (1U << _VCPU_SSHOTTMR_future)

struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns;
    uint32_t flags;             /* VCPU_SSHOTTMR_* */
    uint32_t _pad0;
};

struct vcpu_register_vcpu_info {
    uint64_t mfn;               /* frame holding the new vcpu_info */
    uint32_t offset;            /* byte offset within that frame   */
    uint32_t rsvd;              /* must be zero                    */
};

struct vcpu_get_physid {
    uint64_t phys_id;           /* [31:0] APIC id, [63:32] ACPI id */
};
#define xen_vcpu_physid_to_x86_apicid(id)  ((uint32_t)(id))
#define xen_vcpu_physid_to_x86_acpiid(id)  ((uint32_t)((id) >> 32))

struct vcpu_register_time_memory_area {
    union {
        xen_guest_handle_t h;   /* -> struct vcpu_time_info */
        uint64_t p;
    } addr;
};

typedef struct vcpu_runstate_info                 vcpu_runstate_info_t;
typedef struct vcpu_register_runstate_memory_area vcpu_register_runstate_memory_area_t;
typedef struct vcpu_set_periodic_timer            vcpu_set_periodic_timer_t;
typedef struct vcpu_set_singleshot_timer          vcpu_set_singleshot_timer_t;
typedef struct vcpu_register_vcpu_info            vcpu_register_vcpu_info_t;
typedef struct vcpu_get_physid                    vcpu_get_physid_t;
typedef struct vcpu_register_time_memory_area     vcpu_register_time_memory_area_t;

_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "runstate_info");
_Static_assert(offsetof(struct vcpu_runstate_info, state_entry_time) == 8, "rs.set");
_Static_assert(offsetof(struct vcpu_runstate_info, time) == 16, "rs.time");
_Static_assert(sizeof(struct vcpu_register_runstate_memory_area) == 8, "rrma");
_Static_assert(sizeof(struct vcpu_set_periodic_timer) == 8, "periodic");
_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "singleshot");
_Static_assert(offsetof(struct vcpu_set_singleshot_timer, flags) == 8, "ss.flags");
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "reg_vcpu_info");
_Static_assert(offsetof(struct vcpu_register_vcpu_info, offset) == 8, "rvi.off");
_Static_assert(sizeof(struct vcpu_get_physid) == 8, "get_physid");
_Static_assert(sizeof(struct vcpu_register_time_memory_area) == 8, "rtma");

#endif /* VESTA_PUBLIC_VCPU_H */
