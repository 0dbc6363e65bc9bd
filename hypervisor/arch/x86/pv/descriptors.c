/* Guest descriptor tables: set_gdt, update_descriptor and the per-CPU GDT/LDT windows. (In progress.) */
#include <vesta/errno.h>
#include <vesta/pv.h>


HC(do_set_gdt) { return -ENOSYS; }
HC(do_update_descriptor) { return -ENOSYS; }
void pv_load_gdt_ldt(struct vcpu *v) { (void)v; }
bool pv_map_ldt_page(struct vcpu *v, uint64_t addr) { (void)v; (void)addr; return false; }
