// test-attention.c: attention forward against a naive double loop for every mask kind
// (bidirectional, causal, causal + prefix, causal + window, causal + prefix + window,
// bidirectional window), grouped (nh=4, nkv=2), multi-query and multi-head; the saved
// probabilities (rows sum to 1, masked entries exactly 0); backward against central
// finite differences of the naive double forward, accumulation into pre-filled
// gradients and NULL gradients. T=150 crosses the kernel's 64-row blocks.
#include "tests/test.h"
#include "kernels/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int B, T, nh, nkv, hd;
    ds_attn_mask mask;
} attn_shape;

// The mask exactly as ops.h words it (independent of the kernel's interval form).
static int visible(ds_attn_mask m, int i, int j) {
    int ok = m.causal ? (j <= i || (i < m.n_prefix && j < m.n_prefix)) : 1;
    if (m.window > 0) ok = ok && abs(i - j) < m.window;
    return ok;
}

// out (B, T, nh, hd) and, when att is not NULL, att (B, nh, T, T), in double.
static void naive_attention(double *out, double *att, const double *q, const double *k,
                            const double *v, const attn_shape *s) {
    const int T = s->T, nh = s->nh, nkv = s->nkv, hd = s->hd;
    const double scale = 1.0 / sqrt((double)hd);
    double *p = malloc(T * sizeof *p);
    for (int b = 0; b < s->B; b++)
        for (int h = 0; h < nh; h++) {
            int g = h / (nh / nkv);
            for (int i = 0; i < T; i++) {
                const double *qi = q + (((size_t)b * T + i) * nh + h) * hd;
                double mx = -INFINITY;
                for (int j = 0; j < T; j++) {
                    p[j] = 0;
                    if (!visible(s->mask, i, j)) continue;
                    const double *kj = k + (((size_t)b * T + j) * nkv + g) * hd;
                    double d = 0;
                    for (int c = 0; c < hd; c++) d += qi[c] * kj[c];
                    p[j] = d * scale;
                    if (p[j] > mx) mx = p[j];
                }
                double sum = 0;
                for (int j = 0; j < T; j++)
                    if (visible(s->mask, i, j)) sum += p[j] = exp(p[j] - mx);
                for (int j = 0; j < T; j++) p[j] /= sum;
                double *oi = out + (((size_t)b * T + i) * nh + h) * hd;
                for (int c = 0; c < hd; c++) oi[c] = 0;
                for (int j = 0; j < T; j++) {
                    if (p[j] == 0) continue;
                    const double *vj = v + (((size_t)b * T + j) * nkv + g) * hd;
                    for (int c = 0; c < hd; c++) oi[c] += p[j] * vj[c];
                }
                if (att) memcpy(att + (((size_t)b * nh + h) * T + i) * T, p, T * sizeof *p);
            }
        }
    free(p);
}

static void describe(char *buf, size_t n, const char *what, const attn_shape *s) {
    snprintf(buf, n, "%s B%d T%d nh%d nkv%d c%d p%d w%d", what, s->B, s->T, s->nh, s->nkv,
             s->mask.causal, s->mask.n_prefix, s->mask.window);
}

// Runs the forward on one shape; returns the number of failed checks.
static int check_forward(ds_ctx *ctx, const attn_shape *s, uint64_t seed) {
    const int64_t nq = (int64_t)s->B * s->T * s->nh * s->hd;
    const int64_t nk = (int64_t)s->B * s->T * s->nkv * s->hd;
    const int64_t na = (int64_t)s->B * s->nh * s->T * s->T;
    float *q = malloc(nq * sizeof *q), *k = malloc(nk * sizeof *k), *v = malloc(nk * sizeof *v);
    float *out = malloc(nq * sizeof *out), *att = malloc(na * sizeof *att);
    double *qd = malloc(nq * sizeof *qd), *kd = malloc(nk * sizeof *kd);
    double *vd = malloc(nk * sizeof *vd), *outd = malloc(nq * sizeof *outd);
    double *attd = malloc(na * sizeof *attd);
    ds_test_randn(q, nq, seed, 1.0f);
    ds_test_randn(k, nk, seed + 1, 1.0f);
    ds_test_randn(v, nk, seed + 2, 1.0f);
    ds_test_to_f64(qd, q, nq);
    ds_test_to_f64(kd, k, nk);
    ds_test_to_f64(vd, v, nk);
    // Poison the outputs: the kernel must overwrite every element, masked ones included.
    for (int64_t i = 0; i < na; i++) att[i] = NAN;
    for (int64_t i = 0; i < nq; i++) out[i] = NAN;

    ctx->ops->attention_forward(ctx, out, att, q, k, v, s->B, s->T, s->nh, s->nkv, s->hd, s->mask);
    naive_attention(outd, attd, qd, kd, vd, s);

    int bad = 0;
    char what[96];
    describe(what, sizeof what, "out", s);
    bad += ds_test_close_f64(what, out, outd, nq, 1e-5, 1e-4) != 0;
    describe(what, sizeof what, "att", s);
    bad += ds_test_close_f64(what, att, attd, na, 1e-5, 1e-4) != 0;

    // Rows sum to 1; masked entries are exactly 0.
    int64_t n_masked_nonzero = 0;
    double worst_sum = 0;
    for (int bh = 0; bh < s->B * s->nh; bh++)
        for (int i = 0; i < s->T; i++) {
            const float *row = att + ((size_t)bh * s->T + i) * s->T;
            double sum = 0;
            for (int j = 0; j < s->T; j++) {
                sum += row[j];
                if (!visible(s->mask, i, j) && row[j] != 0.0f) n_masked_nonzero++;
            }
            if (fabs(sum - 1) > worst_sum) worst_sum = fabs(sum - 1);
        }
    printf("  att rows: worst |sum - 1| %.3e, masked entries not 0: %lld\n", worst_sum,
           (long long)n_masked_nonzero);
    bad += worst_sum > 1e-5 || !(worst_sum == worst_sum);
    bad += n_masked_nonzero != 0;

    free(q), free(k), free(v), free(out), free(att);
    free(qd), free(kd), free(vd), free(outd), free(attd);
    return bad;
}

// Mask kinds for a sequence of length T: prefix and window scaled to T.
static int mask_kinds(ds_attn_mask *m, int T) {
    int np = T / 2 - 1, w = T / 3 + 1;
    ds_attn_mask kinds[] = {
        {.causal = 0},                                     // bidirectional
        {.causal = 1},                                     // causal
        {.causal = 1, .n_prefix = np},                     // causal + prefix
        {.causal = 1, .window = w},                        // causal + window
        {.causal = 1, .n_prefix = np, .window = w},        // causal + prefix + window
        {.causal = 0, .window = w},                        // bidirectional window
        {.causal = 1, .n_prefix = T + 5, .window = 2 * T}, // prefix covers all: bidirectional
    };
    memcpy(m, kinds, sizeof kinds);
    return (int)(sizeof kinds / sizeof kinds[0]);
}

DS_TEST(attention_forward) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    int bad = 0;
    const int Ts[] = {7, 19};
    const int nkvs[] = {2, 4}; // GQA, MHA
    for (int ti = 0; ti < 2; ti++)
        for (int ki = 0; ki < 2; ki++) {
            ds_attn_mask m[8];
            int nm = mask_kinds(m, Ts[ti]);
            for (int mi = 0; mi < nm; mi++) {
                attn_shape s = {
                    .B = 2, .T = Ts[ti], .nh = 4, .nkv = nkvs[ki], .hd = 8, .mask = m[mi]};
                bad += check_forward(ctx, &s, 1000 + 10 * mi + ki);
            }
        }
    ds_ctx_free(ctx);
    return bad;
}

// T = 150 spans three 64-row blocks (the last one partial), with a prefix that
// crosses a block edge and windows that make later blocks start past key 0.
DS_TEST(attention_forward_blocks) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const ds_attn_mask m[] = {
        {.causal = 0},
        {.causal = 1},
        {.causal = 1, .n_prefix = 70},
        {.causal = 1, .window = 40},
        {.causal = 1, .n_prefix = 70, .window = 40},
        {.causal = 0, .window = 50},
    };
    int bad = 0;
    for (size_t mi = 0; mi < sizeof m / sizeof m[0]; mi++) {
        attn_shape s = {.B = 2, .T = 150, .nh = 4, .nkv = 2, .hd = 8, .mask = m[mi]};
        bad += check_forward(ctx, &s, 2000 + mi);
    }
    ds_ctx_free(ctx);
    return bad;
}

// ---- backward

typedef struct {
    const attn_shape *s;
    double *q, *k, *v, *w, *out;
} attn_env;

// loss = sum(out * w) of the naive double forward.
static double attn_loss(void *p) {
    attn_env *e = p;
    const int64_t nq = (int64_t)e->s->B * e->s->T * e->s->nh * e->s->hd;
    naive_attention(e->out, NULL, e->q, e->k, e->v, e->s);
    double l = 0;
    for (int64_t i = 0; i < nq; i++) l += e->out[i] * e->w[i];
    return l;
}

// Checks dq, dk, dv against finite differences: of every element when n_sample == 0,
// else of n_sample random elements of each. Also checks accumulation (+= into
// pre-filled gradients) and that a NULL gradient leaves the others unchanged.
static int check_backward(ds_ctx *ctx, const attn_shape *s, uint64_t seed, int n_sample) {
    const int64_t nq = (int64_t)s->B * s->T * s->nh * s->hd;
    const int64_t nk = (int64_t)s->B * s->T * s->nkv * s->hd;
    const int64_t na = (int64_t)s->B * s->nh * s->T * s->T;
    float *q = malloc(nq * sizeof *q), *k = malloc(nk * sizeof *k), *v = malloc(nk * sizeof *v);
    float *w = malloc(nq * sizeof *w), *out = malloc(nq * sizeof *out);
    float *att = malloc(na * sizeof *att);
    float *dq = malloc(nq * sizeof *dq), *dk = malloc(nk * sizeof *dk);
    float *dv = malloc(nk * sizeof *dv), *tmp = malloc(nq * sizeof *tmp);
    double *qd = malloc(nq * sizeof *qd), *kd = malloc(nk * sizeof *kd);
    double *vd = malloc(nk * sizeof *vd), *wd = malloc(nq * sizeof *wd);
    double *outd = malloc(nq * sizeof *outd);
    float *gots = malloc(nq * sizeof *gots);
    double *refs = malloc(nq * sizeof *refs);
    ds_test_randn(q, nq, seed, 1.0f);
    ds_test_randn(k, nk, seed + 1, 1.0f);
    ds_test_randn(v, nk, seed + 2, 1.0f);
    ds_test_randn(w, nq, seed + 3, 1.0f);
    ds_test_to_f64(qd, q, nq);
    ds_test_to_f64(kd, k, nk);
    ds_test_to_f64(vd, v, nk);
    ds_test_to_f64(wd, w, nq);

    ctx->ops->attention_forward(ctx, out, att, q, k, v, s->B, s->T, s->nh, s->nkv, s->hd, s->mask);
    memset(dq, 0, nq * sizeof *dq);
    memset(dk, 0, nk * sizeof *dk);
    memset(dv, 0, nk * sizeof *dv);
    ctx->ops->attention_backward(ctx, dq, dk, dv, w, att, q, k, v, s->B, s->T, s->nh, s->nkv, s->hd,
                                 s->mask);

    attn_env env = {.s = s, .q = qd, .k = kd, .v = vd, .w = wd, .out = outd};
    struct {
        const char *name;
        double *x;
        const float *g;
        int64_t n;
    } grads[] = {{"dq", qd, dq, nq}, {"dk", kd, dk, nk}, {"dv", vd, dv, nk}};
    int bad = 0;
    uint64_t rs = seed * 2654435761u + 1;
    for (int gi = 0; gi < 3; gi++) {
        int64_t m = n_sample > 0 && n_sample < grads[gi].n ? n_sample : grads[gi].n;
        for (int64_t t = 0; t < m; t++) {
            int64_t idx = t;
            if (m < grads[gi].n) { // xorshift sample; first and last elements always in
                rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
                idx = t == 0 ? 0 : t == 1 ? grads[gi].n - 1 : (int64_t)(rs % grads[gi].n);
            }
            ds_test_fd_grad(grads[gi].x + idx, 1, refs + t, attn_loss, &env, 1e-5);
            gots[t] = grads[gi].g[idx];
        }
        char what[96];
        describe(what, sizeof what, grads[gi].name, s);
        bad += ds_test_close_f64(what, gots, refs, m, 1e-4, 1e-3) != 0;
    }

    // Accumulation: pre-filled gradients receive the same sum.
    float *dq2 = malloc(nq * sizeof *dq2), *dk2 = malloc(nk * sizeof *dk2);
    float *dv2 = malloc(nk * sizeof *dv2);
    for (int64_t i = 0; i < nq; i++) dq2[i] = 0.25f, tmp[i] = dq[i] + 0.25f;
    for (int64_t i = 0; i < nk; i++) dk2[i] = -0.5f, dv2[i] = 1.0f;
    ctx->ops->attention_backward(ctx, dq2, dk2, dv2, w, att, q, k, v, s->B, s->T, s->nh, s->nkv,
                                 s->hd, s->mask);
    bad += ds_test_close_f32("dq accumulated (+0.25)", dq2, tmp, nq, 1e-6, 1e-6) != 0;
    for (int64_t i = 0; i < nk; i++) tmp[i] = dk[i] - 0.5f;
    bad += ds_test_close_f32("dk accumulated (-0.5)", dk2, tmp, nk, 1e-6, 1e-6) != 0;
    for (int64_t i = 0; i < nk; i++) tmp[i] = dv[i] + 1.0f;
    bad += ds_test_close_f32("dv accumulated (+1)", dv2, tmp, nk, 1e-6, 1e-6) != 0;

    // NULL gradients are skipped; the others are unchanged by their absence.
    memset(dq2, 0, nq * sizeof *dq2);
    memset(dv2, 0, nk * sizeof *dv2);
    ctx->ops->attention_backward(ctx, dq2, NULL, NULL, w, att, q, k, v, s->B, s->T, s->nh, s->nkv,
                                 s->hd, s->mask);
    ctx->ops->attention_backward(ctx, NULL, NULL, dv2, w, att, q, k, v, s->B, s->T, s->nh, s->nkv,
                                 s->hd, s->mask);
    bad += ds_test_close_f32("dq alone", dq2, dq, nq, 0, 0) != 0;
    bad += ds_test_close_f32("dv alone", dv2, dv, nk, 0, 0) != 0;

    free(q), free(k), free(v), free(w), free(out), free(att), free(dq), free(dk), free(dv);
    free(tmp), free(qd), free(kd), free(vd), free(wd), free(outd), free(gots), free(refs);
    free(dq2), free(dk2), free(dv2);
    return bad;
}

DS_TEST(attention_grad) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    int bad = 0;
    // The required case: causal + prefix + window with GQA, odd T.
    attn_shape s = {.B = 2,
                    .T = 19,
                    .nh = 4,
                    .nkv = 2,
                    .hd = 8,
                    .mask = {.causal = 1, .n_prefix = 8, .window = 7}};
    bad += check_backward(ctx, &s, 3000, 0);
    // Every mask kind at T = 7 with GQA and MHA.
    ds_attn_mask m[8];
    int nm = mask_kinds(m, 7);
    for (int mi = 0; mi < nm; mi++)
        for (int nkv = 2; nkv <= 4; nkv += 2) {
            attn_shape t = {.B = 2, .T = 7, .nh = 4, .nkv = nkv, .hd = 8, .mask = m[mi]};
            bad += check_backward(ctx, &t, 3100 + 10 * mi + nkv, 0);
        }
    // Multi-query with B * nkv = 1 below the thread count: one thread has no work.
    attn_shape mq = {
        .B = 1, .T = 11, .nh = 4, .nkv = 1, .hd = 8, .mask = {.causal = 1, .n_prefix = 4}};
    bad += check_backward(ctx, &mq, 3200, 0);
    ds_ctx_free(ctx);
    return bad;
}

// Across 64-row blocks: causal + prefix crossing the first block edge + a window that
// makes the last block start past key 0. Finite differences of a sample of elements.
DS_TEST(attention_grad_blocks) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    attn_shape s = {.B = 1,
                    .T = 150,
                    .nh = 2,
                    .nkv = 1,
                    .hd = 8,
                    .mask = {.causal = 1, .n_prefix = 70, .window = 90}};
    int bad = check_backward(ctx, &s, 4000, 24);
    ds_ctx_free(ctx);
    return bad;
}
