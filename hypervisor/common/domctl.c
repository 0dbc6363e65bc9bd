/* domctl: the toolstack's per-domain interface. Not implemented yet: -ENOSYS. */
#include <vesta/errno.h>
#include <vesta/pv.h>


HC(do_domctl) { return -ENOSYS; }
