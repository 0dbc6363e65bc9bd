/* Writable page tables (VMASST_TYPE_writable_pagetables), following Xen 4.17's pv/ro-page-fault.c.
 * (For the hardware domain Xen takes this path even without the assist: its fault handler tries read-only MMIO
 * emulation for every write to a present page, and that falls back to the page-table emulator.)
 *
 * A guest that enabled the assist may write its own L1 page-table entries directly, even though the tables
 * are mapped read-only: the write faults, and if the guest kernel was storing into a validated L1 table of its
 * own, the store is decoded and carried out as a validated entry update (the same rules and references as
 * mmu_update, through pv_write_l1_entry in mm.c), then the guest resumes after the instruction. Anything else
 * (user mode, other tables, stores that validation refuses, instructions this emulator does not model) leaves
 * the #PF to be delivered to the guest, as Xen does.
 *
 * Modelled stores: MOV (register or immediate), XCHG, CMPXCHG, OR/AND/XOR with a register or immediate source,
 * and BTS/BTR/BTC, with or without LOCK, of 1, 2, 4 or 8 bytes. Narrower stores are merged into the 8-byte entry
 * and applied as a compare-exchange against the value they were merged with; if the entry changed meanwhile,
 * the guest simply re-executes the instruction, as with Xen's emulator. */
#include <vesta/errno.h>
#include <vesta/guest_access.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/x86.h>
#include <vesta/x86_decode.h>

#include "emulate.h"

#define PFEC_RSVD (1u << 3)
#define PFEC_INSN (1u << 4)

#define EFL_CF (1UL << 0)
#define EFL_PF (1UL << 2)
#define EFL_AF (1UL << 4)
#define EFL_ZF (1UL << 6)
#define EFL_SF (1UL << 7)
#define EFL_OF (1UL << 11)
#define EFL_ARITH (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF)

/* The leaf entry that maps va in the current (kernel) page tables, or 0. */
static uint64_t leaf_pte(uint64_t va)
{
    mfn_t t = read_cr3() >> PAGE_SHIFT;
    for (unsigned int level = 4;; level--) {
        if (!mfn_valid(t))
            return 0;
        uint64_t e = ((volatile uint64_t *)mfn_to_virt(t))[(va >> (12 + 9 * (level - 1))) & 511];
        if (!(e & _PAGE_PRESENT) || (level > 1 && (e & _PAGE_PSE)))
            return 0;
        if (level == 1)
            return e;
        t = (e & PTE_ADDR_MASK) >> PAGE_SHIFT;
    }
}

static uint64_t width_mask(unsigned int bytes) { return bytes == 8 ? ~0UL : (1UL << (bytes * 8)) - 1; }

static bool parity_even(uint64_t v) { return !__builtin_parityl(v & 0xff); }

/* Flags of a logical operation (OR/AND/XOR) or of CMP (dst - src), computed at the operand width. */
static uint64_t logic_flags(uint64_t res, unsigned int bytes)
{
    res &= width_mask(bytes);
    uint64_t f = 0;
    if (!res)
        f |= EFL_ZF;
    if (res >> (bytes * 8 - 1))
        f |= EFL_SF;
    if (parity_even(res))
        f |= EFL_PF;
    return f;
}

static uint64_t sub_flags(uint64_t dst, uint64_t src, unsigned int bytes)
{
    uint64_t m = width_mask(bytes);
    dst &= m;
    src &= m;
    uint64_t res = (dst - src) & m, f = logic_flags(res, bytes);
    if (dst < src)
        f |= EFL_CF;
    if ((((dst ^ src) & (dst ^ res)) >> (bytes * 8 - 1)) & 1)
        f |= EFL_OF;
    if ((dst ^ src ^ res) & 0x10)
        f |= EFL_AF;
    return f;
}

static void set_flags(struct cpu_regs *regs, uint64_t mask, uint64_t val)
{
    regs->rflags = (regs->rflags & ~mask) | (val & mask);
}

static uint64_t reg_value(struct cpu_regs *regs, const struct x86_insn *in, unsigned int reg, unsigned int bytes)
{
    /* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
    if (bytes == 1 && !in->rex && reg >= 4 && reg < 8)
        return (*pv_gpr(regs, reg - 4) >> 8) & 0xff;
    return *pv_gpr(regs, reg) & width_mask(bytes);
}

static void set_reg_value(struct cpu_regs *regs, const struct x86_insn *in, unsigned int reg, unsigned int bytes,
                          uint64_t val)
{
    if (bytes == 1 && !in->rex && reg >= 4 && reg < 8) {
        uint64_t *r = pv_gpr(regs, reg - 4);
        *r = (*r & ~0xff00UL) | ((val & 0xff) << 8);
        return;
    }
    uint64_t *r = pv_gpr(regs, reg);
    if (bytes == 4)
        *r = (uint32_t)val;
    else
        *r = (*r & ~width_mask(bytes)) | (val & width_mask(bytes));
}

enum op { OP_MOV, OP_XCHG, OP_CMPXCHG, OP_OR, OP_AND, OP_XOR, OP_BTS, OP_BTR, OP_BTC };

struct store {
    enum op op;
    unsigned int bytes;
    uint64_t src;       /* register or immediate operand */
    int64_t bit_disp;   /* BTx with a register offset: bytes beyond the operand address */
};

/* Classifies the instruction; false if it is not a store this emulator models. */
static bool classify(struct cpu_regs *regs, const struct x86_insn *in, struct store *s)
{
    if (!in->mem)
        return false;
    unsigned int wide = in->op_bytes;
    s->bit_disp = 0;
    if (in->map == X86_MAP_1B) {
        uint8_t op = in->opcode;
        s->bytes = (op & 1) ? wide : 1;
        switch (op) {
        case 0x88: case 0x89: s->op = OP_MOV; break;
        case 0x86: case 0x87: s->op = OP_XCHG; break;
        case 0x08: case 0x09: s->op = OP_OR; break;
        case 0x20: case 0x21: s->op = OP_AND; break;
        case 0x30: case 0x31: s->op = OP_XOR; break;
        case 0xc6: case 0xc7:
            if ((in->modrm >> 3) & 7)
                return false;
            s->op = OP_MOV;
            s->src = (uint64_t)x86_insn_simm(in);
            return true;
        case 0x80: case 0x81: case 0x83:
            s->bytes = op == 0x80 ? 1 : wide;
            switch ((in->modrm >> 3) & 7) {
            case 1: s->op = OP_OR; break;
            case 4: s->op = OP_AND; break;
            case 6: s->op = OP_XOR; break;
            default: return false;
            }
            s->src = (uint64_t)x86_insn_simm(in);
            return true;
        default:
            return false;
        }
        s->src = reg_value(regs, in, in->reg, s->bytes);
        return true;
    }
    if (in->map != X86_MAP_0F)
        return false;
    s->bytes = wide;
    switch (in->opcode) {
    case 0xb0:
    case 0xb1:
        s->op = OP_CMPXCHG;
        s->bytes = in->opcode == 0xb0 ? 1 : wide;
        s->src = reg_value(regs, in, in->reg, s->bytes);
        return true;
    case 0xab: case 0xb3: case 0xbb: {
        s->op = in->opcode == 0xab ? OP_BTS : in->opcode == 0xb3 ? OP_BTR : OP_BTC;
        /* A register bit offset is signed and may reach outside the operand. */
        unsigned int bits = s->bytes * 8;
        int64_t off = s->bytes == 8 ? (int64_t)*pv_gpr(regs, in->reg)
                      : s->bytes == 4 ? (int32_t)*pv_gpr(regs, in->reg) : (int16_t)*pv_gpr(regs, in->reg);
        s->bit_disp = (off >> (bits == 64 ? 6 : bits == 32 ? 5 : 4)) * (int64_t)s->bytes;
        s->src = (uint64_t)off & (bits - 1);
        return true;
    }
    case 0xba:
        switch ((in->modrm >> 3) & 7) {
        case 5: s->op = OP_BTS; break;
        case 6: s->op = OP_BTR; break;
        case 7: s->op = OP_BTC; break;
        default: return false;
        }
        s->src = in->imm & (s->bytes * 8 - 1);
        return true;
    default:
        return false;
    }
}

bool pv_handle_pt_write_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2)
{
    struct domain *d = v->domain;
    /* Xen's read-only-MMIO path emulates the hardware domain's page-table stores whatever its assists. */
    bool ptwr = (d->vm_assist & (1UL << VMASST_TYPE_writable_pagetables)) || d->privileged;
    if (!ptwr || !v->pv.kernel_mode ||
        (regs->error_code & (PFEC_RSVD | PFEC_INSN)))
        return false;
    uint64_t pte = leaf_pte(cr2);
    if ((pte & (_PAGE_PRESENT | _PAGE_RW)) != _PAGE_PRESENT)
        return false;
    mfn_t table = (pte & PTE_ADDR_MASK) >> PAGE_SHIFT;
    if (!mfn_valid(table) || !pv_get_page(d, table))
        return false;
    bool handled = false;
    if (pv_table_level(table) != 1)
        goto out;

    struct x86_insn in;
    int rc = pv_fetch_insn(v, regs, &in);
    if (rc) {
        handled = rc == -EFAULT; /* the fetch fault was injected */
        goto out;
    }
    struct store s;
    if (!classify(regs, &in, &s))
        goto out;
    uint64_t gpr[16];
    for (unsigned int i = 0; i < 16; i++)
        gpr[i] = *pv_gpr(regs, i);
    uint64_t next = regs->rip + in.len;
    uint64_t base = in.seg == X86_SEG_FS ? rdmsr(MSR_FS_BASE) : in.seg == X86_SEG_GS ? rdmsr(MSR_GS_BASE) : 0;
    uint64_t addr = base + x86_insn_ea(&in, gpr, next) + (uint64_t)s.bit_disp;
    /* Like Xen: only naturally aligned stores within the faulting page. */
    if (((addr ^ cr2) & PAGE_MASK) || (addr & (s.bytes - 1)))
        goto out;

    unsigned int index = (addr & (PAGE_SIZE - 1)) >> 3, shift = (addr & 7) * 8;
    uint64_t mask = width_mask(s.bytes) << shift;
    uint64_t full = __atomic_load_n((uint64_t *)mfn_to_virt(table) + index, __ATOMIC_ACQUIRE);
    uint64_t old = (full & mask) >> shift, val, flags_mask = 0, flags = 0;
    bool store = true;
    switch (s.op) {
    case OP_MOV:
    case OP_XCHG:
        val = s.src;
        break;
    case OP_OR:
    case OP_AND:
    case OP_XOR:
        val = s.op == OP_OR ? old | s.src : s.op == OP_AND ? old & s.src : old ^ s.src;
        flags_mask = EFL_ARITH;
        flags = logic_flags(val, s.bytes);
        break;
    case OP_CMPXCHG: {
        uint64_t acc = *pv_gpr(regs, 0) & width_mask(s.bytes);
        flags_mask = EFL_ARITH;
        flags = sub_flags(acc, old, s.bytes);
        store = acc == old;
        val = s.src;
        break;
    }
    default: { /* BTS, BTR, BTC */
        uint64_t bit = 1UL << s.src;
        flags_mask = EFL_CF;
        flags = (old & bit) ? EFL_CF : 0;
        val = s.op == OP_BTS ? old | bit : s.op == OP_BTR ? old & ~bit : old ^ bit;
        break;
    }
    }
    if (store) {
        uint64_t new = (full & ~mask) | ((val << shift) & mask);
        /* A full-width MOV replaces the entry; everything else was computed from `full` and must still find it. */
        bool plain = s.op == OP_MOV && s.bytes == 8;
        uint64_t expected = full;
        rc = pv_write_l1_entry(d, table, index, new, plain ? NULL : &expected);
        if (rc == -EAGAIN) {
            handled = true; /* the entry changed under us: re-execute the instruction */
            goto out;
        }
        if (rc) {
            pr_debug("d%uv%u: writable page tables: store of %#lx to %#lx refused (%d)", d->id, v->id, new, addr,
                     rc);
            goto out;
        }
    }
    if (s.op == OP_XCHG)
        set_reg_value(regs, &in, in.reg, s.bytes, old);
    if (s.op == OP_CMPXCHG && !store)
        set_reg_value(regs, &in, 0, s.bytes, old);
    set_flags(regs, flags_mask, flags);
    pv_emul_done(v, regs, next);
    handled = true;
out:
    pv_put_page(table);
    return handled;
}
