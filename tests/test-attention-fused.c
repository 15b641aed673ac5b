// test-attention-fused.c: the CPU fused attention ops (kernels/cpu/attention-fused.c)
// against the attention ops that keep att (attention.c, itself checked against a naive
// double loop and finite differences in test-attention.c): out, and dq, dk, dv accumulated
// onto random starting values, for every mask kind, multi-head / grouped / multi-query
// heads, head sizes 8..128 and lengths 1..150 (T = 150 crosses the 64-key blocks); lse
// against a naive double log-sum-exp; NULL gradients; the same bits on 1 and 2 threads.
#include "tests/test.h"
#include "kernels/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int B, T, nh, nkv, hd;
    ds_attn_mask mask;
} attf_shape;

// The mask exactly as ops.h words it (independent of kernels/attn-range.h).
static int attf_visible(ds_attn_mask m, int T, int i, int j) {
    int np = m.n_prefix < 0 ? 0 : m.n_prefix > T ? T : m.n_prefix;
    int ok = m.causal ? (j <= i || (i < np && j < np)) : 1;
    if (m.window > 0) ok = ok && abs(i - j) < m.window;
    return ok;
}

// lse (B, nh, T) in double: log sum_j exp(q_i . k_j / sqrt(hd)) over the visible j.
static void naive_lse(double *lse, const float *q, const float *k, const attf_shape *s) {
    const int T = s->T, nh = s->nh, nkv = s->nkv, hd = s->hd;
    for (int b = 0; b < s->B; b++)
        for (int h = 0; h < nh; h++)
            for (int i = 0; i < T; i++) {
                const float *qi = q + (((size_t)b * T + i) * nh + h) * hd;
                double mx = -INFINITY, sum = 0;
                for (int pass = 0; pass < 2; pass++)
                    for (int j = 0; j < T; j++) {
                        if (!attf_visible(s->mask, T, i, j)) continue;
                        const float *kj = k + (((size_t)b * T + j) * nkv + h / (nh / nkv)) * hd;
                        double d = 0;
                        for (int c = 0; c < hd; c++) d += (double)qi[c] * kj[c];
                        d /= sqrt((double)hd);
                        if (pass == 0)
                            mx = d > mx ? d : mx;
                        else
                            sum += exp(d - mx);
                    }
                lse[((size_t)b * nh + h) * T + i] = mx + log(sum);
            }
}

static void attf_describe(char *buf, size_t n, const char *what, const attf_shape *s) {
    snprintf(buf, n, "fused %s B%d T%d nh%d nkv%d hd%d c%d p%d w%d", what, s->B, s->T, s->nh,
             s->nkv, s->hd, s->mask.causal, s->mask.n_prefix, s->mask.window);
}

static float *attf_randn(int64_t n, uint64_t seed) {
    float *x = malloc(sizeof(float) * (size_t)(n ? n : 1));
    ds_test_randn(x, n, seed, 1.0f);
    return x;
}

static float *attf_copy(const float *x, int64_t n) {
    float *y = malloc(sizeof(float) * (size_t)(n ? n : 1));
    memcpy(y, x, sizeof(float) * (size_t)n);
    return y;
}

// One shape on ctx: returns the number of failed comparisons.
static int attf_case(ds_ctx *ctx, const attf_shape *s, uint64_t seed) {
    const int64_t nq = (int64_t)s->B * s->T * s->nh * s->hd;
    const int64_t nk = (int64_t)s->B * s->T * s->nkv * s->hd;
    const int64_t na = (int64_t)s->B * s->nh * s->T * s->T, nl = (int64_t)s->B * s->nh * s->T;
    float *q = attf_randn(nq, seed), *k = attf_randn(nk, seed + 1), *v = attf_randn(nk, seed + 2);
    float *dout = attf_randn(nq, seed + 3), *dq = attf_randn(nq, seed + 4);
    float *dk = attf_randn(nk, seed + 5), *dv = attf_randn(nk, seed + 6);
    float *fdq = attf_copy(dq, nq), *fdk = attf_copy(dk, nk), *fdv = attf_copy(dv, nk);
    float *out = malloc(sizeof(float) * (size_t)nq), *att = malloc(sizeof(float) * (size_t)na);
    float *fout = malloc(sizeof(float) * (size_t)nq), *lse = malloc(sizeof(float) * (size_t)nl);
    double *lse_ref = malloc(sizeof(double) * (size_t)nl);
    // Poisoned: the fused forward must write every element.
    for (int64_t i = 0; i < nq; i++) fout[i] = NAN;
    for (int64_t i = 0; i < nl; i++) lse[i] = NAN;
    // Gradients sum up to T keys (dq) or rep * T query rows (dk, dv), in another order
    // than attention.c's GEMMs: their rounding grows with sqrt(T).
    const double gatol = 1e-5 * sqrt((double)s->T * (s->nh / s->nkv));
    char what[128];
    int bad = 0;

    ctx->ops->attention_forward(ctx, out, att, q, k, v, s->B, s->T, s->nh, s->nkv, s->hd, s->mask);
    ctx->ops->attention_fused_forward(ctx, fout, lse, q, k, v, s->B, s->T, s->nh, s->nkv, s->hd,
                                      s->mask);
    naive_lse(lse_ref, q, k, s);
    attf_describe(what, sizeof what, "out", s);
    bad += ds_test_close_f32(what, fout, out, nq, 1e-5, 1e-4) != 0;
    attf_describe(what, sizeof what, "lse", s);
    bad += ds_test_close_f64(what, lse, lse_ref, nl, 1e-5, 1e-5) != 0;

    ctx->ops->attention_backward(ctx, dq, dk, dv, dout, att, q, k, v, s->B, s->T, s->nh, s->nkv,
                                 s->hd, s->mask);
    ctx->ops->attention_fused_backward(ctx, fdq, fdk, fdv, dout, fout, lse, q, k, v, s->B, s->T,
                                       s->nh, s->nkv, s->hd, s->mask);
    attf_describe(what, sizeof what, "dq (accumulated)", s);
    bad += ds_test_close_f32(what, fdq, dq, nq, gatol, 1e-4) != 0;
    attf_describe(what, sizeof what, "dk (accumulated)", s);
    bad += ds_test_close_f32(what, fdk, dk, nk, gatol, 1e-4) != 0;
    attf_describe(what, sizeof what, "dv (accumulated)", s);
    bad += ds_test_close_f32(what, fdv, dv, nk, gatol, 1e-4) != 0;

    free(q), free(k), free(v), free(dout), free(dq), free(dk), free(dv), free(fdq), free(fdk);
    free(fdv), free(out), free(att), free(fout), free(lse), free(lse_ref);
    return bad;
}

// Mask kinds for a sequence of length T, as test-attention.c scales them.
static int attf_masks(ds_attn_mask *m, int T) {
    int np = T / 2 - 1, w = T / 3 + 1;
    ds_attn_mask kinds[] = {
        {.causal = 0},                                     // bidirectional
        {.causal = 1},                                     // causal
        {.causal = 1, .n_prefix = np},                     // causal + prefix
        {.causal = 1, .window = w},                        // causal + window
        {.causal = 1, .n_prefix = np, .window = w},        // causal + prefix + window
        {.causal = 0, .n_prefix = 3, .window = w},         // bidirectional window, prefix ignored
        {.causal = 1, .n_prefix = T + 5, .window = 2 * T}, // prefix covers all: bidirectional
    };
    memcpy(m, kinds, sizeof kinds);
    return (int)(sizeof kinds / sizeof kinds[0]);
}

DS_TEST(attention_fused_cpu) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    // (B, nh, nkv, hd): multi-head, grouped, multi-query; head sizes up to the limit.
    static const int heads[][4] = {{2, 4, 4, 8}, {2, 4, 2, 32}, {1, 4, 1, 16}, {1, 2, 1, 128}};
    static const int Ts[] = {1, 7, 19, 150};
    int bad = 0;
    for (int ti = 0; ti < 4; ti++) {
        ds_attn_mask m[8];
        int nm = attf_masks(m, Ts[ti]);
        for (int mi = 0; mi < nm; mi++) {
            const int *hh = heads[(ti + mi) % 4];
            attf_shape s = {hh[0], Ts[ti], hh[1], hh[2], hh[3], m[mi]};
            bad += attf_case(ctx, &s, 5000 + 100 * ti + 10 * mi);
        }
    }
    ds_ctx_free(ctx);
    return bad;
}

// NULL gradients are skipped and leave the others as they are; 1 and 2 threads give the
// same bits (every gradient element has one writer, summing in a fixed order).
DS_TEST(attention_fused_cpu_paths) {
    ds_ctx *c1 = ds_ctx_new(DS_BACKEND_CPU, 1), *c2 = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(c1 != NULL && c2 != NULL);
    const attf_shape s = {2, 37, 4, 2, 16, {.causal = 1, .n_prefix = 9, .window = 12}};
    const int64_t nq = (int64_t)s.B * s.T * s.nh * s.hd, nk = (int64_t)s.B * s.T * s.nkv * s.hd;
    const int64_t nl = (int64_t)s.B * s.nh * s.T;
    float *q = attf_randn(nq, 61), *k = attf_randn(nk, 62), *v = attf_randn(nk, 63);
    float *dout = attf_randn(nq, 64), *out = malloc(sizeof(float) * nq);
    float *out2 = malloc(sizeof(float) * nq), *lse = malloc(sizeof(float) * nl);
    float *lse2 = malloc(sizeof(float) * nl);
    float *g[2][3];
    for (int t = 0; t < 2; t++) {
        g[t][0] = calloc((size_t)nq, sizeof(float));
        g[t][1] = calloc((size_t)nk, sizeof(float));
        g[t][2] = calloc((size_t)nk, sizeof(float));
    }
    c1->ops->attention_fused_forward(c1, out, lse, q, k, v, s.B, s.T, s.nh, s.nkv, s.hd, s.mask);
    c2->ops->attention_fused_forward(c2, out2, lse2, q, k, v, s.B, s.T, s.nh, s.nkv, s.hd, s.mask);
    c1->ops->attention_fused_backward(c1, g[0][0], g[0][1], g[0][2], dout, out, lse, q, k, v, s.B,
                                      s.T, s.nh, s.nkv, s.hd, s.mask);
    c2->ops->attention_fused_backward(c2, g[1][0], g[1][1], g[1][2], dout, out2, lse2, q, k, v, s.B,
                                      s.T, s.nh, s.nkv, s.hd, s.mask);
    int bad = 0;
    bad += ds_test_close_f32("fused out, 2 threads vs 1", out2, out, nq, 0, 0) != 0;
    bad += ds_test_close_f32("fused lse, 2 threads vs 1", lse2, lse, nl, 0, 0) != 0;
    bad += ds_test_close_f32("fused dq, 2 threads vs 1", g[1][0], g[0][0], nq, 0, 0) != 0;
    bad += ds_test_close_f32("fused dk, 2 threads vs 1", g[1][1], g[0][1], nk, 0, 0) != 0;
    bad += ds_test_close_f32("fused dv, 2 threads vs 1", g[1][2], g[0][2], nk, 0, 0) != 0;

    // Each gradient alone, into zeros: the same values as all three together.
    for (int i = 0; i < 3; i++) {
        int64_t n = i == 0 ? nq : nk;
        memset(g[1][i], 0, sizeof(float) * (size_t)n);
        c2->ops->attention_fused_backward(c2, i == 0 ? g[1][0] : NULL, i == 1 ? g[1][1] : NULL,
                                          i == 2 ? g[1][2] : NULL, dout, out, lse, q, k, v, s.B,
                                          s.T, s.nh, s.nkv, s.hd, s.mask);
        static const char *names[] = {"fused dq alone", "fused dk alone", "fused dv alone"};
        bad += ds_test_close_f32(names[i], g[1][i], g[0][i], n, 0, 0) != 0;
    }
    c2->ops->attention_fused_backward(c2, NULL, NULL, NULL, dout, out, lse, q, k, v, s.B, s.T, s.nh,
                                      s.nkv, s.hd, s.mask); // nothing to do
    free(q), free(k), free(v), free(dout), free(out), free(out2), free(lse), free(lse2);
    for (int t = 0; t < 2; t++) free(g[t][0]), free(g[t][1]), free(g[t][2]);
    ds_ctx_free(c1);
    ds_ctx_free(c2);
    return bad;
}
