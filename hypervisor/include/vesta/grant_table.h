/* Grant tables (common/grant_table.c): what other subsystems need to know about them. */
#ifndef VESTA_GRANT_TABLE_H
#define VESTA_GRANT_TABLE_H

/* The highest grant-table version a domain may switch to (GNTTABOP_set_version); physinfo reports the versions
 * up to it (XEN_SYSCTL_PHYSCAP_gnttab_v1/v2). */
#define GNTTAB_MAX_VERSION 2U

#endif
