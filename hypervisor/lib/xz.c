/* Single-call .xz decompression: see vesta/xz.h.
 *
 * Layout of this file, bottom-up: checksums, the LZMA range decoder and symbol decoder, LZMA2 chunk parsing, the
 * x86 BCJ filter, and the .xz container (stream header, blocks, index, stream footer).
 *
 * All positions are size_t indices checked against their buffer's length before use; the only pointer
 * arithmetic is base + checked index. Decoding writes straight into the caller's buffer, which is the LZMA
 * dictionary: a match copies from earlier output of the same dictionary. */
#include "vesta/xz.h"
#include "vesta/errno.h"
#include "vesta/string.h"
#include "vesta/types.h"

#define always_inline inline __attribute__((always_inline))

/* ------------------------------------------------------------------------------------------------------------
 * Checksums. Tables are built on first use (under the busy flag, so only one caller ever builds them).
 * CRC32 runs eight bytes per step since it covers every output byte; CRC64 is rare and goes byte by byte. */

#define CRC32_POLY 0xedb88320u                 /* IEEE 802.3, bit-reversed */
#define CRC64_POLY 0xc96c5795d7870f42ull       /* ECMA-182, bit-reversed */

static uint32_t crc32_table[8][256];
static uint64_t crc64_table[256];
static bool crc_tables_ready;

static void crc_tables_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint32_t c = i;
        uint64_t d = i;

        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (CRC32_POLY & (0u - (c & 1)));
            d = (d >> 1) ^ (CRC64_POLY & (0ull - (d & 1)));
        }
        crc32_table[0][i] = c;
        crc64_table[i] = d;
    }
    /* Table k advances a byte followed by k zero bytes. */
    for (unsigned k = 1; k < 8; k++)
        for (unsigned i = 0; i < 256; i++)
            crc32_table[k][i] = (crc32_table[k - 1][i] >> 8) ^ crc32_table[0][crc32_table[k - 1][i] & 0xff];
    crc_tables_ready = true;
}

static always_inline uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (; n >= 8; p += 8, n -= 8) {
        uint32_t lo = crc ^ get_le32(p), hi = get_le32(p + 4);

        crc = crc32_table[7][lo & 0xff] ^ crc32_table[6][(lo >> 8) & 0xff] ^ crc32_table[5][(lo >> 16) & 0xff] ^
              crc32_table[4][lo >> 24] ^ crc32_table[3][hi & 0xff] ^ crc32_table[2][(hi >> 8) & 0xff] ^
              crc32_table[1][(hi >> 16) & 0xff] ^ crc32_table[0][hi >> 24];
    }
    for (; n; p++, n--)
        crc = crc32_table[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint64_t crc64_update(uint64_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (; n; p++, n--)
        crc = crc64_table[(crc ^ *p) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ------------------------------------------------------------------------------------------------------------
 * Errors. Every failure carries a sentence for the caller's log. */

struct xz_err {
    const char *why;
};

#define FAIL(e, code, msg)                                                                                     \
    do {                                                                                                       \
        (e)->why = (msg);                                                                                      \
        return (code);                                                                                         \
    } while (0)

/* ------------------------------------------------------------------------------------------------------------
 * LZMA.
 *
 * Probabilities are 11-bit estimates that a bit is 0, adapted by 1/32 of the distance to the bound after each
 * decoded bit. The range decoder keeps the code value inside [0, range); whenever range drops below 2^24 one more
 * input byte shifts in. Reads past the end of a chunk yield zeros and are caught when the chunk ends (its input
 * must be consumed exactly) or, sooner, between symbols. */

#define PROB_BITS 11
#define PROB_ONE (1u << PROB_BITS)
#define PROB_INIT (PROB_ONE / 2)
#define PROB_SHIFT 5
#define RC_TOP (1u << 24)

#define LZMA_STATES 12
#define LZMA_LIT_STATES 7     /* states below this follow a literal; from it up, a match or rep */
#define LZMA_POS_MAX 16       /* 1 << pb, pb <= 4 */
#define LZMA_LIT_SIZE 0x300   /* probabilities per literal coder: plain tree 0x100, matched trees 0x200 */
#define LZMA_LIT_CODERS 16    /* 1 << (lc + lp): LZMA2 limits lc + lp to 4 */
#define LZMA_LEN_STATES 4     /* distance slots depend on the match length: 2, 3, 4, 5+ */
#define LZMA_SLOT_BITS 6
#define LZMA_FIRST_DIRECT 14  /* slots from here take their middle bits directly, the low four from align */
#define LZMA_ALIGN_BITS 4
#define LZMA_SPECIAL 114      /* reverse trees of slots 4..13: sum of 2^((slot >> 1) - 1) */
#define LZMA_MATCH_MIN 2

struct lzma_len_probs {
    uint16_t choice;  /* 0: length 2..9 from low */
    uint16_t choice2; /* 0: 10..17 from mid, 1: 18..273 from high */
    uint16_t low[LZMA_POS_MAX][8];
    uint16_t mid[LZMA_POS_MAX][8];
    uint16_t high[256];
};

/* Only uint16_t members, so a reset can treat it as one array. Literal coders come last: a reset initialises only
 * the 1 << (lc + lp) in use. */
struct lzma_probs {
    uint16_t is_match[LZMA_STATES][LZMA_POS_MAX];
    uint16_t is_rep[LZMA_STATES];
    uint16_t is_rep0[LZMA_STATES];
    uint16_t is_rep1[LZMA_STATES];
    uint16_t is_rep2[LZMA_STATES];
    uint16_t is_rep0_long[LZMA_STATES][LZMA_POS_MAX];
    uint16_t slot[LZMA_LEN_STATES][1 << LZMA_SLOT_BITS];
    uint16_t special[LZMA_SPECIAL];
    uint16_t align[1 << LZMA_ALIGN_BITS];
    struct lzma_len_probs match_len;
    struct lzma_len_probs rep_len;
    uint16_t literal[LZMA_LIT_CODERS][LZMA_LIT_SIZE];
};

struct lzma_dec {
    struct lzma_probs probs;
    uint32_t state;
    uint32_t rep0, rep1, rep2, rep3; /* the last four distances, minus one */
    unsigned lc, lp, pb;
};

struct rc {
    const uint8_t *in; /* this chunk's input */
    size_t len;
    size_t pos; /* next byte; runs past len only on corrupt data */
    uint32_t range, code;
};

static void lzma_reset(struct lzma_dec *s)
{
    uint16_t *p = (uint16_t *)&s->probs;
    size_t n = offsetof(struct lzma_probs, literal) / sizeof(uint16_t) + ((size_t)LZMA_LIT_SIZE << (s->lc + s->lp));

    for (size_t i = 0; i < n; i++)
        p[i] = PROB_INIT;
    s->state = 0;
    s->rep0 = s->rep1 = s->rep2 = s->rep3 = 0;
}

static always_inline void rc_normalize(struct rc *rc)
{
    if (rc->range < RC_TOP) {
        rc->range <<= 8;
        rc->code = (rc->code << 8) | (likely(rc->pos < rc->len) ? rc->in[rc->pos] : 0u);
        rc->pos++;
    }
}

static always_inline uint32_t rc_bit(struct rc *rc, uint16_t *prob)
{
    uint32_t p = *prob;
    uint32_t bound = (rc->range >> PROB_BITS) * p;
    uint32_t bit;

    if (rc->code < bound) {
        rc->range = bound;
        *prob = (uint16_t)(p + ((PROB_ONE - p) >> PROB_SHIFT));
        bit = 0;
    } else {
        rc->range -= bound;
        rc->code -= bound;
        *prob = (uint16_t)(p - (p >> PROB_SHIFT));
        bit = 1;
    }
    rc_normalize(rc);
    return bit;
}

/* A bits-deep binary tree, most significant bit first; probs[1 .. 2^bits - 1] are its nodes. */
static always_inline uint32_t rc_tree(struct rc *rc, uint16_t *probs, unsigned bits)
{
    uint32_t node = 1;

    for (unsigned i = 0; i < bits; i++)
        node = (node << 1) | rc_bit(rc, &probs[node]);
    return node - (1u << bits);
}

/* The same tree read least significant bit first; here the nodes are probs[0 .. 2^bits - 2]. */
static always_inline uint32_t rc_tree_reverse(struct rc *rc, uint16_t *probs, unsigned bits)
{
    uint32_t node = 1, val = 0;

    for (unsigned i = 0; i < bits; i++) {
        uint32_t bit = rc_bit(rc, &probs[node - 1]);

        node = (node << 1) | bit;
        val |= bit << i;
    }
    return val;
}

/* Bits of probability one half, most significant first. */
static always_inline uint32_t rc_direct(struct rc *rc, unsigned bits)
{
    uint32_t val = 0;

    while (bits--) {
        uint32_t bit;

        rc->range >>= 1;
        bit = rc->code >= rc->range;
        rc->code -= rc->range & (0u - bit);
        val = (val << 1) | bit;
        rc_normalize(rc);
    }
    return val;
}

/* A match length minus LZMA_MATCH_MIN: 0..271. */
static always_inline uint32_t lzma_len(struct rc *rc, struct lzma_len_probs *l, uint32_t pos_state)
{
    if (!rc_bit(rc, &l->choice))
        return rc_tree(rc, l->low[pos_state], 3);
    if (!rc_bit(rc, &l->choice2))
        return 8 + rc_tree(rc, l->mid[pos_state], 3);
    return 16 + rc_tree(rc, l->high, 8);
}

/* A match distance minus one. len is as lzma_len() returned it. */
static always_inline uint32_t lzma_dist(struct rc *rc, struct lzma_probs *p, uint32_t len)
{
    uint32_t slot = rc_tree(rc, p->slot[len < LZMA_LEN_STATES - 1 ? len : LZMA_LEN_STATES - 1], LZMA_SLOT_BITS);
    unsigned extra;
    uint32_t dist;

    if (slot < 4)
        return slot;
    /* The slot is the top two bits of the distance and (by its size) where they are. */
    extra = (slot >> 1) - 1;
    dist = (2 | (slot & 1)) << extra;
    if (slot < LZMA_FIRST_DIRECT)
        return dist + rc_tree_reverse(rc, &p->special[dist - slot], extra);
    dist += rc_direct(rc, extra - LZMA_ALIGN_BITS) << LZMA_ALIGN_BITS;
    return dist + rc_tree_reverse(rc, p->align, LZMA_ALIGN_BITS);
}

/* State transitions: after a literal, a match, a rep match and a one-byte rep ("short rep"). */
static always_inline uint32_t next_literal(uint32_t st)
{
    return st < 4 ? 0 : st < 10 ? st - 3 : st - 6;
}
#define NEXT_MATCH(st) ((st) < LZMA_LIT_STATES ? 7u : 10u)
#define NEXT_REP(st) ((st) < LZMA_LIT_STATES ? 8u : 11u)
#define NEXT_SHORTREP(st) ((st) < LZMA_LIT_STATES ? 9u : 11u)

/* Copies a match of len bytes to dst from dist bytes back. Where dist < len the source overlaps what is being
 * written, which repeats the last dist bytes: that has to go forwards, in steps no longer than dist. With room
 * for it (room bytes are writable from dst), whole eight-byte steps are used and may write past the match; the
 * excess is overwritten before anything reads it, since reads stay behind the current position. */
static always_inline void match_copy(uint8_t *dst, size_t dist, size_t len, size_t room)
{
    const uint8_t *src = dst - dist;

    if (likely(room - len >= 7)) { /* room >= len */
        if (dist >= 8) {
            for (size_t i = 0; i < len; i += 8)
                __builtin_memcpy(dst + i, src + i, 8);
            return;
        }
        if (dist == 1) {
            uint64_t run = 0x0101010101010101ull * *src;

            for (size_t i = 0; i < len; i += 8)
                __builtin_memcpy(dst + i, &run, 8);
            return;
        }
    }
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i];
}

/* Decodes LZMA symbols into dict[pos, end); dict[0, room) may be written. dict starts at the last dictionary
 * reset, so positions are also the amount of history available to matches. The chunk must end exactly at end:
 * LZMA2 never splits a match across chunks. */
static int lzma_run(struct lzma_dec *s, struct rc *rcp, uint8_t *dict, size_t pos, size_t end, size_t room,
                    struct xz_err *e)
{
    struct lzma_probs *p = &s->probs;
    struct rc rc = *rcp;
    uint32_t state = s->state, rep0 = s->rep0, rep1 = s->rep1, rep2 = s->rep2, rep3 = s->rep3;
    const uint32_t pos_mask = (1u << s->pb) - 1, lit_pos_mask = (1u << s->lp) - 1;
    const unsigned lc = s->lc;
    int ret = 0;

    while (pos < end) {
        uint32_t pos_state = (uint32_t)pos & pos_mask;
        uint32_t len;

        if (unlikely(rc.pos > rc.len)) {
            e->why = "LZMA chunk reads past its compressed size";
            goto corrupt;
        }

        if (!rc_bit(&rc, &p->is_match[state][pos_state])) {
            uint32_t prev = pos ? dict[pos - 1] : 0;
            uint16_t *lit = p->literal[(((uint32_t)pos & lit_pos_mask) << lc) + (prev >> (8 - lc))];
            uint32_t sym = 1;

            if (state < LZMA_LIT_STATES) {
                do
                    sym = (sym << 1) | rc_bit(&rc, &lit[sym]);
                while (sym < 0x100);
            } else {
                /* After a match the byte at rep0 predicts this one: its bits pick a second pair of trees for
                 * as long as the decoded bits agree with them. rep0 < pos held when that match was decoded. */
                uint32_t guess = dict[pos - rep0 - 1], agree = 0x100;

                do {
                    uint32_t gbit, bit;

                    guess <<= 1;
                    gbit = guess & 0x100;
                    bit = rc_bit(&rc, &lit[agree + (gbit & agree) + sym]);
                    sym = (sym << 1) | bit;
                    agree &= ~(gbit ^ (bit << 8));
                } while (sym < 0x100);
            }
            dict[pos++] = (uint8_t)sym;
            state = next_literal(state);
            continue;
        }

        if (!rc_bit(&rc, &p->is_rep[state])) {
            uint32_t dist;

            len = lzma_len(&rc, &p->match_len, pos_state);
            dist = lzma_dist(&rc, p, len);
            if (unlikely(dist == 0xffffffffu)) {
                e->why = "LZMA end marker inside an LZMA2 chunk";
                goto corrupt;
            }
            rep3 = rep2;
            rep2 = rep1;
            rep1 = rep0;
            rep0 = dist;
            state = NEXT_MATCH(state);
        } else {
            if (!rc_bit(&rc, &p->is_rep0[state])) {
                if (!rc_bit(&rc, &p->is_rep0_long[state][pos_state])) {
                    if (unlikely(rep0 >= pos)) {
                        e->why = "LZMA match reaches before the start of the dictionary";
                        goto corrupt;
                    }
                    dict[pos] = dict[pos - rep0 - 1];
                    pos++;
                    state = NEXT_SHORTREP(state);
                    continue;
                }
            } else {
                uint32_t dist;

                if (!rc_bit(&rc, &p->is_rep1[state])) {
                    dist = rep1;
                } else {
                    if (!rc_bit(&rc, &p->is_rep2[state])) {
                        dist = rep2;
                    } else {
                        dist = rep3;
                        rep3 = rep2;
                    }
                    rep2 = rep1;
                }
                rep1 = rep0;
                rep0 = dist;
            }
            len = lzma_len(&rc, &p->rep_len, pos_state);
            state = NEXT_REP(state);
        }

        len += LZMA_MATCH_MIN;
        if (unlikely(rep0 >= pos)) {
            e->why = "LZMA match reaches before the start of the dictionary";
            goto corrupt;
        }
        if (unlikely(len > end - pos)) {
            e->why = "LZMA match runs past the end of its chunk";
            goto corrupt;
        }
        match_copy(dict + pos, rep0 + 1, len, room - pos);
        pos += len;
    }
    goto out;

corrupt:
    ret = -EINVAL;
out:
    s->state = state;
    s->rep0 = rep0;
    s->rep1 = rep1;
    s->rep2 = rep2;
    s->rep3 = rep3;
    *rcp = rc;
    return ret;
}

/* ------------------------------------------------------------------------------------------------------------
 * LZMA2: a sequence of chunks, each introduced by a control byte.
 *   0x00        end of data
 *   0x01        uncompressed chunk after a dictionary reset; 0x02 without one. Then a 16-bit size - 1.
 *   0x80..0xff  LZMA chunk. Bits 0-4 are bits 16-20 of the uncompressed size - 1; then come 16 more bits of it,
 *               16 bits of the compressed size - 1, and (from 0xc0) a properties byte. Bits 5-6 say what is
 *               reset first: 0 nothing, 1 the state, 2 the state with new properties, 3 that and the dictionary.
 * Each LZMA chunk starts a fresh range decoder. A dictionary reset leaves the next LZMA chunk needing new
 * properties (which reset the state). */

static int lzma_props(struct lzma_dec *s, uint8_t b)
{
    unsigned lc, lp, pb;

    if (b >= 9 * 5 * 5)
        return -1;
    lc = b % 9;
    b /= 9;
    lp = b % 5;
    pb = b / 5;
    if (lc + lp > 4)
        return -1;
    s->lc = lc;
    s->lp = lp;
    s->pb = pb;
    return 0;
}

static always_inline uint32_t get_be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

/* Decodes the LZMA2 data at in[0, in_len) into out[0, out_cap). Returns 0 with *in_used and *out_used set. */
static int lzma2_decode(struct lzma_dec *s, const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out,
                        size_t out_cap, size_t *out_used, struct xz_err *e)
{
    size_t ip = 0, op = 0, dict = 0;
    bool need_dict_reset = true, need_props = true;

    for (;;) {
        uint8_t ctrl;
        size_t usize, csize;
        struct rc rc;
        int ret;

        if (ip >= in_len)
            FAIL(e, -EINVAL, "truncated LZMA2 data");
        ctrl = in[ip++];
        if (ctrl == 0x00)
            break;

        if (ctrl >= 0xe0 || ctrl == 0x01) {
            dict = op;
            need_dict_reset = false;
            need_props = true;
        } else if (need_dict_reset) {
            FAIL(e, -EINVAL, "LZMA2 data does not begin with a dictionary reset");
        }

        if (ctrl < 0x80) {
            if (ctrl > 0x02)
                FAIL(e, -EINVAL, "invalid LZMA2 control byte");
            if (in_len - ip < 2)
                FAIL(e, -EINVAL, "truncated LZMA2 data");
            usize = get_be16(in + ip) + 1;
            ip += 2;
            if (in_len - ip < usize)
                FAIL(e, -EINVAL, "truncated LZMA2 data");
            if (out_cap - op < usize)
                FAIL(e, -ENOSPC, "output buffer too small for the decompressed data");
            memcpy(out + op, in + ip, usize);
            ip += usize;
            op += usize;
            continue;
        }

        if (in_len - ip < 4)
            FAIL(e, -EINVAL, "truncated LZMA2 data");
        usize = ((size_t)(ctrl & 0x1f) << 16) + get_be16(in + ip) + 1;
        csize = get_be16(in + ip + 2) + 1;
        ip += 4;
        if (ctrl >= 0xc0) {
            if (ip >= in_len)
                FAIL(e, -EINVAL, "truncated LZMA2 data");
            if (lzma_props(s, in[ip++]))
                FAIL(e, -EINVAL, "invalid LZMA properties in LZMA2 data");
            need_props = false;
        } else if (need_props) {
            FAIL(e, -EINVAL, "LZMA2 chunk without the properties it needs");
        }
        if (ctrl >= 0xa0)
            lzma_reset(s);

        if (in_len - ip < csize)
            FAIL(e, -EINVAL, "truncated LZMA2 data");
        if (out_cap - op < usize)
            FAIL(e, -ENOSPC, "output buffer too small for the decompressed data");
        /* The range decoder's first byte is always 0; the next four prime the code value. */
        if (csize < 5 || in[ip] != 0x00)
            FAIL(e, -EINVAL, "LZMA chunk does not start like range-coded data");
        rc.in = in + ip;
        rc.len = csize;
        rc.pos = 5;
        rc.range = 0xffffffffu;
        rc.code = (uint32_t)in[ip + 1] << 24 | (uint32_t)in[ip + 2] << 16 | (uint32_t)in[ip + 3] << 8 | in[ip + 4];

        ret = lzma_run(s, &rc, out + dict, op - dict, op - dict + usize, out_cap - dict, e);
        if (ret)
            return ret;
        /* A well-formed chunk is used up exactly and leaves the decoder's code value at zero. */
        if (rc.pos != rc.len || rc.code != 0)
            FAIL(e, -EINVAL, "LZMA chunk does not end where its size says");
        ip += csize;
        op += usize;
    }
    *in_used = ip;
    *out_used = op;
    return 0;
}

/* ------------------------------------------------------------------------------------------------------------
 * x86 BCJ: the encoder turned the relative targets of E8 (call) and E9 (jmp) instructions into absolute ones,
 * which compress better; this turns them back. An E8/E9 byte is taken as an opcode when its 32-bit operand's top
 * byte is 00 or FF (a near target) and the opcode bytes just before it do not make it doubtful; a converted
 * instruction's five bytes are then skipped. The last four bytes are never an instruction start.
 *
 * hist remembers E8/E9 bytes that were left alone among the three bytes before the current one: bit k (1..3) is
 * set for one k bytes back, and bit k + 4 additionally if that byte's own operand top byte (which lies inside
 * the current operand, at byte 4 - k) was 00 or FF. It is only brought up to date at E8/E9 bytes. */

static always_inline bool top_byte_near(uint32_t b)
{
    return b == 0x00 || b == 0xff;
}

/* The first E8/E9 byte in buf[i, end), or end. Most bytes are neither, so this looks at eight at a time: a byte
 * is E8 or E9 exactly when it becomes zero after setting bit 0 and XORing with E9. */
static size_t bcj_x86_find(const uint8_t *buf, size_t i, size_t end)
{
    const uint64_t ones = 0x0101010101010101ull;

    if (i >= end) /* a converted instruction can reach into the last four bytes */
        return end;
    while (end - i >= 8) {
        uint64_t w;

        __builtin_memcpy(&w, buf + i, 8);
        w = (w | ones) ^ (ones * 0xe9);
        if ((w - ones) & ~w & (ones * 0x80))
            break;
        i += 8;
    }
    while (i < end && (buf[i] & 0xfe) != 0xe8)
        i++;
    return i;
}

static void bcj_x86_decode(uint8_t *buf, size_t len, uint32_t start)
{
    uint32_t hist = 0;
    size_t last = 0; /* the previous E8/E9 byte looked at */

    if (len < 5)
        return;
    for (size_t i = 0;;) {
        uint32_t top, near_hist;

        i = bcj_x86_find(buf, i, len - 4);
        if (i == len - 4)
            break;
        /* Age the history by the distance from the last E8/E9; entries more than three bytes back drop out.
         * The two halves age separately. */
        if (i - last <= 3) {
            unsigned gap = (unsigned)(i - last);

            hist = (((hist & 0x07) << gap) & 0x0e) | (((hist & 0x70) << gap) & 0xe0);
        } else {
            hist = 0;
        }
        last = i;
        near_hist = hist >> 1; /* bit k - 1 for a skipped opcode k bytes back */
        top = buf[i + 4];

        /* Convert unless the top byte is far, more than one recent opcode was skipped, or one was skipped
         * whose operand also looked near. */
        if (top_byte_near(top) && hist < 0x20 && (near_hist & (near_hist - 1)) == 0) {
            uint32_t pc = start + (uint32_t)i + 5;
            uint32_t dest = get_le32(buf + i + 1) - pc;

            if (near_hist) {
                /* The skipped opcode's operand top byte is byte 4 - k of ours. Where that byte comes out near,
                 * the encoder had inverted the bits up to it and converted once more: undo that round too.
                 * (It cannot come out near again: the byte was not near to begin with.) */
                unsigned shift = near_hist == 1 ? 16 : near_hist == 2 ? 8 : 0;

                if (top_byte_near((dest >> shift) & 0xff))
                    dest = (dest ^ ((2u << (shift + 7)) - 1)) - pc;
            }
            /* Bit 24 of the relative target decides the sign extension through the top byte. */
            buf[i + 1] = (uint8_t)dest;
            buf[i + 2] = (uint8_t)(dest >> 8);
            buf[i + 3] = (uint8_t)(dest >> 16);
            buf[i + 4] = (uint8_t)(0u - ((dest >> 24) & 1));
            i += 5;
            hist = 0;
        } else {
            hist |= 1u | (top_byte_near(top) ? 0x10u : 0u);
            i++;
        }
    }
}

/* ------------------------------------------------------------------------------------------------------------
 * The .xz container.
 *   stream header   fd "7zXZ" 00, flags (00, check type), CRC32 of the flags
 *   blocks          header (size byte, flags, optional sizes, filter flags, zero padding, CRC32),
 *                   compressed data, zero padding to 4 bytes, check of the uncompressed data
 *   index           00, record count, (unpadded size, uncompressed size) per block, zero padding, CRC32
 *   stream footer   CRC32 of the next six bytes, index size / 4 - 1, flags (as in the header), "YZ"
 * Sizes and IDs are variable-length integers: 7 bits a byte, low first, bit 7 set on all but the last byte. */

#define XZ_HEADER_SIZE 12
#define XZ_FOOTER_SIZE 12
#define XZ_CHECK_NONE 0x00
#define XZ_CHECK_CRC32 0x01
#define XZ_CHECK_CRC64 0x04
#define XZ_FILTER_X86 0x04
#define XZ_FILTER_LZMA2 0x21
#define XZ_VLI_MAX_BYTES 9

static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

/* What a stream's index must agree with. */
struct xz_index_sum {
    uint64_t count;
    uint64_t unpadded;     /* sum of unpadded sizes */
    uint64_t uncompressed; /* sum of uncompressed sizes */
    uint32_t digest;       /* CRC32 over every record's two sizes, 64-bit little endian each */
};

static void index_add(struct xz_index_sum *sum, uint64_t unpadded, uint64_t uncompressed)
{
    uint8_t rec[16];

    for (int i = 0; i < 8; i++) {
        rec[i] = (uint8_t)(unpadded >> (8 * i));
        rec[8 + i] = (uint8_t)(uncompressed >> (8 * i));
    }
    sum->count++;
    sum->unpadded += unpadded;
    sum->uncompressed += uncompressed;
    sum->digest = crc32_update(sum->digest, rec, sizeof(rec));
}

/* Reads a variable-length integer from buf[*pos, end). */
static int get_vli(const uint8_t *buf, size_t end, size_t *pos, uint64_t *val)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < XZ_VLI_MAX_BYTES; i++) {
        uint8_t b;

        if (*pos >= end)
            return -1;
        b = buf[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i && !b) /* a trailing zero byte: not the shortest encoding */
                return -1;
            *val = v;
            return 0;
        }
    }
    return -1;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

struct xz_ctx {
    const uint8_t *in;
    size_t in_len;
    size_t ip; /* next input byte */
    uint8_t *out;
    size_t out_cap;
    size_t op; /* bytes produced */
    struct xz_err e;
};

static struct lzma_dec lzma_state;

static unsigned check_size(unsigned check)
{
    return check == XZ_CHECK_CRC32 ? 4 : check == XZ_CHECK_CRC64 ? 8 : 0;
}

static int xz_block(struct xz_ctx *c, unsigned check, struct xz_index_sum *sum)
{
    const uint8_t *h = c->in + c->ip;
    size_t hsize, hp, hend, avail, used, produced;
    uint64_t csize = 0, usize = 0, id, psize;
    bool have_csize, have_usize, have_bcj = false;
    uint32_t bcj_start = 0;
    unsigned nfilters, csum = check_size(check);
    uint8_t *blk;
    int ret;

    /* Header. */
    hsize = ((size_t)h[0] + 1) * 4;
    if (c->in_len - c->ip < hsize)
        FAIL(&c->e, -EINVAL, "truncated xz block header");
    hend = hsize - 4;
    if (crc32_update(0, h, hend) != get_le32(h + hend))
        FAIL(&c->e, -EINVAL, "xz block header CRC mismatch");
    if (h[1] & 0x3c)
        FAIL(&c->e, -EOPNOTSUPP, "xz block header uses reserved flags");
    nfilters = (h[1] & 0x03) + 1u;
    have_csize = h[1] & 0x40;
    have_usize = h[1] & 0x80;
    hp = 2;
    if (have_csize && (get_vli(h, hend, &hp, &csize) || csize == 0))
        FAIL(&c->e, -EINVAL, "bad compressed size in xz block header");
    if (have_usize && get_vli(h, hend, &hp, &usize))
        FAIL(&c->e, -EINVAL, "bad uncompressed size in xz block header");

    for (unsigned i = 0; i < nfilters; i++) {
        bool last = i == nfilters - 1;

        if (get_vli(h, hend, &hp, &id) || get_vli(h, hend, &hp, &psize) || psize > hend - hp)
            FAIL(&c->e, -EINVAL, "bad filter flags in xz block header");
        if (id == XZ_FILTER_LZMA2) {
            if (!last)
                FAIL(&c->e, -EINVAL, "LZMA2 is not the last filter of an xz block");
            /* Dictionary size: only checked, since the output buffer is the dictionary. */
            if (psize != 1 || h[hp] > 40)
                FAIL(&c->e, -EINVAL, "bad LZMA2 filter properties");
        } else if (id == XZ_FILTER_X86 && !have_bcj) {
            if (last)
                FAIL(&c->e, -EINVAL, "xz block filter chain does not end in LZMA2");
            if (psize == 4)
                bcj_start = get_le32(h + hp);
            else if (psize != 0)
                FAIL(&c->e, -EOPNOTSUPP, "unsupported x86 BCJ filter properties");
            have_bcj = true;
        } else {
            FAIL(&c->e, -EOPNOTSUPP, "unsupported xz filter (only x86 BCJ and LZMA2 are)");
        }
        hp += psize;
    }
    if (!all_zero(h + hp, hend - hp))
        FAIL(&c->e, -EOPNOTSUPP, "xz block header padding is not zero");
    c->ip += hsize;

    /* Data: LZMA2 into the output, then BCJ over it in place. A declared compressed size bounds the input. */
    avail = c->in_len - c->ip;
    if (have_csize) {
        if (csize > avail)
            FAIL(&c->e, -EINVAL, "truncated xz block");
        avail = (size_t)csize;
    }
    blk = c->out + c->op;
    ret = lzma2_decode(&lzma_state, c->in + c->ip, avail, &used, blk, c->out_cap - c->op, &produced, &c->e);
    if (ret)
        return ret;
    if ((have_csize && used != csize) || (have_usize && produced != usize))
        FAIL(&c->e, -EINVAL, "xz block sizes differ from its header");
    c->ip += used;
    c->op += produced;
    if (have_bcj)
        bcj_x86_decode(blk, produced, bcj_start);

    /* Padding and check. */
    for (size_t pad = used; pad & 3; pad++) {
        if (c->ip >= c->in_len)
            FAIL(&c->e, -EINVAL, "truncated xz block");
        if (c->in[c->ip++])
            FAIL(&c->e, -EINVAL, "xz block padding is not zero");
    }
    if (c->in_len - c->ip < csum)
        FAIL(&c->e, -EINVAL, "truncated xz block check");
    if (check == XZ_CHECK_CRC32) {
        if (crc32_update(0, blk, produced) != get_le32(c->in + c->ip))
            FAIL(&c->e, -EILSEQ, "CRC32 of the decompressed data does not match");
    } else if (check == XZ_CHECK_CRC64) {
        uint64_t want = get_le32(c->in + c->ip) | (uint64_t)get_le32(c->in + c->ip + 4) << 32;

        if (crc64_update(0, blk, produced) != want)
            FAIL(&c->e, -EILSEQ, "CRC64 of the decompressed data does not match");
    }
    c->ip += csum;
    index_add(sum, hsize + used + csum, produced); /* the unpadded size: without the block padding */
    return 0;
}

/* The index, from its indicator byte to its CRC32. Must describe exactly the blocks decoded. */
static int xz_index(struct xz_ctx *c, const struct xz_index_sum *blocks, size_t *index_size)
{
    const uint8_t *ix = c->in + c->ip;
    size_t len = c->in_len - c->ip, p = 1; /* the caller saw the 00 indicator */
    struct xz_index_sum sum = { 0 };
    uint64_t count;

    if (get_vli(ix, len, &p, &count))
        FAIL(&c->e, -EINVAL, "bad xz index");
    if (count != blocks->count)
        FAIL(&c->e, -EINVAL, "xz index does not list the blocks decoded");
    for (uint64_t i = 0; i < count; i++) {
        uint64_t unpadded, uncompressed;

        if (get_vli(ix, len, &p, &unpadded) || get_vli(ix, len, &p, &uncompressed))
            FAIL(&c->e, -EINVAL, "bad xz index");
        index_add(&sum, unpadded, uncompressed);
    }
    for (; p & 3; p++)
        if (p >= len || ix[p])
            FAIL(&c->e, -EINVAL, "bad xz index padding");
    if (len - p < 4)
        FAIL(&c->e, -EINVAL, "truncated xz index");
    if (crc32_update(0, ix, p) != get_le32(ix + p))
        FAIL(&c->e, -EINVAL, "xz index CRC mismatch");
    if (sum.unpadded != blocks->unpadded || sum.uncompressed != blocks->uncompressed ||
        sum.digest != blocks->digest)
        FAIL(&c->e, -EINVAL, "xz index does not match the blocks decoded");
    *index_size = p + 4;
    c->ip += p + 4;
    return 0;
}

static int xz_stream(struct xz_ctx *c)
{
    const uint8_t *h = c->in + c->ip, *f;
    struct xz_index_sum blocks = { 0 };
    size_t index_size;
    unsigned check;
    int ret;

    /* Stream header. The caller has checked the magic. */
    if (c->in_len - c->ip < XZ_HEADER_SIZE)
        FAIL(&c->e, -EINVAL, "truncated xz stream header");
    if (crc32_update(0, h + 6, 2) != get_le32(h + 8))
        FAIL(&c->e, -EINVAL, "xz stream header CRC mismatch");
    if (h[6] || (h[7] & 0xf0))
        FAIL(&c->e, -EOPNOTSUPP, "xz stream header uses reserved flags");
    check = h[7];
    if (check != XZ_CHECK_NONE && check != XZ_CHECK_CRC32 && check != XZ_CHECK_CRC64)
        FAIL(&c->e, -EOPNOTSUPP, "unsupported xz check type (only none, CRC32 and CRC64 are)");
    c->ip += XZ_HEADER_SIZE;

    /* Blocks until the index indicator. */
    for (;;) {
        if (c->ip >= c->in_len)
            FAIL(&c->e, -EINVAL, "truncated xz stream");
        if (c->in[c->ip] == 0x00)
            break;
        ret = xz_block(c, check, &blocks);
        if (ret)
            return ret;
    }
    ret = xz_index(c, &blocks, &index_size);
    if (ret)
        return ret;

    /* Stream footer. */
    if (c->in_len - c->ip < XZ_FOOTER_SIZE)
        FAIL(&c->e, -EINVAL, "truncated xz stream footer");
    f = c->in + c->ip;
    if (crc32_update(0, f + 4, 6) != get_le32(f))
        FAIL(&c->e, -EINVAL, "xz stream footer CRC mismatch");
    if (f[10] != 'Y' || f[11] != 'Z')
        FAIL(&c->e, -EINVAL, "bad xz stream footer magic");
    if (f[8] != h[6] || f[9] != h[7])
        FAIL(&c->e, -EINVAL, "xz stream footer flags differ from the header");
    if (((uint64_t)get_le32(f + 4) + 1) * 4 != index_size)
        FAIL(&c->e, -EINVAL, "xz stream footer gives the wrong index size");
    c->ip += XZ_FOOTER_SIZE;
    return 0;
}

static bool at_stream(const struct xz_ctx *c)
{
    return c->in_len - c->ip >= sizeof(xz_magic) && !memcmp(c->in + c->ip, xz_magic, sizeof(xz_magic));
}

static int busy;

int xz_decompress(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len, const char **why)
{
    static uint8_t no_output;
    struct xz_ctx c = {
        .in = in,
        .in_len = in_len,
        .out = out ? out : &no_output,
        .out_cap = out ? out_cap : 0,
    };
    int ret = 0;

    if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
        c.e.why = "xz decompressor already in use";
        ret = -EBUSY;
        goto done;
    }
    if (!crc_tables_ready)
        crc_tables_init();

    if (!in || !at_stream(&c)) {
        c.e.why = "not xz data";
        ret = -EINVAL;
    } else {
        do {
            ret = xz_stream(&c);
            if (ret)
                break;
            /* Stream padding comes in groups of four zero bytes. */
            while (c.in_len - c.ip >= 4 && all_zero(c.in + c.ip, 4))
                c.ip += 4;
        } while (at_stream(&c));
    }
    __atomic_store_n(&busy, 0, __ATOMIC_RELEASE);

done:
    if (out_len)
        *out_len = c.op;
    if (why)
        *why = ret ? c.e.why : NULL;
    return ret;
}
