// test-cuda-core.c: the CUDA backend's table and its first ops against the CPU
// reference: memory round trips, add / axpy / sumsq, and the linear layer
// forward and backward through cuBLAS, in full f32 and on bf16 tensor cores.
// The table check runs wherever CUDA is compiled; the parity checks need a GPU
// and print a skip line without one.
#include "tests/test.h"
#include "core/error.h"
#include "kernels/row-plan.h"
#include "tests/cuda-parity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DS_TEST(cuda_table_complete) {
#ifdef DS_HAVE_CUDA
    const ds_ops *ops = ds_ops_cuda();
    const void *const *fn = (const void *const *)((const char *)ops + sizeof(const char *));
    size_t n = (sizeof(ds_ops) - sizeof(const char *)) / sizeof(void *), missing = 0;
    for (size_t i = 0; i < n; i++) {
        if (fn[i]) continue;
        printf("  op %zu of ds_ops has no CUDA kernel\n", i);
        missing++;
    }
    printf("  cuda table: %zu ops, %zu missing\n", n, missing);
    DS_CHECK(strcmp(ops->name, "cuda") == 0);
    DS_CHECK_INT_EQ(missing, 0);
#else
    printf("  skip: built without CUDA\n");
#endif
    return 0;
}

DS_TEST(cuda_memory_elementwise) {
    ds_ctx *g = ds_par_gpu(), *c = ds_par_cpu();
    if (!g) return 0;
    int64_t fails = 0;
    const int64_t sizes[] = {1, 255, 256, 100003};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int64_t n = sizes[s];
        float *a = ds_par_randn(n, 11 + s, 1.0f), *b = ds_par_randn(n, 21 + s, 1.0f);
        float *da = ds_par_up(g, a, n), *db = ds_par_up(g, b, n), *dout = ds_par_zeros(g, 4 * n);
        float *back = ds_par_down(g, da, n);
        fails += memcmp(back, a, sizeof(float) * n) != 0; // a round trip is exact
        free(back);
        float *ref = malloc(sizeof(float) * n);
        c->ops->add(c, ref, a, b, n);
        g->ops->add(g, dout, da, db, n);
        fails += ds_par_check(g, "add", dout, ref, n, 0, 0);
        c->ops->axpy(c, ref, b, -0.75f, n);
        g->ops->axpy(g, dout, db, -0.75f, n);
        fails += ds_par_check(g, "axpy", dout, ref, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
        double want = c->ops->sumsq(c, a, n), got = g->ops->sumsq(g, da, n);
        printf("  sumsq n=%lld: cpu %.9g cuda %.9g\n", (long long)n, want, got);
        fails += fabs(got - want) > 1e-9 * want + 1e-12;
        g->ops->zero(g, dout, sizeof(float) * n);
        memset(ref, 0, sizeof(float) * n);
        fails += ds_par_check(g, "zero", dout, ref, n, 0, 0);
        g->ops->free(g, da);
        g->ops->free(g, db);
        g->ops->free(g, dout);
        free(a), free(b), free(ref);
    }
    g->ops->free(g, NULL);
    return (int)fails;
}

// Strided block copies: a block narrower than both row strides, from an offset column,
// onto a destination whose other columns must keep their values. Exact.
DS_TEST(cuda_copy_2d) {
    ds_ctx *g = ds_par_gpu(), *c = ds_par_cpu();
    if (!g) return 0;
    int64_t fails = 0;
    const int shapes[][4] = {{1, 1, 1, 1}, {7, 5, 9, 12}, {300, 64, 192, 64}, {33, 17, 17, 40}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int rows = shapes[s][0], cols = shapes[s][1], sld = shapes[s][2], dld = shapes[s][3];
        int64_t ns = (int64_t)rows * sld, nd = (int64_t)rows * dld;
        float *src = ds_par_randn(ns, 31 + s, 1.0f), *ref = ds_par_randn(nd, 41 + s, 1.0f);
        float *gs = ds_par_up(g, src, ns), *gd = ds_par_up(g, ref, nd);
        int off = sld - cols; // the source block ends at its rows' end
        c->ops->copy_2d(c, ref, dld, src + off, sld, rows, cols);
        g->ops->copy_2d(g, gd, dld, gs + off, sld, rows, cols);
        char what[64];
        snprintf(what, sizeof what, "copy_2d %dx%d ld %d->%d", rows, cols, sld, dld);
        fails += ds_par_check(g, what, gd, ref, nd, 0, 0);
        g->ops->free(g, gs);
        g->ops->free(g, gd);
        free(src), free(ref);
    }
    return (int)fails;
}

// The moves (dst, src, scale: m of them onto n_dst rows) planned and applied on the GPU,
// when there is one, to start: its mismatches against the CPU's result ref.
static int64_t plan_on_gpu(const char *what, const int32_t *dst, const int32_t *src,
                           const float *scale, int m, int n_dst, const float *from, int n_src,
                           const float *start, const float *ref, int C) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    ds_arena da, dh;
    ds_ctx_arena_init(g, &da, &dh, 0, 0);
    ds_row_plan gp;
    int64_t fails = 1;
    if (ds_row_plan_build(g, &da, dst, src, scale, m, n_dst, &gp) == 0) {
        float *gfrom = ds_par_up(g, from, (int64_t)n_src * C),
              *gto = ds_par_up(g, start, (int64_t)n_dst * C);
        ds_row_plan_apply(g, &gp, gto, gfrom, C);
        fails =
            ds_par_check(g, what, gto, ref, (int64_t)n_dst * C, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
        g->ops->free(g, gfrom);
        g->ops->free(g, gto);
    }
    ds_arena_free(&da);
    ds_arena_free(&dh);
    return fails;
}

// rows_add through a plan of random moves (repeated destinations, scaled sources): on the
// CPU it must equal the moves applied one by one in their order (exactly: a plan keeps each
// destination's order); on the GPU it must match the CPU.
DS_TEST(cuda_rows_add) {
    ds_ctx *c = ds_par_cpu();
    enum { M = 300, N_DST = 50, N_SRC = 80, C = 37 };
    int32_t dst[M], src[M];
    float scale[M];
    uint64_t r = 12345;
    for (int i = 0; i < M; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        dst[i] = (int32_t)((r >> 33) % N_DST);
        src[i] = (int32_t)((r >> 20) % N_SRC);
        scale[i] = (float)((r >> 40) % 1000) / 500.0f - 1.0f;
    }
    float *from = ds_par_randn((int64_t)N_SRC * C, 51, 1.0f);
    float *ref = ds_par_randn((int64_t)N_DST * C, 52, 1.0f),
          *naive = malloc(sizeof(float) * N_DST * C);
    memcpy(naive, ref, sizeof(float) * N_DST * C);
    for (int i = 0; i < M; i++)
        for (int k = 0; k < C; k++) naive[dst[i] * C + k] += scale[i] * from[src[i] * C + k];
    ds_arena ha;
    ds_arena_init(&ha, 0, 0);
    ds_row_plan plan;
    DS_CHECK_INT_EQ(ds_row_plan_build(c, &ha, dst, src, scale, M, N_DST, &plan), 0);
    float *start = malloc(sizeof(float) * N_DST * C);
    memcpy(start, ref, sizeof(float) * N_DST * C);
    ds_row_plan_apply(c, &plan, ref, from, C);
    int64_t fails = memcmp(ref, naive, sizeof(float) * N_DST * C) != 0;
    printf("  cpu plan of %d moves onto %d rows: %s the moves one by one\n", M, plan.direct.n,
           fails ? "DIFFERS from" : "equals");
    fails += plan_on_gpu("rows_add", dst, src, scale, M, N_DST, from, N_SRC, start, ref, C);
    ds_arena_free(&ha);
    free(from), free(ref), free(naive), free(start);
    return (int)fails;
}

// A plan with destinations of thousands of sources (a page embedding's gradient: every
// token on one row) sums them in chunks, then the chunks: on the CPU within rounding of
// the naive sum (taken in double), on the GPU equal to the CPU's within f32 tolerance,
// and the short destinations beside them exactly as the moves one by one.
DS_TEST(cuda_rows_add_long) {
    ds_ctx *c = ds_par_cpu();
    enum { N_DST = 6, N_SRC = 700, C = 33, LONG0 = 5000, LONG1 = 1500, SHORT = 40 };
    enum { M = LONG0 + LONG1 + 4 * SHORT };
    int32_t *dst = malloc(sizeof(int32_t) * M), *src = malloc(sizeof(int32_t) * M);
    float *scale = malloc(sizeof(float) * M);
    uint64_t r = 777;
    for (int i = 0; i < M; i++) { // rows 1 and 4 long, the others short, interleaved
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        static const int32_t short_rows[4] = {0, 2, 3, 5};
        dst[i] = i < 4 * SHORT ? short_rows[i % 4] : i < 4 * SHORT + LONG0 ? 1 : 4;
        src[i] = (int32_t)((r >> 33) % N_SRC);
        scale[i] = (float)((r >> 40) % 1000) / 500.0f - 1.0f;
    }
    float *from = ds_par_randn((int64_t)N_SRC * C, 61, 1.0f);
    float *ref = ds_par_randn((int64_t)N_DST * C, 62, 1.0f);
    float *start = malloc(sizeof(float) * N_DST * C), *naive = malloc(sizeof(float) * N_DST * C);
    double *exact = malloc(sizeof(double) * N_DST * C);
    memcpy(start, ref, sizeof(float) * N_DST * C);
    memcpy(naive, ref, sizeof(float) * N_DST * C);
    for (int k = 0; k < N_DST * C; k++) exact[k] = ref[k];
    for (int i = 0; i < M; i++)
        for (int k = 0; k < C; k++) {
            naive[dst[i] * C + k] += scale[i] * from[src[i] * C + k];
            exact[dst[i] * C + k] += (double)scale[i] * from[src[i] * C + k];
        }
    ds_arena ha;
    ds_arena_init(&ha, 0, 0);
    ds_row_plan plan;
    DS_CHECK_INT_EQ(ds_row_plan_build(c, &ha, dst, src, scale, M, N_DST, &plan), 0);
    DS_CHECK(plan.n_part > 2 && plan.fold.n == 2 && plan.direct.n == 4);
    ds_row_plan_apply(c, &plan, ref, from, C);
    int64_t fails = 0, short_fails = 0;
    double worst = 0;
    for (int row = 0; row < N_DST; row++)
        for (int k = 0; k < C; k++) {
            int at = row * C + k;
            if (row == 1 || row == 4)
                worst = fmax(worst, fabs(ref[at] - exact[at]));
            else
                short_fails += ref[at] != naive[at]; // short rows: the moves' own order
        }
    fails = short_fails + (worst > 1e-3);
    printf("  cpu: %d partial rows for 2 destinations of %d and %d sources, %.2g from the sum "
           "in double; short rows %s\n",
           plan.n_part, LONG0, LONG1, worst, short_fails ? "DIFFER" : "exact");
    fails += plan_on_gpu("rows_add long", dst, src, scale, M, N_DST, from, N_SRC, start, ref, C);
    ds_arena_free(&ha);
    free(dst), free(src), free(scale), free(from), free(ref), free(start), free(naive), free(exact);
    return (int)fails;
}

// One shape of the linear layer, forward and backward (gradients accumulate onto
// non-zero starting values, as the op promises), at the given tolerance.
static int64_t linear_case(ds_ctx *g, int M, int K, int N, int bias, double atol, double rtol) {
    ds_ctx *c = ds_par_cpu();
    uint64_t seed = (uint64_t)M * 1000003u + (uint64_t)K * 1009u + (uint64_t)N;
    float *x = ds_par_randn((int64_t)M * K, seed, 1.0f),
          *w = ds_par_randn((int64_t)N * K, seed + 1, 0.1f);
    float *bs = ds_par_randn(N, seed + 2, 1.0f), *dy = ds_par_randn((int64_t)M * N, seed + 3, 1.0f);
    float *dx = ds_par_randn((int64_t)M * K, seed + 4, 1.0f),
          *dw = ds_par_randn((int64_t)N * K, seed + 5, 1.0f);
    float *db = ds_par_randn(N, seed + 6, 1.0f);
    float *gx = ds_par_up(g, x, (int64_t)M * K), *gw = ds_par_up(g, w, (int64_t)N * K);
    float *gb = ds_par_up(g, bs, N), *gdy = ds_par_up(g, dy, (int64_t)M * N);
    float *gdx = ds_par_up(g, dx, (int64_t)M * K), *gdw = ds_par_up(g, dw, (int64_t)N * K);
    float *gdb = ds_par_up(g, db, N), *gy = ds_par_zeros(g, sizeof(float) * M * N);
    float *y = malloc(sizeof(float) * M * N);
    char what[96];
    int64_t fails = 0;
    c->ops->matmul_forward(c, y, x, w, bias ? bs : NULL, M, K, N);
    g->ops->matmul_forward(g, gy, gx, gw, bias ? gb : NULL, M, K, N);
    snprintf(what, sizeof what, "matmul fwd %dx%dx%d%s", M, K, N, bias ? " +bias" : "");
    fails += ds_par_check(g, what, gy, y, (int64_t)M * N, atol, rtol);
    c->ops->matmul_backward(c, dx, dw, bias ? db : NULL, dy, x, w, M, K, N);
    g->ops->matmul_backward(g, gdx, gdw, bias ? gdb : NULL, gdy, gx, gw, M, K, N);
    snprintf(what, sizeof what, "matmul dinp %dx%dx%d", M, K, N);
    fails += ds_par_check(g, what, gdx, dx, (int64_t)M * K, atol, rtol);
    snprintf(what, sizeof what, "matmul dweight %dx%dx%d", M, K, N);
    fails += ds_par_check(g, what, gdw, dw, (int64_t)N * K, atol, rtol);
    if (bias) fails += ds_par_check(g, "matmul dbias", gdb, db, N, atol, rtol);
    float *bufs[] = {gx, gw, gb, gdy, gdx, gdw, gdb, gy};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) g->ops->free(g, bufs[i]);
    free(x), free(w), free(bs), free(dy), free(dx), free(dw), free(db), free(y);
    return fails;
}

static const int linear_shapes[][4] = {
    {1, 3, 5, 1}, {7, 64, 33, 0}, {64, 128, 96, 1}, {200, 257, 130, 1}};

DS_TEST(cuda_matmul_f32) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof linear_shapes / sizeof *linear_shapes; i++) {
        const int *s = linear_shapes[i];
        // f32: only the order of the sums differs; their size grows with sqrt(K).
        fails += linear_case(g, s[0], s[1], s[2], s[3], 1e-5 * sqrt(s[1] > s[0] ? s[1] : s[0]) * 4,
                             1e-4);
    }
    return (int)fails;
}

DS_TEST(cuda_matmul_bf16) {
#ifdef DS_HAVE_CUDA
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    ds_cuda_set_gemm_f32(g, 0); // the default: bf16 products, f32 sums
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof linear_shapes / sizeof *linear_shapes; i++) {
        const int *s = linear_shapes[i];
        int k = s[1] > s[0] ? s[1] : s[0];
        fails += linear_case(g, s[0], s[1], s[2], s[3], 1e-2 * sqrt(k), DS_PAR_BF16_RTOL);
    }
    ds_cuda_set_gemm_f32(g, 1);
    return (int)fails;
#else
    printf("  skip: built without CUDA\n");
    return 0;
#endif
}
