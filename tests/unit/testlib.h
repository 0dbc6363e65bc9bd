/* Minimal host unit-test framework.
 *
 * TEST(name) { ... } defines a test and registers it before main() runs, so test files need no central list.
 * Checks record a failure (with file:line) and let the test continue, so one run shows every broken expectation.
 * A test counts as failed if any of its checks failed. */
#ifndef VESTA_TESTLIB_H
#define VESTA_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef void (*test_fn)(void);

void test_register(const char *name, test_fn fn);
void test_fail(const char *file, int line, const char *expr);
void test_fail_eq(const char *file, int line, const char *a, const char *b, unsigned long long va,
                  unsigned long long vb);
void test_fail_str(const char *file, int line, const char *a, const char *b, const char *va, const char *vb);

#define TEST(name)                                                                                           \
    static void test_##name(void);                                                                           \
    __attribute__((constructor)) static void register_##name(void) { test_register(#name, test_##name); }    \
    static void test_##name(void)

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            test_fail(__FILE__, __LINE__, #cond);                                                            \
    } while (0)

/* Compares as unsigned 64-bit, which also makes negative values (-1, -EINVAL) compare correctly. */
#define CHECK_EQ(a, b)                                                                                       \
    do {                                                                                                     \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b);                     \
        if (va_ != vb_)                                                                                      \
            test_fail_eq(__FILE__, __LINE__, #a, #b, va_, vb_);                                              \
    } while (0)

#define CHECK_STR(a, b)                                                                                      \
    do {                                                                                                     \
        const char *sa_ = (a), *sb_ = (b);                                                                   \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                                                           \
            test_fail_str(__FILE__, __LINE__, #a, #b, sa_, sb_);                                             \
    } while (0)

/* Deterministic PRNG (xorshift64*) so randomised tests replay identically. */
static inline uint64_t test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

#endif
