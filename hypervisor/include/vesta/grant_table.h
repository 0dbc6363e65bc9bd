/* Grant tables (common/grant_table.c): what other subsystems need to know about them. */
#ifndef VESTA_GRANT_TABLE_H
#define VESTA_GRANT_TABLE_H

#include <vesta/types.h>

struct domain;

/* The highest grant-table version a domain may be created with (XEN_DOMCTL_createdomain's grant_opts); physinfo
 * reports the versions up to it (XEN_SYSCTL_PHYSCAP_gnttab_v1/v2). */
#define GNTTAB_MAX_VERSION 2U

unsigned int gnttab_resource_max_frames(struct domain *d, unsigned int id); /* XENMEM_acquire_resource */
int gnttab_acquire_resource(struct domain *d, unsigned int id, unsigned int frame, unsigned int nr, uint64_t *mfns);
int gnttab_release_mappings(struct domain *d); /* teardown: the mappings d made of others' grants; -ERESTART */
void grant_table_destroy(struct domain *d);    /* the last reference to d went: its table and frames */

#endif
