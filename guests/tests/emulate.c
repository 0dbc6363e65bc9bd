/*
 * emulate: what the hypervisor emulates for a PV kernel running in ring 3.
 * The forced-emulation CPUID and its policy, RDMSR/WRMSR rules, control and
 * debug register moves, port I/O permission and the emulated ports, and
 * direct page-table writes with VMASST_TYPE_writable_pagetables.  Every
 * expectation here holds on Xen 4.17.
 */
#include "guest.h"

static uint8_t scratch[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static uint8_t scratch2[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

/* ---- helpers --------------------------------------------------------- */

static void fcpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    uint32_t a = leaf, b, c = sub, d;
    asm volatile ("ud2; .ascii \"xen\"; cpuid"
                  : "+a" (a), "=b" (b), "+c" (c), "=d" (d));
    r[0] = a; r[1] = b; r[2] = c; r[3] = d;
}

/* rdmsr/wrmsr returning the trap vector taken (0 if none). */
static unsigned int rdmsr_v(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    unsigned int n = trap_count;
    asm volatile ("1: rdmsr\n\t2:\n\t" EXTABLE("1b", "2b")
                  : "+a" (lo), "+d" (hi) : "c" (msr) : "memory");
    *val = ((uint64_t)hi << 32) | lo;
    return trap_count != n ? (unsigned int)last_trap.vector : 0;
}

static unsigned int wrmsr_v(uint32_t msr, uint64_t val)
{
    unsigned int n = trap_count;
    asm volatile ("1: wrmsr\n\t2:\n\t" EXTABLE("1b", "2b")
                  :: "c" (msr), "a" ((uint32_t)val), "d" ((uint32_t)(val >> 32))
                  : "memory");
    return trap_count != n ? (unsigned int)last_trap.vector : 0;
}

#define TRAPS(n) (trap_count - (n))

static uint64_t read_cr0(void) { uint64_t v; asm volatile ("mov %%cr0, %0" : "=r" (v)); return v; }
static uint64_t read_cr2(void) { uint64_t v; asm volatile ("mov %%cr2, %0" : "=r" (v)); return v; }
static uint64_t read_cr3(void) { uint64_t v; asm volatile ("mov %%cr3, %0" : "=r" (v)); return v; }
static uint64_t read_cr4(void) { uint64_t v; asm volatile ("mov %%cr4, %0" : "=r" (v)); return v; }

/* A control/debug register write that may fault: returns the vector (0 if none). */
#define MOV_TO(reg, val) ({                                                 \
    unsigned int _n = trap_count;                                           \
    asm volatile ("1: mov %0, %%" reg "\n\t2:\n\t" EXTABLE("1b", "2b")     \
                  :: "r" ((uint64_t)(val)) : "memory");                     \
    trap_count != _n ? (unsigned int)last_trap.vector : 0u; })
#define MOV_FROM(reg) ({                                                    \
    uint64_t _v = 0;                                                        \
    asm volatile ("mov %%" reg ", %0" : "=r" (_v));                         \
    _v; })

static unsigned int inb_v(uint16_t port, uint8_t *val)
{
    unsigned int n = trap_count;
    uint8_t v = 0;
    asm volatile ("1: inb %w1, %b0\n\t2:\n\t" EXTABLE("1b", "2b")
                  : "+a" (v) : "d" (port) : "memory");
    *val = v;
    return trap_count != n ? (unsigned int)last_trap.vector : 0;
}
static void outb_(uint16_t port, uint8_t v) { asm volatile ("outb %b0, %w1" :: "a" (v), "d" (port)); }
static uint16_t inw_(uint16_t port) { uint16_t v; asm volatile ("inw %w1, %w0" : "=a" (v) : "d" (port)); return v; }
static uint32_t inl_(uint16_t port) { uint32_t v; asm volatile ("inl %w1, %0" : "=a" (v) : "d" (port)); return v; }
static void outl_(uint16_t port, uint32_t v) { asm volatile ("outl %0, %w1" :: "a" (v), "d" (port)); }

/* ---- CPUID ------------------------------------------------------------ */

static void test_cpuid(void)
{
    uint32_t r[4], n[4];

    fcpuid(0x40000000, 0, r);
    CHECK_EQ(r[0], 0x40000005, "cpuid 0x40000000: max leaf 0x40000005");
    CHECK(r[1] == 0x566e6558 && r[2] == 0x65584d4d && r[3] == 0x4d4d566e,
          "cpuid 0x40000000: XenVMMXenVMM");
    fcpuid(0x40000001, 0, r);
    CHECK_EQ(r[0], 0x00040011, "cpuid 0x40000001: version 4.17");
    fcpuid(0x40000002, 0, r);
    CHECK_EQ(r[0], 1, "cpuid 0x40000002: one hypercall page");
    CHECK_EQ(r[1], 0x40000000, "cpuid 0x40000002: hypercall MSR");
    CHECK_EQ(r[2] & 1, 1, "cpuid 0x40000002: MMU_PT_UPDATE_PRESERVE_AD");
    fcpuid(0x40000003, 2, r);
    CHECK(r[0] != 0, "cpuid 0x40000003.2: host TSC kHz");
    fcpuid(0x40000004, 0, r);
    CHECK(!r[0] && !r[1] && !r[2] && !r[3], "cpuid 0x40000004: HVM-only leaf empty for PV");
    fcpuid(0x40000006, 0, r);
    CHECK(!r[0] && !r[1] && !r[2] && !r[3], "cpuid 0x40000006: beyond the max leaf");
    fcpuid(0x40000005, 0, r);
    CHECK(r[1] >= 20 && r[1] <= 52, "cpuid 0x40000005: machine address width");

    /* Native leaves as filtered for a PV guest. */
    fcpuid(0, 0, r);
    asm volatile ("cpuid" : "=a" (n[0]), "=b" (n[1]), "=c" (n[2]), "=d" (n[3]) : "a" (0), "c" (0));
    CHECK(r[1] == n[1] && r[2] == n[2] && r[3] == n[3], "cpuid 0: host vendor");
    CHECK(r[0] >= 1 && r[0] <= 0xd, "cpuid 0: max basic leaf <= 0xd");
    fcpuid(1, 0, r);
    CHECK(r[2] & (1u << 31), "cpuid 1: hypervisor bit");
    CHECK_EQ(r[1] >> 24, 0, "cpuid 1: APIC ID 0");
    CHECK_EQ(r[2] & ((1u << 3) | (1u << 5) | (1u << 21)), 0, "cpuid 1: no MONITOR, VMX, x2APIC");
    CHECK_EQ(r[3] & ((1u << 1) | (1u << 3) | (1u << 11) | (1u << 13) | (1u << 17)), 0,
             "cpuid 1: no VME, PSE, SEP, PGE, PSE36");
    CHECK((r[3] & 0x07800001) == 0x07800001, "cpuid 1: FPU, MMX, FXSR, SSE, SSE2");
    fcpuid(5, 0, r);
    CHECK(!r[0] && !r[1] && !r[2] && !r[3], "cpuid 5: MONITOR leaf hidden");
    fcpuid(6, 0, r);
    CHECK(!r[0] && !r[1] && !r[2] && !r[3], "cpuid 6: power management hidden");
    fcpuid(0x80000000, 0, r);
    CHECK(r[0] >= 0x80000008, "cpuid 0x80000000: extended leaves");
    fcpuid(0x80000001, 0, r);
    CHECK_EQ(r[2] & (1u << 2), 0, "cpuid 0x80000001: no SVM");
    CHECK(r[3] & (1u << 29), "cpuid 0x80000001: long mode");
    fcpuid(0x80000008, 0, r);
    CHECK_EQ((r[0] >> 8) & 0xff, 48, "cpuid 0x80000008: 48-bit linear addresses");
    fcpuid(0x8fffffff, 0, r);
    CHECK(!r[0] && !r[1] && !r[2] && !r[3], "cpuid out-of-range leaf: zero");
}

/* ---- MSRs ------------------------------------------------------------- */

static void test_msr(void)
{
    uint64_t v, efer;

    CHECK_EQ(rdmsr_v(0xc0000080, &efer), 0, "rdmsr EFER");
    CHECK_EQ(efer & 0xd01, 0xd01, "EFER: SCE, LME, LMA, NXE");
    CHECK_EQ(wrmsr_v(0xc0000080, efer), 0, "wrmsr EFER unchanged: accepted");
    CHECK_EQ(wrmsr_v(0xc0000080, efer & ~1UL), TRAP_gp_fault, "wrmsr EFER changed: #GP");
    CHECK_EQ(rdmsr_v(0x277, &v), 0, "rdmsr PAT");
    CHECK_EQ(v, 0x0000050100070406UL, "PAT is Xen's");
    CHECK_EQ(wrmsr_v(0x277, v), TRAP_gp_fault, "wrmsr PAT: #GP");
    CHECK_EQ(rdmsr_v(0x1b, &v), 0, "rdmsr APIC_BASE");
    CHECK_EQ(v, 0xfee00900UL, "APIC_BASE: enabled BSP at 0xfee00000");
    CHECK_EQ(rdmsr_v(0x40000000, &v), 0, "rdmsr hypercall MSR");
    CHECK_EQ(v, 0, "hypercall MSR reads 0");
    CHECK_EQ(rdmsr_v(0x40000001, &v), TRAP_gp_fault, "rdmsr 0x40000001: #GP");
    CHECK_EQ(rdmsr_v(0xc0000081, &v), TRAP_gp_fault, "rdmsr STAR: #GP");
    CHECK_EQ(rdmsr_v(0xc0000082, &v), TRAP_gp_fault, "rdmsr LSTAR: #GP");
    CHECK_EQ(rdmsr_v(0x1d9, &v), TRAP_gp_fault, "rdmsr DEBUGCTL: #GP");
    CHECK_EQ(rdmsr_v(0x6e0, &v), TRAP_gp_fault, "rdmsr TSC_DEADLINE: #GP");
    CHECK_EQ(rdmsr_v(0x802, &v), TRAP_gp_fault, "rdmsr x2APIC ID: #GP");
    CHECK_EQ(rdmsr_v(0x179, &v), 0, "rdmsr MCG_CAP");
    CHECK_EQ(v & 0xff, 2, "MCG_CAP: two virtual banks");
    CHECK_EQ(rdmsr_v(0x400, &v), 0, "rdmsr MC0_CTL");
    CHECK_EQ(v, ~0UL, "MC0_CTL reads all ones");
    CHECK_EQ(rdmsr_v(0x401, &v), 0, "rdmsr MC0_STATUS");
    CHECK_EQ(v, 0, "MC0_STATUS reads 0");
    CHECK_EQ(wrmsr_v(0x401, 1), TRAP_gp_fault, "wrmsr MC0_STATUS non-zero: #GP");
    CHECK_EQ(wrmsr_v(0x401, 0), 0, "wrmsr MC0_STATUS zero: accepted");
    CHECK_EQ(rdmsr_v(0xce, &v), 0, "rdmsr PLATFORM_INFO");
    CHECK_EQ(rdmsr_v(0x140, &v), 0, "rdmsr MISC_FEATURES_ENABLES");
    CHECK_EQ(v, 0, "MISC_FEATURES_ENABLES: CPUID faulting off");
    CHECK_EQ(wrmsr_v(0x140, 2), TRAP_gp_fault, "wrmsr MISC_FEATURES_ENABLES reserved bit: #GP");
    CHECK_EQ(rdmsr_v(0x345, &v), 0, "rdmsr PERF_CAPABILITIES");
    CHECK_EQ(v, 0, "PERF_CAPABILITIES reads 0");

    /* FS base through the MSR, and the canonical check. */
    CHECK_EQ(wrmsr_v(0xc0000100, 0x12345000), 0, "wrmsr FS_BASE");
    CHECK_EQ(rdmsr_v(0xc0000100, &v), 0, "rdmsr FS_BASE");
    CHECK_EQ(v, 0x12345000, "FS_BASE reads back");
    CHECK_EQ(wrmsr_v(0xc0000100, 0x8000000000000000UL), TRAP_gp_fault, "wrmsr FS_BASE non-canonical: #GP");
    CHECK_EQ(wrmsr_v(0xc0000100, 0), 0, "wrmsr FS_BASE 0");
    CHECK_EQ(rdmsr_v(0xc0000102, &v), 0, "rdmsr SHADOW_GS_BASE");

    /* The hypercall page can be rewritten through the MSR. */
    {
        extern char hypercall_page[];
        uint64_t mfn = va_to_mfn(scratch);
        memset(scratch, 0, PAGE_SIZE);
        CHECK_EQ(wrmsr_v(0x40000000, mfn << PAGE_SHIFT), 0, "wrmsr hypercall MSR: page filled");
        CHECK(memcmp(scratch, hypercall_page, PAGE_SIZE) == 0, "MSR-written hypercall page is the boot one");
        CHECK_EQ(wrmsr_v(0x40000000, (mfn << PAGE_SHIFT) | 1), TRAP_gp_fault, "hypercall MSR page index 1: #GP");
        CHECK_EQ(wrmsr_v(0x40000001, 0), TRAP_gp_fault, "wrmsr 0x40000001: #GP");
    }
}

/* ---- control and debug registers -------------------------------------- */

static void test_cr_dr(void)
{
    uint64_t cr0 = read_cr0(), cr4 = read_cr4(), v;
    unsigned int n;

    CHECK_EQ(cr0 & 0x80000001, 0x80000001, "CR0: PE and PG");
    CHECK_EQ(cr4 & ((1 << 5) | (1 << 9)), (1 << 5) | (1 << 9), "CR4: PAE and OSFXSR visible");
    CHECK_EQ(cr4 & ((1 << 4) | (1 << 7) | (1 << 13) | (1 << 20) | (1 << 21)), 0,
             "CR4: PSE, PGE, VMXE, SMEP, SMAP not visible");
    CHECK_EQ(read_cr3(), va_to_mfn((void *)start_info->pt_base) << PAGE_SHIFT, "CR3: L4 machine address");

    CHECK_EQ(hypercall1(__HYPERVISOR_fpu_taskswitch, 1), 0, "fpu_taskswitch(1)");
    CHECK_EQ(read_cr0() & 8, 8, "CR0.TS set after fpu_taskswitch(1)");
    n = trap_count;
    asm volatile ("clts" ::: "memory");
    CHECK_EQ(TRAPS(n), 0, "clts emulated");
    CHECK_EQ(read_cr0() & 8, 0, "CR0.TS clear after clts");
    CHECK_EQ(MOV_TO("cr0", read_cr0() | 8), 0, "mov to CR0 setting TS");
    CHECK_EQ(read_cr0() & 8, 8, "CR0.TS set by mov to CR0");
    CHECK_EQ(MOV_TO("cr0", read_cr0() & ~8UL), 0, "mov to CR0 clearing TS");
    CHECK_EQ(MOV_TO("cr0", read_cr0() & ~(1UL << 16)), TRAP_gp_fault, "mov to CR0 changing WP: #GP");

    CHECK_EQ(MOV_TO("cr2", 0x123456), 0, "mov to CR2");
    CHECK_EQ(read_cr2(), 0x123456, "CR2 reads back");
    CHECK_EQ(vcpu0()->arch.cr2, 0x123456, "CR2 write shows in vcpu_info");

    CHECK_EQ(MOV_TO("cr3", read_cr3()), 0, "mov to CR3, same L4");
    CHECK_EQ(MOV_TO("cr3", va_to_mfn(scratch) << PAGE_SHIFT), TRAP_gp_fault,
             "mov to CR3 with a writable data page: #GP");
    CHECK_EQ(read_cr3(), va_to_mfn((void *)start_info->pt_base) << PAGE_SHIFT, "CR3 unchanged");

    CHECK_EQ(MOV_FROM("dr7"), 0x400, "DR7 reads its reset value");
    CHECK_EQ(MOV_FROM("dr6"), 0xffff0ff0, "DR6 reads its reset value");
    CHECK_EQ(MOV_TO("dr0", 0x401000), 0, "mov to DR0");
    CHECK_EQ(MOV_FROM("dr0"), 0x401000, "DR0 reads back");
    CHECK_EQ(MOV_TO("dr1", 0xffff800000000000UL), TRAP_gp_fault, "DR1 in the hypervisor hole: #GP");
    CHECK_EQ(MOV_TO("dr7", 0x2400), TRAP_gp_fault, "DR7.GD: #GP");
    CHECK_EQ(MOV_TO("dr7", 1UL << 32), TRAP_gp_fault, "DR7 upper half: #GP");
    CHECK_EQ(MOV_TO("dr6", 0), 0, "mov to DR6");
    CHECK_EQ(MOV_FROM("dr6"), 0xffff0ff0, "DR6 reserved bits stay set");
    CHECK_EQ(MOV_FROM("dr4"), 0xffff0ff0, "DR4 aliases DR6 without CR4.DE");
    CHECK_EQ(MOV_TO("dr0", 0), 0, "mov to DR0 (reset)");

    /* Time stamp: rdtsc runs natively; rdmsr TSC is emulated. */
    CHECK_EQ(rdmsr_v(0x10, &v), 0, "rdmsr TSC");
    CHECK(v != 0, "TSC non-zero");
}

/* ---- port I/O ---------------------------------------------------------- */

static void test_io(void)
{
    uint8_t b;
    unsigned int n;

    /* Virtual IOPL 0 and no I/O bitmap: the kernel (virtual CPL 1) may not. */
    CHECK_EQ(inb_v(0x80, &b), TRAP_gp_fault, "inb with IOPL 0: #GP");
    CHECK_EQ(last_trap.error_code, 0, "inb with IOPL 0: #GP(0)");

    /* Architectural IOPL: the kernel counts as CPL 0, so any IOPL allows it. */
    CHECK_EQ(hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_architectural_iopl), 0,
             "enable VMASST architectural_iopl");
    CHECK_EQ(inb_v(0x80, &b), 0, "inb port 0x80 with architectural IOPL");

    /* Ports the hypervisor keeps read as all ones. */
    CHECK_EQ(inb_v(0x21, &b), 0, "inb PIC mask port");
    CHECK_EQ(b, 0xff, "PIC port 0x21 reads 0xff");
    CHECK_EQ(inw_(0x40), 0xffff, "PIT port 0x40 (word) reads 0xffff");
    outb_(0x3ff, 0x5a);
    CHECK_EQ(inb_v(0x3ff, &b), 0, "inb console UART scratch");
    CHECK_EQ(b, 0xff, "console UART is the hypervisor's: reads 0xff");

    /* The RTC index is latched per domain. */
    outb_(0x70, 0x0a);
    CHECK_EQ(inb_v(0x70, &b), 0, "inb RTC index");
    CHECK_EQ(b, 0x0a, "RTC index reads back the latched value");

    /* PCI CONFIG_ADDRESS is emulated; data reads go to the hardware for dom0. */
    outl_(0xcf8, 0x80000000);
    CHECK_EQ(inl_(0xcf8), 0x80000000, "CONFIG_ADDRESS reads back");
    {
        uint32_t id = inl_(0xcfc);
        CHECK(id != 0xffffffff && id != 0, "PCI 00:00.0 vendor/device readable");
        CHECK_EQ(inw_(0xcfc), id & 0xffff, "PCI config word read");
    }
    outl_(0xcf8, 0);

    /* String I/O: rep insb from a refused port fills with 0xff and advances. */
    {
        uint8_t buf[4] = {1, 2, 3, 4};
        uint8_t *p = buf;
        unsigned long cnt = 3;
        n = trap_count;
        asm volatile ("rep insb" : "+D" (p), "+c" (cnt) : "d" (0x21) : "memory");
        CHECK_EQ(TRAPS(n), 0, "rep insb emulated");
        CHECK(buf[0] == 0xff && buf[1] == 0xff && buf[2] == 0xff && buf[3] == 4, "rep insb data");
        CHECK_EQ(cnt, 0, "rep insb: rcx counted down");
        CHECK_EQ(p - buf, 3, "rep insb: rdi advanced");
        uint8_t src[2] = {0x0b, 0x0c};
        const uint8_t *s = src;
        cnt = 2;
        asm volatile ("rep outsb" : "+S" (s), "+c" (cnt) : "d" (0x70) : "memory");
        CHECK_EQ(inb_v(0x70, &b), 0, "inb RTC index after rep outsb");
        CHECK_EQ(b, 0x0c, "rep outsb wrote both bytes in order");
    }

    /* cli/sti are no-ops with enough IOPL. */
    n = trap_count;
    asm volatile ("cli; sti" ::: "memory");
    CHECK_EQ(TRAPS(n), 0, "cli/sti with architectural IOPL");

    CHECK_EQ(hyp_vm_assist(VMASST_CMD_disable, VMASST_TYPE_architectural_iopl), 0,
             "disable VMASST architectural_iopl");
    CHECK_EQ(inb_v(0x80, &b), TRAP_gp_fault, "inb after disabling: #GP again");
    n = trap_count;
    asm volatile ("1: cli\n\t2:\n\t" EXTABLE("1b", "2b") ::: "memory");
    CHECK_EQ(TRAPS(n), 1, "cli without IOPL: #GP");
}

/* ---- writable page tables ---------------------------------------------- */

static void invlpg(void *va)
{
    struct mmuext_op op = { .cmd = MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = (uint64_t)va };
    hyp_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

static unsigned int write_pte(volatile uint64_t *e, uint64_t val)
{
    unsigned int n = trap_count;
    asm volatile ("1: movq %1, %0\n\t2:\n\t" EXTABLE("1b", "2b") : "=m" (*e) : "r" (val) : "memory");
    return trap_count != n ? (unsigned int)last_trap.vector : 0;
}

static void test_ptwr(void)
{
    uint64_t *e, maddr, orig, mfn = va_to_mfn(scratch2);
    unsigned int n;

    if ( !pte_lookup((uint64_t)scratch2, &maddr, &e) )
    {
        CHECK(false, "find the L1 entry of the scratch page");
        return;
    }
    orig = *e;
    CHECK_EQ((orig & PTE_ADDR_MASK) >> PAGE_SHIFT, mfn, "L1 entry maps the scratch page");

    /* For the hardware domain Xen emulates stores to its page tables even
     * without the assist (its read-only-MMIO path handles them). */
    CHECK_EQ(write_pte(e, orig & ~PTE_RW), 0, "dom0: direct PTE store emulated without the assist");
    CHECK_EQ(write_pte(e, orig), 0, "dom0: and restored");
    CHECK_EQ(hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0,
             "enable VMASST writable_pagetables");
    CHECK_EQ(write_pte(e, orig & ~PTE_RW), 0, "direct PTE store emulated");
    CHECK_EQ(*e & (PTE_ADDR_MASK | PTE_RW | PTE_P), (orig & ~PTE_RW) & (PTE_ADDR_MASK | PTE_RW | PTE_P),
             "PTE now read-only");
    invlpg(scratch2);
    n = trap_count;
    asm volatile ("1: movb $1, (%0)\n\t2:\n\t" EXTABLE("1b", "2b") :: "r" (scratch2) : "memory");
    CHECK_EQ(TRAPS(n), 1, "store to the page now faults");

    /* xchg restores the writable entry and returns the old one. */
    {
        uint64_t val = orig;
        n = trap_count;
        asm volatile ("xchg %0, %1" : "+r" (val), "+m" (*e) :: "memory");
        CHECK_EQ(TRAPS(n), 0, "xchg on a PTE emulated");
        CHECK_EQ(val & (PTE_ADDR_MASK | PTE_RW | PTE_P), (orig & ~PTE_RW) & (PTE_ADDR_MASK | PTE_RW | PTE_P),
                 "xchg returned the read-only entry");
        CHECK_EQ(*e & PTE_RW, PTE_RW, "xchg made it writable again");
    }
    invlpg(scratch2);
    scratch2[0] = 7;
    CHECK_EQ(scratch2[0], 7, "page writable again");

    /* lock btr of the RW bit (what clear_bit() compiles to), then cmpxchg back. */
    {
        uint64_t cur = *e;
        unsigned char cf;
        n = trap_count;
        asm volatile ("lock btrq $1, %0; setc %1" : "+m" (*e), "=qm" (cf) :: "memory", "cc");
        CHECK_EQ(TRAPS(n), 0, "lock btr on a PTE emulated");
        CHECK_EQ(cf, 1, "btr: CF = old RW bit");
        CHECK_EQ(*e & PTE_RW, 0, "btr cleared RW");
        uint64_t expect = *e, newv = cur;
        unsigned char zf;
        asm volatile ("lock cmpxchg %3, %1; sete %2"
                      : "+a" (expect), "+m" (*e), "=qm" (zf) : "r" (newv) : "memory", "cc");
        CHECK_EQ(zf, 1, "cmpxchg on a PTE succeeded");
        CHECK_EQ(*e & PTE_RW, PTE_RW, "cmpxchg restored RW");
        expect = 0;
        asm volatile ("lock cmpxchg %3, %1; sete %2"
                      : "+a" (expect), "+m" (*e), "=qm" (zf) : "r" (newv) : "memory", "cc");
        CHECK_EQ(zf, 0, "cmpxchg with a wrong expected value fails");
        CHECK_EQ(expect & PTE_ADDR_MASK, orig & PTE_ADDR_MASK, "failed cmpxchg loads the entry");
    }

    /* A store that validation refuses stays a #PF for the guest: mapping the
     * page-table page itself writable. */
    {
        uint64_t bad = (maddr & PTE_ADDR_MASK) | PTE_P | PTE_RW | PTE_A;
        CHECK_EQ(write_pte(e, bad), TRAP_page_fault, "PTE store mapping a page table writable: #PF");
        CHECK_EQ((*e & PTE_ADDR_MASK) >> PAGE_SHIFT, mfn, "refused store left the entry alone");
    }

    CHECK_EQ(hyp_vm_assist(VMASST_CMD_disable, VMASST_TYPE_writable_pagetables), 0,
             "disable VMASST writable_pagetables");
    CHECK_EQ(write_pte(e, orig), 0, "dom0: PTE store still emulated after disabling");
    CHECK_EQ(*e & PTE_RW, PTE_RW, "entry restored");
}

void test_main(void)
{
    test_cpuid();
    test_msr();
    test_cr_dr();
    test_io();
    test_ptwr();
}
