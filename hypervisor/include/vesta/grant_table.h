/* Grant tables (common/grant_table.c): what other subsystems need to know about them. */
#ifndef VESTA_GRANT_TABLE_H
#define VESTA_GRANT_TABLE_H

struct domain;

/* The highest grant-table version a domain may be created with (XEN_DOMCTL_createdomain's grant_opts); physinfo
 * reports the versions up to it (XEN_SYSCTL_PHYSCAP_gnttab_v1/v2). */
#define GNTTAB_MAX_VERSION 2U

int gnttab_release_mappings(struct domain *d); /* teardown: the mappings d made of others' grants; -ERESTART */
void grant_table_destroy(struct domain *d);    /* the last reference to d went: its table and frames */

#endif
