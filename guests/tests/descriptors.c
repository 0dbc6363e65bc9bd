/*
 * descriptors: guest descriptor tables and segment registers.
 *
 * set_gdt (argument checks, frame ownership and typing, descriptor
 * validation with Xen's fix-ups), loading GDT and LDT selectors (and the
 * faults for selectors that do not load), update_descriptor on descriptor,
 * plain and page-table pages, the lazily mapped LDT (including the #PF a
 * guest sees for an LDT page it cannot provide), set_segment_base, and the
 * INT n / INT3 rules of Xen's IDT.
 */
#include "guest.h"

#define SEL_TI 4
#define NONCANON 0x8000000000000000UL

static uint64_t gdt_page[512] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static uint64_t bad_page[512] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static uint64_t ldt_page[512] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static uint64_t plain_page[512] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static uint64_t fs_target = 0x5a5a5a5a12345678UL;

/* A code/data descriptor: base, 20-bit limit, access byte, flags nibble. */
static uint64_t seg(uint32_t base, uint32_t limit, unsigned int access, unsigned int flags)
{
    return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

#define DATA_DPL0  seg(0, 0xfffff, 0x93, 0xc)
#define DATA_DPL3  seg(0, 0xfffff, 0xf3, 0xc)
#define CODE64_DPL0 seg(0, 0xfffff, 0x9b, 0xa)
#define TSS_DESC   seg(0x1000, 0x67, 0x89, 0)

/* Low half of a 64-bit call gate (the high half holds offset bits 63:32). */
static uint64_t gate_lo(uint16_t sel, uint64_t off, unsigned int dpl, unsigned int ist)
{
    return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)ist << 32) |
           ((uint64_t)(0x8c | (dpl << 5)) << 40) | (((off >> 16) & 0xffff) << 48);
}

static unsigned int dpl_of(uint64_t d) { return (d >> 45) & 3; }

static long set_gdt(const uint64_t *frames, unsigned long entries)
{ return hypercall2(__HYPERVISOR_set_gdt, frames, entries); }
static long update_descriptor(uint64_t maddr, uint64_t desc)
{ return hypercall2(__HYPERVISOR_update_descriptor, maddr, desc); }
static long set_segment_base(unsigned int which, uint64_t base)
{ return hypercall2(__HYPERVISOR_set_segment_base, which, base); }

static long set_ldt(uint64_t base, unsigned int ents)
{
    struct mmuext_op op;

    memset(&op, 0, sizeof(op));
    op.cmd = MMUEXT_SET_LDT;
    op.arg1.linear_addr = base;
    op.arg2.nr_ents = ents;
    return hyp_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

static long remap(void *va, bool writable)
{
    return hyp_update_va_mapping((uint64_t)va,
                                 (va_to_mfn(va) << PAGE_SHIFT) | PTE_P | PTE_A |
                                 (writable ? PTE_RW | PTE_D : 0), UVMF_INVLPG);
}

static uint64_t maddr_of(const void *va)
{
    return (va_to_mfn(va) << PAGE_SHIFT) | ((uint64_t)va & (PAGE_SIZE - 1));
}

/* Load %fs; returns the number of traps taken (the handler skips the mov). */
static unsigned int load_fs(unsigned int sel)
{
    unsigned int n = trap_count;

    asm volatile ("1: mov %w0, %%fs\n\t2:\n\t" EXTABLE("1b", "2b")
                  :: "r" (sel) : "memory");
    return trap_count - n;
}

static unsigned int read_fs(void)
{
    unsigned int s;

    asm volatile ("mov %%fs, %0" : "=r" (s));
    return s & 0xffff;
}

static void expect_fault(unsigned int sel, uint64_t vec, uint64_t ec, const char *what)
{
    char name[96];
    unsigned int taken = load_fs(sel);

    snprintf(name, sizeof(name), "%s: one fault", what);
    CHECK_EQ(taken, 1, name);
    snprintf(name, sizeof(name), "%s: vector %lu", what, vec);
    CHECK_EQ(last_trap.vector, vec, name);
    snprintf(name, sizeof(name), "%s: error code %#lx", what, ec);
    CHECK_EQ(last_trap.error_code, ec, name);
}

static void test_set_gdt(void)
{
    uint64_t frames[2];

    /* Argument checks. */
    CHECK_EQ(set_gdt(frames, 7169), -EINVAL, "set_gdt 7169 entries -> -EINVAL");
    CHECK_EQ(set_gdt((void *)1, 1), -EFAULT, "set_gdt bad frame list -> -EFAULT");
    frames[0] = 0xfffffffffUL;
    CHECK_EQ(set_gdt(frames, 1), -EINVAL, "set_gdt nonexistent frame -> -EINVAL");
    frames[0] = va_to_mfn(gdt_page);
    CHECK_EQ(set_gdt(frames, 1), -EINVAL, "set_gdt frame mapped writable -> -EINVAL");

    /* Descriptors Xen refuses. */
    memset(bad_page, 0, sizeof(bad_page));
    bad_page[5] = TSS_DESC;
    CHECK_EQ(remap(bad_page, false), 0, "bad page read-only");
    frames[0] = va_to_mfn(bad_page);
    CHECK_EQ(set_gdt(frames, 16), -EINVAL, "set_gdt with a TSS descriptor -> -EINVAL");
    CHECK_EQ(remap(bad_page, true), 0, "bad page writable again after the refusal");
    bad_page[5] = gate_lo(0xe008, 0x1000, 3, 0);
    CHECK_EQ(remap(bad_page, false), 0, "bad page read-only (gate)");
    CHECK_EQ(set_gdt(frames, 16), -EINVAL, "set_gdt call gate to a hypervisor selector -> -EINVAL");
    CHECK_EQ(remap(bad_page, true), 0, "bad page writable (gate)");
    bad_page[5] = gate_lo(0x0018, 0x1000, 3, 1);
    CHECK_EQ(remap(bad_page, false), 0, "bad page read-only (IST gate)");
    CHECK_EQ(set_gdt(frames, 16), -EINVAL, "set_gdt call gate with IST bits -> -EINVAL");
    CHECK_EQ(remap(bad_page, true), 0, "bad page writable (IST gate)");

    /* A good table; Xen fixes DPLs up in place. */
    memset(gdt_page, 0, sizeof(gdt_page));
    gdt_page[1] = DATA_DPL0;
    gdt_page[2] = DATA_DPL3;
    gdt_page[3] = CODE64_DPL0;
    gdt_page[4] = gate_lo(0x0018, (uint64_t)test_set_gdt, 3, 0);
    gdt_page[5] = (uint64_t)test_set_gdt >> 32;
    gdt_page[6] = 0x00007f00deadbeefUL;  /* not present: taken as it is */
    gdt_page[7] = DATA_DPL3;
    CHECK_EQ(remap(gdt_page, false), 0, "gdt page read-only");
    frames[0] = va_to_mfn(gdt_page);
    CHECK_EQ(set_gdt(frames, 16), 0, "set_gdt one good frame");
    CHECK_EQ(dpl_of(gdt_page[1]), 3, "data descriptor DPL 0 raised to 3");
    CHECK_EQ(dpl_of(gdt_page[3]), 3, "code descriptor DPL 0 raised to 3");
    CHECK_EQ(dpl_of(gdt_page[4]), 0, "call gate DPL forced to 0");
    CHECK_EQ((gdt_page[4] >> 16) & 0xffff, 0x001b, "call gate target RPL holds the gate's DPL");
    CHECK_EQ(gdt_page[6], 0x00007f00deadbeefUL, "not-present descriptor unchanged");
    CHECK_EQ(remap(gdt_page, true), -EBUSY, "GDT frame cannot be mapped writable");

    /* Loading selectors. */
    CHECK_EQ(load_fs(0x0b), 0, "load GDT data selector 0x0b");
    CHECK_EQ(read_fs(), 0x0b, "%fs reads back 0x0b");
    CHECK_EQ(load_fs(0x08), 0, "load GDT selector with RPL 0 (DPL now 3)");
    CHECK_EQ(load_fs(0x13), 0, "load DPL 3 data selector 0x13");
    expect_fault(0x33, TRAP_no_segment, 0x30, "not-present descriptor");
    expect_fault(0xa3, TRAP_gp_fault, 0xa0, "empty entry in the frame");
    expect_fault(0x12c3, TRAP_gp_fault, 0x12c0, "entry in a GDT page never given");
    CHECK_EQ(load_fs(0xe02b), 0, "flat hypervisor-provided selector still loads");

    /* update_descriptor. */
    CHECK_EQ(update_descriptor(maddr_of(&gdt_page[8]) + 4, DATA_DPL3), -EINVAL,
             "update_descriptor misaligned -> -EINVAL");
    CHECK_EQ(update_descriptor(maddr_of(&gdt_page[8]), TSS_DESC), -EINVAL,
             "update_descriptor TSS -> -EINVAL");
    CHECK_EQ(gdt_page[8], 0, "refused descriptor not written");
    CHECK_EQ(update_descriptor(maddr_of(&gdt_page[8]), gate_lo(0xe008, 0, 3, 0)), -EINVAL,
             "update_descriptor gate to hypervisor CS -> -EINVAL");
    CHECK_EQ(update_descriptor(maddr_of(&gdt_page[8]), DATA_DPL0), 0,
             "update_descriptor on a GDT frame");
    CHECK_EQ(dpl_of(gdt_page[8]), 3, "updated descriptor has its DPL raised");
    CHECK_EQ(load_fs(0x43), 0, "load the updated selector 0x43");
    CHECK_EQ(update_descriptor(maddr_of(&gdt_page[7]), DATA_DPL3 & ~(1UL << 47)), 0,
             "update_descriptor marks entry 7 not present");
    expect_fault(0x3b, TRAP_no_segment, 0x38, "selector of a not-present segment");
    CHECK_EQ(update_descriptor(maddr_of(&plain_page[3]), DATA_DPL0), 0,
             "update_descriptor on a plain writable page");
    CHECK_EQ(dpl_of(plain_page[3]), 3, "plain page got the checked descriptor");
    {
        uint64_t l1_maddr;

        if ( pte_lookup((uint64_t)plain_page, &l1_maddr, NULL) )
            CHECK_EQ(update_descriptor(l1_maddr & ~7UL, DATA_DPL3), -EINVAL,
                     "update_descriptor on a page table -> -EINVAL");
    }
    CHECK_EQ(update_descriptor(0xfffffffff000UL, DATA_DPL3), -EINVAL,
             "update_descriptor on a frame not ours -> -EINVAL");

    /* Replacing the GDT releases the frame. */
    CHECK_EQ(load_fs(0), 0, "null %fs");
    CHECK_EQ(set_gdt(frames, 0), 0, "set_gdt with no entries");
    CHECK_EQ(remap(gdt_page, true), 0, "released GDT frame can be writable again");
    expect_fault(0x0b, TRAP_gp_fault, 0x08, "GDT selector after the GDT is gone");
}

static void test_ldt(void)
{
    CHECK_EQ(set_ldt((uint64_t)ldt_page + 8, 1), -EINVAL, "SET_LDT misaligned base -> -EINVAL");
    CHECK_EQ(set_ldt((uint64_t)ldt_page, 8193), -EINVAL, "SET_LDT 8193 entries -> -EINVAL");
    CHECK_EQ(set_ldt(HYPERVISOR_VIRT_START, 1), -EINVAL, "SET_LDT in the hypervisor area -> -EINVAL");

    memset(ldt_page, 0, sizeof(ldt_page));
    ldt_page[0] = DATA_DPL0;
    ldt_page[1] = DATA_DPL3;
    CHECK_EQ(remap(ldt_page, false), 0, "ldt page read-only");
    CHECK_EQ(set_ldt((uint64_t)ldt_page, 4), 0, "SET_LDT 4 entries");
    CHECK_EQ(load_fs(0x07), 0, "load LDT selector 0x07 (page mapped on first use)");
    CHECK_EQ(read_fs(), 0x07, "%fs reads back 0x07");
    CHECK_EQ(dpl_of(ldt_page[0]), 3, "LDT descriptor DPL raised when the page was taken");
    CHECK_EQ(load_fs(0x0f), 0, "load LDT selector 0x0f");
    expect_fault(0x27, TRAP_gp_fault, 0x24, "LDT selector beyond the LDT's entries");
    CHECK_EQ(remap(ldt_page, true), -EBUSY, "LDT page in use cannot be mapped writable");
    CHECK_EQ(load_fs(0), 0, "null %fs");

    /* An LDT page whose descriptors are refused: the guest gets #PF at its LDT. */
    memset(bad_page, 0, sizeof(bad_page));
    bad_page[0] = TSS_DESC;
    CHECK_EQ(remap(bad_page, false), 0, "bad LDT page read-only");
    CHECK_EQ(set_ldt((uint64_t)bad_page, 2), 0, "SET_LDT on the bad page (not checked yet)");
    CHECK_EQ(remap(ldt_page, true), 0, "old LDT page released by SET_LDT");
    expect_fault(0x07, TRAP_page_fault, 0, "LDT page with a refused descriptor");
    CHECK_EQ(last_trap.cr2, (uint64_t)bad_page, "#PF address is the guest's LDT entry");
    expect_fault(0x0c, TRAP_page_fault, 0, "second entry of the refused page");
    CHECK_EQ(last_trap.cr2, (uint64_t)bad_page + 8, "#PF address of the second entry");

    /* An LDT at an unmapped address. */
    CHECK_EQ(set_ldt(0x7f0000000000UL, 16), 0, "SET_LDT at an unmapped address");
    expect_fault(0x17, TRAP_page_fault, 0, "LDT page not mapped by the guest");
    CHECK_EQ(last_trap.cr2, 0x7f0000000010UL, "#PF address inside the unmapped LDT");

    CHECK_EQ(set_ldt(0, 0), 0, "SET_LDT none");
    expect_fault(0x07, TRAP_gp_fault, 0x04, "LDT selector with no LDT");
    CHECK_EQ(remap(bad_page, true), 0, "bad page writable again");
}

static void test_segment_base(void)
{
    uint64_t v;

    CHECK_EQ(set_segment_base(SEGBASE_FS, NONCANON), -EINVAL, "SEGBASE_FS non-canonical -> -EINVAL");
    CHECK_EQ(set_segment_base(SEGBASE_GS_USER, NONCANON), -EINVAL,
             "SEGBASE_GS_USER non-canonical -> -EINVAL");
    CHECK_EQ(set_segment_base(SEGBASE_GS_KERNEL, NONCANON), -EINVAL,
             "SEGBASE_GS_KERNEL non-canonical -> -EINVAL");
    CHECK_EQ(set_segment_base(5, 0), -EINVAL, "set_segment_base unknown -> -EINVAL");
    CHECK_EQ(load_fs(0), 0, "null %fs for the base test");
    CHECK_EQ(set_segment_base(SEGBASE_FS, (uint64_t)&fs_target), 0, "SEGBASE_FS");
    asm volatile ("mov %%fs:0, %0" : "=r" (v));
    CHECK_EQ(v, fs_target, "%fs:0 reads through the new base");
    CHECK_EQ(set_segment_base(SEGBASE_FS, 0), 0, "SEGBASE_FS back to 0");
    CHECK_EQ(set_segment_base(SEGBASE_GS_USER_SEL, 0x1234), 0,
             "SEGBASE_GS_USER_SEL bad selector still returns 0");
    CHECK_EQ(set_segment_base(SEGBASE_GS_USER_SEL, 0xe02b), 0, "SEGBASE_GS_USER_SEL flat selector");
    CHECK_EQ(set_segment_base(SEGBASE_GS_USER_SEL, 0), 0, "SEGBASE_GS_USER_SEL null");
    CHECK_EQ(set_segment_base(SEGBASE_GS_USER, 0), 0, "SEGBASE_GS_USER 0");
}

/* Xen's IDT lets INT3 and INT $3 through whatever DPL the guest gave vector 3, and sends INT $0x80 straight to
 * a registered handler; other vectors follow the guest's DPL. */
static void test_soft_ints(void)
{
    extern char trap_entry_3[], trap_entry_0x80[];
    extern char int3_after[], int3long_after[], int80_after[], int81_insn[];
    struct trap_info ti[3];
    unsigned int n;

    memset(ti, 0, sizeof(ti));
    ti[0].vector = 3;
    ti[0].flags = 0;
    ti[0].cs = FLAT_KERNEL_CS;
    ti[0].address = (uint64_t)trap_entry_3;
    ti[1].vector = 0x80;
    ti[1].flags = 0;
    ti[1].cs = FLAT_KERNEL_CS;
    ti[1].address = (uint64_t)trap_entry_0x80;
    CHECK_EQ(hyp_set_trap_table(ti), 0, "vectors 3 and 0x80 with DPL 0");

    n = trap_count;
    asm volatile ("int3\n\tint3_after:" ::: "memory");
    CHECK_EQ(trap_count - n, 1, "int3 delivered despite DPL 0");
    CHECK_EQ(last_trap.vector, 3, "int3: vector 3");
    CHECK_EQ(last_trap.rip, (uint64_t)int3_after, "int3: rip after the instruction");
    n = trap_count;
    asm volatile (".byte 0xcd, 0x03\n\tint3long_after:" ::: "memory");
    CHECK_EQ(trap_count - n, 1, "int $3 delivered despite DPL 0");
    CHECK_EQ(last_trap.rip, (uint64_t)int3long_after, "int $3: rip after the instruction");
    n = trap_count;
    asm volatile ("int $0x80\n\tint80_after:" ::: "memory");
    CHECK_EQ(trap_count - n, 1, "int $0x80 delivered despite DPL 0");
    CHECK_EQ(last_trap.vector, 0x80, "int $0x80: vector 0x80");
    CHECK_EQ(last_trap.rip, (uint64_t)int80_after, "int $0x80: rip after the instruction");
    n = trap_count;
    asm volatile ("int81_insn: int $0x81\n\t2:\n\t" EXTABLE("int81_insn", "2b") ::: "memory");
    CHECK_EQ(trap_count - n, 1, "int $0x81 without a handler faults");
    CHECK_EQ(last_trap.vector, TRAP_gp_fault, "int $0x81: #GP");
    /* Architecturally vector << 3 | IDT. Xen passes on the CPU's error code, and QEMU's TCG reports
     * vector << 4 | IDT in 64-bit mode; Vesta decodes the instruction and gives the architectural one. */
    check(last_trap.error_code == ((0x81 << 3) | 2) || last_trap.error_code == ((0x81 << 4) | 2),
          "int $0x81: error code names vector 0x81 with the IDT bit", "got %#lx",
          (unsigned long)last_trap.error_code);
    CHECK_EQ(last_trap.rip, (uint64_t)int81_insn, "int $0x81: rip at the instruction");

    ti[0].flags = 3;
    ti[1].flags = 3;
    CHECK_EQ(hyp_set_trap_table(ti), 0, "vectors 3 and 0x80 back to DPL 3");
}

void test_main(void)
{
    test_set_gdt();
    test_ldt();
    test_segment_base();
    test_soft_ints();
}
