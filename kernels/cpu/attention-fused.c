// attention-fused.c: the fused attention ops (FlashAttention-2, Dao 2023, algorithms 1
// and 2) as the CPU reference of kernels/cuda/attention-fused.cu: plain loops, one query
// row at a time, no (T, T) buffer. Forward keeps a running maximum and sum per row over
// blocks of keys (the online softmax, Milakov & Gimelshein 2018) and saves the row's
// log-sum-exp; backward recomputes each probability from it. The masks and grouped-query
// heads are those of attention.c (kernels/attn-range.h).
// Deliberately not here: BLAS, vectorised exp (libm expf, as the GPU's expf), dropout,
// score biases, KV caches (kv-attention.c).
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"
#include "kernels/attn-range.h"

#include <math.h>
#include <string.h>

// Keys per block of the forward's online softmax: the block's scores sit in a small
// array, so the running output is rescaled once per block instead of once per key.
#define ATTF_BC 64

typedef struct {
    float *out, *lse;          // forward outputs
    float *dq, *dk, *dv;       // backward outputs (accumulated; NULL skipped)
    const float *dout, *o, *l; // backward inputs: dout, the forward's out and lse
    const float *q, *k, *v;
    int B, T, nh, nkv, hd;
    float scale;
    ds_attn_mask mask;
} ds_attf_args;

static float attf_dot(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int d = 0; d < n; d++) s += a[d] * b[d];
    return s;
}

// ---- forward: a task per query row (b, h, i); each writes its own row of out and lse.
static void attf_forward_task(void *p, int ith, int nth) {
    const ds_attf_args *a = p;
    const int T = a->T, nh = a->nh, hd = a->hd, rep = nh / a->nkv;
    const int64_t ldq = (int64_t)nh * hd, ldk = (int64_t)a->nkv * hd;
    float acc[DS_ATTN_FUSED_HD_MAX], s[ATTF_BC];
    int64_t lo, hi;
    ds_split((int64_t)a->B * nh * T, ith, nth, &lo, &hi);
    for (int64_t row = lo; row < hi; row++) { // row = (b * nh + h) * T + i, lse's order
        const int i = (int)(row % T), h = (int)(row / T % nh), b = (int)(row / T / nh);
        const float *qi = a->q + ((int64_t)b * T + i) * ldq + (int64_t)h * hd;
        const float *K = a->k + (int64_t)b * T * ldk + (int64_t)(h / rep) * hd;
        const float *V = a->v + (int64_t)b * T * ldk + (int64_t)(h / rep) * hd;
        int jl, jh;
        ds_attn_row_range(i, T, a->mask, &jl, &jh); // never empty: it holds i
        float m = -INFINITY, l = 0.0f;
        memset(acc, 0, sizeof(float) * (size_t)hd);
        for (int j0 = jl; j0 < jh; j0 += ATTF_BC) {
            const int nc = jh - j0 < ATTF_BC ? jh - j0 : ATTF_BC;
            float mb = -INFINITY;
            for (int c = 0; c < nc; c++) {
                s[c] = a->scale * attf_dot(qi, K + (j0 + c) * ldk, hd);
                mb = s[c] > mb ? s[c] : mb;
            }
            // New maximum: what was summed so far shrinks by exp(m - m_new) (0 on the
            // first block, where m = -inf and m_new is finite).
            const float mn = mb > m ? mb : m, corr = expf(m - mn);
            l *= corr;
            for (int d = 0; d < hd; d++) acc[d] *= corr;
            for (int c = 0; c < nc; c++) {
                const float pc = expf(s[c] - mn);
                const float *vj = V + (j0 + c) * ldk;
                l += pc;
                for (int d = 0; d < hd; d++) acc[d] += pc * vj[d];
            }
            m = mn;
        }
        float *oi = a->out + ((int64_t)b * T + i) * ldq + (int64_t)h * hd;
        const float inv = 1.0f / l; // l >= 1: the maximum contributes exp(0)
        for (int d = 0; d < hd; d++) oi[d] = acc[d] * inv;
        a->lse[row] = m + logf(l);
    }
}

void ds_cpu_attention_fused_forward(ds_ctx *ctx, float *out, float *lse, const float *q,
                                    const float *k, const float *v, int B, int T, int nh, int nkv,
                                    int hd, ds_attn_mask mask) {
    DS_ASSERT(nkv > 0 && nh % nkv == 0 && hd > 0 && hd <= DS_ATTN_FUSED_HD_MAX);
    if (B <= 0 || T <= 0 || nh <= 0) return;
    ds_attf_args a = {.out = out,
                      .lse = lse,
                      .q = q,
                      .k = k,
                      .v = v,
                      .B = B,
                      .T = T,
                      .nh = nh,
                      .nkv = nkv,
                      .hd = hd,
                      .scale = 1.0f / sqrtf((float)hd),
                      .mask = mask};
    ds_cpu_run(ctx, attf_forward_task, &a, (int64_t)B * nh * T * T * hd);
}

// ---- backward: a task per (b, kv head g), as in attention.c: the rep query heads sharing
// g run in one thread, so dk and dv of g, and dq of those heads, have a single writer and
// a fixed summation order. Per visible (i, j), with P = exp(s - lse_i) and
// D_i = dout_i . out_i (= sum_j P_ij dP_ij, Dao 2023 eq. 4):
//   dv_j += P dout_i;  dS = P (dout_i . v_j - D_i);  dq_i += scale dS k_j;  dk_j += scale dS q_i
static void attf_backward_task(void *p, int ith, int nth) {
    const ds_attf_args *a = p;
    const int T = a->T, nh = a->nh, nkv = a->nkv, hd = a->hd, rep = nh / nkv;
    const int64_t ldq = (int64_t)nh * hd, ldk = (int64_t)nkv * hd;
    const int want_ds = a->dq || a->dk;
    int64_t lo, hi;
    ds_split((int64_t)a->B * nkv, ith, nth, &lo, &hi);
    for (int64_t idx = lo; idx < hi; idx++) {
        const int g = (int)(idx % nkv), b = (int)(idx / nkv);
        const int64_t koff = (int64_t)b * T * ldk + (int64_t)g * hd;
        for (int h = g * rep; h < (g + 1) * rep; h++)
            for (int i = 0; i < T; i++) {
                const int64_t qoff = ((int64_t)b * T + i) * ldq + (int64_t)h * hd;
                const float *qi = a->q + qoff, *doi = a->dout + qoff;
                const float lse = a->l[((int64_t)b * nh + h) * T + i];
                const float D = want_ds ? attf_dot(doi, a->o + qoff, hd) : 0.0f;
                int jl, jh;
                ds_attn_row_range(i, T, a->mask, &jl, &jh);
                for (int j = jl; j < jh; j++) {
                    const int64_t kj = koff + (int64_t)j * ldk;
                    const float P = expf(a->scale * attf_dot(qi, a->k + kj, hd) - lse);
                    if (a->dv)
                        for (int d = 0; d < hd; d++) a->dv[kj + d] += P * doi[d];
                    if (!want_ds) continue;
                    const float dS = a->scale * P * (attf_dot(doi, a->v + kj, hd) - D);
                    if (a->dq)
                        for (int d = 0; d < hd; d++) a->dq[qoff + d] += dS * a->k[kj + d];
                    if (a->dk)
                        for (int d = 0; d < hd; d++) a->dk[kj + d] += dS * qi[d];
                }
            }
    }
}

void ds_cpu_attention_fused_backward(ds_ctx *ctx, float *dq, float *dk, float *dv,
                                     const float *dout, const float *out, const float *lse,
                                     const float *q, const float *k, const float *v, int B, int T,
                                     int nh, int nkv, int hd, ds_attn_mask mask) {
    DS_ASSERT(nkv > 0 && nh % nkv == 0 && hd > 0 && hd <= DS_ATTN_FUSED_HD_MAX);
    if (B <= 0 || T <= 0 || nh <= 0 || (!dq && !dk && !dv)) return;
    ds_attf_args a = {.dq = dq,
                      .dk = dk,
                      .dv = dv,
                      .dout = dout,
                      .o = out,
                      .l = lse,
                      .q = q,
                      .k = k,
                      .v = v,
                      .B = B,
                      .T = T,
                      .nh = nh,
                      .nkv = nkv,
                      .hd = hd,
                      .scale = 1.0f / sqrtf((float)hd),
                      .mask = mask};
    ds_cpu_run(ctx, attf_backward_task, &a, (int64_t)B * nh * T * T * hd);
}
