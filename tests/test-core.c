// test-core.c: the runtime core: error table, arena, thread pool, RNG,
// half-precision conversions, tensor views.
#include "tests/test.h"
#include "core/arena.h"
#include "core/error.h"
#include "core/log.h"
#include "core/pool.h"
#include "core/rng.h"
#include "core/tensor.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

DS_TEST(core_error_table) {
    // Every code has a distinct name, a message and an HTTP status in 2xx..5xx.
    static const int codes[] = {
#define DS_X(name, code, http, msg) code,
        DS_ERRNO_MAP(DS_X)
#undef DS_X
    };
    int n = (int)(sizeof codes / sizeof *codes);
    for (int i = 0; i < n; i++) {
        DS_CHECK(strcmp(ds_err_name(codes[i]), "UNKNOWN") != 0);
        DS_CHECK(strlen(ds_strerror(codes[i])) > 0);
        int http = ds_err_http_status(codes[i]);
        DS_CHECK(http >= 200 && http < 600);
        for (int j = 0; j < i; j++) DS_CHECK(strcmp(ds_err_name(codes[i]), ds_err_name(codes[j])));
    }
    printf("  %d codes; NOMEM -> %s / %d; TOO_LARGE -> %d; BUSY -> %d\n", n,
           ds_strerror(DS_E_NOMEM), ds_err_http_status(DS_E_NOMEM),
           ds_err_http_status(DS_E_TOO_LARGE), ds_err_http_status(DS_E_BUSY));
    DS_CHECK_INT_EQ(ds_err_http_status(DS_E_TOO_LARGE), 413);
    DS_CHECK_INT_EQ(ds_err_http_status(DS_E_BUSY), 503);
    DS_CHECK(strcmp(ds_err_name(-9999), "UNKNOWN") == 0);
    int rc = ds_error(DS_E_TOO_MANY_PAGES, "%s: %d pages, limit %d", "a.pdf", 200, 50);
    DS_CHECK_INT_EQ(rc, DS_E_TOO_MANY_PAGES);
    DS_CHECK(strcmp(ds_errmsg(), "a.pdf: 200 pages, limit 50") == 0);
    ds_log_level lvl;
    DS_CHECK_INT_EQ(ds_log_parse_level("debug", &lvl), 0);
    DS_CHECK_INT_EQ(lvl, DS_LOG_DEBUG);
    DS_CHECK_INT_EQ(ds_log_parse_level("loud", &lvl), DS_E_INVAL);
    return 0;
}

DS_TEST(core_arena) {
    ds_arena a;
    ds_arena_init(&a, 4096, 0);
    char *p = ds_arena_alloc(&a, 10);
    DS_CHECK(p && ((uintptr_t)p % 64) == 0);
    memset(p, 1, 10);
    ds_arena_mark_t m = ds_arena_mark(&a);
    void *big = ds_arena_alloc(&a, 100000); // larger than a chunk: its own chunk
    DS_CHECK(big && ((uintptr_t)big % 64) == 0);
    memset(big, 2, 100000);
    void *q = ds_arena_alloc(&a, 5000);
    DS_CHECK(q != NULL);
    size_t reserved = a.bytes_reserved;
    ds_arena_rewind(&a, m);
    printf("  reserved %zu before rewind, %zu after; used %zu\n", reserved, a.bytes_reserved,
           a.bytes_used);
    DS_CHECK(a.bytes_reserved < reserved && a.bytes_used == 64);
    DS_CHECK(p[9] == 1); // allocations before the mark survive
    int *z = ds_arena_calloc(&a, 100, sizeof(int));
    DS_CHECK(z != NULL);
    for (int i = 0; i < 100; i++) DS_CHECK(z[i] == 0);
    ds_arena_reset(&a);
    DS_CHECK_INT_EQ(a.bytes_used, 0);
    ds_arena_free(&a);
    ds_arena limited;
    ds_arena_init(&limited, 1024, 4096);
    DS_CHECK(ds_arena_alloc(&limited, 4000) != NULL);
    DS_CHECK(ds_arena_alloc(&limited, 200) == NULL); // past the limit: NULL, not a crash
    DS_CHECK(ds_arena_calloc(&limited, SIZE_MAX / 2, 4) == NULL);
    ds_arena_free(&limited);
    return 0;
}

typedef struct {
    atomic_int calls;
    int64_t n;
    int *hits;
} pool_args;

static void pool_task(void *p, int ith, int nth) {
    pool_args *a = p;
    atomic_fetch_add(&a->calls, 1);
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) a->hits[i]++;
}

DS_TEST(core_pool) {
    for (int nth = 1; nth <= 4; nth++) {
        ds_pool *pool = ds_pool_new(nth);
        DS_CHECK(pool != NULL);
        pool_args a = {.n = 1001};
        a.hits = calloc(1001, sizeof(int));
        DS_CHECK(a.hits != NULL);
        for (int round = 0; round < 200; round++) ds_pool_run(pool, pool_task, &a);
        int ok = atomic_load(&a.calls) == 200 * nth;
        for (int i = 0; i < 1001; i++) ok &= a.hits[i] == 200;
        printf("  %d threads: %d calls over 200 runs, every item hit 200 times: %s\n", nth,
               atomic_load(&a.calls), ok ? "yes" : "NO");
        free(a.hits);
        ds_pool_free(pool);
        DS_CHECK(ok);
    }
    // ds_split covers [0, n) exactly once, balanced within one item.
    for (int n = 0; n < 50; n++)
        for (int nth = 1; nth <= 7; nth++) {
            int64_t prev = 0;
            for (int i = 0; i < nth; i++) {
                int64_t lo, hi;
                ds_split(n, i, nth, &lo, &hi);
                DS_CHECK(lo == prev && hi >= lo && hi - lo <= n / nth + 1);
                prev = hi;
            }
            DS_CHECK(prev == n);
        }
    return 0;
}

DS_TEST(core_rng) {
    ds_rng a, b;
    ds_rng_seed(&a, 1234);
    ds_rng_seed(&b, 1234);
    for (int i = 0; i < 1000; i++) DS_CHECK(ds_rng_u64(&a) == ds_rng_u64(&b));
    ds_rng_seed(&b, 1235);
    DS_CHECK(ds_rng_u64(&a) != ds_rng_u64(&b));
    // Moments of 200k normals and uniforms, and an unbiased ds_rng_below.
    double s = 0, s2 = 0, u = 0;
    int counts[7] = {0};
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double x = ds_rng_normal(&a);
        s += x;
        s2 += x * x;
        float f = ds_rng_uniform(&a);
        DS_CHECK(f >= 0.0f && f < 1.0f);
        u += f;
        counts[ds_rng_below(&a, 7)]++;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    printf("  normal mean %.4f var %.4f; uniform mean %.4f; below(7) counts %d..%d\n", mean, var,
           u / n, counts[0], counts[6]);
    DS_CHECK(fabs(mean) < 0.01 && fabs(var - 1) < 0.02 && fabs(u / n - 0.5) < 0.005);
    for (int k = 0; k < 7; k++) DS_CHECK(abs(counts[k] - n / 7) < 800);
    return 0;
}

DS_TEST(core_half_conversions) {
    // Exhaustive: every f16 bit pattern survives f16 -> f32 -> f16 (NaNs stay NaN).
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ds_f16_to_f32((uint16_t)h);
        uint16_t back = ds_f32_to_f16(f);
        int is_nan = ((h >> 10) & 31) == 31 && (h & 1023);
        if (is_nan ? !isnan(f) : back != h) bad++;
    }
    // Rounding to nearest even against a naive search over all finite halves.
    ds_rng r;
    ds_rng_seed(&r, 3);
    int bad_round = 0;
    for (int i = 0; i < 300;
         i++) { // the naive search below is slow; 300 samples span every binade used
        float x = (ds_rng_uniform(&r) - 0.5f) * powf(2.0f, (float)((int)ds_rng_below(&r, 40) - 24));
        uint16_t got = ds_f32_to_f16(x);
        double best = INFINITY;
        uint16_t want = 0;
        for (uint32_t h = 0; h < 0x7c00; h++) { // positive finite halves
            double d = fabs((double)ds_f16_to_f32((uint16_t)h) - fabs((double)x));
            if (d < best || (d == best && (h & 1) == 0)) {
                best = d;
                want = (uint16_t)h;
            }
        }
        if (x < 0) want |= 0x8000;
        if (got != want && !(x == 0 && (got & 0x7fff) == 0)) bad_round++;
    }
    DS_CHECK(ds_f32_to_f16(65520.0f) == 0x7c00 && ds_f32_to_f16(65504.0f) == 0x7bff);
    DS_CHECK(ds_f32_to_f16(1e-8f) == 0 && isinf(ds_f16_to_f32(ds_f32_to_f16(1e6f))));
    // bf16: exact for values with 8 significant bits, ties to even, NaN kept.
    int bad_bf = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ds_bf16_to_f32((uint16_t)h);
        if (!isnan(f) && ds_f32_to_bf16(f) != h) bad_bf++;
    }
    DS_CHECK(ds_f32_to_bf16(1.00390625f) == 0x3f80); // tie -> even (down)
    DS_CHECK(ds_f32_to_bf16(1.01171875f) == 0x3f82); // tie -> even (up)
    DS_CHECK(isnan(ds_bf16_to_f32(ds_f32_to_bf16(nanf("")))));
    printf("  f16 round trips failing: %d of 65536; rounding mismatches: %d; bf16 round trips "
           "failing: %d\n",
           bad, bad_round, bad_bf);
    DS_CHECK(bad == 0 && bad_round == 0 && bad_bf == 0);
    return 0;
}

DS_TEST(core_tensor_view) {
    float buf[24];
    ds_tensor t = ds_tensor_make(buf, DS_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
    DS_CHECK_INT_EQ(ds_tensor_numel(&t), 24);
    DS_CHECK(t.stride[0] == 12 && t.stride[1] == 4 && t.stride[2] == 1);
    DS_CHECK(ds_tensor_is_contiguous(&t));
    ds_tensor tr = t; // a transposed view of the last two axes is not contiguous
    tr.shape[1] = 4;
    tr.shape[2] = 3;
    tr.stride[1] = 1;
    tr.stride[2] = 4;
    DS_CHECK(!ds_tensor_is_contiguous(&tr));
    char s[64];
    DS_CHECK(strcmp(ds_tensor_shape_str(&t, s, sizeof s), "(2, 3, 4)") == 0);
    ds_dtype dt;
    DS_CHECK(ds_dtype_parse("BF16", &dt) == 0 && dt == DS_DTYPE_BF16 && ds_dtype_size(dt) == 2);
    DS_CHECK_INT_EQ(ds_dtype_parse("F64", &dt), DS_E_UNSUPPORTED);
    ds_tensor sc = ds_tensor_make(buf, DS_DTYPE_I32, 0, NULL);
    DS_CHECK_INT_EQ(ds_tensor_numel(&sc), 1);
    return 0;
}
