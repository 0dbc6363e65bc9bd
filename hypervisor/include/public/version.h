/* SPDX-License-Identifier: MIT */
/*
 * Vesta public guest ABI: version and build information.
 *
 * HYPERVISOR_xen_version(unsigned cmd, void *arg)
 *   XENVER_version returns (major << 16) | minor, XENVER_pagesize returns
 *   the page size, XENVER_build_id returns a length; every other command
 *   fills *arg and returns 0 (or -EFAULT / -ENOSYS).
 *
 * Vesta reports itself as Xen 4.17 so that guests pick the 4.17 ABI.
 */
#ifndef VESTA_PUBLIC_VERSION_H
#define VESTA_PUBLIC_VERSION_H

#include "xen.h"

/* Release we impersonate. */
#define VESTA_XEN_MAJOR   4
#define VESTA_XEN_MINOR   17

/*
 * Interface revisions of Xen 4.17 (needed by tools talking to us):
 *   guest interface      0x00040e00  (xen.h: XEN_LATEST_INTERFACE_VERSION)
 *   domctl               0x00000015  (Xen's public/domctl.h)
 *   sysctl               0x00000015  (Xen's public/sysctl.h)
 *   platform_op          0x03000001  (public/platform.h, XENPF_INTERFACE_VERSION)
 */
#define XEN_DOMCTL_INTERFACE_VERSION   0x00000015
#define XEN_SYSCTL_INTERFACE_VERSION   0x00000015

/* arg unused; returns (major << 16) | minor. */
#define XENVER_version           0

/* arg -> char[16], e.g. ".0"; NUL terminated if it fits. */
#define XENVER_extraversion      1
typedef char xen_extraversion_t[16];
#define XEN_EXTRAVERSION_LEN     (sizeof(xen_extraversion_t))

/* arg -> struct xen_compile_info. */
#define XENVER_compile_info      2
struct xen_compile_info {
    char compiler[64];
    char compile_by[16];
    char compile_domain[32];
    char compile_date[32];
};
typedef struct xen_compile_info xen_compile_info_t;

/* arg -> char[1024]: space separated ABI names, e.g.
 * "xen-3.0-x86_64 xen-3.0-x86_32p". */
#define XENVER_capabilities      3
typedef char xen_capabilities_info_t[1024];
#define XEN_CAPABILITIES_INFO_LEN (sizeof(xen_capabilities_info_t))

/* arg -> char[64]: source changeset description. */
#define XENVER_changeset         4
typedef char xen_changeset_info_t[64];
#define XEN_CHANGESET_INFO_LEN   (sizeof(xen_changeset_info_t))

/* arg -> struct xen_platform_parameters: lowest hypervisor virtual
 * address the guest must avoid (HYPERVISOR_VIRT_START for 64-bit PV). */
#define XENVER_platform_parameters 5
struct xen_platform_parameters {
    xen_ulong_t virt_start;
};
typedef struct xen_platform_parameters xen_platform_parameters_t;

/* arg -> struct xen_feature_info: submap_idx in, 32 XENFEAT_* bits out.
 * Indexes >= XENFEAT_NR_SUBMAPS give -EINVAL. */
#define XENVER_get_features      6
struct xen_feature_info {
    uint32_t submap_idx;    /* IN  */
    uint32_t submap;        /* OUT */
};
typedef struct xen_feature_info xen_feature_info_t;

#include "features.h"

/* arg unused; returns the page size (4096). */
#define XENVER_pagesize          7

/* arg -> xen_domain_handle_t: the domain's UUID as set by the toolstack. */
#define XENVER_guest_handle      8

/* arg -> char[1024]: hypervisor command line (may be restricted). */
#define XENVER_commandline       9
typedef char xen_commandline_t[1024];

/* arg -> struct xen_build_id; len = buffer size in, bytes written out.
 * Returns the number of bytes written; a null arg returns the needed size. */
#define XENVER_build_id         10
struct xen_build_id {
    uint32_t len;
    unsigned char buf[XEN_FLEX_ARRAY_DIM];
};
typedef struct xen_build_id xen_build_id_t;

_Static_assert(sizeof(struct xen_compile_info) == 144, "compile_info");
_Static_assert(offsetof(struct xen_compile_info, compile_date) == 112, "ci.date");
_Static_assert(sizeof(struct xen_platform_parameters) == 8, "platform_params");
_Static_assert(sizeof(struct xen_feature_info) == 8, "feature_info");
_Static_assert(sizeof(struct xen_build_id) == 4, "build_id");
_Static_assert(sizeof(xen_capabilities_info_t) == 1024, "capabilities");

#endif /* VESTA_PUBLIC_VERSION_H */
