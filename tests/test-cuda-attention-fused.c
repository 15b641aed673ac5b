// test-cuda-attention-fused.c: the CUDA fused attention (kernels/cuda/attention-fused.cu)
// against the CPU reference of the same op: out and lse (device buffers start as garbage,
// so every element must be written), then dq, dk, dv accumulated onto random starting
// values, NULL gradients skipped, and a second backward giving the same bits. Lengths
// 1..1030 (T not a multiple of the 16- and 32-row tiles), multi-head / grouped (nh 4, nkv 2)
// / multi-query (nkv 1), head sizes 8..128 (each tile configuration, hd not a multiple of
// 32 included) and every mask kind. Without a GPU each test prints a skip line and passes.
#include "tests/test.h"
#include "tests/cuda-parity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int B, T, nh, nkv, hd;
    ds_attn_mask mask;
} par_attf_shape;

static void par_attf_name(char *buf, size_t n, const char *what, const par_attf_shape *s) {
    snprintf(buf, n, "attn fused %s B%d T%d nh%d nkv%d hd%d c%d p%d w%d", what, s->B, s->T, s->nh,
             s->nkv, s->hd, s->mask.causal, s->mask.n_prefix, s->mask.window);
}

// Backward on both sides with the gradients given (the others NULL).
static void attf_backward_both(ds_ctx *g, const par_attf_shape *s, float *dq, float *dk, float *dv,
                               float *gdq, float *gdk, float *gdv, const float *const *h,
                               const float *const *d) {
    ds_ctx *c = ds_par_cpu();
    // h and d: dout, out, lse, q, k, v on the host and on the device.
    c->ops->attention_fused_backward(c, dq, dk, dv, h[0], h[1], h[2], h[3], h[4], h[5], s->B, s->T,
                                     s->nh, s->nkv, s->hd, s->mask);
    g->ops->attention_fused_backward(g, gdq, gdk, gdv, d[0], d[1], d[2], d[3], d[4], d[5], s->B,
                                     s->T, s->nh, s->nkv, s->hd, s->mask);
}

static int64_t attf_case(ds_ctx *g, const par_attf_shape *s, uint64_t seed, int null_paths) {
    ds_ctx *c = ds_par_cpu();
    const int64_t nq = (int64_t)s->B * s->T * s->nh * s->hd;
    const int64_t nk = (int64_t)s->B * s->T * s->nkv * s->hd;
    const int64_t nl = (int64_t)s->B * s->nh * s->T;
    float *q = ds_par_randn(nq, seed, 1.0f), *k = ds_par_randn(nk, seed + 1, 1.0f);
    float *v = ds_par_randn(nk, seed + 2, 1.0f), *dout = ds_par_randn(nq, seed + 3, 1.0f);
    float *dq = ds_par_randn(nq, seed + 4, 1.0f), *dk = ds_par_randn(nk, seed + 5, 1.0f);
    float *dv = ds_par_randn(nk, seed + 6, 1.0f), *garbage = ds_par_randn(nq, seed + 7, 100.0f);
    float *out = malloc(sizeof(float) * (size_t)nq), *lse = malloc(sizeof(float) * (size_t)nl);
    float *gq = ds_par_up(g, q, nq), *gk = ds_par_up(g, k, nk), *gv = ds_par_up(g, v, nk);
    float *gdout = ds_par_up(g, dout, nq), *gdq = ds_par_up(g, dq, nq);
    float *gdk = ds_par_up(g, dk, nk), *gdv = ds_par_up(g, dv, nk);
    float *gout = ds_par_up(g, garbage, nq), *glse = ds_par_up(g, garbage, nl);
    // out and lse are sums of a few bounded terms: the f32 tolerance. The gradients sum up
    // to T keys (dq) or rep * T query rows (dk, dv) in another order than the CPU's, so
    // their rounding grows with sqrt(T), as in test-cuda-attention.c.
    const double gatol = DS_PAR_F32_ATOL * sqrt((double)s->T * (s->nh / s->nkv));
    char what[128];
    int64_t fails = 0;

    c->ops->attention_fused_forward(c, out, lse, q, k, v, s->B, s->T, s->nh, s->nkv, s->hd,
                                    s->mask);
    g->ops->attention_fused_forward(g, gout, glse, gq, gk, gv, s->B, s->T, s->nh, s->nkv, s->hd,
                                    s->mask);
    par_attf_name(what, sizeof what, "out", s);
    fails += ds_par_check(g, what, gout, out, nq, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    par_attf_name(what, sizeof what, "lse", s);
    fails += ds_par_check(g, what, glse, lse, nl, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);

    // Each backward reads its own forward's out and lse, as in training.
    const float *h[] = {dout, out, lse, q, k, v}, *d[] = {gdout, gout, glse, gq, gk, gv};
    attf_backward_both(g, s, dq, dk, dv, gdq, gdk, gdv, h, d);
    if (null_paths) {
        attf_backward_both(g, s, dq, NULL, NULL, gdq, NULL, NULL, h, d);
        attf_backward_both(g, s, NULL, NULL, dv, NULL, NULL, gdv, h, d);
        attf_backward_both(g, s, NULL, dk, NULL, NULL, gdk, NULL, h, d);
    }
    par_attf_name(what, sizeof what, null_paths ? "dq (+dq only)" : "dq", s);
    fails += ds_par_check(g, what, gdq, dq, nq, gatol, DS_PAR_F32_RTOL);
    par_attf_name(what, sizeof what, null_paths ? "dk (+dk only)" : "dk", s);
    fails += ds_par_check(g, what, gdk, dk, nk, gatol, DS_PAR_F32_RTOL);
    par_attf_name(what, sizeof what, null_paths ? "dv (+dv only)" : "dv", s);
    fails += ds_par_check(g, what, gdv, dv, nk, gatol, DS_PAR_F32_RTOL);

    if (!null_paths) { // no atomics: two runs into zeros give the same bits
        float *gd[] = {gdq, gdk, gdv}, *runs[2][3];
        const int64_t n[] = {nq, nk, nk};
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < 3; i++) g->ops->zero(g, gd[i], sizeof(float) * (size_t)n[i]);
            g->ops->attention_fused_backward(g, gdq, gdk, gdv, gdout, gout, glse, gq, gk, gv, s->B,
                                             s->T, s->nh, s->nkv, s->hd, s->mask);
            for (int i = 0; i < 3; i++) runs[r][i] = ds_par_down(g, gd[i], n[i]);
        }
        int64_t differ = 0;
        for (int i = 0; i < 3; i++) {
            differ += memcmp(runs[0][i], runs[1][i], sizeof(float) * (size_t)n[i]) != 0;
            free(runs[0][i]), free(runs[1][i]);
        }
        par_attf_name(what, sizeof what, "backward twice", s);
        printf("  %s: %s\n", what, differ ? "DIFFERENT bits" : "the same bits");
        fails += differ;
    }

    float *bufs[] = {gq, gk, gv, gdout, gdq, gdk, gdv, gout, glse};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) g->ops->free(g, bufs[i]);
    free(q), free(k), free(v), free(dout), free(dq), free(dk), free(dv), free(garbage);
    free(out), free(lse);
    return fails;
}

DS_TEST(cuda_attention_fused) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    // Every mask kind: encoder, causal, causal + prefix, causal + window, causal + prefix +
    // window, encoder window (its n_prefix must be ignored).
    static const ds_attn_mask masks[] = {{0, 0, 0},  {1, 0, 0},  {1, 5, 0},
                                         {1, 0, 16}, {1, 5, 16}, {0, 5, 16}};
    static const int Ts[] = {1, 7, 45, 300, 1030};
    // (B, nh, nkv, hd): every tile configuration (hd <= 32, <= 64, <= 128), multi-head,
    // grouped and multi-query; rotated over the masks and lengths.
    static const int heads[][4] = {{1, 4, 2, 8},  {2, 4, 1, 64}, {1, 4, 2, 128},
                                   {2, 4, 4, 32}, {1, 4, 1, 96}, {1, 6, 2, 40}};
    const int n_masks = (int)(sizeof masks / sizeof *masks),
              n_heads = (int)(sizeof heads / sizeof *heads);
    // Emulated (DS_PARITY_QUICK), T = 1030 takes most of a minute; T = 300 (about 3 s
    // emulated) already crosses many tiles and every mask's edges (prefix 5, window 16).
    const int n_T = (int)(sizeof Ts / sizeof *Ts) - (ds_par_quick() ? 1 : 0);
    int64_t fails = 0;
    for (int ti = 0; ti < n_T; ti++)
        for (int mi = 0; mi < n_masks; mi++) {
            const int *hh = heads[(ti + mi) % n_heads];
            par_attf_shape s = {hh[0], Ts[ti], hh[1], hh[2], hh[3], masks[mi]};
            fails += attf_case(g, &s, 9000u + 17u * (uint64_t)(ti * n_masks + mi), mi % 2);
        }
    // A prefix longer than the sequence, clamped to T.
    par_attf_shape s = {2, 7, 4, 2, 16, {1, 1000, 0}};
    fails += attf_case(g, &s, 99, 1);
    return (int)fails;
}
