/* Test registry and runner. Usage: unit-tests [substring] runs the tests whose name contains substring. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TESTS 512

static struct {
    const char *name;
    test_fn fn;
} tests[MAX_TESTS];
static int nr_tests;
static int current_failures;
static const char *current_name;

void test_register(const char *name, test_fn fn)
{
    if (nr_tests == MAX_TESTS) {
        fprintf(stderr, "too many tests, raise MAX_TESTS\n");
        exit(2);
    }
    tests[nr_tests].name = name;
    tests[nr_tests].fn = fn;
    nr_tests++;
}

void test_fail(const char *file, int line, const char *expr)
{
    printf("FAIL %s: %s:%d: CHECK(%s)\n", current_name, file, line, expr);
    current_failures++;
}

void test_fail_eq(const char *file, int line, const char *a, const char *b, unsigned long long va,
                  unsigned long long vb)
{
    printf("FAIL %s: %s:%d: CHECK_EQ(%s, %s): %llu (%#llx, %lld) != %llu (%#llx, %lld)\n", current_name, file,
           line, a, b, va, va, (long long)va, vb, vb, (long long)vb);
    current_failures++;
}

void test_fail_str(const char *file, int line, const char *a, const char *b, const char *va, const char *vb)
{
    printf("FAIL %s: %s:%d: CHECK_STR(%s, %s): \"%s\" != \"%s\"\n", current_name, file, line, a, b,
           va ? va : "(null)", vb ? vb : "(null)");
    current_failures++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;

    /* Constructor order is unspecified; sorting keeps runs and output stable. */
    qsort(tests, (size_t)nr_tests, sizeof(tests[0]), by_name);

    for (int i = 0; i < nr_tests; i++) {
        if (filter && !strstr(tests[i].name, filter))
            continue;
        current_name = tests[i].name;
        current_failures = 0;
        tests[i].fn();
        if (current_failures)
            failed++;
        else
            passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
