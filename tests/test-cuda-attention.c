// test-cuda-attention.c: the CUDA attention, RoPE and softmax kernels against
// the CPU reference table: attention forward (out and the saved probabilities,
// masked entries included) and backward (dq, dk, dv accumulated onto random
// starting values, NULL gradients skipped) over batch sizes, sequence lengths
// 1..300, multi-head / grouped / multi-query heads, head sizes 8 and 64 and every
// mask kind; RoPE forward (out of place and in place, positions up to 40000) and
// backward; row softmax forward and backward up to V = 8193. Without a GPU each
// test prints a skip line and passes.
#include "tests/test.h"
#include "tests/cuda-parity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- attention

typedef struct {
    int B, T, nh, nkv, hd;
    ds_attn_mask mask;
} par_attn_shape;

static void par_attn_name(char *buf, size_t n, const char *what, const par_attn_shape *s) {
    snprintf(buf, n, "attn %s B%d T%d nh%d nkv%d hd%d c%d p%d w%d", what, s->B, s->T, s->nh, s->nkv,
             s->hd, s->mask.causal, s->mask.n_prefix, s->mask.window);
}

// One shape: forward on both tables (the device att starts as garbage, so every entry
// must be written), then backward onto random starting gradients; with null_paths also
// backward with dq alone and with dv alone, on both sides, compared again.
static int64_t attention_case(ds_ctx *g, const par_attn_shape *s, uint64_t seed, int null_paths) {
    ds_ctx *c = ds_par_cpu();
    const int64_t nq = (int64_t)s->B * s->T * s->nh * s->hd;
    const int64_t nk = (int64_t)s->B * s->T * s->nkv * s->hd;
    const int64_t na = (int64_t)s->B * s->nh * s->T * s->T;
    float *q = ds_par_randn(nq, seed, 1.0f), *k = ds_par_randn(nk, seed + 1, 1.0f);
    float *v = ds_par_randn(nk, seed + 2, 1.0f), *dout = ds_par_randn(nq, seed + 3, 1.0f);
    float *dq = ds_par_randn(nq, seed + 4, 1.0f), *dk = ds_par_randn(nk, seed + 5, 1.0f);
    float *dv = ds_par_randn(nk, seed + 6, 1.0f), *garbage = ds_par_randn(na, seed + 7, 100.0f);
    float *out = malloc(sizeof(float) * (size_t)nq), *att = malloc(sizeof(float) * (size_t)na);
    float *gq = ds_par_up(g, q, nq), *gk = ds_par_up(g, k, nk), *gv = ds_par_up(g, v, nk);
    float *gdout = ds_par_up(g, dout, nq), *gdq = ds_par_up(g, dq, nq);
    float *gdk = ds_par_up(g, dk, nk), *gdv = ds_par_up(g, dv, nk);
    float *gatt = ds_par_up(g, garbage, na), *gout = ds_par_zeros(g, sizeof(float) * (size_t)nq);
    // Probabilities and out are sums of a few bounded terms: the f32 tolerance. The
    // gradients sum up to T keys (dq) or rep * T rows (dk, dv) in another order than the
    // CPU's GEMMs, so their rounding grows with sqrt(T).
    const double gatol = DS_PAR_F32_ATOL * sqrt((double)s->T * (s->nh / s->nkv));
    char what[128];
    int64_t fails = 0;

    c->ops->attention_forward(c, out, att, q, k, v, s->B, s->T, s->nh, s->nkv, s->hd, s->mask);
    g->ops->attention_forward(g, gout, gatt, gq, gk, gv, s->B, s->T, s->nh, s->nkv, s->hd, s->mask);
    par_attn_name(what, sizeof what, "att", s);
    fails += ds_par_check(g, what, gatt, att, na, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    par_attn_name(what, sizeof what, "out", s);
    fails += ds_par_check(g, what, gout, out, nq, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);

    // Both backwards read their own forward's att, as in training.
    c->ops->attention_backward(c, dq, dk, dv, dout, att, q, k, v, s->B, s->T, s->nh, s->nkv, s->hd,
                               s->mask);
    g->ops->attention_backward(g, gdq, gdk, gdv, gdout, gatt, gq, gk, gv, s->B, s->T, s->nh, s->nkv,
                               s->hd, s->mask);
    if (null_paths) {
        c->ops->attention_backward(c, dq, NULL, NULL, dout, att, q, k, v, s->B, s->T, s->nh, s->nkv,
                                   s->hd, s->mask);
        g->ops->attention_backward(g, gdq, NULL, NULL, gdout, gatt, gq, gk, gv, s->B, s->T, s->nh,
                                   s->nkv, s->hd, s->mask);
        c->ops->attention_backward(c, NULL, NULL, dv, dout, att, q, k, v, s->B, s->T, s->nh, s->nkv,
                                   s->hd, s->mask);
        g->ops->attention_backward(g, NULL, NULL, gdv, gdout, gatt, gq, gk, gv, s->B, s->T, s->nh,
                                   s->nkv, s->hd, s->mask);
        c->ops->attention_backward(c, NULL, dk, NULL, dout, att, q, k, v, s->B, s->T, s->nh, s->nkv,
                                   s->hd, s->mask);
        g->ops->attention_backward(g, NULL, gdk, NULL, gdout, gatt, gq, gk, gv, s->B, s->T, s->nh,
                                   s->nkv, s->hd, s->mask);
    }
    par_attn_name(what, sizeof what, null_paths ? "dq (+dq only)" : "dq", s);
    fails += ds_par_check(g, what, gdq, dq, nq, gatol, DS_PAR_F32_RTOL);
    par_attn_name(what, sizeof what, null_paths ? "dk (+dk only)" : "dk", s);
    fails += ds_par_check(g, what, gdk, dk, nk, gatol, DS_PAR_F32_RTOL);
    par_attn_name(what, sizeof what, null_paths ? "dv (+dv only)" : "dv", s);
    fails += ds_par_check(g, what, gdv, dv, nk, gatol, DS_PAR_F32_RTOL);

    float *bufs[] = {gq, gk, gv, gdout, gdq, gdk, gdv, gatt, gout};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) g->ops->free(g, bufs[i]);
    free(q), free(k), free(v), free(dout), free(dq), free(dk), free(dv), free(garbage);
    free(out), free(att);
    return fails;
}

DS_TEST(cuda_attention) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    // Every mask kind: encoder, causal, causal + prefix, causal + window, causal + prefix +
    // window, encoder window (its n_prefix must be ignored); prefixes past T are clamped.
    static const ds_attn_mask masks[] = {{0, 0, 0},  {1, 0, 0},  {1, 5, 0},
                                         {1, 0, 16}, {1, 5, 16}, {0, 5, 16}};
    static const int Ts[] = {1, 7, 64, 300};
    // (B, nh, nkv, hd): multi-head, multi-query, grouped; rotated over the masks and lengths.
    static const int heads[][4] = {{1, 4, 4, 8},  {2, 4, 1, 64}, {1, 6, 2, 64},
                                   {2, 4, 4, 64}, {1, 4, 1, 8},  {2, 6, 2, 8}};
    const int n_masks = (int)(sizeof masks / sizeof *masks),
              n_heads = (int)(sizeof heads / sizeof *heads);
    // Emulated (DS_PARITY_QUICK), T = 300 takes most of a minute; T = 64 already crosses
    // every mask's edges (prefix 5, window 16).
    const int n_T = (int)(sizeof Ts / sizeof *Ts) - (ds_par_quick() ? 1 : 0);
    int64_t fails = 0;
    for (int ti = 0; ti < n_T; ti++)
        for (int mi = 0; mi < n_masks; mi++) {
            const int *hh = heads[(ti + mi) % n_heads];
            par_attn_shape s = {hh[0], Ts[ti], hh[1], hh[2], hh[3], masks[mi]};
            fails += attention_case(g, &s, 1000u + 17u * (uint64_t)(ti * n_masks + mi), mi % 2);
        }
    // A prefix longer than the sequence, clamped to T.
    par_attn_shape s = {2, 7, 6, 2, 8, {1, 1000, 0}};
    fails += attention_case(g, &s, 77, 1);
    return (int)fails;
}

// ---- RoPE

static int64_t rope_case(ds_ctx *g, int T, int nh, int hd, float theta, uint64_t seed) {
    ds_ctx *c = ds_par_cpu();
    const int64_t n = (int64_t)T * nh * hd;
    float *x = ds_par_randn(n, seed, 1.0f), *dy = ds_par_randn(n, seed + 1, 1.0f);
    float *dx = ds_par_randn(n, seed + 2, 1.0f), *r = ds_par_randn(T, seed + 3, 1.0f);
    float *y = malloc(sizeof(float) * (size_t)n);
    int32_t *pos = malloc(sizeof(int32_t) * (size_t)T);
    // Positions up to 40000, where a float angle would be visibly off.
    for (int t = 0; t < T; t++) pos[t] = t % 2 ? t : (int32_t)(fabsf(r[t]) * 15000.0f) % 40000;
    int32_t *gpos = ds_par_up_i32(g, pos, T);
    float *gx = ds_par_up(g, x, n), *gdy = ds_par_up(g, dy, n), *gdx = ds_par_up(g, dx, n);
    float *gy = ds_par_zeros(g, sizeof(float) * (size_t)n);
    char what[96];
    int64_t fails = 0;

    c->ops->rope_forward(c, y, x, pos, T, nh, hd, theta);
    g->ops->rope_forward(g, gy, gx, gpos, T, nh, hd, theta);
    snprintf(what, sizeof what, "rope fwd T%d nh%d hd%d theta%g", T, nh, hd, theta);
    fails += ds_par_check(g, what, gy, y, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    g->ops->rope_forward(g, gx, gx, gpos, T, nh, hd, theta); // in place, as ops.h allows
    snprintf(what, sizeof what, "rope fwd in place T%d nh%d hd%d", T, nh, hd);
    fails += ds_par_check(g, what, gx, y, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);

    c->ops->rope_backward(c, dx, dy, pos, T, nh, hd, theta);
    g->ops->rope_backward(g, gdx, gdy, gpos, T, nh, hd, theta);
    snprintf(what, sizeof what, "rope bwd T%d nh%d hd%d theta%g", T, nh, hd, theta);
    fails += ds_par_check(g, what, gdx, dx, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);

    g->ops->free(g, gpos);
    g->ops->free(g, gx), g->ops->free(g, gdy), g->ops->free(g, gdx), g->ops->free(g, gy);
    free(x), free(dy), free(dx), free(r), free(y), free(pos);
    return fails;
}

DS_TEST(cuda_rope) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    static const int shapes[][3] = {{1, 1, 2}, {7, 3, 8}, {64, 4, 64}, {300, 2, 128}};
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const int *s = shapes[i];
        fails += rope_case(g, s[0], s[1], s[2], 10000.0f, 300 + 10 * i);
        fails += rope_case(g, s[0], s[1], s[2], 1e6f, 500 + 10 * i);
    }
    return (int)fails;
}

// ---- softmax

static int64_t softmax_case(ds_ctx *g, int T, int V, uint64_t seed) {
    ds_ctx *c = ds_par_cpu();
    const int64_t n = (int64_t)T * V;
    // Logits with std 3 make peaked rows; dx starts non-zero to check accumulation.
    float *x = ds_par_randn(n, seed, 3.0f), *dy = ds_par_randn(n, seed + 1, 1.0f);
    float *dx = ds_par_randn(n, seed + 2, 1.0f), *y = malloc(sizeof(float) * (size_t)n);
    float *gx = ds_par_up(g, x, n), *gdy = ds_par_up(g, dy, n), *gdx = ds_par_up(g, dx, n);
    float *gy = ds_par_zeros(g, sizeof(float) * (size_t)n);
    char what[64];
    int64_t fails = 0;

    c->ops->softmax_forward(c, y, x, T, V);
    g->ops->softmax_forward(g, gy, gx, T, V);
    snprintf(what, sizeof what, "softmax fwd T%d V%d", T, V);
    fails += ds_par_check(g, what, gy, y, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);

    c->ops->softmax_backward(c, dx, dy, y, T, V);
    g->ops->softmax_backward(g, gdx, gdy, gy, T, V);
    snprintf(what, sizeof what, "softmax bwd T%d V%d", T, V);
    fails += ds_par_check(g, what, gdx, dx, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    g->ops->softmax_backward(g, NULL, gdy, gy, T, V); // NULL: nothing to do

    g->ops->free(g, gx), g->ops->free(g, gdy), g->ops->free(g, gdx), g->ops->free(g, gy);
    free(x), free(dy), free(dx), free(y);
    return fails;
}

DS_TEST(cuda_softmax) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    static const int shapes[][2] = {{1, 1}, {7, 5}, {64, 1000}, {3, 8193}, {2, 255}};
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        fails += softmax_case(g, shapes[i][0], shapes[i][1], 700 + 10 * i);
    return (int)fails;
}
