/* grant_table_op. (In progress.) */
#include <vesta/errno.h>
#include <vesta/pv.h>


HC(do_grant_table_op) { return -ENOSYS; }
