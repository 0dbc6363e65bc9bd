/* Privileged-instruction emulation for PV guests, following Xen 4.17 (pv/emul-priv-op.c, pv/emul-inv-op.c).
 *
 * A 64-bit PV kernel runs in ring 3, so control-register, debug-register and MSR accesses, port I/O without
 * sufficient IOPL, CLI/STI and a few others raise #GP(0). pv_emulate_privileged() decodes the instruction at
 * the faulting RIP and carries it out with the guest kernel treated as ring 0 (user mode gets the #GP), with
 * Xen's rules for what each access does. The forced-emulation prefix (ud2; .ascii "xen") raises #UD and is
 * handled by pv_emulate_forced(): it emulates the CPUID that follows with the guest's CPUID policy.
 *
 * Port I/O follows Xen's two-level check: the guest must allow itself the access (virtual IOPL from
 * PHYSDEVOP_set_iopl or VMASST architectural_iopl, else its I/O bitmap from PHYSDEVOP_set_iobitmap), then the
 * administrator's rules decide what the access does. Dom0 may use every port except the ones the hypervisor
 * owns (PIC, PIT, the speaker port, PCI configuration data, the console UART); the RTC index/data pair and the
 * PCI CONFIG_ADDRESS register are emulated; any other access reads all ones and ignores writes. */
#include <vesta/irq.h>
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/x86.h>
#include <vesta/x86_decode.h>

#include "emulate.h"

#define X86_EFLAGS_TF (1UL << 8)
#define X86_EFLAGS_DF (1UL << 10)
#define X86_EFLAGS_RF (1UL << 16)
#define X86_CR4_TSD (1UL << 2)
#define X86_CR4_DE (1UL << 3)
#define X86_CR4_MCE (1UL << 6)

#define PFEC_WRITE (1u << 1)
#define PFEC_USER (1u << 2)

#define DR_STEP (1UL << 14)
#define DR6_RESERVED_ONE 0xffff0ff0UL
#define DR6_RESERVED_ZERO 0x1000UL
#define DR7_RESERVED_ONE 0x400UL
#define DR7_RESERVED_ZERO 0xd800UL
#define DR7_GD (1UL << 13)
#define DR7_ACTIVE 0xffUL

#define VMASST_ARCH_IOPL (1UL << VMASST_TYPE_architectural_iopl)

/* ---- Helpers shared with ptwr.c. */

uint64_t *pv_gpr(struct cpu_regs *r, unsigned int n)
{
    switch (n & 15) {
    case 0: return &r->rax;
    case 1: return &r->rcx;
    case 2: return &r->rdx;
    case 3: return &r->rbx;
    case 4: return &r->rsp;
    case 5: return &r->rbp;
    case 6: return &r->rsi;
    case 7: return &r->rdi;
    case 8: return &r->r8;
    case 9: return &r->r9;
    case 10: return &r->r10;
    case 11: return &r->r11;
    case 12: return &r->r12;
    case 13: return &r->r13;
    case 14: return &r->r14;
    default: return &r->r15;
    }
}

/* Xen's pv_inject_event for #PF: the fault address goes to the virtual CR2, and the error code's user bit
 * reflects the guest's mode rather than the hardware's (both guest modes run in ring 3). */
void pv_inject_page_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t addr, uint32_t ec)
{
    if (v->vcpu_info)
        v->vcpu_info->arch.cr2 = addr;
    ec &= ~PFEC_USER;
    if (!v->pv.kernel_mode)
        ec |= PFEC_USER;
    pv_inject_exception(v, regs, TRAP_PF, (int)ec);
}

void pv_emul_done(struct vcpu *v, struct cpu_regs *regs, uint64_t next_rip)
{
    regs->rip = next_rip;
    regs->rflags &= ~X86_EFLAGS_RF;
    if (regs->rflags & X86_EFLAGS_TF) {
        v->pv.dr[6] |= DR_STEP | DR6_RESERVED_ONE;
        pv_inject_exception(v, regs, TRAP_DB, -1);
    }
}

int pv_fetch_insn(struct vcpu *v, struct cpu_regs *regs, struct x86_insn *insn)
{
    uint8_t buf[X86_MAX_INSN_LEN];
    uint64_t rip = regs->rip;
    unsigned int n = 0, first = (unsigned int)MIN((uint64_t)X86_MAX_INSN_LEN, PAGE_SIZE - (rip & (PAGE_SIZE - 1)));
    /* Byte-exact availability: the decoder must know where readable bytes end to fault at the right place. */
    if (guest_range_ok(rip, first)) {
        n = first - (unsigned int)raw_copy_from(buf, (const void *)rip, first);
        if (n == first && first < X86_MAX_INSN_LEN && guest_range_ok(rip + first, X86_MAX_INSN_LEN - first))
            n += (X86_MAX_INSN_LEN - first) -
                 (unsigned int)raw_copy_from(buf + first, (const void *)(rip + first), X86_MAX_INSN_LEN - first);
    }
    int rc = x86_decode(buf, n, insn);
    if (rc == X86_DECODE_SHORT) {
        pv_inject_page_fault(v, regs, rip + insn->len, 0);
        return -EFAULT;
    }
    return rc == X86_DECODE_OK ? 0 : -EINVAL;
}

/* ---- Control and debug registers. */

/* The guest sees its own choice of TSD/DE/FSGSBASE/OSXSAVE (as far as its CPUID policy offers them) and the
 * hardware's PAE, MCE, OSFXSR and OSXMMEXCPT. */
#define CR4_GUEST_BITS (X86_CR4_TSD | X86_CR4_DE | X86_CR4_FSGSBASE | X86_CR4_OSXSAVE)
#define CR4_VISIBLE_BITS (X86_CR4_PAE | X86_CR4_MCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)

uint64_t pv_guest_cr4(const struct vcpu *v) { return (v->emul_cr4 & CR4_GUEST_BITS) | (read_cr4() & CR4_VISIBLE_BITS); }

/* Of the guest's CR4 choices only FSGSBASE reaches the hardware while its vCPU runs: the guest kernel then uses
 * RD/WR{FS,GS}BASE directly, as on Xen. (The hypervisor never relies on FS or GS.) TSD and DE stay virtual. */
void pv_load_guest_cr4(const struct vcpu *v)
{
    uint64_t cr4 = read_cr4(), want = (cr4 & ~X86_CR4_FSGSBASE) | (v->emul_cr4 & X86_CR4_FSGSBASE);
    if (want != cr4)
        write_cr4(want);
}

static uint64_t fixup_guest_cr4(const struct vcpu *v, uint64_t cr4)
{
    if (!pv_policy_has(v->domain, PV_FS_1D, 4))
        cr4 &= ~X86_CR4_TSD;
    if (!pv_policy_has(v->domain, PV_FS_1D, 2))
        cr4 &= ~X86_CR4_DE;
    if (!pv_policy_has(v->domain, 5 /* 7b0 */, 0))
        cr4 &= ~X86_CR4_FSGSBASE;
    cr4 &= ~X86_CR4_OSXSAVE; /* XSAVE is not in Vesta's policy */
    return cr4 & CR4_GUEST_BITS;
}

static bool read_cr(struct vcpu *v, unsigned int cr, uint64_t *val)
{
    switch (cr) {
    case 0:
        *val = (read_cr0() & ~X86_CR0_TS) | (v->pv.ctrlreg0_ts ? X86_CR0_TS : 0);
        return true;
    case 2:
        *val = v->vcpu_info ? v->vcpu_info->arch.cr2 : 0;
        return true;
    case 3: /* xen_pfn_to_cr3(): for a 64-bit PV guest the frame number shifted into place */
        *val = v->pv.kernel_l4 << PAGE_SHIFT;
        return true;
    case 4:
        *val = pv_guest_cr4(v);
        return true;
    default:
        return false;
    }
}

static bool write_cr(struct vcpu *v, unsigned int cr, uint64_t val)
{
    switch (cr) {
    case 0:
        if ((val ^ read_cr0()) & ~X86_CR0_TS) {
            pr_warn("d%uv%u: attempt to change unmodifiable CR0 flags", v->domain->id, v->id);
            return false;
        }
        do_fpu_taskswitch(!!(val & X86_CR0_TS), 0, 0, 0, 0, 0);
        return true;
    case 2:
        if (v->vcpu_info)
            v->vcpu_info->arch.cr2 = val;
        return true;
    case 3:
        return pv_new_guest_cr3(v, val >> PAGE_SHIFT) == 0;
    case 4:
        v->emul_cr4 = fixup_guest_cr4(v, val);
        pv_load_guest_cr4(v);
        return true;
    default:
        return false;
    }
}

uint64_t pv_get_debugreg(const struct vcpu *v, unsigned int reg)
{
    switch (reg) {
    case 6:
        return (v->pv.dr[6] & ~DR6_RESERVED_ZERO) | DR6_RESERVED_ONE;
    case 7:
        return (v->pv.dr[7] & ~DR7_RESERVED_ZERO) | DR7_RESERVED_ONE;
    default:
        return reg < 4 ? v->pv.dr[reg] : 0;
    }
}

/* Xen's set_debugreg() rules. The values are kept for the guest to read back; Vesta does not load guest
 * breakpoints into the hardware debug registers yet. Returns 0, -EPERM/-EINVAL (#GP) or -ENODEV (#UD). */
long pv_set_debugreg(struct vcpu *v, unsigned int reg, uint64_t value)
{
    bool de = pv_guest_cr4(v) & X86_CR4_DE;
    switch (reg) {
    case 0 ... 3:
        if (!guest_range_ok(value, 1))
            return -EPERM;
        v->pv.dr[reg] = value;
        return 0;
    case 4:
    case 6:
        if (reg == 4 && de)
            return -ENODEV;
        if (value != (uint32_t)value)
            return -EINVAL;
        v->pv.dr[6] = (value & ~DR6_RESERVED_ZERO) | DR6_RESERVED_ONE;
        return 0;
    case 5:
    case 7:
        if (reg == 5 && de)
            return -ENODEV;
        if (value != (uint32_t)value)
            return -EINVAL;
        value = (value & ~DR7_RESERVED_ZERO) | DR7_RESERVED_ONE;
        if (value & DR7_GD)
            return -EPERM;
        if (value & DR7_ACTIVE)
            for (unsigned int i = 16; i < 32; i += 4)
                if (((value >> i) & 3) == 2 && !de) /* I/O breakpoints need CR4.DE */
                    return -EPERM;
        v->pv.dr[7] = value;
        return 0;
    default:
        return -EINVAL;
    }
}

/* ---- Port I/O. */

/* Ports the hypervisor keeps from dom0, as Xen's dom0_setup_permissions() and its serial console do. The ACPI PM
 * timer is not listed: Vesta does not use it. */
static const struct {
    uint16_t first, last;
} hv_ports[] = {
    {0x20, 0x21},   /* master PIC */
    {0x40, 0x43},   /* PIT */
    {0x61, 0x61},   /* PIT channel 2 gate / speaker */
    {0xa0, 0xa1},   /* slave PIC */
    {0xcfc, 0xcff}, /* PCI configuration data (0xcf8 is emulated) */
    {0x3f8, 0x3ff}, /* COM1: the hypervisor console */
};

static bool ioports_permitted(const struct domain *d, unsigned int first, unsigned int last)
{
    if (!d->io_all)
        return false;
    for (unsigned int i = 0; i < ARRAY_SIZE(hv_ports); i++)
        if (first <= hv_ports[i].last && last >= hv_ports[i].first)
            return false;
    return true;
}

static bool iopl_ok(const struct vcpu *v)
{
    unsigned int cpl = v->pv.kernel_mode ? (v->domain->vm_assist & VMASST_ARCH_IOPL ? 0 : 1) : 3;
    return cpl <= v->pv.iopl;
}

/* The guest's own permission: IOPL, else its I/O bitmap (unreadable bytes deny). The bitmap is a kernel
 * address, so user-mode accesses look it up in the kernel page tables. */
static bool guest_io_okay(struct vcpu *v, unsigned int port, unsigned int bytes)
{
    if (iopl_ok(v))
        return true;
    if (port + bytes > v->pv.iobmp_limit)
        return false;
    uint8_t map[2] = {0xff, 0xff};
    bool user = !v->pv.kernel_mode;
    if (user)
        toggle_guest_mode(v);
    uint64_t va = v->pv.iobmp_va + (port >> 3);
    if (guest_range_ok(va, 2)) {
        size_t left = raw_copy_from(map, (const void *)va, 2);
        if (left == 2)
            map[0] = 0xff;
        if (left)
            map[1] = 0xff;
    }
    if (user)
        toggle_guest_mode(v);
    unsigned int mask = map[0] | (map[1] << 8);
    return !(mask & (((1u << bytes) - 1) << (port & 7)));
}

/* Direct hardware access: never the 4-byte CONFIG_ADDRESS, never the RTC. */
static bool admin_io_okay(const struct domain *d, unsigned int port, unsigned int bytes)
{
    if (port == 0xcf8 && bytes == 4)
        return false;
    if (port <= 0x71 && port + bytes > 0x70)
        return false;
    return ioports_permitted(d, port, port + bytes - 1);
}

static uint32_t hw_in(unsigned int port, unsigned int bytes)
{
    return bytes == 1 ? inb((uint16_t)port) : bytes == 2 ? inw((uint16_t)port) : inl((uint16_t)port);
}

static void hw_out(unsigned int port, unsigned int bytes, uint32_t val)
{
    if (bytes == 1)
        outb((uint16_t)port, (uint8_t)val);
    else if (bytes == 2)
        outw((uint16_t)port, (uint16_t)val);
    else
        outl((uint16_t)port, val);
}

static spinlock_t io_emul_lock = SPINLOCK_INIT; /* CMOS and PCI configuration index/data pairs */

static bool pci_cfg_enabled(const struct domain *d) { return d->pci_cf8 & 0x80000000u; }

/* The emulated ports, byte (or word) by byte: what Xen's guest_io_read/guest_io_write do once direct access
 * is refused. Unclaimed bytes read as 0xff. */
static uint32_t guest_io_read(struct domain *d, unsigned int port, unsigned int bytes)
{
    if (admin_io_okay(d, port, bytes))
        return hw_in(port, bytes);
    uint32_t data = 0;
    unsigned int shift = 0;
    while (bytes) {
        unsigned int size = 1;
        uint32_t sub = ~0u;
        if (port == 0x70) {
            sub = d->cmos_idx;
        } else if (port == 0x71) {
            if (ioports_permitted(d, 0x70, 0x71)) {
                spin_lock(&io_emul_lock);
                outb(0x70, d->cmos_idx & 0x7f);
                sub = inb(0x71);
                spin_unlock(&io_emul_lock);
            }
        } else if (port == 0xcf8 && bytes == 4) {
            return d->pci_cf8;
        } else if ((port & ~3u) == 0xcfc) {
            size = MIN(bytes, 4 - (port & 3));
            if (size == 3)
                size = 2;
            if (d->privileged && pci_cfg_enabled(d)) {
                unsigned long pf = pci_conf_lock(); /* shared with the hypervisor's own accesses (pci.c) */
                outl(0xcf8, d->pci_cf8);
                sub = hw_in(port, size);
                pci_conf_unlock(pf);
            }
            if (size == 4)
                return sub;
        } else if (ioports_permitted(d, port, port)) {
            if (bytes > 1 && !(port & 1) && ioports_permitted(d, port, port + 1)) {
                sub = inw((uint16_t)port);
                size = 2;
            } else {
                sub = inb((uint16_t)port);
            }
        }
        data |= (sub & ((size == 4 ? 0 : 1u << (size * 8)) - 1)) << shift;
        shift += size * 8;
        port += size;
        bytes -= size;
    }
    return data;
}

static void guest_io_write(struct domain *d, unsigned int port, unsigned int bytes, uint32_t data)
{
    if (admin_io_okay(d, port, bytes)) {
        hw_out(port, bytes, data);
        return;
    }
    while (bytes) {
        unsigned int size = 1;
        if (port == 0x70) {
            d->cmos_idx = (uint8_t)data;
        } else if (port == 0x71) {
            if (ioports_permitted(d, 0x70, 0x71)) {
                spin_lock(&io_emul_lock);
                outb(0x70, d->cmos_idx & 0x7f);
                outb(0x71, (uint8_t)data);
                spin_unlock(&io_emul_lock);
            }
        } else if (port == 0xcf8 && bytes == 4) {
            d->pci_cf8 = data;
            return;
        } else if ((port & ~3u) == 0xcfc) {
            size = MIN(bytes, 4 - (port & 3));
            if (size == 3)
                size = 2;
            if (d->privileged && pci_cfg_enabled(d)) {
                unsigned long pf = pci_conf_lock(); /* shared with the hypervisor's own accesses (pci.c) */
                outl(0xcf8, d->pci_cf8);
                hw_out(port, size, data);
                pci_conf_unlock(pf);
            }
            if (size == 4)
                return;
        } else if (ioports_permitted(d, port, port)) {
            if (bytes > 1 && !(port & 1) && ioports_permitted(d, port, port + 1))
                size = 2;
            hw_out(port, size, data);
        }
        port += size;
        bytes -= size;
        data >>= size * 8;
    }
}

static uint64_t seg_base(const struct x86_insn *in, unsigned int def)
{
    unsigned int seg = in->seg == X86_SEG_NONE ? def : in->seg;
    if (seg == X86_SEG_FS)
        return rdmsr(MSR_FS_BASE);
    if (seg == X86_SEG_GS)
        return rdmsr(MSR_GS_BASE);
    return 0; /* 64-bit mode: the other segments are flat */
}

/* Writes the low `bytes` of val into a register the way IN does: 32-bit results zero-extend. */
static void set_reg_sized(uint64_t *r, unsigned int bytes, uint64_t val)
{
    if (bytes == 4)
        *r = (uint32_t)val;
    else if (bytes == 2)
        *r = (*r & ~0xffffUL) | (val & 0xffff);
    else if (bytes == 1)
        *r = (*r & ~0xffUL) | (val & 0xff);
    else
        *r = val;
}

/* A string I/O instruction does at most this many iterations per trap; the rest restart the instruction, so a
 * long REP INS/OUTS cannot hold the CPU. */
#define IO_REPS_PER_TRAP 1024

static bool emulate_string_io(struct vcpu *v, struct cpu_regs *regs, const struct x86_insn *in, uint64_t next)
{
    bool is_in = in->opcode <= 0x6d;
    unsigned int bytes = (in->opcode & 1) ? (in->opsize ? 2 : 4) : 1;
    unsigned int port = (uint16_t)regs->rdx;
    if (!guest_io_okay(v, port, bytes))
        return false;
    uint64_t count = in->rep ? (in->adsize ? (uint32_t)regs->rcx : regs->rcx) : 1;
    uint64_t *ptr = is_in ? &regs->rdi : &regs->rsi;
    uint64_t base = is_in ? 0 /* always ES */ : seg_base(in, X86_SEG_DS);
    int64_t step = (regs->rflags & X86_EFLAGS_DF) ? -(int64_t)bytes : (int64_t)bytes;
    uint64_t done = 0;
    while (done < count && done < IO_REPS_PER_TRAP) {
        uint64_t off = in->adsize ? (uint32_t)*ptr : *ptr;
        uint64_t addr = base + off;
        if (!guest_range_ok(addr, bytes)) {
            pv_inject_exception(v, regs, TRAP_GP, 0);
            goto out;
        }
        uint32_t data = 0;
        if (is_in) {
            data = guest_io_read(v->domain, port, bytes);
            size_t left = raw_copy_to((void *)addr, &data, bytes);
            if (left) {
                pv_inject_page_fault(v, regs, addr + bytes - left, PFEC_WRITE);
                goto out;
            }
        } else {
            size_t left = raw_copy_from(&data, (const void *)addr, bytes);
            if (left) {
                pv_inject_page_fault(v, regs, addr + bytes - left, 0);
                goto out;
            }
            guest_io_write(v->domain, port, bytes, data);
        }
        set_reg_sized(ptr, in->adsize ? 4 : 8, *ptr + (uint64_t)step);
        done++;
    }
    if (in->rep)
        set_reg_sized(&regs->rcx, in->adsize ? 4 : 8, count - done);
    if (done == count)
        pv_emul_done(v, regs, next);
    return true;
out:
    if (in->rep)
        set_reg_sized(&regs->rcx, in->adsize ? 4 : 8, count - done);
    return true;
}

static bool emulate_io(struct vcpu *v, struct cpu_regs *regs, const struct x86_insn *in, uint64_t next)
{
    uint8_t op = in->opcode;
    unsigned int bytes = (op & 1) ? (in->opsize ? 2 : 4) : 1;
    unsigned int port = (op & 8) ? (uint16_t)regs->rdx : (unsigned int)in->imm;
    if (!guest_io_okay(v, port, bytes))
        return false;
    if (op & 2)
        guest_io_write(v->domain, port, bytes, (uint32_t)regs->rax);
    else
        set_reg_sized(&regs->rax, bytes, guest_io_read(v->domain, port, bytes));
    pv_emul_done(v, regs, next);
    return true;
}

/* ---- The #GP(0) path. */

static void emulate_cpuid(struct vcpu *v, struct cpu_regs *regs)
{
    uint32_t a, b, c, d;
    pv_cpuid(v, (uint32_t)regs->rax, (uint32_t)regs->rcx, &a, &b, &c, &d);
    regs->rax = a;
    regs->rbx = b;
    regs->rcx = c;
    regs->rdx = d;
}

static void gp0(struct vcpu *v, struct cpu_regs *regs) { pv_inject_exception(v, regs, TRAP_GP, 0); }
static void ud(struct vcpu *v, struct cpu_regs *regs) { pv_inject_exception(v, regs, TRAP_UD, -1); }

/* Instructions of the 0F map. Returns false for "not emulated" (the caller injects the original #GP). */
static bool emulate_0f(struct vcpu *v, struct cpu_regs *regs, const struct x86_insn *in, uint64_t next)
{
    bool ring0 = v->pv.kernel_mode;
    uint64_t val;
    switch (in->opcode) {
    case 0x01: /* rdtscp is the only group-7 form that traps here (with CR4.TSD) */
        if (in->modrm != 0xf9)
            return false;
        if ((pv_guest_cr4(v) & X86_CR4_TSD) && !ring0)
            return false;
        val = rdtsc();
        regs->rax = (uint32_t)val;
        regs->rdx = val >> 32;
        regs->rcx = v->tsc_aux;
        break;
    case 0x06: /* clts */
        if (!ring0)
            return false;
        do_fpu_taskswitch(0, 0, 0, 0, 0, 0);
        break;
    case 0x09: /* wbinvd (and wbnoinvd): only for a domain with hardware access; silently ignored otherwise */
        if (!ring0)
            return false;
        if (v->domain->io_all)
            __asm__ volatile("wbinvd" ::: "memory");
        break;
    case 0x20: /* mov %crN, reg */
        if (!ring0 || !read_cr(v, in->reg, &val))
            return false;
        *pv_gpr(regs, in->rm) = val;
        break;
    case 0x22: /* mov reg, %crN */
        if (!ring0 || !write_cr(v, in->reg, *pv_gpr(regs, in->rm)))
            return false;
        break;
    case 0x21: /* mov %drN, reg */
        if (!ring0)
            return false;
        if (in->reg > 7 || ((in->reg == 4 || in->reg == 5) && (pv_guest_cr4(v) & X86_CR4_DE))) {
            ud(v, regs);
            return true;
        }
        *pv_gpr(regs, in->rm) = pv_get_debugreg(v, in->reg == 4 ? 6 : in->reg == 5 ? 7 : in->reg);
        break;
    case 0x23: { /* mov reg, %drN */
        if (!ring0)
            return false;
        bool dr7_was_active = (v->pv.dr[7] & 0xff) != 0;
        long rc = in->reg > 7 ? -ENODEV : pv_set_debugreg(v, in->reg, *pv_gpr(regs, in->rm));
        if (!rc) /* grant area: the running vCPU's debug registers are live in the CPU */
            pv_debugreg_written(v, in->reg == 4 ? 6 : in->reg == 5 ? 7 : in->reg, dr7_was_active);
        if (rc == -ENODEV) {
            ud(v, regs);
            return true;
        }
        if (rc) {
            gp0(v, regs);
            return true;
        }
        break;
    }
    case 0x30: /* wrmsr */
        if (!ring0)
            return false;
        if (pv_wrmsr(v, (uint32_t)regs->rcx, (regs->rdx << 32) | (uint32_t)regs->rax)) {
            gp0(v, regs);
            return true;
        }
        break;
    case 0x32: /* rdmsr */
        if (!ring0)
            return false;
        if (pv_rdmsr(v, (uint32_t)regs->rcx, &val)) {
            gp0(v, regs);
            return true;
        }
        regs->rax = (uint32_t)val;
        regs->rdx = val >> 32;
        break;
    case 0x31: /* rdtsc */
        if ((pv_guest_cr4(v) & X86_CR4_TSD) && !ring0)
            return false;
        val = rdtsc();
        regs->rax = (uint32_t)val;
        regs->rdx = val >> 32;
        break;
    case 0xa2: /* cpuid: traps only with hardware CPUID faulting */
        if (v->cpuid_faulting && !ring0)
            return false;
        emulate_cpuid(v, regs);
        break;
    default:
        return false;
    }
    pv_emul_done(v, regs, next);
    return true;
}

bool pv_emulate_privileged(struct vcpu *v, struct cpu_regs *regs)
{
    struct x86_insn in;
    int rc = pv_fetch_insn(v, regs, &in);
    if (rc == -EFAULT)
        return true; /* #PF injected */
    if (rc)
        return false;
    uint64_t next = regs->rip + in.len;
    if (in.lock)
        return false;
    if (in.map == X86_MAP_0F)
        return emulate_0f(v, regs, &in, next);
    if (in.map != X86_MAP_1B)
        return false;
    switch (in.opcode) {
    case 0x6c ... 0x6f:
        return emulate_string_io(v, regs, &in, next);
    case 0xe4 ... 0xe7:
    case 0xec ... 0xef:
        return emulate_io(v, regs, &in, next);
    case 0xfa: /* cli, sti: a no-op with enough virtual IOPL (events are masked through vcpu_info instead) */
    case 0xfb:
        if (!iopl_ok(v))
            return false;
        pv_emul_done(v, regs, next);
        return true;
    default:
        return false;
    }
}

/* ---- The #UD path: ud2; .ascii "xen"; cpuid. */

bool pv_emulate_forced(struct vcpu *v, struct cpu_regs *regs)
{
    static const uint8_t sig[5] = {0x0f, 0x0b, 'x', 'e', 'n'};
    uint8_t b[7];
    uint64_t rip = regs->rip;
    for (unsigned int i = 0; i < sizeof(b); i++) {
        if (!guest_range_ok(rip + i, 1) || raw_copy_from(&b[i], (const void *)(rip + i), 1)) {
            /* Xen reads the signature, then the two opcode bytes, each as one copy: fault at the first byte
             * that could not be read. */
            pv_inject_page_fault(v, regs, rip + i, 0);
            return true;
        }
        if (i == sizeof(sig) - 1 && memcmp(b, sig, sizeof(sig)))
            return false;
    }
    if (b[5] != 0x0f || b[6] != 0xa2)
        return false;
    if (v->cpuid_faulting && !v->pv.kernel_mode) {
        regs->rip = rip + sizeof(sig);
        pv_inject_exception(v, regs, TRAP_GP, 0);
        return true;
    }
    emulate_cpuid(v, regs);
    pv_emul_done(v, regs, rip + sizeof(b));
    return true;
}
