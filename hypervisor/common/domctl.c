/* sysctl and domctl: the toolstack interface. Not implemented yet: -ENOSYS. */
#include <vesta/errno.h>
#include <vesta/pv.h>


HC(do_sysctl) { return -ENOSYS; }
HC(do_domctl) { return -ENOSYS; }
