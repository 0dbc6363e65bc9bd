/* A length-and-operand decoder for 64-bit x86 instructions.
 *
 * It does not execute anything: it finds the prefixes, the opcode (one-byte, 0F, 0F38 or 0F3A map), the ModRM
 * operands with their memory address expression, and the immediate. The PV emulation paths (privileged
 * instructions, writable page tables) use it on bytes copied from guest memory, so it must cope with any input:
 * it never reads beyond the length it is given and reports truncated or unsupported encodings instead. Only
 * 64-bit code is decoded (Vesta runs 64-bit PV guests only); VEX/EVEX/XOP encoded instructions are refused. */
#ifndef VESTA_X86_DECODE_H
#define VESTA_X86_DECODE_H

#include <vesta/types.h>

#define X86_MAX_INSN_LEN 15

enum x86_map { X86_MAP_1B, X86_MAP_0F, X86_MAP_0F38, X86_MAP_0F3A };

/* Segment overrides (ES..GS in encoding order); X86_SEG_NONE when absent. */
enum x86_seg { X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS, X86_SEG_NONE = 7 };

/* General registers in encoding order (RAX=0 .. R15=15); X86_REG_RIP only as a memory base. */
#define X86_REG_NONE (-1)
#define X86_REG_RSP 4
#define X86_REG_RIP 16

#define X86_REX_B 0x1
#define X86_REX_X 0x2
#define X86_REX_R 0x4
#define X86_REX_W 0x8

struct x86_insn {
    uint8_t len;          /* total length in bytes */
    uint8_t map;          /* enum x86_map */
    uint8_t opcode;       /* the byte after the escape bytes */
    uint8_t rex;          /* 0 if no REX prefix, else 0x40..0x4f */
    uint8_t seg;          /* enum x86_seg */
    bool opsize;          /* 0x66 */
    bool adsize;          /* 0x67 */
    bool lock;            /* 0xf0 */
    bool rep;             /* 0xf3 */
    bool repne;           /* 0xf2 */
    uint8_t op_bytes;     /* operand size of the non-byte forms: 8 with REX.W, 2 with 0x66, else 4 */

    bool has_modrm;
    uint8_t modrm, mod;   /* raw ModRM byte and its mod field */
    uint8_t reg;          /* ModRM.reg extended by REX.R (0-15) */
    uint8_t rm;           /* ModRM.rm extended by REX.B, meaningful when mod == 3 */
    bool mem;             /* the ModRM r/m operand is in memory */
    int8_t base, index;   /* memory operand registers, X86_REG_NONE if absent; base may be X86_REG_RIP */
    uint8_t scale;        /* 1, 2, 4 or 8 */
    int32_t disp;

    uint8_t imm_bytes;    /* 0, 1, 2, 4 or 8 (a second immediate of ENTER is in imm2) */
    uint64_t imm;         /* as encoded, zero-extended */
    uint8_t imm2;
};

#define X86_DECODE_OK 0
#define X86_DECODE_SHORT (-1)  /* the instruction continues beyond the bytes given; *len_needed says where */
#define X86_DECODE_BAD (-2)    /* invalid in 64-bit mode, too long, or an encoding this decoder refuses */

/* Decodes the instruction at buf[0 .. avail). On X86_DECODE_SHORT, insn->len is the offset of the first byte
 * that was needed but not available. */
int x86_decode(const uint8_t *buf, unsigned int avail, struct x86_insn *insn);

/* The effective address of a memory operand (without any segment base): base + index*scale + disp, with
 * RIP-relative addresses taken from next_rip (the address of the following instruction), truncated to 32 bits
 * under an address-size prefix. gpr is indexed in encoding order. */
uint64_t x86_insn_ea(const struct x86_insn *insn, const uint64_t gpr[16], uint64_t next_rip);

/* The immediate sign-extended to 64 bits (what most instructions use). */
int64_t x86_insn_simm(const struct x86_insn *insn);

#endif
