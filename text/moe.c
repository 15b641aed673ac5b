// moe.c: the feed-forward half of an LM layer: a dense SwiGLU for the first
// layers; for the others DeepSeek-style MoE: router GEMM, group-limited top-k
// routing, counting-sort permutation, grouped expert GEMMs, weighted combine,
// plus the shared expert(s) every token goes through. Also the sequence-wise
// balance loss and the auxiliary-loss-free bias update. No capacity limit and
// no token dropping: every routed assignment is computed. Decoding may read bf16
// copies of the matrices instead (ds_lm_ffn_forward_bf16, text/lm-bf16.c).
#include "text/lm.h"

#include "core/error.h"

#include <math.h>
#include <string.h>

#define ALLOC(ptr, n)      DS_ARENA_ALLOC(arena, ptr, n)
#define HOST_ALLOC(ptr, n) DS_ARENA_HOST_ALLOC(arena, ptr, n)

int ds_lm_ffn_forward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_layer *w, int layer,
                      const float *bias, const float *inp, float *y, int N, ds_lm_layer_acts *la,
                      ds_arena *arena) {
    return ds_lm_ffn_forward_bf16(ctx, cfg, w, NULL, layer, bias, inp, y, N, la, arena);
}

// Grouped expert GEMM through the bf16 copy when there is one.
static void grouped(ds_ctx *ctx, float *out, const float *inp, const float *W, const uint16_t *wb,
                    const int32_t *offsets, int E, int K, int N) {
    if (wb)
        ctx->ops->matmul_grouped_bf16_forward(ctx, out, inp, wb, offsets, E, K, N);
    else
        ctx->ops->matmul_grouped_forward(ctx, out, inp, W, offsets, E, K, N);
}

// out (N, Nout) += the layer's LoRA of inp (N, K); *mid keeps A x for the backward.
static int ffn_lora(ds_ctx *ctx, float *out, float **mid, const float *inp, const float *A,
                    const float *B, int N, int K, int Nout, const ds_lm_layer *w, ds_arena *arena) {
    float *tmp;
    ALLOC(*mid, (size_t)N * w->lora_ffn_rank);
    ALLOC(tmp, (size_t)N * Nout);
    ds_lora_forward(ctx, out, *mid, tmp, inp, A, B, N, K, Nout, w->lora_ffn_rank,
                    w->lora_ffn_scale);
    return 0;
}

// The same for the routed experts: the rows of expert e (offsets[e] .. offsets[e+1] of
// the permuted rows; offsets in host memory) through that expert's own A (E, r, K) and
// B (E, Nout, r).
static int expert_lora(ds_ctx *ctx, float *out, float **mid, const float *inp, const float *A,
                       const float *B, const int32_t *offsets, int E, int K, int Nout,
                       const ds_lm_layer *w, ds_arena *arena) {
    int r = w->lora_ffn_rank, rows = offsets[E];
    float *tmp;
    ALLOC(*mid, (size_t)rows * r);
    ALLOC(tmp, (size_t)rows * Nout);
    for (int e = 0; e < E; e++) {
        int o = offsets[e], n = offsets[e + 1] - o;
        if (n > 0)
            ds_lora_forward(ctx, out + (size_t)o * Nout, *mid + (size_t)o * r, tmp,
                            inp + (size_t)o * K, A + (size_t)e * r * K, B + (size_t)e * Nout * r, n,
                            K, Nout, r, w->lora_ffn_scale);
    }
    return 0;
}

// Backward of ffn_lora: accumulates into dinp and the adapter's gradient g_a / g_b.
static int ffn_lora_backward(ds_ctx *ctx, float *dinp, float *gA, float *gB, const float *dout,
                             const float *inp, const float *mid, const float *A, const float *B,
                             int N, int K, int Nout, const ds_lm_layer *w, ds_arena *arena) {
    float *dmid, *dtmp;
    ALLOC(dmid, (size_t)N * w->lora_ffn_rank);
    ALLOC(dtmp, (size_t)N * Nout);
    ds_lora_backward(ctx, dinp, gA, gB, dmid, dtmp, dout, inp, mid, A, B, N, K, Nout,
                     w->lora_ffn_rank, w->lora_ffn_scale);
    return 0;
}

static int expert_lora_backward(ds_ctx *ctx, float *dinp, float *gA, float *gB, const float *dout,
                                const float *inp, const float *mid, const float *A, const float *B,
                                const int32_t *offsets, int E, int K, int Nout,
                                const ds_lm_layer *w, ds_arena *arena) {
    int r = w->lora_ffn_rank;
    float *dmid, *dtmp;
    ALLOC(dmid, (size_t)offsets[E] * r);
    ALLOC(dtmp, (size_t)offsets[E] * Nout);
    for (int e = 0; e < E; e++) {
        int o = offsets[e], n = offsets[e + 1] - o;
        if (n > 0)
            ds_lora_backward(ctx, dinp + (size_t)o * K, gA ? gA + (size_t)e * r * K : NULL,
                             gB ? gB + (size_t)e * Nout * r : NULL, dmid, dtmp,
                             dout + (size_t)o * Nout, inp + (size_t)o * K, mid + (size_t)o * r,
                             A + (size_t)e * r * K, B + (size_t)e * Nout * r, n, K, Nout, r,
                             w->lora_ffn_scale);
    }
    return 0;
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_) return rc_;                                                                       \
    } while (0)

int ds_lm_ffn_forward_bf16(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_layer *w,
                           const ds_lm_layer_bf16 *wb, int layer, const float *bias,
                           const float *inp, float *y, int N, ds_lm_layer_acts *la,
                           ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    const ds_lm_layer_bf16 none = {0};
    if (!wb) wb = &none;
    int C = cfg->dim;
    if (!ds_lm_is_moe(cfg, layer)) {
        int H = cfg->dense_hidden;
        ALLOC(la->h13, (size_t)N * 2 * H);
        ALLOC(la->hact, (size_t)N * H);
        ds_lm_linear(ctx, la->h13, inp, w->w13, wb->w13, N, C, 2 * H);
        if (w->lora_w13_a)
            TRY(ffn_lora(ctx, la->h13, &la->lora_f13_mid, inp, w->lora_w13_a, w->lora_w13_b, N, C,
                         2 * H, w, arena));
        ops->swiglu_forward(ctx, la->hact, la->h13, N, H);
        ds_lm_linear(ctx, y, la->hact, w->w2, wb->w2, N, H, C);
        if (w->lora_w2_a)
            TRY(ffn_lora(ctx, y, &la->lora_f2_mid, la->hact, w->lora_w2_a, w->lora_w2_b, N, H, C, w,
                         arena));
        return 0;
    }
    int E = cfg->n_experts, k = cfg->topk, He = cfg->expert_hidden, SH = cfg->n_shared * He;
    ds_router_cfg rc = ds_cfg_router(cfg);
    ALLOC(la->logits, (size_t)N * E);
    ALLOC(la->scores, (size_t)N * E);
    ALLOC(la->ew, (size_t)N * k);
    ALLOC(la->eidx, (size_t)N * k);
    ALLOC(la->offsets, E + 1);
    ALLOC(la->row_of, (size_t)N * k);
    ALLOC(la->token_of, (size_t)N * k);
    ALLOC(la->xp, (size_t)N * k * C);
    ALLOC(la->hp, (size_t)N * k * 2 * He);
    ALLOC(la->ap, (size_t)N * k * He);
    ALLOC(la->yp, (size_t)N * k * C);
    ops->matmul_forward(ctx, la->logits, inp, w->router, NULL, N, C, E);
    ops->moe_route_forward(ctx, la->eidx, la->ew, la->scores, la->logits, bias, N, rc);
    ops->moe_permute(ctx, la->offsets, la->row_of, la->token_of, la->eidx, N, k, E);
    HOST_ALLOC(la->offsets_h, E + 1);
    ops->download(ctx, la->offsets_h, la->offsets, sizeof(int32_t) * (E + 1));
    ops->moe_dispatch_forward(ctx, la->xp, inp, la->token_of, N, k, C);
    grouped(ctx, la->hp, la->xp, w->exp_w13, wb->exp_w13, la->offsets, E, C, 2 * He);
    if (w->lora_exp13_a)
        TRY(expert_lora(ctx, la->hp, &la->lora_e13_mid, la->xp, w->lora_exp13_a, w->lora_exp13_b,
                        la->offsets_h, E, C, 2 * He, w, arena));
    ops->swiglu_forward(ctx, la->ap, la->hp, N * k, He);
    grouped(ctx, la->yp, la->ap, w->exp_w2, wb->exp_w2, la->offsets, E, He, C);
    if (w->lora_exp2_a)
        TRY(expert_lora(ctx, la->yp, &la->lora_e2_mid, la->ap, w->lora_exp2_a, w->lora_exp2_b,
                        la->offsets_h, E, He, C, w, arena));
    ops->moe_combine_forward(ctx, y, la->yp, la->ew, la->row_of, N, k, C);
    if (SH > 0) {
        float *ys;
        ALLOC(la->hs, (size_t)N * 2 * SH);
        ALLOC(la->as, (size_t)N * SH);
        ALLOC(ys, (size_t)N * C);
        ds_lm_linear(ctx, la->hs, inp, w->shared_w13, wb->shared_w13, N, C, 2 * SH);
        if (w->lora_w13_a)
            TRY(ffn_lora(ctx, la->hs, &la->lora_f13_mid, inp, w->lora_w13_a, w->lora_w13_b, N, C,
                         2 * SH, w, arena));
        ops->swiglu_forward(ctx, la->as, la->hs, N, SH);
        ds_lm_linear(ctx, ys, la->as, w->shared_w2, wb->shared_w2, N, SH, C);
        if (w->lora_w2_a)
            TRY(ffn_lora(ctx, ys, &la->lora_f2_mid, la->as, w->lora_w2_a, w->lora_w2_b, N, SH, C, w,
                         arena));
        ops->add(ctx, y, y, ys, (int64_t)N * C);
    }
    return 0;
}

int ds_lm_ffn_backward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_layer *w, ds_lm_layer *g,
                       int layer, const float *inp, const float *dy, float *dinp, int N,
                       const ds_lm_layer_acts *la, const ds_seq_layout *lay, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    int C = cfg->dim;
    ds_arena_mark_t mark = ds_arena_mark(arena);
    if (!ds_lm_is_moe(cfg, layer)) {
        int H = cfg->dense_hidden;
        float *dhact, *dh13;
        ALLOC(dhact, (size_t)N * H);
        ALLOC(dh13, (size_t)N * 2 * H);
        ops->zero(ctx, dhact, sizeof(float) * N * H);
        ops->matmul_backward(ctx, dhact, g->w2, NULL, dy, la->hact, w->w2, N, H, C);
        if (w->lora_w2_a)
            TRY(ffn_lora_backward(ctx, dhact, g->lora_w2_a, g->lora_w2_b, dy, la->hact,
                                  la->lora_f2_mid, w->lora_w2_a, w->lora_w2_b, N, H, C, w, arena));
        ops->zero(ctx, dh13, sizeof(float) * N * 2 * H);
        ops->swiglu_backward(ctx, dh13, dhact, la->h13, N, H);
        ops->matmul_backward(ctx, dinp, g->w13, NULL, dh13, inp, w->w13, N, C, 2 * H);
        if (w->lora_w13_a)
            TRY(ffn_lora_backward(ctx, dinp, g->lora_w13_a, g->lora_w13_b, dh13, inp,
                                  la->lora_f13_mid, w->lora_w13_a, w->lora_w13_b, N, C, 2 * H, w,
                                  arena));
        ds_arena_rewind(arena, mark);
        return 0;
    }
    int E = cfg->n_experts, k = cfg->topk, He = cfg->expert_hidden, SH = cfg->n_shared * He;
    ds_router_cfg rc = ds_cfg_router(cfg);
    if (SH > 0) {
        float *das, *dhs;
        ALLOC(das, (size_t)N * SH);
        ALLOC(dhs, (size_t)N * 2 * SH);
        ops->zero(ctx, das, sizeof(float) * N * SH);
        ops->matmul_backward(ctx, das, g->shared_w2, NULL, dy, la->as, w->shared_w2, N, SH, C);
        if (w->lora_w2_a)
            TRY(ffn_lora_backward(ctx, das, g->lora_w2_a, g->lora_w2_b, dy, la->as, la->lora_f2_mid,
                                  w->lora_w2_a, w->lora_w2_b, N, SH, C, w, arena));
        ops->zero(ctx, dhs, sizeof(float) * N * 2 * SH);
        ops->swiglu_backward(ctx, dhs, das, la->hs, N, SH);
        ops->matmul_backward(ctx, dinp, g->shared_w13, NULL, dhs, inp, w->shared_w13, N, C, 2 * SH);
        if (w->lora_w13_a)
            TRY(ffn_lora_backward(ctx, dinp, g->lora_w13_a, g->lora_w13_b, dhs, inp,
                                  la->lora_f13_mid, w->lora_w13_a, w->lora_w13_b, N, C, 2 * SH, w,
                                  arena));
    }
    float *dyp, *dew, *dap, *dhp, *dxp, *dlogits;
    ALLOC(dyp, (size_t)N * k * C);
    ALLOC(dew, (size_t)N * k);
    ALLOC(dap, (size_t)N * k * He);
    ALLOC(dhp, (size_t)N * k * 2 * He);
    ALLOC(dxp, (size_t)N * k * C);
    ALLOC(dlogits, (size_t)N * E);
    ops->zero(ctx, dyp, sizeof(float) * N * k * C);
    ops->zero(ctx, dew, sizeof(float) * N * k);
    ops->moe_combine_backward(ctx, dyp, dew, dy, la->yp, la->ew, la->row_of, N, k, C);
    ops->zero(ctx, dap, sizeof(float) * N * k * He);
    ops->matmul_grouped_backward(ctx, dap, g->exp_w2, dyp, la->ap, w->exp_w2, la->offsets, E, He,
                                 C);
    if (w->lora_exp2_a)
        TRY(expert_lora_backward(ctx, dap, g->lora_exp2_a, g->lora_exp2_b, dyp, la->ap,
                                 la->lora_e2_mid, w->lora_exp2_a, w->lora_exp2_b, la->offsets_h, E,
                                 He, C, w, arena));
    ops->zero(ctx, dhp, sizeof(float) * N * k * 2 * He);
    ops->swiglu_backward(ctx, dhp, dap, la->hp, N * k, He);
    ops->zero(ctx, dxp, sizeof(float) * N * k * C);
    ops->matmul_grouped_backward(ctx, dxp, g->exp_w13, dhp, la->xp, w->exp_w13, la->offsets, E, C,
                                 2 * He);
    if (w->lora_exp13_a)
        TRY(expert_lora_backward(ctx, dxp, g->lora_exp13_a, g->lora_exp13_b, dhp, la->xp,
                                 la->lora_e13_mid, w->lora_exp13_a, w->lora_exp13_b, la->offsets_h,
                                 E, C, 2 * He, w, arena));
    ops->moe_dispatch_backward(ctx, dinp, dxp, la->row_of, N, k, C);
    ops->zero(ctx, dlogits, sizeof(float) * N * E);
    ops->moe_route_backward(ctx, dlogits, dew, la->eidx, la->scores, N, rc);
    if (lay && cfg->balance_weight > 0) {
        // computed on the host from ds_lm_forward's copies, added on the context's memory
        DS_ASSERT(la->scores_h && la->eidx_h);
        float *dbal, *dbal_d;
        HOST_ALLOC(dbal, (size_t)N * E);
        ALLOC(dbal_d, (size_t)N * E);
        memset(dbal, 0, sizeof(float) * N * E);
        ds_moe_balance_loss(cfg, lay, N, la->scores_h, la->eidx_h, cfg->balance_weight, dbal);
        ops->upload(ctx, dbal_d, dbal, sizeof(float) * N * E);
        ops->axpy(ctx, dlogits, dbal_d, 1.0f, (int64_t)N * E);
    }
    ops->matmul_backward(ctx, dinp, g->router, NULL, dlogits, inp, w->router, N, C, E);
    ds_arena_rewind(arena, mark);
    return 0;
}

// ---- balancing

double ds_moe_balance_loss(const ds_model_cfg *cfg, const ds_seq_layout *lay, int N,
                           const float *scores, const int32_t *eidx, float weight, float *dlogits) {
    int E = cfg->n_experts, k = cfg->topk;
    double total = 0;
    float f[1024], gs[1024]; // E <= 1024 (config limit)
    for (int b = 0; b < lay->n_seq; b++) {
        int t0 = lay->seq_off[b], t1 = lay->seq_off[b + 1], T = t1 - t0;
        if (T <= 0) continue;
        memset(f, 0, sizeof(float) * E);
        for (int t = t0; t < t1; t++)
            for (int j = 0; j < k; j++) f[eidx[(size_t)t * k + j]] += 1.0f;
        for (int e = 0; e < E; e++) f[e] *= (float)E / ((float)k * T);
        double lb = 0;
        for (int t = t0; t < t1; t++) {
            const float *s = scores + (size_t)t * E;
            double Z = 0;
            for (int e = 0; e < E; e++) Z += s[e];
            for (int e = 0; e < E; e++) lb += f[e] * (s[e] / Z) / T;
            if (!dlogits) continue;
            // L = c * sum_i f_i s_i / Z: dL/ds_j = c (f_j / Z - sum_i f_i s_i / Z^2);
            // then through the score function (sigmoid: s (1 - s); softmax: its Jacobian).
            double c = (double)weight / lay->n_seq / T, fs = 0;
            for (int e = 0; e < E; e++) fs += f[e] * s[e];
            for (int e = 0; e < E; e++) gs[e] = (float)(c * (f[e] / Z - fs / (Z * Z)));
            float *dl = dlogits + (size_t)t * E;
            if (cfg->router_sigmoid) {
                for (int e = 0; e < E; e++) dl[e] += gs[e] * s[e] * (1.0f - s[e]);
            } else {
                double dot = 0;
                for (int e = 0; e < E; e++) dot += (double)gs[e] * s[e];
                for (int e = 0; e < E; e++) dl[e] += s[e] * (float)(gs[e] - dot);
            }
        }
        total += lb;
    }
    (void)N;
    return lay->n_seq > 0 ? weight * total / lay->n_seq : 0.0;
}

void ds_moe_bias_update(const ds_model_cfg *cfg, float *bias, const float *load) {
    int E = cfg->n_experts;
    float mean = 1.0f / E;
    for (int l = cfg->n_dense_layers; l < cfg->n_layers; l++)
        for (int e = 0; e < E; e++) {
            float d = mean - load[(size_t)l * E + e];
            bias[(size_t)l * E + e] += cfg->bias_rate * (float)((d > 0) - (d < 0));
        }
}
