// test-cuda-moe.c: the CUDA MoE ops against the CPU reference: routing (sigmoid and
// softmax, group limits, bias, exact ties in the logits, which must go to the lower index on
// both backends), the permutation and its dispatch / combine with their backwards, the
// grouped expert GEMMs (with experts that get no rows) and the bf16-weight decode GEMMs.
// Index arrays must match exactly; floats within the f32 tolerance (sqrt-scaled for sums).
// Each test prints a skip line and passes without a GPU.
#include "tests/test.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "tests/cuda-parity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- helpers

// Compares n device ints with a host reference exactly: the mismatch count (0 = pass).
static int64_t check_i32(ds_ctx *g, const char *what, const int32_t *dev, const int32_t *ref,
                         int64_t n) {
    int32_t *got = ds_par_down_i32(g, dev, n);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (got[i] == ref[i]) continue;
        if (bad < 5)
            printf("  %s[%lld]: cuda %d cpu %d\n", what, (long long)i, (int)got[i], (int)ref[i]);
        bad++;
    }
    printf("  %s: n=%lld, %lld differ\n", what, (long long)n, (long long)bad);
    free(got);
    return bad;
}

static void free_dev(ds_ctx *g, void *const *bufs, size_t n) {
    for (size_t i = 0; i < n; i++) g->ops->free(g, bufs[i]);
}

static void free_host(void *const *bufs, size_t n) {
    for (size_t i = 0; i < n; i++) free(bufs[i]);
}

// The sqrt(K)-scaled f32 atol of test-cuda-core.c for sums of n terms.
static double sum_atol(int n) {
    return DS_PAR_F32_ATOL * sqrt(n > 1 ? n : 1) * 4;
}

// ---- routing

typedef struct {
    int E, G, KG, K;
    ds_router_score score;
    int bias; // 0: none, 1: random, 2: a few repeated values (keeps the logits' ties)
    int normalize;
    float scale;
    int T;
} route_case;

static const route_case route_cases[] = {
    {8, 1, 1, 1, DS_ROUTER_SOFTMAX, 0, 0, 1.0f, 37},
    {8, 1, 1, 2, DS_ROUTER_SOFTMAX, 1, 1, 2.5f, 37},
    {8, 4, 2, 2, DS_ROUTER_SIGMOID, 2, 1, 2.5f, 37},
    {8, 8, 6, 6, DS_ROUTER_SIGMOID, 0, 0, 1.5f, 37},
    {8, 4, 4, 6, DS_ROUTER_SOFTMAX, 2, 1, 0.75f, 37},
    {64, 1, 1, 6, DS_ROUTER_SOFTMAX, 2, 1, 1.0f, 130},
    {64, 4, 2, 6, DS_ROUTER_SIGMOID, 1, 1, 2.5f, 130},
    {64, 8, 3, 6, DS_ROUTER_SIGMOID, 2, 1, 2.5f, 130},
    {64, 8, 4, 2, DS_ROUTER_SOFTMAX, 0, 0, 0.5f, 130},
    {64, 8, 8, 1, DS_ROUTER_SIGMOID, 1, 0, 1.0f, 130},
    {64, 4, 1, 6, DS_ROUTER_SIGMOID, 0, 1, 2.5f, 130},
};

// Logits with exact ties: a third of the rows take four values only, a third repeat each
// even expert's logit in the odd one after it, the rest are random.
static float *route_logits(int T, int E, uint64_t seed) {
    float *l = ds_par_randn((int64_t)T * E, seed, 1.0f);
    for (int t = 0; t < T; t++)
        for (int e = 0; e < E; e++) {
            float *v = l + (int64_t)t * E + e;
            if (t % 3 == 0) *v = 0.5f * (float)((e * 5 + t) % 4);
            if (t % 3 == 1 && (e & 1)) *v = v[-1];
        }
    return l;
}

// 1 when a row has two biased scores from different inputs (logit, bias), or two group
// scores, that differ by no more than a few ulps without being equal.
static int near_pair(float a, float b) {
    return a != b && fabsf(a - b) <= 1e-6f * fmaxf(fabsf(a), fabsf(b));
}

static int route_row_near(const float *l, const float *bias, const float *s, int E, int G) {
    const int gsize = E / G;
    for (int e = 0; e < E; e++)
        for (int f = e + 1; f < E; f++) {
            float be = bias ? s[e] + bias[e] : s[e], bf = bias ? s[f] + bias[f] : s[f];
            int same = l[e] == l[f] && (!bias || bias[e] == bias[f]);
            if (!same && (be == bf || near_pair(be, bf))) return 1;
        }
    float gsc[64];
    if (G > 64) return 0;
    for (int g = 0; g < G; g++) {
        float b1 = -INFINITY, b2 = -INFINITY;
        for (int e = g * gsize; e < (g + 1) * gsize; e++) {
            float b = bias ? s[e] + bias[e] : s[e];
            if (b > b1) {
                b2 = b1;
                b1 = b;
            } else if (b > b2) {
                b2 = b;
            }
        }
        gsc[g] = gsize == 1 ? b1 : b1 + b2;
    }
    for (int g = 0; g < G; g++)
        for (int h = g + 1; h < G; h++)
            if (near_pair(gsc[g], gsc[h])) return 1;
    return 0;
}

static int64_t route_one(ds_ctx *g, const route_case *rc, uint64_t seed) {
    ds_ctx *c = ds_par_cpu();
    const int T = rc->T, E = rc->E, K = rc->K;
    ds_router_cfg cfg = {.n_experts = E,
                         .n_groups = rc->G,
                         .topk_groups = rc->KG,
                         .topk = K,
                         .score = rc->score,
                         .normalize = rc->normalize,
                         .scale = rc->scale};
    float *l = route_logits(T, E, seed), *b = ds_par_randn(E, seed + 1, 0.1f);
    if (rc->bias == 2)
        for (int e = 0; e < E; e++) b[e] = 0.125f * (float)((e * 7) % 3);
    const float *bias = rc->bias ? b : NULL;
    int32_t *idx = malloc(sizeof(int32_t) * (size_t)T * K);
    float *w = malloc(sizeof(float) * (size_t)T * K), *s = malloc(sizeof(float) * (size_t)T * E);
    float *dw = ds_par_randn((int64_t)T * K, seed + 2, 1.0f),
          *dl = ds_par_randn((int64_t)T * E, seed + 3, 1.0f);

    float *gl = ds_par_up(g, l, (int64_t)T * E), *gb = ds_par_up(g, b, E);
    int32_t *gidx = ds_par_zeros(g, sizeof(int32_t) * (size_t)T * K);
    float *gw = ds_par_zeros(g, sizeof(float) * (size_t)T * K),
          *gs = ds_par_zeros(g, sizeof(float) * (size_t)T * E);
    float *gdw = ds_par_up(g, dw, (int64_t)T * K), *gdl = ds_par_up(g, dl, (int64_t)T * E);

    c->ops->moe_route_forward(c, idx, w, s, l, bias, T, cfg);
    g->ops->moe_route_forward(g, gidx, gw, gs, gl, rc->bias ? gb : NULL, T, cfg);
    printf("  route E=%d G=%d KG=%d K=%d %s bias=%d norm=%d scale=%g\n", E, rc->G, rc->KG, K,
           rc->score == DS_ROUTER_SIGMOID ? "sigmoid" : "softmax", rc->bias, rc->normalize,
           rc->scale);
    // Rows where two different inputs score within about an ulp may order differently (the
    // backends' expf differ by an ulp or two): those rows take the GPU's choice as reference.
    int32_t *got_idx = ds_par_down_i32(g, gidx, (int64_t)T * K);
    float *got_w = ds_par_down(g, gw, (int64_t)T * K);
    int32_t *ref_idx = malloc(sizeof(int32_t) * (size_t)T * K);
    float *ref_w = malloc(sizeof(float) * (size_t)T * K);
    memcpy(ref_idx, idx, sizeof(int32_t) * (size_t)T * K);
    memcpy(ref_w, w, sizeof(float) * (size_t)T * K);
    int n_near = 0;
    for (int t = 0; t < T; t++) {
        if (!route_row_near(l + (int64_t)t * E, bias, s + (int64_t)t * E, E, rc->G)) continue;
        n_near++;
        memcpy(ref_idx + (int64_t)t * K, got_idx + (int64_t)t * K, sizeof(int32_t) * K);
        memcpy(ref_w + (int64_t)t * K, got_w + (int64_t)t * K, sizeof(float) * K);
    }
    printf("  rows with near ties (not compared): %d of %d\n", n_near, T);
    int64_t fails = 0;
    for (int64_t i = 0; i < (int64_t)T * K; i++) {
        if (got_idx[i] == ref_idx[i]) continue;
        if (fails < 5)
            printf("  expert_idx[%lld]: cuda %d cpu %d\n", (long long)i, got_idx[i], ref_idx[i]);
        fails++;
    }
    printf("  expert_idx: n=%lld, %lld differ\n", (long long)T * K, (long long)fails);
    fails += ds_par_check(g, "scores", gs, s, (int64_t)T * E, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    fails += ds_test_close_f32("expert_w", got_w, ref_w, (int64_t)T * K, DS_PAR_F32_ATOL,
                               DS_PAR_F32_RTOL);
    free(got_idx), free(got_w), free(ref_idx), free(ref_w);

    // Backward from the same (CPU) selection and scores on both sides, so a forward
    // mismatch above is not counted twice; dlogits starts non-zero (it accumulates).
    int32_t *gidx_ref = ds_par_up_i32(g, idx, (int64_t)T * K);
    float *gs_ref = ds_par_up(g, s, (int64_t)T * E);
    c->ops->moe_route_backward(c, dl, dw, idx, s, T, cfg);
    g->ops->moe_route_backward(g, gdl, gdw, gidx_ref, gs_ref, T, cfg);
    fails += ds_par_check(g, "dlogits", gdl, dl, (int64_t)T * E, sum_atol(E), 1e-4);

    void *dev[] = {gl, gb, gidx, gw, gs, gdw, gdl, gidx_ref, gs_ref};
    free_dev(g, dev, sizeof dev / sizeof *dev);
    void *host[] = {l, b, idx, w, s, dw, dl};
    free_host(host, sizeof host / sizeof *host);
    return fails;
}

DS_TEST(cuda_moe_route) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof route_cases / sizeof *route_cases; i++)
        fails += route_one(g, &route_cases[i], 1000 + 17 * i);
    // No tokens: nothing to do, nothing written.
    ds_router_cfg cfg = {.n_experts = 8,
                         .n_groups = 2,
                         .topk_groups = 1,
                         .topk = 2,
                         .score = DS_ROUTER_SIGMOID,
                         .normalize = 1,
                         .scale = 1.0f};
    g->ops->moe_route_forward(g, NULL, NULL, NULL, NULL, NULL, 0, cfg);
    g->ops->moe_route_backward(g, NULL, NULL, NULL, NULL, 0, cfg);
    g->ops->sync(g);
    return (int)fails;
}

// ---- permute, dispatch, combine

typedef struct {
    int T, topk, E, C;
} permute_case;

static const permute_case permute_cases[] = {
    {1, 1, 4, 5}, {37, 2, 8, 33}, {300, 6, 64, 96}, {1000, 6, 64, 40}, {0, 2, 8, 16}, {5, 8, 3, 1},
};

static int64_t permute_one(ds_ctx *g, const permute_case *pc, uint64_t seed) {
    ds_ctx *c = ds_par_cpu();
    const int T = pc->T, K = pc->topk, E = pc->E, C = pc->C;
    const int64_t n = (int64_t)T * K;
    // Experts with repeats, and (for E >= 3) none on experts 0 and E-1: empty ranges at both
    // ends of offsets.
    int32_t *eidx = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    ds_rng r;
    ds_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++)
        eidx[i] = E >= 3 ? 1 + (int32_t)ds_rng_below(&r, (uint64_t)E - 2)
                         : (int32_t)ds_rng_below(&r, (uint64_t)E);
    int32_t *off = malloc(sizeof(int32_t) * (size_t)(E + 1)),
            *row = malloc(sizeof(int32_t) * (size_t)(n ? n : 1)),
            *tok = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    int32_t *geidx = ds_par_up_i32(g, eidx, n), *goff = ds_par_zeros(g, sizeof(int32_t) * (E + 1));
    int32_t *grow = ds_par_zeros(g, sizeof(int32_t) * (size_t)n),
            *gtok = ds_par_zeros(g, sizeof(int32_t) * (size_t)n);
    c->ops->moe_permute(c, off, row, tok, eidx, T, K, E);
    g->ops->moe_permute(g, goff, grow, gtok, geidx, T, K, E);
    printf("  permute T=%d topk=%d E=%d C=%d\n", T, K, E, C);
    int64_t fails = check_i32(g, "offsets", goff, off, E + 1);
    fails += check_i32(g, "row_of", grow, row, n);
    fails += check_i32(g, "token_of", gtok, tok, n);

    // Each side from its own permutation (equal if the checks above pass).
    const int64_t TC = (int64_t)T * C, NC = n * C, TK = n;
    float *x = ds_par_randn(TC, seed + 1, 1.0f), *xp = malloc(sizeof(float) * (size_t)(NC + 1));
    float *dxp = ds_par_randn(NC, seed + 2, 1.0f), *dx = ds_par_randn(TC, seed + 3, 1.0f);
    float *yp = ds_par_randn(NC, seed + 4, 1.0f), *w = ds_par_randn(TK, seed + 5, 1.0f);
    float *out = malloc(sizeof(float) * (size_t)(TC + 1));
    float *dout = ds_par_randn(TC, seed + 6, 1.0f), *dyp = ds_par_randn(NC, seed + 7, 1.0f);
    float *dw = ds_par_randn(TK, seed + 8, 1.0f);
    float *gx = ds_par_up(g, x, TC), *gxp = ds_par_zeros(g, sizeof(float) * (size_t)NC);
    float *gdxp = ds_par_up(g, dxp, NC), *gdx = ds_par_up(g, dx, TC);
    float *gyp = ds_par_up(g, yp, NC), *gw = ds_par_up(g, w, TK);
    float *gout = ds_par_zeros(g, sizeof(float) * (size_t)TC);
    float *gdout = ds_par_up(g, dout, TC), *gdyp = ds_par_up(g, dyp, NC),
          *gdw = ds_par_up(g, dw, TK);

    c->ops->moe_dispatch_forward(c, xp, x, tok, T, K, C);
    g->ops->moe_dispatch_forward(g, gxp, gx, gtok, T, K, C);
    fails += ds_par_check(g, "dispatch xp", gxp, xp, NC, 0, 0); // a copy: exact
    c->ops->moe_dispatch_backward(c, dx, dxp, row, T, K, C);
    g->ops->moe_dispatch_backward(g, gdx, gdxp, grow, T, K, C);
    fails += ds_par_check(g, "dispatch dx", gdx, dx, TC, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    c->ops->moe_combine_forward(c, out, yp, w, row, T, K, C);
    g->ops->moe_combine_forward(g, gout, gyp, gw, grow, T, K, C);
    fails += ds_par_check(g, "combine out", gout, out, TC, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    // Both gradients, then dw alone (dyp NULL, w unused): both accumulate.
    c->ops->moe_combine_backward(c, dyp, dw, dout, yp, w, row, T, K, C);
    g->ops->moe_combine_backward(g, gdyp, gdw, gdout, gyp, gw, grow, T, K, C);
    c->ops->moe_combine_backward(c, NULL, dw, dout, yp, NULL, row, T, K, C);
    g->ops->moe_combine_backward(g, NULL, gdw, gdout, gyp, NULL, grow, T, K, C);
    fails += ds_par_check(g, "combine dyp", gdyp, dyp, NC, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    fails += ds_par_check(g, "combine dw", gdw, dw, TK, sum_atol(C), 1e-4);

    void *dev[] = {geidx, goff, grow, gtok, gx, gxp, gdxp, gdx, gyp, gw, gout, gdout, gdyp, gdw};
    free_dev(g, dev, sizeof dev / sizeof *dev);
    void *host[] = {eidx, off, row, tok, x, xp, dxp, dx, yp, w, out, dout, dyp, dw};
    free_host(host, sizeof host / sizeof *host);
    return fails;
}

DS_TEST(cuda_moe_permute) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof permute_cases / sizeof *permute_cases; i++)
        fails += permute_one(g, &permute_cases[i], 2000 + 31 * i);
    return (int)fails;
}

// ---- grouped expert GEMMs

// Rows per expert; zeros are experts the router did not pick.
static const int grouped_counts_a[] = {3, 0, 5, 1};
static const int grouped_counts_b[] = {0, 17, 40, 2, 1, 0, 9, 66};
static const int grouped_counts_c[] = {0, 0, 0};

typedef struct {
    const int *counts;
    int E, K, N;
} grouped_case;

static const grouped_case grouped_cases[] = {
    {grouped_counts_a, 4, 16, 12}, {grouped_counts_b, 8, 96, 72}, {grouped_counts_b, 8, 33, 130},
    {grouped_counts_a, 4, 1, 5},   {grouped_counts_c, 3, 8, 8},
};

// offsets (E + 1) from counts; returns the number of rows.
static int offsets_of(int32_t *off, const int *counts, int E) {
    off[0] = 0;
    for (int e = 0; e < E; e++) off[e + 1] = off[e] + counts[e];
    return off[E];
}

static int64_t grouped_one(ds_ctx *g, const grouped_case *gc, uint64_t seed) {
    ds_ctx *c = ds_par_cpu();
    const int E = gc->E, K = gc->K, N = gc->N;
    int32_t *off = malloc(sizeof(int32_t) * (size_t)(E + 1));
    const int rows = offsets_of(off, gc->counts, E);
    const int64_t RK = (int64_t)rows * K, RN = (int64_t)rows * N, WK = (int64_t)E * N * K;
    float *x = ds_par_randn(RK, seed, 1.0f), *w = ds_par_randn(WK, seed + 1, 0.1f);
    float *dy = ds_par_randn(RN, seed + 2, 1.0f), *dx = ds_par_randn(RK, seed + 3, 1.0f);
    float *dw = ds_par_randn(WK, seed + 4, 1.0f), *y = calloc((size_t)RN + 1, sizeof(float));
    int32_t *goff = ds_par_up_i32(g, off, E + 1);
    float *gx = ds_par_up(g, x, RK), *gw = ds_par_up(g, w, WK), *gdy = ds_par_up(g, dy, RN);
    float *gdx = ds_par_up(g, dx, RK), *gdw = ds_par_up(g, dw, WK);
    float *gy = ds_par_zeros(g, sizeof(float) * (size_t)RN);
    double atol = sum_atol(K > N ? (K > rows ? K : rows) : (N > rows ? N : rows));
    printf("  grouped E=%d K=%d N=%d rows=%d\n", E, K, N, rows);

    c->ops->matmul_grouped_forward(c, y, x, w, off, E, K, N);
    g->ops->matmul_grouped_forward(g, gy, gx, gw, goff, E, K, N);
    int64_t fails = ds_par_check(g, "grouped out", gy, y, RN, atol, 1e-4);
    c->ops->matmul_grouped_backward(c, dx, dw, dy, x, w, off, E, K, N);
    g->ops->matmul_grouped_backward(g, gdx, gdw, gdy, gx, gw, goff, E, K, N);
    // dweight alone (no dinp): the weight gradient accumulates a second time.
    c->ops->matmul_grouped_backward(c, NULL, dw, dy, x, w, off, E, K, N);
    g->ops->matmul_grouped_backward(g, NULL, gdw, gdy, gx, gw, goff, E, K, N);
    fails += ds_par_check(g, "grouped dinp", gdx, dx, RK, atol, 1e-4);
    fails += ds_par_check(g, "grouped dweight", gdw, dw, WK, 2 * atol, 1e-4);

    void *dev[] = {goff, gx, gw, gdy, gdx, gdw, gy};
    free_dev(g, dev, sizeof dev / sizeof *dev);
    void *host[] = {off, x, w, dy, dx, dw, y};
    free_host(host, sizeof host / sizeof *host);
    return fails;
}

DS_TEST(cuda_matmul_grouped) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof grouped_cases / sizeof *grouped_cases; i++)
        fails += grouped_one(g, &grouped_cases[i], 3000 + 41 * i);
    return (int)fails;
}

// ---- bf16 weights (decode)

// n f32 values rounded to bf16 with the project's own conversion (malloc'ed).
static uint16_t *to_bf16(const float *x, int64_t n) {
    uint16_t *h = malloc(sizeof(uint16_t) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) h[i] = ds_f32_to_bf16(x[i]);
    return h;
}

static uint16_t *up_u16(ds_ctx *g, const uint16_t *host, int64_t n) {
    uint16_t *d = g->ops->alloc(g, sizeof(uint16_t) * (size_t)n);
    if (n) g->ops->upload(g, d, host, sizeof(uint16_t) * (size_t)n);
    return d;
}

// M, K, N, bias: K % 8 != 0 takes the kernels' scalar path, M > 8 a second pass of rows.
static const int bf16_shapes[][4] = {
    {1, 64, 33, 1},   {3, 100, 17, 0}, {8, 256, 130, 1},
    {11, 512, 70, 1}, {1, 3, 5, 0},    {2, 72, 9, 1},
};

static int64_t bf16_dense_one(ds_ctx *g, int M, int K, int N, int has_bias, uint64_t seed) {
    ds_ctx *c = ds_par_cpu();
    float *x = ds_par_randn((int64_t)M * K, seed, 1.0f),
          *wf = ds_par_randn((int64_t)N * K, seed + 1, 0.1f);
    float *b = ds_par_randn(N, seed + 2, 1.0f), *y = malloc(sizeof(float) * (size_t)M * N);
    uint16_t *w = to_bf16(wf, (int64_t)N * K);
    float *gx = ds_par_up(g, x, (int64_t)M * K), *gb = ds_par_up(g, b, N);
    uint16_t *gw = up_u16(g, w, (int64_t)N * K);
    float *gy = ds_par_zeros(g, sizeof(float) * (size_t)M * N);
    c->ops->matmul_bf16_forward(c, y, x, w, has_bias ? b : NULL, M, K, N);
    g->ops->matmul_bf16_forward(g, gy, gx, gw, has_bias ? gb : NULL, M, K, N);
    char what[96];
    snprintf(what, sizeof what, "bf16 fwd %dx%dx%d%s", M, K, N, has_bias ? " +bias" : "");
    int64_t fails = ds_par_check(g, what, gy, y, (int64_t)M * N, sum_atol(K), 1e-4);
    void *dev[] = {gx, gb, gw, gy};
    free_dev(g, dev, sizeof dev / sizeof *dev);
    void *host[] = {x, wf, b, y, w};
    free_host(host, sizeof host / sizeof *host);
    return fails;
}

static int64_t bf16_grouped_one(ds_ctx *g, const grouped_case *gc, uint64_t seed) {
    ds_ctx *c = ds_par_cpu();
    const int E = gc->E, K = gc->K, N = gc->N;
    int32_t *off = malloc(sizeof(int32_t) * (size_t)(E + 1));
    const int rows = offsets_of(off, gc->counts, E);
    const int64_t RK = (int64_t)rows * K, RN = (int64_t)rows * N, WK = (int64_t)E * N * K;
    float *x = ds_par_randn(RK, seed, 1.0f), *wf = ds_par_randn(WK, seed + 1, 0.1f);
    float *y = calloc((size_t)RN + 1, sizeof(float));
    uint16_t *w = to_bf16(wf, WK);
    int32_t *goff = ds_par_up_i32(g, off, E + 1);
    float *gx = ds_par_up(g, x, RK), *gy = ds_par_zeros(g, sizeof(float) * (size_t)RN);
    uint16_t *gw = up_u16(g, w, WK);
    c->ops->matmul_grouped_bf16_forward(c, y, x, w, off, E, K, N);
    g->ops->matmul_grouped_bf16_forward(g, gy, gx, gw, goff, E, K, N);
    char what[96];
    snprintf(what, sizeof what, "bf16 grouped E=%d K=%d N=%d rows=%d", E, K, N, rows);
    int64_t fails = ds_par_check(g, what, gy, y, RN, sum_atol(K), 1e-4);
    void *dev[] = {goff, gx, gy, gw};
    free_dev(g, dev, sizeof dev / sizeof *dev);
    void *host[] = {off, x, wf, y, w};
    free_host(host, sizeof host / sizeof *host);
    return fails;
}

DS_TEST(cuda_matmul_bf16_weights) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof bf16_shapes / sizeof *bf16_shapes; i++) {
        const int *s = bf16_shapes[i];
        fails += bf16_dense_one(g, s[0], s[1], s[2], s[3], 4000 + 13 * i);
    }
    for (size_t i = 0; i < sizeof grouped_cases / sizeof *grouped_cases; i++)
        fails += bf16_grouped_one(g, &grouped_cases[i], 5000 + 7 * i);
    return (int)fails;
}
