/* Exceptions, interrupts and the fatal-error path. */
#ifndef VESTA_TRAPS_H
#define VESTA_TRAPS_H

#include <vesta/types.h>

/* What the entry stubs leave on the stack (entry.S pushes in reverse order). */
struct cpu_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

#define TRAP_DE 0
#define TRAP_DB 1
#define TRAP_NMI 2
#define TRAP_BP 3
#define TRAP_OF 4
#define TRAP_BR 5
#define TRAP_UD 6
#define TRAP_NM 7
#define TRAP_DF 8
#define TRAP_TS 10
#define TRAP_NP 11
#define TRAP_SS 12
#define TRAP_GP 13
#define TRAP_PF 14
#define TRAP_MF 16
#define TRAP_AC 17
#define TRAP_MC 18
#define TRAP_XM 19

/* Vectors Vesta assigns. External device interrupts get vectors from FIRST_DYNAMIC_VECTOR up. */
#define FIRST_DYNAMIC_VECTOR 0x30
#define LAST_DYNAMIC_VECTOR 0xdf
#define VECTOR_CALL_FUNCTION 0xf1
#define VECTOR_EVENT_CHECK 0xf2
#define VECTOR_APIC_TIMER 0xf8
#define VECTOR_APIC_ERROR 0xfe
#define VECTOR_SPURIOUS 0xff

typedef void (*irq_handler_t)(struct cpu_regs *regs, void *data);
void set_irq_handler(unsigned int vector, irq_handler_t fn, void *data, const char *name);
int alloc_irq_vector(void);
void irq_vectors_dump(void);

void traps_init(void);       /* build the IDT (once, shared by all CPUs) */
void traps_load(void);       /* load it on this CPU */
void do_trap(struct cpu_regs *regs);
__noreturn void fatal_trap(struct cpu_regs *regs, const char *why);
void show_stack_trace(unsigned long rbp, unsigned long rip);
__noreturn void machine_restart(void);
__noreturn void machine_halt(void);

/* Exception fixups: an instruction listed in __ex_table that faults resumes at its fixup address instead of
 * taking the hypervisor down. Used by the checked guest-memory copies and the *_safe MSR accessors. */
struct ex_entry {
    int32_t insn, fixup; /* offsets relative to the entry's own fields */
};
bool search_exception_table(struct cpu_regs *regs);

int rdmsr_safe(uint32_t msr, uint64_t *val);
int read_u64_safe(const void *p, uint64_t *val); /* -1 instead of a fault */
void exception_fixup_selfcheck(void);
int wrmsr_safe(uint32_t msr, uint64_t val);

/* Symbols compiled into the image (a second link pass fills the table). */
const char *symbol_lookup(unsigned long addr, unsigned long *offset, unsigned long *size);

#endif
