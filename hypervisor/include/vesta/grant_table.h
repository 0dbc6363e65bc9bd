/* Grant tables (common/grant_table.c): what the rest of the hypervisor asks of them. */
#ifndef VESTA_GRANT_TABLE_H
#define VESTA_GRANT_TABLE_H

struct domain;

int gnttab_release_mappings(struct domain *d); /* teardown: the mappings d made of others' grants; -ERESTART */
void grant_table_destroy(struct domain *d);    /* the last reference to d went: its table and frames */

#endif
