/* Writable page tables: trap-and-emulate of guest stores to its own L1 tables. (In progress.) */
#include <vesta/errno.h>
#include <vesta/pv.h>


bool pv_handle_pt_write_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2) { (void)v; (void)regs; (void)cr2; return false; }
