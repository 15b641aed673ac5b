// attention.c: scaled dot-product attention (Vaswani et al. 2017, eq. 1) with
// grouped-query heads (Ainslie et al. 2023, GQA) and the masks of ds_attn_mask
// (bidirectional, causal, causal with a bidirectional prefix, sliding window).
// Every GEMM runs on the interleaved (B, T, heads, hd) layout through leading
// dimensions; the probabilities are materialised in att (B, nh, T, T).
// Deliberately not here: flash-style tiling without att (the backward reads the
// saved probabilities), dropout, ALiBi or other score biases, KV caches.
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"
#include "kernels/attn-range.h"
#include "kernels/cpu/fast-exp.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

// Query rows per block. Every mask keeps a contiguous key interval per row whose
// ends never decrease with the row (see kernels/attn-range.h), so a block of rows only
// needs the keys between its first row's start and its last row's end: causal
// attention does about half the GEMM work of a full one. 64 rows keep the GEMMs
// efficient for hd = 64..128.
#define ATT_BR 64
// Width of the hand-chunked row loops: -O2 (GCC's "very cheap" vectoriser cost
// model) vectorises only loops with a trip count known to be a multiple of the
// vector width, so the row loops are written as fixed 16-wide chunks plus a tail.
#define ATT_W 16

// In-place softmax of x (n > 0).
static void attn_softmax_row(float *x, int n) {
    float mx[ATT_W], acc[ATT_W];
    for (int u = 0; u < ATT_W; u++) mx[u] = -INFINITY, acc[u] = 0;
    int j = 0;
    for (; j + ATT_W <= n; j += ATT_W)
        for (int u = 0; u < ATT_W; u++) mx[u] = x[j + u] > mx[u] ? x[j + u] : mx[u];
    float m = -INFINITY;
    for (; j < n; j++) m = x[j] > m ? x[j] : m;
    for (int u = 0; u < ATT_W; u++) m = mx[u] > m ? mx[u] : m;

    float sum = 0;
    for (j = 0; j + ATT_W <= n; j += ATT_W)
        for (int u = 0; u < ATT_W; u++) {
            float e = ds_fast_expf(x[j + u] - m);
            x[j + u] = e;
            acc[u] += e;
        }
    for (; j < n; j++) {
        float e = ds_fast_expf(x[j] - m);
        x[j] = e;
        sum += e;
    }
    for (int u = 0; u < ATT_W; u++) sum += acc[u];

    float inv = 1.0f / sum; // sum >= 1: the maximum contributes exp(0)
    for (j = 0; j + ATT_W <= n; j += ATT_W)
        for (int u = 0; u < ATT_W; u++) x[j + u] *= inv;
    for (; j < n; j++) x[j] *= inv;
}

// Softmax backward of one row, scaled: ds = scale * p * (dp - sum(p * dp)), in place on dp.
static void attn_dsoftmax_row(float *dp, const float *p, int n, float scale) {
    float acc[ATT_W] = {0};
    int j = 0;
    for (; j + ATT_W <= n; j += ATT_W)
        for (int u = 0; u < ATT_W; u++) acc[u] += p[j + u] * dp[j + u];
    float d = 0;
    for (; j < n; j++) d += p[j] * dp[j];
    for (int u = 0; u < ATT_W; u++) d += acc[u];
    for (j = 0; j + ATT_W <= n; j += ATT_W)
        for (int u = 0; u < ATT_W; u++) dp[j + u] = scale * p[j + u] * (dp[j + u] - d);
    for (; j < n; j++) dp[j] = scale * p[j] * (dp[j] - d);
}

typedef struct {
    float *out, *att; // forward outputs
    float *dq, *dk, *dv;
    const float *probs, *dout, *q, *k, *v; // backward reads the saved att as probs
    float *scratch;                        // backward: min(ATT_BR, T) * T floats per thread
    int B, T, nh, nkv, hd, nblk;
    float scale;
    ds_attn_mask mask;
} ds_attn_args;

// Rows [*r0, *r1) of block blk and the keys [*c0, *c1) any of them can see.
static inline void attn_block(const ds_attn_args *a, int blk, int *r0, int *r1, int *c0, int *c1) {
    int unused;
    *r0 = blk * ATT_BR;
    *r1 = *r0 + ATT_BR < a->T ? *r0 + ATT_BR : a->T;
    ds_attn_row_range(*r0, a->T, a->mask, c0, &unused);
    ds_attn_row_range(*r1 - 1, a->T, a->mask, &unused, c1);
}

// ---- forward: one task per (b, h, row block), so causal blocks of unequal cost
// spread over the threads; each writes its own rows of att and out.
static void attn_forward_task(void *p, int ith, int nth) {
    const ds_attn_args *a = p;
    const int T = a->T, nh = a->nh, nkv = a->nkv, hd = a->hd, rep = nh / nkv;
    const int ldq = nh * hd, ldk = nkv * hd;
    int64_t lo, hi;
    ds_split((int64_t)a->B * nh * a->nblk, ith, nth, &lo, &hi);
    for (int64_t idx = lo; idx < hi; idx++) {
        int blk = (int)(idx % a->nblk);
        int64_t bh = idx / a->nblk;
        int h = (int)(bh % nh), b = (int)(bh / nh), g = h / rep;
        int r0, r1, c0, c1;
        attn_block(a, blk, &r0, &r1, &c0, &c1);
        const float *Q = a->q + ((int64_t)b * T + r0) * ldq + (int64_t)h * hd;
        const float *K = a->k + ((int64_t)b * T + c0) * ldk + (int64_t)g * hd;
        const float *V = a->v + ((int64_t)b * T + c0) * ldk + (int64_t)g * hd;
        float *A = a->att + (bh * T + r0) * T;
        float *O = a->out + ((int64_t)b * T + r0) * ldq + (int64_t)h * hd;

        // S = scale * Q K^T straight from the interleaved layout.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, c1 - c0, hd, a->scale, Q, ldq,
                    K, ldk, 0.0f, A + c0, T);
        for (int i = r0; i < r1; i++) {
            float *row = A + (int64_t)(i - r0) * T;
            int jl, jh;
            ds_attn_row_range(i, T, a->mask, &jl, &jh);
            // Masked probabilities are exactly 0, so the P V GEMM below can span [c0, c1).
            memset(row, 0, (size_t)jl * sizeof *row);
            memset(row + jh, 0, (size_t)(T - jh) * sizeof *row);
            attn_softmax_row(row + jl, jh - jl);
        }
        // O = P V, written into the head's columns of out.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, hd, c1 - c0, 1.0f, A + c0,
                    T, V, ldk, 0.0f, O, ldq);
    }
}

void ds_cpu_attention_forward(ds_ctx *ctx, float *out, float *att, const float *q, const float *k,
                              const float *v, int B, int T, int nh, int nkv, int hd,
                              ds_attn_mask mask) {
    DS_ASSERT(nkv > 0 && nh % nkv == 0 && hd > 0);
    if (B <= 0 || T <= 0) return;
    ds_attn_args a = {.out = out,
                      .att = att,
                      .q = q,
                      .k = k,
                      .v = v,
                      .B = B,
                      .T = T,
                      .nh = nh,
                      .nkv = nkv,
                      .hd = hd,
                      .nblk = (T + ATT_BR - 1) / ATT_BR,
                      .scale = 1.0f / sqrtf((float)hd),
                      .mask = mask};
    ds_pool_run(ctx->pool, attn_forward_task, &a);
}

// ---- backward: one task per (b, kv head g); the rep query heads sharing g run in the
// same thread, so dk and dv of g have a single writer and a fixed summation order.
static void attn_backward_task(void *p, int ith, int nth) {
    const ds_attn_args *a = p;
    const int T = a->T, nh = a->nh, nkv = a->nkv, hd = a->hd, rep = nh / nkv;
    const int ldq = nh * hd, ldk = nkv * hd;
    float *dS = a->scratch + (int64_t)ith * (T < ATT_BR ? T : ATT_BR) * T;
    int64_t lo, hi;
    ds_split((int64_t)a->B * nkv, ith, nth, &lo, &hi);
    for (int64_t idx = lo; idx < hi; idx++) {
        int g = (int)(idx % nkv), b = (int)(idx / nkv);
        for (int h = g * rep; h < (g + 1) * rep; h++) {
            int64_t bh = (int64_t)b * nh + h;
            for (int blk = 0; blk < a->nblk; blk++) {
                int r0, r1, c0, c1;
                attn_block(a, blk, &r0, &r1, &c0, &c1);
                const int nr = r1 - r0, nc = c1 - c0;
                int64_t qoff = ((int64_t)b * T + r0) * ldq + (int64_t)h * hd;
                int64_t koff = ((int64_t)b * T + c0) * ldk + (int64_t)g * hd;
                const float *P = a->probs + (bh * T + r0) * T + c0;
                const float *dO = a->dout + qoff;

                // dV_g += P^T dO_h
                if (a->dv)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nc, hd, nr, 1.0f, P, T, dO,
                                ldq, 1.0f, a->dv + koff, ldk);
                if (!a->dq && !a->dk) continue;
                // dP = dO_h V_g^T, then dS = scale * P * (dP - rowsum(dP * P)) in place.
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nc, hd, 1.0f, dO, ldq,
                            a->v + koff, ldk, 0.0f, dS, nc);
                for (int i = 0; i < nr; i++)
                    attn_dsoftmax_row(dS + (int64_t)i * nc, P + (int64_t)i * T, nc, a->scale);
                // dQ_h += dS K_g; dK_g += dS^T Q_h (the scale is already in dS).
                if (a->dq)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hd, nc, 1.0f, dS, nc,
                                a->k + koff, ldk, 1.0f, a->dq + qoff, ldq);
                if (a->dk)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nc, hd, nr, 1.0f, dS, nc,
                                a->q + qoff, ldq, 1.0f, a->dk + koff, ldk);
            }
        }
    }
}

void ds_cpu_attention_backward(ds_ctx *ctx, float *dq, float *dk, float *dv, const float *dout,
                               const float *att, const float *q, const float *k, const float *v,
                               int B, int T, int nh, int nkv, int hd, ds_attn_mask mask) {
    DS_ASSERT(nkv > 0 && nh % nkv == 0 && hd > 0);
    if (B <= 0 || T <= 0 || (!dq && !dk && !dv)) return;
    int nth = ds_pool_size(ctx->pool);
    size_t br = T < ATT_BR ? (size_t)T : ATT_BR;
    ds_attn_args a = {.dq = dq,
                      .dk = dk,
                      .dv = dv,
                      .dout = dout,
                      .probs = att,
                      .q = q,
                      .k = k,
                      .v = v,
                      .B = B,
                      .T = T,
                      .nh = nh,
                      .nkv = nkv,
                      .hd = hd,
                      .nblk = (T + ATT_BR - 1) / ATT_BR,
                      .scale = 1.0f / sqrtf((float)hd),
                      .mask = mask};
    a.scratch = ds_ctx_scratch(ctx, (size_t)nth * br * (size_t)T * sizeof(float));
    ds_pool_run(ctx->pool, attn_backward_task, &a);
}
