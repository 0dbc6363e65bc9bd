/* Privileged-instruction emulation for PV guests. (In progress.) */
#include <vesta/errno.h>
#include <vesta/pv.h>


bool pv_emulate_privileged(struct vcpu *v, struct cpu_regs *regs) { (void)v; (void)regs; return false; }
bool pv_emulate_forced(struct vcpu *v, struct cpu_regs *regs) { (void)v; (void)regs; return false; }
