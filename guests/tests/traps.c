/*
 * traps: exceptions bounced to the guest's virtual IDT (set_trap_table),
 * the bounce frame contents, CR2 in vcpu_info, software interrupts,
 * privileged-instruction emulation, forced-emulation CPUID, and return
 * through HYPERVISOR_iret.
 */
#include "guest.h"

#define NONCANON 0x8000000000000000UL

static uint8_t page_ro[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

uint64_t saved[14];
extern char pf_read_insn[], pf_write_insn[], ud_insn[], gp_insn[], bp_insn[],
    bp_after[], int80_insn[], int80_after[], de_insn[], regs_ud_insn[],
    rdmsr_insn[], m2p_write_insn[];

static void expect_trap(unsigned int before, uint64_t vec, uint64_t ec,
                        uint64_t rip, const char *what)
{
    char name[96];

    snprintf(name, sizeof(name), "%s: one trap taken", what);
    CHECK_EQ(trap_count - before, 1, name);
    snprintf(name, sizeof(name), "%s: vector %lu", what, vec);
    CHECK_EQ(last_trap.vector, vec, name);
    snprintf(name, sizeof(name), "%s: error code %#lx", what, ec);
    CHECK_EQ(last_trap.error_code, ec, name);
    snprintf(name, sizeof(name), "%s: saved rip", what);
    CHECK_EQ(last_trap.rip, rip, name);
}

void test_main(void)
{
    unsigned int n;
    uint64_t v, rsp_now;
    long rc;

    /* #PF on a read of an unmapped address, from guest kernel mode. */
    n = trap_count;
    asm volatile ("pf_read_insn: mov 0x1000, %0\n\t2:\n\t"
                  EXTABLE("pf_read_insn", "2b") : "=r" (v) :: "memory");
    expect_trap(n, TRAP_page_fault, 0, (uint64_t)pf_read_insn, "#PF read unmapped");
    CHECK_EQ(last_trap.cr2, 0x1000, "#PF read: vcpu_info arch.cr2 == address");

    /* #PF on a write to a read-only mapping of our own page. */
    rc = hyp_update_va_mapping((uint64_t)page_ro,
                               (va_to_mfn(page_ro) << PAGE_SHIFT) | PTE_P | PTE_A,
                               UVMF_INVLPG);
    CHECK_EQ(rc, 0, "remap page_ro read-only");
    n = trap_count;
    asm volatile ("pf_write_insn: movq $1, 8(%0)\n\t2:\n\t"
                  EXTABLE("pf_write_insn", "2b") :: "r" (page_ro) : "memory");
    expect_trap(n, TRAP_page_fault, 3, (uint64_t)pf_write_insn, "#PF write read-only");
    CHECK_EQ(last_trap.cr2, (uint64_t)page_ro + 8, "#PF write: cr2");
    CHECK_EQ(vcpu0()->arch.cr2, (uint64_t)page_ro + 8, "vcpu_info arch.cr2 keeps the address");

    /* Writing the read-only M2P area in the hypervisor hole. */
    n = trap_count;
    asm volatile ("m2p_write_insn: movq $0, (%0)\n\t2:\n\t"
                  EXTABLE("m2p_write_insn", "2b")
                  :: "r" (MACH2PHYS_VIRT_START) : "memory");
    expect_trap(n, TRAP_page_fault, 3, (uint64_t)m2p_write_insn, "#PF write M2P");
    CHECK_EQ(last_trap.cr2, MACH2PHYS_VIRT_START, "#PF write M2P: cr2");

    /* Bounce frame details: CS has RPL cleared (kernel context), the saved
     * upcall mask sits in bits 32-39 of the CS slot, IF mirrors !mask,
     * and the interrupted stack pointer is preserved. */
    CHECK_EQ(last_trap.cs & 0xffff, FLAT_KERNEL_CS & ~3, "frame CS = FLAT_KERNEL_CS with RPL 0");
    CHECK_EQ((last_trap.cs >> 32) & 0xff, 1, "frame saved_upcall_mask = 1 (masked at boot)");
    CHECK_EQ(last_trap.rflags & 0x200, 0, "frame RFLAGS.IF = 0 while masked");

    /* #UD from ud2. */
    n = trap_count;
    asm volatile ("ud_insn: ud2\n\t2:\n\t" EXTABLE("ud_insn", "2b") ::: "memory");
    expect_trap(n, TRAP_invalid_op, 0, (uint64_t)ud_insn, "#UD ud2");

    /* #GP(0) from a non-canonical access. */
    n = trap_count;
    asm volatile ("gp_insn: mov (%1), %0\n\t2:\n\t" EXTABLE("gp_insn", "2b")
                  : "=r" (v) : "r" (NONCANON) : "memory");
    expect_trap(n, TRAP_gp_fault, 0, (uint64_t)gp_insn, "#GP non-canonical");

    /* #GP(0) from rdmsr of a bogus MSR (emulated for PV kernels). */
    n = trap_count;
    asm volatile ("rdmsr_insn: rdmsr\n\t2:\n\t" EXTABLE("rdmsr_insn", "2b")
                  :: "c" (0x12345678) : "rax", "rdx", "memory");
    expect_trap(n, TRAP_gp_fault, 0, (uint64_t)rdmsr_insn, "#GP rdmsr bogus MSR");

    /* #DE. */
    n = trap_count;
    asm volatile ("xor %%ecx, %%ecx\n\tmov $1, %%eax\n\txor %%edx, %%edx\n\t"
                  "de_insn: div %%ecx\n\t2:\n\t" EXTABLE("de_insn", "2b")
                  ::: "rax", "rcx", "rdx", "memory");
    expect_trap(n, TRAP_divide_error, 0, (uint64_t)de_insn, "#DE div by 0");

    /* #BP: a trap, the saved rip is after int3 and execution resumes. */
    n = trap_count;
    asm volatile ("bp_insn: int3\n\tbp_after:\n\t" ::: "memory");
    expect_trap(n, TRAP_int3, 0, (uint64_t)bp_after, "#BP int3");

    /* Software interrupt through a DPL3 virtual IDT entry. */
    n = trap_count;
    asm volatile ("mov %%rsp, %0\n\tint80_insn: int $0x80\n\tint80_after:\n\t"
                  : "=r" (rsp_now) :: "memory");
    expect_trap(n, 0x80, 0, (uint64_t)int80_after, "int $0x80");
    CHECK_EQ(last_trap.rsp, rsp_now, "int $0x80: saved rsp is the interrupted rsp");

    /* With events unmasked: frame says mask 0 / IF 1; iret restores it. */
    vcpu0()->evtchn_upcall_mask = 0;
    barrier();
    n = trap_count;
    asm volatile ("int $0x80" ::: "memory");
    CHECK_EQ(trap_count - n, 1, "int $0x80 with events enabled");
    CHECK_EQ((last_trap.cs >> 32) & 0xff, 0, "frame saved_upcall_mask = 0");
    CHECK_EQ(last_trap.rflags & 0x200, 0x200, "frame RFLAGS.IF = 1");
    CHECK_EQ(last_trap.upcall_mask, 0, "plain trap gate leaves events unmasked");
    CHECK_EQ(vcpu0()->evtchn_upcall_mask, 0, "iret (IF=1) leaves events unmasked");

    /* Make vector 0x80 an "interrupt gate": TI_MASK_EVENTS. */
    {
        extern char trap_entry_0x80[];
        struct trap_info ti[2];

        memset(ti, 0, sizeof(ti));
        ti[0].vector = 0x80;
        ti[0].flags = 3 | TI_MASK_EVENTS;
        ti[0].cs = FLAT_KERNEL_CS;
        ti[0].address = (uint64_t)trap_entry_0x80;
        CHECK_EQ(hyp_set_trap_table(ti), 0, "set_trap_table single entry update");
        n = trap_count;
        asm volatile ("int $0x80" ::: "memory");
        CHECK_EQ(trap_count - n, 1, "int $0x80 via masking gate");
        CHECK_EQ(last_trap.upcall_mask, 1, "TI_MASK_EVENTS masks events in handler");
        CHECK_EQ(vcpu0()->evtchn_upcall_mask, 0, "iret restores the unmasked state");
        ti[0].flags = 3;
        hyp_set_trap_table(ti);
    }
    vcpu0()->evtchn_upcall_mask = 1;
    barrier();

    /* Registers survive a trap + HYPERVISOR_iret round trip. */
    asm volatile (
        "mov $0x1010101010101010, %%rax\n\t"
        "mov $0x2020202020202020, %%rbx\n\t"
        "mov $0x3030303030303030, %%rcx\n\t"
        "mov $0x4040404040404040, %%rdx\n\t"
        "mov $0x5050505050505050, %%rsi\n\t"
        "mov $0x6060606060606060, %%rdi\n\t"
        "mov $0x7070707070707070, %%r8\n\t"
        "mov $0x8080808080808080, %%r9\n\t"
        "mov $0x9090909090909090, %%r10\n\t"
        "mov $0xa0a0a0a0a0a0a0a0, %%r11\n\t"
        "mov $0xb0b0b0b0b0b0b0b0, %%r12\n\t"
        "mov $0xc0c0c0c0c0c0c0c0, %%r13\n\t"
        "mov $0xd0d0d0d0d0d0d0d0, %%r14\n\t"
        "mov $0xe0e0e0e0e0e0e0e0, %%r15\n\t"
        "regs_ud_insn: ud2\n\t2:\n\t"
        "mov %%rax, saved+0(%%rip)\n\t"
        "mov %%rbx, saved+8(%%rip)\n\t"
        "mov %%rcx, saved+16(%%rip)\n\t"
        "mov %%rdx, saved+24(%%rip)\n\t"
        "mov %%rsi, saved+32(%%rip)\n\t"
        "mov %%rdi, saved+40(%%rip)\n\t"
        "mov %%r8, saved+48(%%rip)\n\t"
        "mov %%r9, saved+56(%%rip)\n\t"
        "mov %%r10, saved+64(%%rip)\n\t"
        "mov %%r11, saved+72(%%rip)\n\t"
        "mov %%r12, saved+80(%%rip)\n\t"
        "mov %%r13, saved+88(%%rip)\n\t"
        "mov %%r14, saved+96(%%rip)\n\t"
        "mov %%r15, saved+104(%%rip)\n\t"
        EXTABLE("regs_ud_insn", "2b")
        ::: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
            "r11", "r12", "r13", "r14", "r15", "memory");
    {
        bool ok = true;
        for ( int i = 0; i < 14; i++ )
            ok &= saved[i] == 0x1010101010101010UL * (uint64_t)(i + 1);
        check(ok, "all GPRs preserved across trap and HYPERVISOR_iret",
              "rax %#lx rcx %#lx r11 %#lx", saved[0], saved[2], saved[9]);
    }

    /* Emulated privileged instructions in guest kernel mode. */
    asm volatile ("mov %%cr3, %0" : "=r" (v));
    CHECK_EQ(v, va_to_mfn((void *)start_info->pt_base) << PAGE_SHIFT,
             "mov from cr3 emulated: current L4 machine address");

    /* Forced-emulation CPUID sees the Xen leaves. */
    {
        uint32_t a = 0x40000000, b, c = 0, d;
        n = trap_count;
        asm volatile ("ud2; .ascii \"xen\"; cpuid"
                      : "+a" (a), "=b" (b), "+c" (c), "=d" (d));
        CHECK_EQ(trap_count - n, 0, "forced-emulation prefix does not trap");
        CHECK(b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e,
              "CPUID 0x40000000 signature XenVMMXenVMM");
        CHECK(a >= 0x40000002 && a < 0x40000100, "CPUID 0x40000000 max leaf");
        a = 0x40000001;
        asm volatile ("ud2; .ascii \"xen\"; cpuid"
                      : "+a" (a), "=b" (b), "+c" (c), "=d" (d));
        CHECK_EQ(a, (4 << 16) | 17, "CPUID 0x40000001 version 4.17");
        a = 0x40000002;
        c = 0;
        asm volatile ("ud2; .ascii \"xen\"; cpuid"
                      : "+a" (a), "=b" (b), "+c" (c), "=d" (d));
        CHECK_EQ(a, 1, "CPUID 0x40000002 one hypercall page");
        CHECK_EQ(b, 0x40000000, "CPUID 0x40000002 hypercall MSR");
    }

    /* set_trap_table argument checking. */
    CHECK_EQ(hyp_set_trap_table((void *)0x1), -EFAULT, "set_trap_table(0x1) -> -EFAULT");
    {
        struct trap_info ti[2];
        memset(ti, 0, sizeof(ti));
        ti[0].vector = 0x81;
        ti[0].address = NONCANON;
        CHECK_EQ(hyp_set_trap_table(ti), -EINVAL,
                 "set_trap_table non-canonical handler -> -EINVAL");
    }
    /* callback_op argument checking. */
    {
        struct callback_register cb;
        struct callback_unregister cu = { CALLBACKTYPE_event, 0 };

        memset(&cb, 0, sizeof(cb));
        cb.type = CALLBACKTYPE_event;
        cb.address = NONCANON;
        CHECK_EQ(hyp_callback_op(CALLBACKOP_register, &cb), -EINVAL,
                 "callback register non-canonical -> -EINVAL");
        cb.type = 6;
        cb.address = (uint64_t)test_main;
        CHECK_EQ(hyp_callback_op(CALLBACKOP_register, &cb), -ENOSYS,
                 "callback register unknown type -> -ENOSYS");
        CHECK_EQ(hyp_callback_op(CALLBACKOP_unregister, &cu), -EINVAL,
                 "unregister event callback -> -EINVAL");
        CHECK_EQ(hyp_callback_op(7, &cb), -ENOSYS, "callback_op unknown cmd -> -ENOSYS");
        CHECK_EQ(hyp_callback_op(CALLBACKOP_register, (void *)0x1), -EFAULT,
                 "callback register bad pointer -> -EFAULT");
    }
    (void)bp_insn; (void)int80_insn;
}
