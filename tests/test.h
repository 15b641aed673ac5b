// test.h: the one test runner's registration and checks (libuv task.h style).
// A test is `DS_TEST(name) { ...; return 0; }` in any tests/*.c file; it
// registers itself at load time, and CMake registers each name with ctest by
// scanning the sources for DS_TEST( lines. A test returns 0 on success and
// nonzero on failure, and prints what it compared and the worst difference.
#ifndef DS_TEST_H
#define DS_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef int (*ds_test_fn)(void);
void ds_test_register(const char *name, ds_test_fn fn);

#define DS_TEST(name)                                                                              \
    static int ds_test_##name(void);                                                               \
    __attribute__((constructor)) static void ds_test_reg_##name(void) {                            \
        ds_test_register(#name, ds_test_##name);                                                   \
    }                                                                                              \
    static int ds_test_##name(void)

// Fails the test, printing both sides, when a condition on input/output is false.
#define DS_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__);           \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#define DS_CHECK_INT_EQ(a, b)                                                                      \
    do {                                                                                           \
        long long ds_a_ = (long long)(a), ds_b_ = (long long)(b);                                  \
        if (ds_a_ != ds_b_) {                                                                      \
            fprintf(stderr, "  CHECK failed: %s == %s (%lld vs %lld) at %s:%d\n", #a, #b, ds_a_,   \
                    ds_b_, __FILE__, __LINE__);                                                    \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

// Compares got against ref elementwise with |got - ref| <= atol + rtol * |ref|.
// Prints "what: n=..., worst abs ..., worst rel ..." and up to 5 mismatches.
// Returns the number of mismatches (0 = pass).
int64_t ds_test_close_f32(const char *what, const float *got, const float *ref, int64_t n,
                          double atol, double rtol);
// Same, with a double reference (finite differences, naive double loops).
int64_t ds_test_close_f64(const char *what, const float *got, const double *ref, int64_t n,
                          double atol, double rtol);

// Central finite differences of a scalar loss(env) over x (n doubles):
// grad[i] = (loss(x + eps e_i) - loss(x - eps e_i)) / (2 eps). x is restored.
typedef double (*ds_test_loss_fn)(void *env);
void ds_test_fd_grad(double *x, int64_t n, double *grad, ds_test_loss_fn loss, void *env,
                     double eps);

// Helpers for test data: deterministic random arrays and float<->double copies.
void ds_test_randn(float *x, int64_t n, uint64_t seed, float std);
void ds_test_to_f64(double *dst, const float *src, int64_t n);
void ds_test_to_f32(float *dst, const double *src, int64_t n);
// Copies seed (n > 0 bytes) into out with 1-4 random edits (bit flip, byte set,
// truncation) for fuzz smoke tests; returns the mutated length.
struct ds_rng;
size_t ds_test_mutate(struct ds_rng *r, uint8_t *out, const uint8_t *seed, size_t n);
// Directory holding fixtures written by tests (created on demand; from DS_TEST_TMPDIR or /tmp).
const char *ds_test_tmpdir(void);
// How many of a real data set's n documents a test reads: n, or 8 when DS_TEST_SUBSET is set
// (the sanitizer build sets it: Tesseract, which they do not instrument, is most of those
// tests' time, and the sanitizers look for memory errors, not scores).
int ds_test_shared_docs(int n);

#endif
