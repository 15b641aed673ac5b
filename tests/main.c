// main.c: the test runner. `ds_tests` runs every registered test,
// `ds_tests NAME...` only those, `ds_tests --list` prints the names.
// Each test gets a fresh error detail; a failing test makes the exit status 1.
#include "tests/test.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/timer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DS_TEST_MAX 512

static struct {
    const char *name;
    ds_test_fn fn;
} ds_tests[DS_TEST_MAX];
static int ds_n_tests;

void ds_test_register(const char *name, ds_test_fn fn) {
    DS_ASSERT(ds_n_tests < DS_TEST_MAX);
    ds_tests[ds_n_tests].name = name;
    ds_tests[ds_n_tests].fn = fn;
    ds_n_tests++;
}

static int64_t close_impl(const char *what, const float *got, const float *ref32,
                          const double *ref64, int64_t n, double atol, double rtol) {
    int64_t bad = 0;
    double worst_abs = 0, worst_rel = 0;
    for (int64_t i = 0; i < n; i++) {
        double r = ref64 ? ref64[i] : (double)ref32[i];
        double g = got[i];
        double diff = fabs(g - r);
        double rel = diff / (fabs(r) > 1e-12 ? fabs(r) : 1e-12);
        if (!(diff == diff)) diff = INFINITY; // NaN is the worst
        if (diff > worst_abs) worst_abs = diff;
        if (fabs(r) > atol && rel > worst_rel) worst_rel = rel;
        if (!(diff <= atol + rtol * fabs(r))) {
            if (bad < 5)
                fprintf(stderr, "  %s[%lld]: got %.9g, want %.9g (diff %.3g)\n", what, (long long)i,
                        g, r, diff);
            bad++;
        }
    }
    printf("  %-40s n=%-8lld worst abs %.3e  worst rel %.3e  (atol %.0e rtol %.0e) %s\n", what,
           (long long)n, worst_abs, worst_rel, atol, rtol, bad ? "MISMATCH" : "ok");
    if (bad)
        printf("  %s: %lld of %lld elements out of tolerance\n", what, (long long)bad,
               (long long)n);
    return bad;
}

int64_t ds_test_close_f32(const char *what, const float *got, const float *ref, int64_t n,
                          double atol, double rtol) {
    return close_impl(what, got, ref, NULL, n, atol, rtol);
}

int64_t ds_test_close_f64(const char *what, const float *got, const double *ref, int64_t n,
                          double atol, double rtol) {
    return close_impl(what, got, NULL, ref, n, atol, rtol);
}

void ds_test_fd_grad(double *x, int64_t n, double *grad, ds_test_loss_fn loss, void *env,
                     double eps) {
    for (int64_t i = 0; i < n; i++) {
        double saved = x[i];
        x[i] = saved + eps;
        double lp = loss(env);
        x[i] = saved - eps;
        double lm = loss(env);
        x[i] = saved;
        grad[i] = (lp - lm) / (2 * eps);
    }
}

void ds_test_randn(float *x, int64_t n, uint64_t seed, float std) {
    ds_rng r;
    ds_rng_seed(&r, seed);
    ds_rng_fill_normal(&r, x, n, 0.0f, std);
}

void ds_test_to_f64(double *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = src[i];
}

void ds_test_to_f32(float *dst, const double *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = (float)src[i];
}

size_t ds_test_mutate(ds_rng *r, uint8_t *out, const uint8_t *seed, size_t n) {
    memcpy(out, seed, n);
    size_t len = n;
    int edits = 1 + (int)ds_rng_below(r, 4);
    for (int e = 0; e < edits; e++) {
        size_t pos = (size_t)ds_rng_below(r, len);
        switch (ds_rng_below(r, 3)) {
        case 0:
            out[pos] ^= (uint8_t)(1u << ds_rng_below(r, 8));
            break;
        case 1:
            out[pos] = (uint8_t)ds_rng_below(r, 256);
            break;
        default:
            len = pos + 1;
            break;
        }
    }
    return len;
}

const char *ds_test_tmpdir(void) {
    static char dir[512];
    if (!dir[0]) {
        const char *base = getenv("DS_TEST_TMPDIR");
        snprintf(dir, sizeof dir, "%s/docseek-tests-%d", base ? base : "/tmp", (int)getpid());
        mkdir(dir, 0700);
    }
    return dir;
}

int ds_test_shared_docs(int n) {
    const char *subset = getenv("DS_TEST_SUBSET");
    return subset && *subset && n > 8 ? 8 : n;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < ds_n_tests; i++) printf("%s\n", ds_tests[i].name);
        return 0;
    }
    int failed = 0, ran = 0;
    for (int i = 0; i < ds_n_tests; i++) {
        int wanted = argc == 1;
        for (int a = 1; a < argc && !wanted; a++) wanted = strcmp(argv[a], ds_tests[i].name) == 0;
        if (!wanted) continue;
        ds_error_clear();
        printf("[ RUN  ] %s\n", ds_tests[i].name);
        fflush(stdout);
        double t0 = ds_time_s();
        int rc = ds_tests[i].fn();
        printf("[ %s ] %s (%.3f s)\n", rc ? "FAIL" : " OK ", ds_tests[i].name, ds_time_s() - t0);
        fflush(stdout);
        failed += rc != 0;
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "ds_tests: no test matched\n");
        return 2;
    }
    return failed ? 1 : 0;
}
