/* 64-bit x86 instruction decoder: see vesta/x86_decode.h. Tables follow the opcode maps of the Intel SDM
 * volume 2 appendix A and the AMD APM volume 3, restricted to 64-bit mode. */
#include <vesta/x86_decode.h>

/* What follows an opcode. */
#define F_MODRM 0x01
#define F_IMM8 0x02
#define F_IMM16 0x04
#define F_IMMZ 0x08   /* 2 bytes with 0x66, else 4 (sign-extended to 64 under REX.W) */
#define F_IMMV 0x10   /* MOV r, imm: 8 bytes with REX.W, 2 with 0x66, else 4 */
#define F_MOFFS 0x20  /* MOV moffs: 8 bytes, 4 with 0x67 */
#define F_BAD 0x40    /* invalid in 64-bit mode, or refused (VEX/EVEX/XOP, 3DNow!) */
#define F_GRP3 0x80   /* F6/F7: immediate only for /0 and /1 */

static uint8_t onebyte_flags(uint8_t op)
{
    if (op < 0x40) {
        switch (op & 7) {
        case 0: case 1: case 2: case 3:
            return F_MODRM;
        case 4:
            return F_IMM8;
        case 5:
            return F_IMMZ;
        default:
            /* push/pop of segment registers, DAA/DAS/AAA/AAS: invalid; 26/2e/36/3e are prefixes, 0f an escape */
            return F_BAD;
        }
    }
    switch (op) {
    case 0x40 ... 0x4f: /* REX, consumed as a prefix */
    case 0x50 ... 0x5f:
        return 0;
    case 0x60 ... 0x62: /* pusha, popa, bound / EVEX */
        return F_BAD;
    case 0x63:
        return F_MODRM;
    case 0x68:
        return F_IMMZ;
    case 0x69:
        return F_MODRM | F_IMMZ;
    case 0x6a:
        return F_IMM8;
    case 0x6b:
        return F_MODRM | F_IMM8;
    case 0x6c ... 0x6f:
        return 0;
    case 0x70 ... 0x7f:
        return F_IMM8;
    case 0x80:
    case 0x83:
        return F_MODRM | F_IMM8;
    case 0x81:
        return F_MODRM | F_IMMZ;
    case 0x82:
        return F_BAD;
    case 0x84 ... 0x8f:
        return F_MODRM;
    case 0x90 ... 0x99:
    case 0x9b ... 0x9f:
        return 0;
    case 0x9a: /* far call ptr16:32 */
        return F_BAD;
    case 0xa0 ... 0xa3:
        return F_MOFFS;
    case 0xa4 ... 0xa7:
    case 0xaa ... 0xaf:
        return 0;
    case 0xa8:
        return F_IMM8;
    case 0xa9:
        return F_IMMZ;
    case 0xb0 ... 0xb7:
        return F_IMM8;
    case 0xb8 ... 0xbf:
        return F_IMMV;
    case 0xc0:
    case 0xc1:
    case 0xc6:
        return F_MODRM | F_IMM8;
    case 0xc7:
        return F_MODRM | F_IMMZ;
    case 0xc2:
    case 0xca:
        return F_IMM16;
    case 0xc3:
    case 0xc9:
    case 0xcb:
    case 0xcc:
    case 0xcf:
        return 0;
    case 0xc4: /* VEX3 / LES */
    case 0xc5: /* VEX2 / LDS */
    case 0xce: /* into */
        return F_BAD;
    case 0xc8: /* enter imm16, imm8: handled by the caller */
        return F_IMM16;
    case 0xcd:
        return F_IMM8;
    case 0xd0 ... 0xd3:
        return F_MODRM;
    case 0xd4 ... 0xd6:
        return F_BAD;
    case 0xd7:
        return 0;
    case 0xd8 ... 0xdf:
        return F_MODRM;
    case 0xe0 ... 0xe7:
        return F_IMM8;
    case 0xe8:
    case 0xe9:
        return F_IMMZ;
    case 0xea:
        return F_BAD;
    case 0xeb:
        return F_IMM8;
    case 0xec ... 0xef:
    case 0xf1:
    case 0xf4:
    case 0xf5:
    case 0xf8 ... 0xfd:
        return 0;
    case 0xf6:
    case 0xf7:
        return F_MODRM | F_GRP3;
    case 0xfe:
    case 0xff:
        return F_MODRM;
    default:
        return F_BAD; /* prefixes reaching here mean a malformed sequence */
    }
}

static uint8_t twobyte_flags(uint8_t op)
{
    switch (op) {
    case 0x05 ... 0x09: /* syscall, clts, sysret, invd, wbinvd */
    case 0x0b:          /* ud2 */
    case 0x0e:          /* femms */
    case 0x30 ... 0x35: /* wrmsr, rdtsc, rdmsr, rdpmc, sysenter, sysexit */
    case 0x37:          /* getsec */
    case 0x77:          /* emms */
    case 0xa0 ... 0xa2: /* push fs, pop fs, cpuid */
    case 0xa8 ... 0xaa: /* push gs, pop gs, rsm */
    case 0xc8 ... 0xcf: /* bswap */
        return 0;
    case 0x04:
    case 0x0a:
    case 0x0c:
    case 0x0f: /* 3DNow!: refused */
    case 0x24 ... 0x27:
    case 0x36:
    case 0x39:
    case 0x3b ... 0x3f:
    case 0x7a:
    case 0x7b:
    case 0xa6:
    case 0xa7:
    case 0xff: /* ud0 has a ModRM on some parts and not on others */
        return F_BAD;
    case 0x70 ... 0x73:
    case 0xa4:
    case 0xac:
    case 0xba:
    case 0xc2:
    case 0xc4 ... 0xc6:
        return F_MODRM | F_IMM8;
    case 0x80 ... 0x8f:
        return F_IMMZ;
    default:
        return F_MODRM;
    }
}

static uint8_t threebyte_flags(enum x86_map map) { return map == X86_MAP_0F3A ? F_MODRM | F_IMM8 : F_MODRM; }

/* Reads little-endian n bytes at *pos; returns false (with *pos past the end) if they are not all there. */
static bool take(const uint8_t *buf, unsigned int avail, unsigned int *pos, unsigned int n, uint64_t *out)
{
    if (*pos + n > avail) {
        *pos = avail;
        return false;
    }
    uint64_t v = 0;
    for (unsigned int i = 0; i < n; i++)
        v |= (uint64_t)buf[*pos + i] << (8 * i);
    *pos += n;
    *out = v;
    return true;
}

static int decode_modrm(const uint8_t *buf, unsigned int avail, unsigned int *pos, struct x86_insn *in)
{
    uint64_t b;
    if (!take(buf, avail, pos, 1, &b))
        return X86_DECODE_SHORT;
    in->has_modrm = true;
    in->modrm = (uint8_t)b;
    in->mod = in->modrm >> 6;
    in->reg = ((in->modrm >> 3) & 7) | ((in->rex & X86_REX_R) ? 8 : 0);
    in->rm = (in->modrm & 7) | ((in->rex & X86_REX_B) ? 8 : 0);
    in->base = in->index = X86_REG_NONE;
    in->scale = 1;
    if (in->mod == 3)
        return X86_DECODE_OK;
    in->mem = true;
    unsigned int rm = in->modrm & 7, disp_bytes = in->mod == 1 ? 1 : in->mod == 2 ? 4 : 0;
    if (rm == 4) {
        if (!take(buf, avail, pos, 1, &b))
            return X86_DECODE_SHORT;
        unsigned int sib = (unsigned int)b;
        unsigned int idx = ((sib >> 3) & 7) | ((in->rex & X86_REX_X) ? 8 : 0);
        unsigned int base = (sib & 7) | ((in->rex & X86_REX_B) ? 8 : 0);
        in->scale = (uint8_t)(1u << (sib >> 6));
        if (idx != X86_REG_RSP)
            in->index = (int8_t)idx;
        if ((sib & 7) == 5 && in->mod == 0)
            disp_bytes = 4; /* no base register */
        else
            in->base = (int8_t)base;
    } else if (rm == 5 && in->mod == 0) {
        in->base = X86_REG_RIP;
        disp_bytes = 4;
    } else {
        in->base = (int8_t)in->rm;
    }
    if (disp_bytes) {
        if (!take(buf, avail, pos, disp_bytes, &b))
            return X86_DECODE_SHORT;
        in->disp = disp_bytes == 1 ? (int8_t)b : (int32_t)(uint32_t)b;
    }
    return X86_DECODE_OK;
}

int x86_decode(const uint8_t *buf, unsigned int avail, struct x86_insn *in)
{
    *in = (struct x86_insn){.seg = X86_SEG_NONE, .base = X86_REG_NONE, .index = X86_REG_NONE, .scale = 1};
    if (avail > X86_MAX_INSN_LEN)
        avail = X86_MAX_INSN_LEN;
    unsigned int pos = 0;
    int rc;
    uint64_t b;

    /* Legacy prefixes in any order; a REX prefix counts only directly before the opcode. */
    for (;;) {
        if (!take(buf, avail, &pos, 1, &b)) {
            rc = X86_DECODE_SHORT;
            goto out;
        }
        uint8_t p = (uint8_t)b;
        if (p >= 0x40 && p <= 0x4f) {
            in->rex = p;
            continue;
        }
        bool legacy = true;
        switch (p) {
        case 0x66: in->opsize = true; break;
        case 0x67: in->adsize = true; break;
        case 0xf0: in->lock = true; break;
        case 0xf2: in->repne = true; in->rep = false; break;
        case 0xf3: in->rep = true; in->repne = false; break;
        /* CS/SS/DS/ES overrides are ignored in 64-bit mode but still decode. */
        case 0x26: in->seg = X86_SEG_ES; break;
        case 0x2e: in->seg = X86_SEG_CS; break;
        case 0x36: in->seg = X86_SEG_SS; break;
        case 0x3e: in->seg = X86_SEG_DS; break;
        case 0x64: in->seg = X86_SEG_FS; break;
        case 0x65: in->seg = X86_SEG_GS; break;
        default: legacy = false; break;
        }
        if (!legacy) {
            pos--;
            break;
        }
        in->rex = 0; /* a REX followed by a legacy prefix is ignored */
    }

    take(buf, avail, &pos, 1, &b);
    uint8_t flags;
    in->opcode = (uint8_t)b;
    if (in->opcode != 0x0f) {
        in->map = X86_MAP_1B;
        flags = onebyte_flags(in->opcode);
    } else {
        if (!take(buf, avail, &pos, 1, &b)) {
            rc = X86_DECODE_SHORT;
            goto out;
        }
        in->opcode = (uint8_t)b;
        if (in->opcode == 0x38 || in->opcode == 0x3a) {
            in->map = in->opcode == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
            if (!take(buf, avail, &pos, 1, &b)) {
                rc = X86_DECODE_SHORT;
                goto out;
            }
            in->opcode = (uint8_t)b;
            flags = threebyte_flags(in->map);
        } else {
            in->map = X86_MAP_0F;
            flags = twobyte_flags(in->opcode);
        }
    }
    if (flags & F_BAD) {
        rc = X86_DECODE_BAD;
        goto out;
    }
    in->op_bytes = (in->rex & X86_REX_W) ? 8 : in->opsize ? 2 : 4;

    if (flags & F_MODRM) {
        rc = decode_modrm(buf, avail, &pos, in);
        if (rc)
            goto out;
        if ((flags & F_GRP3) && ((in->modrm >> 3) & 7) < 2)
            flags |= in->opcode == 0xf6 ? F_IMM8 : F_IMMZ;
    }

    unsigned int imm = 0;
    if (flags & F_IMM8)
        imm = 1;
    else if (flags & F_IMM16)
        imm = 2;
    else if (flags & F_IMMZ)
        imm = in->opsize && !(in->rex & X86_REX_W) ? 2 : 4;
    else if (flags & F_IMMV)
        imm = in->op_bytes;
    else if (flags & F_MOFFS)
        imm = in->adsize ? 4 : 8;
    if (imm) {
        if (!take(buf, avail, &pos, imm, &b)) {
            rc = X86_DECODE_SHORT;
            goto out;
        }
        in->imm = b;
        in->imm_bytes = (uint8_t)imm;
    }
    if (in->map == X86_MAP_1B && in->opcode == 0xc8) { /* enter: a second, one-byte immediate */
        if (!take(buf, avail, &pos, 1, &b)) {
            rc = X86_DECODE_SHORT;
            goto out;
        }
        in->imm2 = (uint8_t)b;
    }
    rc = X86_DECODE_OK;
out:
    in->len = (uint8_t)pos;
    /* Past 15 bytes an instruction is invalid even if more bytes would complete it. */
    if (rc == X86_DECODE_SHORT && pos >= X86_MAX_INSN_LEN)
        rc = X86_DECODE_BAD;
    return rc;
}

uint64_t x86_insn_ea(const struct x86_insn *in, const uint64_t gpr[16], uint64_t next_rip)
{
    uint64_t ea = (uint64_t)(int64_t)in->disp;
    if (in->base == X86_REG_RIP)
        ea += next_rip;
    else if (in->base != X86_REG_NONE)
        ea += gpr[in->base];
    if (in->index != X86_REG_NONE)
        ea += gpr[in->index] * in->scale;
    return in->adsize ? (uint32_t)ea : ea;
}

int64_t x86_insn_simm(const struct x86_insn *in)
{
    switch (in->imm_bytes) {
    case 1: return (int8_t)in->imm;
    case 2: return (int16_t)in->imm;
    case 4: return (int32_t)in->imm;
    default: return (int64_t)in->imm;
    }
}
