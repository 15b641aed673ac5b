// kernels.c: bench_kernels prints achieved GFLOP/s of docseek's CPU kernels at
// model-like shapes beside the same-run ceiling: OpenBLAS's own sgemm on a
// 1024^3 product with 1 and 2 threads. Each figure is the best of repeated
// runs of at least --seconds (default 1 s). FLOPs count multiply-adds as 2
// and count attention by the (query, key) pairs its mask lets through: useful
// work only, so a kernel cannot look faster by computing masked scores.
// Not a test: nothing here asserts on time.
#include "core/rng.h"
#include "core/timer.h"
#include "kernels/ops.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double min_seconds = 1.0;

typedef void (*bench_fn)(void *env);

// Best seconds per call over repeated calls lasting at least min_seconds.
static double best_time(bench_fn fn, void *env) {
    fn(env); // warm-up: page faults, scratch growth
    double best = 1e30, start = ds_time_s();
    int reps = 0;
    while (reps < 3 || ds_time_s() - start < min_seconds) {
        double t0 = ds_time_s();
        fn(env);
        double dt = ds_time_s() - t0;
        if (dt < best) best = dt;
        reps++;
    }
    return best;
}

static float *randn(int64_t n, uint64_t seed, float std) {
    float *x = aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64));
    ds_rng r;
    ds_rng_seed(&r, seed);
    ds_rng_fill_normal(&r, x, n, 0, std);
    return x;
}

// ---- OpenBLAS ceiling

typedef struct {
    int n;
    float *a, *b, *c;
} sgemm_env;

static void run_sgemm(void *p) {
    sgemm_env *e = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, e->n, e->n, e->n, 1.0f, e->a, e->n, e->b,
                e->n, 0.0f, e->c, e->n);
}

static double sgemm_ceiling(int threads) {
    sgemm_env e = {1024, randn(1024 * 1024, 1, 1), randn(1024 * 1024, 2, 1),
                   randn(1024 * 1024, 3, 1)};
    openblas_set_num_threads(threads);
    double t = best_time(run_sgemm, &e);
    openblas_set_num_threads(1);
    free(e.a);
    free(e.b);
    free(e.c);
    return 2.0 * 1024 * 1024 * 1024 / t * 1e-9;
}

// ---- matmul

typedef struct {
    ds_ctx *ctx;
    int M, K, N;
    float *inp, *w, *b, *out, *dout, *dinp, *dw, *db;
} matmul_env;

static void run_matmul_fwd(void *p) {
    matmul_env *e = p;
    e->ctx->ops->matmul_forward(e->ctx, e->out, e->inp, e->w, e->b, e->M, e->K, e->N);
}

static void run_matmul_bwd(void *p) {
    matmul_env *e = p;
    e->ctx->ops->matmul_backward(e->ctx, e->dinp, e->dw, e->db, e->dout, e->inp, e->w, e->M, e->K,
                                 e->N);
}

// ---- attention

typedef struct {
    ds_ctx *ctx;
    int B, T, nh, nkv, hd;
    ds_attn_mask mask;
    float *q, *k, *v, *out, *att, *dout, *dq, *dk, *dv;
} attn_env;

static void run_attn(void *p) {
    attn_env *e = p;
    const ds_ops *o = e->ctx->ops;
    o->attention_forward(e->ctx, e->out, e->att, e->q, e->k, e->v, e->B, e->T, e->nh, e->nkv, e->hd,
                         e->mask);
    o->attention_backward(e->ctx, e->dq, e->dk, e->dv, e->dout, e->att, e->q, e->k, e->v, e->B,
                          e->T, e->nh, e->nkv, e->hd, e->mask);
}

// ---- MoE expert layer: route, permute, dispatch, grouped SwiGLU experts, combine;
// forward then backward, as one training step of the layer sees them.

typedef struct {
    ds_ctx *ctx;
    int T, C, H, E, k;
    ds_router_cfg cfg;
    float *x, *wr, *bias, *w13, *w2;                       // inputs and parameters
    float *logits, *scores, *ew, *xp, *h13, *h, *yp, *out; // activations
    int32_t *idx, *offsets, *row_of, *token_of;
    float *dout, *dyp, *dew, *dh, *dh13, *dxp, *dx, *dlogits, *dwr, *dw13, *dw2;
} moe_env;

static void run_moe(void *p) {
    moe_env *e = p;
    ds_ctx *c = e->ctx;
    const ds_ops *o = c->ops;
    int T = e->T, C = e->C, H = e->H, E = e->E, k = e->k, R = T * k;
    o->matmul_forward(c, e->logits, e->x, e->wr, NULL, T, C, E);
    o->moe_route_forward(c, e->idx, e->ew, e->scores, e->logits, e->bias, T, e->cfg);
    o->moe_permute(c, e->offsets, e->row_of, e->token_of, e->idx, T, k, E);
    o->moe_dispatch_forward(c, e->xp, e->x, e->token_of, T, k, C);
    o->matmul_grouped_forward(c, e->h13, e->xp, e->w13, e->offsets, E, C, 2 * H);
    o->swiglu_forward(c, e->h, e->h13, R, H);
    o->matmul_grouped_forward(c, e->yp, e->h, e->w2, e->offsets, E, H, C);
    o->moe_combine_forward(c, e->out, e->yp, e->ew, e->row_of, T, k, C);
    // backward (gradients zeroed as a training step would)
    o->zero(c, e->dyp, (size_t)R * C * 4);
    o->zero(c, e->dew, (size_t)T * k * 4);
    o->zero(c, e->dh, (size_t)R * H * 4);
    o->zero(c, e->dh13, (size_t)R * 2 * H * 4);
    o->zero(c, e->dxp, (size_t)R * C * 4);
    o->zero(c, e->dx, (size_t)T * C * 4);
    o->zero(c, e->dlogits, (size_t)T * E * 4);
    o->moe_combine_backward(c, e->dyp, e->dew, e->dout, e->yp, e->ew, e->row_of, T, k, C);
    o->matmul_grouped_backward(c, e->dh, e->dw2, e->dyp, e->h, e->w2, e->offsets, E, H, C);
    o->swiglu_backward(c, e->dh13, e->dh, e->h13, R, H);
    o->matmul_grouped_backward(c, e->dxp, e->dw13, e->dh13, e->xp, e->w13, e->offsets, E, C, 2 * H);
    o->moe_dispatch_backward(c, e->dx, e->dxp, e->row_of, T, k, C);
    o->moe_route_backward(c, e->dlogits, e->dew, e->idx, e->scores, T, e->cfg);
    o->matmul_backward(c, e->dx, e->dwr, NULL, e->dlogits, e->x, e->wr, T, C, E);
}

// Visible (query, key) pairs of the mask, by the definition in kernels/ops.h.
static double attn_pairs(int T, ds_attn_mask m) {
    double pairs = 0;
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++) {
            int ok = !m.causal || j <= i || (i < m.n_prefix && j < m.n_prefix);
            if (m.window > 0 && (i - j >= m.window || j - i >= m.window)) ok = 0;
            pairs += ok;
        }
    return pairs;
}

static float *zeros(int64_t n) {
    float *x = aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64));
    memset(x, 0, (size_t)n * 4);
    return x;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); // figures appear as they are measured
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            min_seconds = 0.2;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            min_seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_kernels [--quick] [--seconds S]\n");
            return 2;
        }
    }
    printf("%s\n", openblas_get_config());
    double ceiling[3] = {0, sgemm_ceiling(1), sgemm_ceiling(2)};
    printf("%-44s %9s %9s\n", "", "1 thread", "2 threads");
    printf("%-44s %9.1f %9.1f  GFLOP/s (the ceiling)\n", "openblas sgemm 1024^3", ceiling[1],
           ceiling[2]);

    // Model-like shapes: 512 tokens, width 256 (DESIGN.md "Measuring against others").
    const int T = 512, C = 256;
    double gflops[8][3];
    const char *names[8];
    int n_rows = 0;
    for (int threads = 1; threads <= 2; threads++) {
        ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
        if (!ctx) return 1;
        int row = 0;
        // matmul: (512, 256) x (1024, 256)^T, the shape of a fused SwiGLU up-projection
        matmul_env m = {.ctx = ctx, .M = T, .K = C, .N = 4 * C};
        m.inp = randn((int64_t)T * C, 4, 1);
        m.w = randn((int64_t)m.N * C, 5, 0.05f);
        m.b = randn(m.N, 6, 0.1f);
        m.out = zeros((int64_t)T * m.N);
        m.dout = randn((int64_t)T * m.N, 7, 1);
        m.dinp = zeros((int64_t)T * C);
        m.dw = zeros((int64_t)m.N * C);
        m.db = zeros(m.N);
        double mm_flops = 2.0 * T * C * m.N;
        names[row] = "matmul fwd 512x256 @ 256x1024";
        gflops[row++][threads] = mm_flops / best_time(run_matmul_fwd, &m) * 1e-9;
        names[row] = "matmul bwd (dinp + dweight + dbias)";
        gflops[row++][threads] = 2 * mm_flops / best_time(run_matmul_bwd, &m) * 1e-9;
        free(m.inp), free(m.w), free(m.b), free(m.out), free(m.dout), free(m.dinp), free(m.dw),
            free(m.db);

        // attention: 1 x 512 tokens, 8 heads of 32, causal with a 64-token prefix
        attn_env a = {.ctx = ctx, .B = 1, .T = T, .nh = 8, .nkv = 8, .hd = 32, .mask = {1, 64, 0}};
        int64_t nq = (int64_t)T * a.nh * a.hd;
        a.q = randn(nq, 8, 1), a.k = randn(nq, 9, 1), a.v = randn(nq, 10, 1);
        a.out = zeros(nq), a.dout = randn(nq, 11, 1);
        a.att = zeros((int64_t)a.nh * T * T);
        a.dq = zeros(nq), a.dk = zeros(nq), a.dv = zeros(nq);
        // per visible pair and head: forward 2 GEMMs (QK^T, PV), backward 4; 2 FLOPs a MAC
        double attn_flops = 12.0 * a.nh * a.hd * attn_pairs(T, a.mask);
        names[row] = "attention fwd+bwd T=512 8x32 causal";
        gflops[row++][threads] = attn_flops / best_time(run_attn, &a) * 1e-9;
        a.mask.window = 128;
        attn_flops = 12.0 * a.nh * a.hd * attn_pairs(T, a.mask);
        names[row] = "attention fwd+bwd, sliding window 128";
        gflops[row++][threads] = attn_flops / best_time(run_attn, &a) * 1e-9;
        free(a.q), free(a.k), free(a.v), free(a.out), free(a.dout), free(a.att), free(a.dq),
            free(a.dk), free(a.dv);

        // MoE expert layer: 16 experts of width 256 in 4 groups, top-2, sigmoid router
        moe_env e = {.ctx = ctx,
                     .T = T,
                     .C = C,
                     .H = 256,
                     .E = 16,
                     .k = 2,
                     .cfg = {16, 4, 2, 2, DS_ROUTER_SIGMOID, 1, 1.0f}};
        int R = T * e.k, H = e.H, E = e.E;
        e.x = randn((int64_t)T * C, 12, 1), e.wr = randn((int64_t)E * C, 13, 0.05f);
        e.bias = zeros(E);
        e.w13 = randn((int64_t)E * 2 * H * C, 14, 0.05f),
        e.w2 = randn((int64_t)E * C * H, 15, 0.05f);
        e.logits = zeros((int64_t)T * E), e.scores = zeros((int64_t)T * E), e.ew = zeros(T * e.k);
        e.xp = zeros((int64_t)R * C), e.h13 = zeros((int64_t)R * 2 * H),
        e.h = zeros((int64_t)R * H);
        e.yp = zeros((int64_t)R * C), e.out = zeros((int64_t)T * C);
        e.idx = malloc((size_t)R * 4), e.offsets = malloc((size_t)(E + 1) * 4);
        e.row_of = malloc((size_t)R * 4), e.token_of = malloc((size_t)R * 4);
        e.dout = randn((int64_t)T * C, 16, 1), e.dyp = zeros((int64_t)R * C), e.dew = zeros(R);
        e.dh = zeros((int64_t)R * H), e.dh13 = zeros((int64_t)R * 2 * H),
        e.dxp = zeros((int64_t)R * C);
        e.dx = zeros((int64_t)T * C), e.dlogits = zeros((int64_t)T * E),
        e.dwr = zeros((int64_t)E * C);
        e.dw13 = zeros((int64_t)E * 2 * H * C), e.dw2 = zeros((int64_t)E * C * H);
        double moe_flops = 3.0 * (2.0 * R * C * 2 * H + 2.0 * R * H * C + 2.0 * T * C * E);
        names[row] = "MoE layer fwd+bwd 16x256 top-2 (512 tok)";
        gflops[row++][threads] = moe_flops / best_time(run_moe, &e) * 1e-9;
        free(e.x), free(e.wr), free(e.bias), free(e.w13), free(e.w2), free(e.logits);
        free(e.scores), free(e.ew), free(e.xp), free(e.h13), free(e.h), free(e.yp), free(e.out);
        free(e.idx), free(e.offsets), free(e.row_of), free(e.token_of), free(e.dout), free(e.dyp);
        free(e.dew), free(e.dh), free(e.dh13), free(e.dxp), free(e.dx), free(e.dlogits);
        free(e.dwr), free(e.dw13), free(e.dw2);
        n_rows = row;
        ds_ctx_free(ctx);
    }
    for (int r = 0; r < n_rows; r++)
        printf("%-44s %9.1f %9.1f  GFLOP/s = %3.0f%% / %3.0f%% of the ceiling\n", names[r],
               gflops[r][1], gflops[r][2], 100 * gflops[r][1] / ceiling[1],
               100 * gflops[r][2] / ceiling[2]);
    return 0;
}
