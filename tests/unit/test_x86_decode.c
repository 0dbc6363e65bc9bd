/* Host tests for the x86 instruction decoder (hypervisor/arch/x86/x86_decode.c). */
#include <vesta/x86_decode.h>

#include "testlib.h"

struct len_case {
    const char *what;
    uint8_t bytes[16];
    unsigned int n, len;
};

/* Encodings checked against GNU objdump. */
static const struct len_case lengths[] = {
    {"cpuid", {0x0f, 0xa2}, 2, 2},
    {"rdmsr", {0x0f, 0x32}, 2, 2},
    {"wrmsr", {0x0f, 0x30}, 2, 2},
    {"rdtsc", {0x0f, 0x31}, 2, 2},
    {"rdtscp", {0x0f, 0x01, 0xf9}, 3, 3},
    {"clts", {0x0f, 0x06}, 2, 2},
    {"wbinvd", {0x0f, 0x09}, 2, 2},
    {"mov %cr3,%rax", {0x0f, 0x20, 0xd8}, 3, 3},
    {"mov %rax,%cr8", {0x44, 0x0f, 0x22, 0xc0}, 4, 4},
    {"mov %dr7,%r9", {0x41, 0x0f, 0x21, 0xf9}, 4, 4},
    {"in $0x80,%al", {0xe4, 0x80}, 2, 2},
    {"out %eax,(%dx)", {0xef}, 1, 1},
    {"out %ax,(%dx)", {0x66, 0xef}, 2, 2},
    {"rep insw", {0xf3, 0x66, 0x6d}, 3, 3},
    {"rep outsb", {0xf3, 0x6e}, 2, 2},
    {"mov %rax,(%rdi)", {0x48, 0x89, 0x07}, 3, 3},
    {"mov %rax,0x8(%rdi,%rcx,8)", {0x48, 0x89, 0x44, 0xcf, 0x08}, 5, 5},
    {"mov %rdx,0x12345678(%rip)", {0x48, 0x89, 0x15, 0x78, 0x56, 0x34, 0x12}, 7, 7},
    {"movq $0x1,(%rax)", {0x48, 0xc7, 0x00, 0x01, 0x00, 0x00, 0x00}, 7, 7},
    {"movw $0x1,(%rax)", {0x66, 0xc7, 0x00, 0x01, 0x00}, 5, 5},
    {"movabs $imm64,%rax", {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}, 10, 10},
    {"movabs 0x1122334455667788,%al", {0xa0, 1, 2, 3, 4, 5, 6, 7, 8}, 9, 9},
    {"xchg %rax,(%rdx)", {0x48, 0x87, 0x02}, 3, 3},
    {"lock cmpxchg %rcx,(%rdx)", {0xf0, 0x48, 0x0f, 0xb1, 0x0a}, 5, 5},
    {"lock andb $0xfd,(%rdi)", {0xf0, 0x80, 0x27, 0xfd}, 4, 4},
    {"lock btr %rax,(%rdi)", {0xf0, 0x48, 0x0f, 0xb3, 0x07}, 5, 5},
    {"lock btrq $0x1,(%rdi)", {0xf0, 0x48, 0x0f, 0xba, 0x37, 0x01}, 6, 6},
    {"testl $imm,(%rax)", {0xf7, 0x00, 1, 2, 3, 4}, 6, 6},
    {"notl (%rax)", {0xf7, 0x10}, 2, 2},
    {"testw $imm,(%rax)", {0x66, 0xf7, 0x00, 1, 2}, 5, 5},
    {"enter $0x10,$0", {0xc8, 0x10, 0x00, 0x00}, 4, 4},
    {"ret $8", {0xc2, 0x08, 0x00}, 3, 3},
    {"call rel32", {0xe8, 0, 0, 0, 0}, 5, 5},
    {"jne rel32", {0x0f, 0x85, 0, 0, 0, 0}, 6, 6},
    {"pshufb (%rax),%xmm0", {0x66, 0x0f, 0x38, 0x00, 0x00}, 5, 5},
    {"palignr $1,%xmm1,%xmm0", {0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x01}, 6, 6},
    {"mov (%rsp),%eax (SIB, no index)", {0x8b, 0x04, 0x24}, 3, 3},
    {"mov 0x0(,%rax,4),%eax (no base)", {0x8b, 0x04, 0x85, 0, 0, 0, 0}, 7, 7},
    {"mov 0x10(%rbp),%eax", {0x8b, 0x45, 0x10}, 3, 3},
    {"mov 0x10(%r13),%eax", {0x41, 0x8b, 0x45, 0x10}, 4, 4},
    {"ud2", {0x0f, 0x0b}, 2, 2},
    {"int $0x80", {0xcd, 0x80}, 2, 2},
    {"hlt", {0xf4}, 1, 1},
    {"fs mov (%rax),%eax", {0x64, 0x8b, 0x00}, 3, 3},
};

TEST(x86_decode_lengths)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(lengths); i++) {
        struct x86_insn in;
        int rc = x86_decode(lengths[i].bytes, lengths[i].n, &in);
        if (rc != X86_DECODE_OK || in.len != lengths[i].len)
            CHECK_STR(lengths[i].what, "decoded with the right length");
    }
}

TEST(x86_decode_operands)
{
    struct x86_insn in;
    /* mov %rax,0x8(%rdi,%rcx,8) */
    static const uint8_t a[] = {0x48, 0x89, 0x44, 0xcf, 0x08};
    CHECK_EQ(x86_decode(a, sizeof(a), &in), X86_DECODE_OK);
    CHECK_EQ(in.map, X86_MAP_1B);
    CHECK_EQ(in.opcode, 0x89);
    CHECK_EQ(in.op_bytes, 8);
    CHECK(in.mem);
    CHECK_EQ(in.reg, 0);
    CHECK_EQ(in.base, 7);
    CHECK_EQ(in.index, 1);
    CHECK_EQ(in.scale, 8);
    CHECK_EQ(in.disp, 8);
    uint64_t gpr[16] = {0};
    gpr[7] = 0x1000;
    gpr[1] = 3;
    CHECK_EQ(x86_insn_ea(&in, gpr, 0), 0x1000 + 24 + 8);

    /* mov %r9,-0x10(%r12): REX.R and REX.B, SIB forced by r12 */
    static const uint8_t b[] = {0x4d, 0x89, 0x4c, 0x24, 0xf0};
    CHECK_EQ(x86_decode(b, sizeof(b), &in), X86_DECODE_OK);
    CHECK_EQ(in.reg, 9);
    CHECK_EQ(in.base, 12);
    CHECK_EQ(in.index, X86_REG_NONE);
    CHECK_EQ(in.disp, -16);

    /* RIP-relative */
    static const uint8_t c[] = {0x48, 0x89, 0x15, 0x10, 0x00, 0x00, 0x00};
    CHECK_EQ(x86_decode(c, sizeof(c), &in), X86_DECODE_OK);
    CHECK_EQ(in.base, X86_REG_RIP);
    CHECK_EQ(x86_insn_ea(&in, gpr, 0x5000), 0x5010);

    /* mov %cr3,%rax: register form, reg = 3 */
    static const uint8_t d[] = {0x0f, 0x20, 0xd8};
    CHECK_EQ(x86_decode(d, sizeof(d), &in), X86_DECODE_OK);
    CHECK_EQ(in.map, X86_MAP_0F);
    CHECK_EQ(in.opcode, 0x20);
    CHECK(!in.mem);
    CHECK_EQ(in.reg, 3);
    CHECK_EQ(in.rm, 0);

    /* in $0x71,%al */
    static const uint8_t e[] = {0xe4, 0x71};
    CHECK_EQ(x86_decode(e, sizeof(e), &in), X86_DECODE_OK);
    CHECK_EQ(in.imm_bytes, 1);
    CHECK_EQ(in.imm, 0x71);

    /* movq $-1,(%rax): sign-extended imm32 */
    static const uint8_t f[] = {0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff};
    CHECK_EQ(x86_decode(f, sizeof(f), &in), X86_DECODE_OK);
    CHECK_EQ(x86_insn_simm(&in), -1);

    /* Prefix bookkeeping: lock, rep, segment, 0x66, and a REX cancelled by a following legacy prefix. */
    static const uint8_t g[] = {0x48, 0xf3, 0x65, 0x66, 0x6d};
    CHECK_EQ(x86_decode(g, sizeof(g), &in), X86_DECODE_OK);
    CHECK(in.rep);
    CHECK_EQ(in.seg, X86_SEG_GS);
    CHECK(in.opsize);
    CHECK_EQ(in.rex, 0);
    CHECK_EQ(in.op_bytes, 2);

    /* 0x67: 32-bit address arithmetic */
    static const uint8_t h[] = {0x67, 0x89, 0x00};
    CHECK_EQ(x86_decode(h, sizeof(h), &in), X86_DECODE_OK);
    gpr[0] = 0xffffffff00001000ULL;
    CHECK_EQ(x86_insn_ea(&in, gpr, 0), 0x1000);
}

TEST(x86_decode_truncated_and_bad)
{
    struct x86_insn in;
    static const uint8_t movabs[] = {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8};
    for (unsigned int n = 0; n < sizeof(movabs); n++) {
        CHECK_EQ(x86_decode(movabs, n, &in), X86_DECODE_SHORT);
        CHECK_EQ(in.len, n);
    }
    static const uint8_t sib[] = {0x8b, 0x04, 0x85, 0, 0, 0, 0};
    CHECK_EQ(x86_decode(sib, 2, &in), X86_DECODE_SHORT);
    CHECK_EQ(in.len, 2);

    static const uint8_t vex[] = {0xc5, 0xf8, 0x77};
    CHECK_EQ(x86_decode(vex, sizeof(vex), &in), X86_DECODE_BAD);
    static const uint8_t push_es[] = {0x06};
    CHECK_EQ(x86_decode(push_es, sizeof(push_es), &in), X86_DECODE_BAD);

    /* Sixteen prefixes: over the architectural limit. */
    uint8_t many[20];
    memset(many, 0x66, sizeof(many));
    many[19] = 0x90;
    CHECK_EQ(x86_decode(many, sizeof(many), &in), X86_DECODE_BAD);
    /* Fourteen prefixes and a nop: exactly 15 bytes, valid. */
    many[14] = 0x90;
    CHECK_EQ(x86_decode(many, 15, &in), X86_DECODE_OK);
    CHECK_EQ(in.len, 15);
}

/* Random bytes must never make the decoder read past the buffer or report a length beyond it (ASan checks the
 * reads: each buffer is a heap allocation of exactly n bytes). */
#include <stdlib.h>
TEST(x86_decode_fuzz)
{
    uint64_t st = 0x1234567;
    for (unsigned int iter = 0; iter < 200000; iter++) {
        unsigned int n = (unsigned int)(test_rand(&st) % 16);
        uint8_t *buf = malloc(n ? n : 1);
        for (unsigned int i = 0; i < n; i++)
            buf[i] = (uint8_t)test_rand(&st);
        struct x86_insn in;
        int rc = x86_decode(buf, n, &in);
        CHECK(rc == X86_DECODE_OK || rc == X86_DECODE_SHORT || rc == X86_DECODE_BAD);
        CHECK(in.len <= n);
        if (rc == X86_DECODE_OK)
            CHECK(in.len >= 1 && in.len <= 15);
        free(buf);
    }
}
