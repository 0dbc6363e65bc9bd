/*
 * Vesta guest test runtime: the API every test kernel uses.
 *
 * A test kernel defines test_main(); the runtime sets up traps, maps
 * shared_info, calls test_main(), prints the summary line and powers off.
 */
#ifndef VESTA_GUEST_H
#define VESTA_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen.h>
#include <callback.h>
#include <event_channel.h>
#include <features.h>
#include <grant_table.h>
#include <memory.h>
#include <physdev.h>
#include <sched.h>
#include <vcpu.h>
#include <version.h>
#include <vesta/errno.h>

#define PAGE_SIZE   4096UL
#define PAGE_SHIFT  12

/* x86 PTE bits. */
#define PTE_P    0x001UL
#define PTE_RW   0x002UL
#define PTE_US   0x004UL
#define PTE_A    0x020UL
#define PTE_D    0x040UL
#define PTE_PSE  0x080UL
#define PTE_NX   (1UL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000UL

#define EVENT_VECTOR     0x100
#define FAILSAFE_VECTOR  0x101

/* Frame saved by the stubs in head.S (lowest address first). */
struct guest_regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* ------------------------------------------------------------------ */
/* Hypercalls (through the hypercall page: entry n at n * 32)          */
/* ------------------------------------------------------------------ */

extern char hypercall_page[];

/* All argument registers are outputs: debug Xen scribbles over them. */
#define HC_CALL(nr)  "call hypercall_page + " #nr " * 32"

#define _hypercall5(nr, a1, a2, a3, a4, a5) ({                          \
    register long _a1 asm("rdi") = (long)(a1);                          \
    register long _a2 asm("rsi") = (long)(a2);                          \
    register long _a3 asm("rdx") = (long)(a3);                          \
    register long _a4 asm("r10") = (long)(a4);                          \
    register long _a5 asm("r8") = (long)(a5);                           \
    long _res;                                                          \
    asm volatile ("call hypercall_page + %c[off]"                       \
                  : "=a" (_res), "+r" (_a1), "+r" (_a2), "+r" (_a3),    \
                    "+r" (_a4), "+r" (_a5)                              \
                  : [off] "i" ((nr) * 32)                               \
                  : "rcx", "r11", "r9", "memory");                      \
    _res; })

#define hypercall0(nr)                  _hypercall5(nr, 0, 0, 0, 0, 0)
#define hypercall1(nr, a)               _hypercall5(nr, a, 0, 0, 0, 0)
#define hypercall2(nr, a, b)            _hypercall5(nr, a, b, 0, 0, 0)
#define hypercall3(nr, a, b, c)         _hypercall5(nr, a, b, c, 0, 0)
#define hypercall4(nr, a, b, c, d)      _hypercall5(nr, a, b, c, d, 0)

static inline long hyp_console_write(const char *s, unsigned int len)
{ return hypercall3(__HYPERVISOR_console_io, CONSOLEIO_write, len, s); }
static inline long hyp_xen_version(int cmd, void *arg)
{ return hypercall2(__HYPERVISOR_xen_version, cmd, arg); }
static inline long hyp_sched_op(int cmd, void *arg)
{ return hypercall2(__HYPERVISOR_sched_op, cmd, arg); }
static inline long hyp_mmu_update(void *req, unsigned int count,
                                  unsigned int *done, unsigned int dom)
{ return hypercall4(__HYPERVISOR_mmu_update, req, count, done, dom); }
static inline long hyp_mmuext_op(void *op, unsigned int count,
                                 unsigned int *done, unsigned int dom)
{ return hypercall4(__HYPERVISOR_mmuext_op, op, count, done, dom); }
static inline long hyp_update_va_mapping(uint64_t va, uint64_t pte,
                                         uint64_t flags)
{ return hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags); }
static inline long hyp_set_trap_table(const struct trap_info *t)
{ return hypercall1(__HYPERVISOR_set_trap_table, t); }
static inline long hyp_callback_op(int cmd, void *arg)
{ return hypercall2(__HYPERVISOR_callback_op, cmd, arg); }
static inline long hyp_event_channel_op(int cmd, void *arg)
{ return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg); }
static inline long hyp_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{ return hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg); }
static inline long hyp_set_timer_op(uint64_t timeout)
{ return hypercall1(__HYPERVISOR_set_timer_op, timeout); }
static inline long hyp_memory_op(int cmd, void *arg)
{ return hypercall2(__HYPERVISOR_memory_op, cmd, arg); }
static inline long hyp_multicall(void *calls, unsigned int nr)
{ return hypercall2(__HYPERVISOR_multicall, calls, nr); }
static inline long hyp_grant_table_op(int cmd, void *arg, unsigned int n)
{ return hypercall3(__HYPERVISOR_grant_table_op, cmd, arg, n); }
static inline long hyp_vm_assist(unsigned int cmd, unsigned int type)
{ return hypercall2(__HYPERVISOR_vm_assist, cmd, type); }
static inline long hyp_physdev_op(int cmd, void *arg)
{ return hypercall2(__HYPERVISOR_physdev_op, cmd, arg); }

/* Call an arbitrary hypercall number (computed at run time). */
long hypercall_dyn(unsigned int nr, long a1, long a2, long a3, long a4,
                   long a5);

/* ------------------------------------------------------------------ */
/* Boot state                                                          */
/* ------------------------------------------------------------------ */

extern start_info_t *start_info;
extern struct shared_info *shared;     /* mapped by the runtime */
extern char image_start[], image_end[];

#define GUEST_VIRT_BASE 0xffffffff80000000UL
#define M2P ((const uint64_t *)MACH2PHYS_VIRT_START)

static inline const uint64_t *p2m(void)
{ return (const uint64_t *)start_info->mfn_list; }

/* Frame helpers for addresses inside the bootstrap mapping. */
static inline uint64_t va_to_pfn(const void *va)
{ return ((uint64_t)va - GUEST_VIRT_BASE) >> PAGE_SHIFT; }
static inline uint64_t va_to_mfn(const void *va)
{ return p2m()[va_to_pfn(va)]; }
static inline void *mfn_to_va(uint64_t mfn)
{ return (void *)(GUEST_VIRT_BASE + (M2P[mfn] << PAGE_SHIFT)); }

/* Machine address and VA of the L1 entry that maps va (walks the tables
 * of the current L4; all tables must lie in the bootstrap mapping).
 * Returns false if some level is not present or is a superpage. */
bool pte_lookup(uint64_t va, uint64_t *maddr, uint64_t **entry);

/* ------------------------------------------------------------------ */
/* Console and formatting                                              */
/* ------------------------------------------------------------------ */

void putstr(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t n);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *h, const char *n);

/* ------------------------------------------------------------------ */
/* Test framework                                                      */
/* ------------------------------------------------------------------ */

void test_main(void);

/* Record one named check; detail (printf format) is printed on failure. */
bool check(bool ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond, name) \
    check((cond), (name), "condition '%s' is false", #cond)
#define CHECK_EQ(got, exp, name) ({                                     \
    long long _g = (long long)(got), _e = (long long)(exp);             \
    check(_g == _e, (name), "got %lld (%#llx), expected %lld (%#llx)",  \
          _g, (unsigned long long)_g, _e, (unsigned long long)_e); })

/* Print the summary and RESULT line, then power off.  Never returns. */
void __attribute__((noreturn)) test_finish(void);
/* Print the summary and RESULT line only (a test that ends some other way). */
void test_summary(void);
/* A domU: wait until dom0 has read the console ring (or timeout_ns passed). */
void console_drain(uint64_t timeout_ns);
void __attribute__((noreturn)) test_abort(const char *why);

/* ------------------------------------------------------------------ */
/* Traps and events                                                    */
/* ------------------------------------------------------------------ */

/* Last trap taken (other than events).  trap_count counts all of them. */
struct trap_record {
    uint64_t vector, error_code, rip, cr2, cs, rflags, rsp;
    uint8_t upcall_mask;        /* vcpu0 evtchn_upcall_mask in the handler */
};
extern volatile struct trap_record last_trap;
extern volatile unsigned int trap_count;

/* An instruction that may fault: on a trap at label 'fault' the handler
 * resumes at label 'fixup' (inline asm: EXTABLE("1b", "2f")). */
#define EXTABLE(fault, fixup)                                           \
    ".pushsection .ex_table, \"a\"\n\t.balign 8\n\t"                    \
    ".quad " fault ", " fixup "\n\t.popsection\n\t"

/* Vectors that simply resume at the saved rip (trap-type events). */
void trap_set_resumable(unsigned int vector, bool on);

/* Per-test event hook, called from the upcall with each pending port. */
extern void (*event_hook)(evtchn_port_t port);
extern volatile unsigned int upcall_count;

static inline struct vcpu_info *vcpu0(void) { return &shared->vcpu_info[0]; }

static inline void barrier(void) { asm volatile ("" ::: "memory"); }

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile ("rdtsc" : "=a" (lo), "=d" (hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Current Xen system time in ns, from vcpu 0's vcpu_time_info. */
uint64_t system_time_ns(void);

/* Force delivery of pending events (a harmless hypercall). */
static inline void force_evtchn_callback(void)
{ (void)hyp_xen_version(XENVER_version, NULL); }

/* Name printed in the summary line; defined once per test kernel. */
extern const char guest_test_name[];
#ifdef GUEST_TEST_NAME
const char guest_test_name[] = GUEST_TEST_NAME;
#endif

#endif
