/* Checked access to guest memory.
 *
 * Every hypervisor read or write of a guest-supplied address goes through these helpers. They refuse addresses
 * that are not canonical or that reach into the hypervisor's reserved range, and they recover from faults
 * through the exception table, so a bad pointer becomes -EFAULT rather than a hypervisor fault. Accesses go
 * through the current page tables, i.e. the running vCPU's address space; SMAP is lifted only for the copy. */
#ifndef VESTA_GUEST_ACCESS_H
#define VESTA_GUEST_ACCESS_H

#include <vesta/types.h>

/* True if [va, va + len) is a guest address range (canonical, no wrap, outside the hypervisor's slots). */
bool guest_range_ok(uint64_t va, size_t len);

/* Return 0, or -EFAULT (nothing or part copied). */
int copy_from_guest(void *dst, uint64_t guest_va, size_t len);
int copy_to_guest(uint64_t guest_va, const void *src, size_t len);
int clear_guest(uint64_t guest_va, size_t len);

/* Raw copies with fault recovery but no range check, for hypervisor-chosen addresses (e.g. emulating a guest
 * instruction fetch in the guest's own mapping after the range was checked). Return bytes NOT copied. */
size_t raw_copy_from(void *dst, const void *src, size_t len);
size_t raw_copy_to(void *dst, const void *src, size_t len);

#define copy_from_guest_obj(dst, va) copy_from_guest((dst), (va), sizeof(*(dst)))
#define copy_to_guest_obj(va, src) copy_to_guest((va), (src), sizeof(*(src)))

#endif
