/* Thin wrappers around x86 instructions and the architectural registers and bits Vesta uses. */
#ifndef VESTA_X86_H
#define VESTA_X86_H

#include <vesta/types.h>

#define X86_CR0_PE (1UL << 0)
#define X86_CR0_MP (1UL << 1)
#define X86_CR0_EM (1UL << 2)
#define X86_CR0_TS (1UL << 3)
#define X86_CR0_NE (1UL << 5)
#define X86_CR0_WP (1UL << 16)
#define X86_CR0_AM (1UL << 18)
#define X86_CR0_PG (1UL << 31)

#define X86_CR4_PSE (1UL << 4)
#define X86_CR4_PAE (1UL << 5)
#define X86_CR4_PGE (1UL << 7)
#define X86_CR4_OSFXSR (1UL << 9)
#define X86_CR4_OSXMMEXCPT (1UL << 10)
#define X86_CR4_UMIP (1UL << 11)
#define X86_CR4_FSGSBASE (1UL << 16)
#define X86_CR4_OSXSAVE (1UL << 18)
#define X86_CR4_SMEP (1UL << 20)
#define X86_CR4_SMAP (1UL << 21)

#define MSR_APIC_BASE 0x0000001b
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_DEADLINE 0x000006e0
#define MSR_PAT 0x00000277

#define EFER_SCE (1UL << 0)
#define EFER_LME (1UL << 8)
#define EFER_NXE (1UL << 11)

#define X86_EFLAGS_IF (1UL << 9)
#define X86_EFLAGS_AC (1UL << 18)

static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    cpuid_count(leaf, 0, a, b, c, d);
}
static inline uint32_t cpuid_ecx(uint32_t leaf)
{
    uint32_t a, b, c, d;
    cpuid(leaf, &a, &b, &c, &d);
    return c;
}
static inline uint32_t cpuid_edx(uint32_t leaf)
{
    uint32_t a, b, c, d;
    cpuid(leaf, &a, &b, &c, &d);
    return d;
}
static inline uint32_t cpuid_ebx(uint32_t leaf)
{
    uint32_t a, b, c, d;
    cpuid(leaf, &a, &b, &c, &d);
    return b;
}

/* Family, model and stepping from CPUID leaf 1 EAX, with the extended fields folded in as the SDM says. */
static inline void cpuid_signature(uint32_t eax, uint32_t *family, uint32_t *model, uint32_t *stepping)
{
    uint32_t f = (eax >> 8) & 0xf, m = (eax >> 4) & 0xf;
    if (f == 0xf)
        f += (eax >> 20) & 0xff;
    if (f >= 6)
        m += ((eax >> 16) & 0xf) << 4;
    *family = f;
    *model = m;
    *stepping = eax & 0xf;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t val)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)) : "memory");
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#define DEFINE_CR(n)                                                                                               \
    static inline unsigned long read_cr##n(void)                                                                   \
    {                                                                                                              \
        unsigned long v;                                                                                           \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                                          \
        return v;                                                                                                  \
    }                                                                                                              \
    static inline void write_cr##n(unsigned long v) { __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline unsigned long read_rflags(void)
{
    unsigned long f;
    __asm__ volatile("pushf; pop %0" : "=r"(f));
    return f;
}
static inline void local_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void local_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline unsigned long local_irq_save(void)
{
    unsigned long f = read_rflags();
    local_irq_disable();
    return f;
}
static inline void local_irq_restore(unsigned long f)
{
    if (f & X86_EFLAGS_IF)
        local_irq_enable();
}
static inline bool local_irq_enabled(void) { return read_rflags() & X86_EFLAGS_IF; }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void halt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* sti;hlt back to back: the sti shadow guarantees no interrupt is taken between them, so a wakeup that arrives
 * after the caller checked for work is not lost. */
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void invlpg(const void *va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void smp_mb(void) { __asm__ volatile("mfence" ::: "memory"); }

/* Every translation this CPU holds, global ones included. Callers outside arch/x86/flushtlb.c want
 * flush_tlb_local(), which also tells the TLB clock. */
static inline void hw_flush_tlb_all(void)
{
    unsigned long cr4 = read_cr4();
    if (cr4 & X86_CR4_PGE) {
        write_cr4(cr4 & ~X86_CR4_PGE);
        write_cr4(cr4);
    } else {
        write_cr3(read_cr3());
    }
}

void flush_tlb_local(void); /* hw_flush_tlb_all() on the TLB clock (arch/x86/flushtlb.c) */

struct __packed desc_ptr {
    uint16_t limit;
    uint64_t base;
};

#endif
