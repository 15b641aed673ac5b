// lm.c: layout, forward and backward of the MoE language model's layer stack
// (attention half here, feed-forward half in moe.c). Attention runs once per
// packed sequence with that sequence's mask: the prefix (task, image and
// document tokens) bidirectional, the answer causal, all within the window.
#include "text/lm.h"

#include "core/error.h"
#include "kernels/glue.h"

#include <string.h>

#define ALLOC(ptr, n)      DS_ARENA_ALLOC(arena, ptr, n)
#define HOST_ALLOC(ptr, n) DS_ARENA_HOST_ALLOC(arena, ptr, n)

void ds_lm_layout(const ds_model_cfg *cfg, ds_lm_weights *w, ds_carver *c) {
    int C = cfg->dim, V = cfg->vocab, hd = cfg->head_dim;
    int qkv = (cfg->n_heads + 2 * cfg->n_kv_heads) * hd;
    int E = cfg->n_experts, He = cfg->expert_hidden, SH = cfg->n_shared * He;
    w->tok_emb = ds_carve(c, 2, V, C, 0, "lm.tok_emb");
    for (int l = 0; l < cfg->n_layers; l++) {
        ds_lm_layer *L = &w->layers[l];
        memset(L, 0, sizeof *L);
        L->attn_norm = ds_carve(c, 1, C, 0, 0, "lm.layers.%d.attn_norm.weight", l);
        L->qkv = ds_carve(c, 2, qkv, C, 0, "lm.layers.%d.qkv.weight", l);
        L->o = ds_carve(c, 2, C, cfg->n_heads * hd, 0, "lm.layers.%d.o.weight", l);
        L->ffn_norm = ds_carve(c, 1, C, 0, 0, "lm.layers.%d.ffn_norm.weight", l);
        if (!ds_lm_is_moe(cfg, l)) {
            int H = cfg->dense_hidden;
            L->w13 = ds_carve(c, 2, 2 * H, C, 0, "lm.layers.%d.ffn.w13.weight", l);
            L->w2 = ds_carve(c, 2, C, H, 0, "lm.layers.%d.ffn.w2.weight", l);
            continue;
        }
        L->router = ds_carve(c, 2, E, C, 0, "lm.layers.%d.moe.router.weight", l);
        L->exp_w13 = ds_carve(c, 3, E, 2 * He, C, "lm.layers.%d.moe.experts.w13.weight", l);
        L->exp_w2 = ds_carve(c, 3, E, C, He, "lm.layers.%d.moe.experts.w2.weight", l);
        if (SH > 0) {
            L->shared_w13 = ds_carve(c, 2, 2 * SH, C, 0, "lm.layers.%d.moe.shared.w13.weight", l);
            L->shared_w2 = ds_carve(c, 2, C, SH, 0, "lm.layers.%d.moe.shared.w2.weight", l);
        }
    }
    w->norm = ds_carve(c, 1, C, 0, 0, "lm.norm.weight");
    w->head = ds_carve(c, 2, V, C, 0, "lm.head.weight");
}

void ds_lora_forward(ds_ctx *ctx, float *out, float *mid, float *tmp, const float *inp,
                     const float *A, const float *B, int N, int K, int Nout, int r, float scale) {
    const ds_ops *ops = ctx->ops;
    ops->matmul_forward(ctx, mid, inp, A, NULL, N, K, r);
    ops->matmul_forward(ctx, tmp, mid, B, NULL, N, r, Nout);
    ops->axpy(ctx, out, tmp, scale, (int64_t)N * Nout);
}

void ds_lora_backward(ds_ctx *ctx, float *dinp, float *dA, float *dB, float *dmid, float *dtmp,
                      const float *dout, const float *inp, const float *mid, const float *A,
                      const float *B, int N, int K, int Nout, int r, float scale) {
    const ds_ops *ops = ctx->ops;
    ops->zero(ctx, dtmp, sizeof(float) * N * Nout);
    ops->axpy(ctx, dtmp, dout, scale, (int64_t)N * Nout);
    ops->zero(ctx, dmid, sizeof(float) * N * r);
    ops->matmul_backward(ctx, dmid, dB, NULL, dtmp, mid, B, N, r, Nout);
    ops->matmul_backward(ctx, dinp, dA, NULL, dmid, inp, A, N, K, r);
}

static ds_attn_mask seq_mask(const ds_model_cfg *cfg, const ds_seq_layout *lay, int b) {
    ds_attn_mask m = {1, lay->n_prefix[b], cfg->window};
    return m;
}

// Layer l of a's forward over its input x (N, C) into x_out (N, C): its activations into
// la (from the arena), qkv (N, qkvd) scratch. stats: the forward's acts, which get the
// layer's expert load and balance loss; NULL when the backward recomputes the layer.
static int layer_forward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_weights *w,
                         const ds_seq_layout *lay, const ds_lm_acts *a, int l, float *x, float *qkv,
                         float *x_out, ds_lm_layer_acts *la, ds_lm_acts *stats, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    int N = a->N, C = cfg->dim, nh = cfg->n_heads, nkv = cfg->n_kv_heads;
    int hd = cfg->head_dim, E = cfg->n_experts, qkvd = (nh + 2 * nkv) * hd;
    int64_t att_n = 0;
    for (int b = 0; b < lay->n_seq; b++) {
        int64_t T = lay->seq_off[b + 1] - lay->seq_off[b];
        att_n += (int64_t)nh * T * T;
    }
    const ds_lm_layer *L = &w->layers[l];
    memset(la, 0, sizeof *la);
    la->x = x;
    ALLOC(la->ln1, (size_t)N * C);
    ALLOC(la->rstd1, N);
    ALLOC(la->q, (size_t)N * nh * hd);
    ALLOC(la->k, (size_t)N * nkv * hd);
    ALLOC(la->v, (size_t)N * nkv * hd);
    ALLOC(la->att, att_n);
    ALLOC(la->ao, (size_t)N * nh * hd);
    ALLOC(la->x2, (size_t)N * C);
    ALLOC(la->ln2, (size_t)N * C);
    ALLOC(la->rstd2, N);
    ops->rmsnorm_forward(ctx, la->ln1, la->rstd1, x, L->attn_norm, N, C, cfg->norm_eps);
    ops->matmul_forward(ctx, qkv, la->ln1, L->qkv, NULL, N, C, qkvd);
    int r = w->lora_rank;
    float *ltmp = NULL;
    if (L->lora_qkv_a || L->lora_o_a) ALLOC(ltmp, (size_t)N * (qkvd > C ? qkvd : C));
    if (L->lora_qkv_a) {
        ALLOC(la->lora_qkv_mid, (size_t)N * r);
        ds_lora_forward(ctx, qkv, la->lora_qkv_mid, ltmp, la->ln1, L->lora_qkv_a, L->lora_qkv_b, N,
                        C, qkvd, r, w->lora_scale);
    }
    ds_qkv_split(ctx, la->q, la->k, la->v, qkv, N, nh, nkv, hd);
    ops->rope_forward(ctx, la->q, la->q, lay->pos, N, nh, hd, cfg->rope_theta);
    ops->rope_forward(ctx, la->k, la->k, lay->pos, N, nkv, hd, cfg->rope_theta);
    for (int b = 0; b < lay->n_seq; b++) {
        int t0 = lay->seq_off[b], T = lay->seq_off[b + 1] - t0;
        if (T <= 0) continue;
        ops->attention_forward(ctx, la->ao + (size_t)t0 * nh * hd, la->att + a->att_off[b],
                               la->q + (size_t)t0 * nh * hd, la->k + (size_t)t0 * nkv * hd,
                               la->v + (size_t)t0 * nkv * hd, 1, T, nh, nkv, hd,
                               seq_mask(cfg, lay, b));
    }
    ops->matmul_forward(ctx, la->x2, la->ao, L->o, NULL, N, nh * hd, C);
    if (L->lora_o_a) {
        ALLOC(la->lora_o_mid, (size_t)N * r);
        ds_lora_forward(ctx, la->x2, la->lora_o_mid, ltmp, la->ao, L->lora_o_a, L->lora_o_b, N,
                        nh * hd, C, r, w->lora_scale);
    }
    ops->add(ctx, la->x2, la->x2, x, (int64_t)N * C);
    ops->rmsnorm_forward(ctx, la->ln2, la->rstd2, la->x2, L->ffn_norm, N, C, cfg->norm_eps);
    const float *lb = a->bias ? a->bias + (size_t)l * E : NULL;
    int rc = ds_lm_ffn_forward(ctx, cfg, L, l, lb, la->ln2, x_out, N, la, arena);
    if (rc) return rc;
    ops->add(ctx, x_out, x_out, la->x2, (int64_t)N * C);
    if (ds_lm_is_moe(cfg, l) && (stats || cfg->balance_weight > 0)) {
        for (int e = 0; stats && e < E; e++)
            stats->load[(size_t)l * E + e] =
                (float)(la->offsets_h[e + 1] - la->offsets_h[e]) / ((float)N * cfg->topk);
        if (cfg->balance_weight > 0) { // on the host, from copies the backward reuses
            int k = cfg->topk;
            HOST_ALLOC(la->scores_h, (size_t)N * E);
            HOST_ALLOC(la->eidx_h, (size_t)N * k);
            ops->download(ctx, la->scores_h, la->scores, sizeof(float) * N * E);
            ops->download(ctx, la->eidx_h, la->eidx, sizeof(int32_t) * N * k);
            if (stats)
                stats->balance_loss += ds_moe_balance_loss(cfg, lay, N, la->scores_h, la->eidx_h,
                                                           cfg->balance_weight, NULL);
        }
    }
    return 0;
}

int ds_lm_forward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_weights *w, const float *bias,
                  const float *x0, const ds_seq_layout *lay, ds_lm_acts *a, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    int N = lay->seq_off[lay->n_seq], C = cfg->dim, nh = cfg->n_heads, nkv = cfg->n_kv_heads;
    int hd = cfg->head_dim, E = cfg->n_experts, qkvd = (nh + 2 * nkv) * hd;
    memset(a, 0, sizeof *a);
    a->N = N;
    a->recompute = w->recompute;
    a->bias = bias;
    HOST_ALLOC(a->att_off, lay->n_seq + 1);
    int64_t att_n = 0;
    for (int b = 0; b < lay->n_seq; b++) {
        int64_t T = lay->seq_off[b + 1] - lay->seq_off[b];
        a->att_off[b] = att_n;
        att_n += (int64_t)nh * T * T;
    }
    HOST_ALLOC(a->load, (size_t)cfg->n_layers * E);
    memset(a->load, 0, sizeof(float) * cfg->n_layers * E);
    float *x, *qkv;
    ALLOC(x, (size_t)N * C);
    ops->copy_2d(ctx, x, C, x0, C, N, C);
    ALLOC(qkv, (size_t)N * qkvd);
    for (int l = 0; l < cfg->n_layers; l++) {
        float *xn;
        ALLOC(xn, (size_t)N * C);
        ds_arena_mark_t mark = ds_arena_mark(arena);
        int rc = layer_forward(ctx, cfg, w, lay, a, l, x, qkv, xn, &a->l[l], a, arena);
        if (rc) return rc;
        if (a->recompute) { // the backward makes the rest again
            a->l[l] = (ds_lm_layer_acts){.x = x};
            ds_arena_rewind(arena, mark);
        }
        x = xn;
    }
    a->xf = x;
    ALLOC(a->out, (size_t)N * C);
    ALLOC(a->rstdf, N);
    ops->rmsnorm_forward(ctx, a->out, a->rstdf, x, w->norm, N, C, cfg->norm_eps);
    return 0;
}

int ds_lm_backward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_weights *w, ds_lm_weights *g,
                   const ds_seq_layout *lay, const ds_lm_acts *a, const float *dout, float *dx0,
                   ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    int N = a->N, C = cfg->dim, nh = cfg->n_heads, nkv = cfg->n_kv_heads, hd = cfg->head_dim;
    int qd = nh * hd, kd = nkv * hd, qkvd = qd + 2 * kd;
    ds_arena_mark_t mark = ds_arena_mark(arena);
    float *dx, *dln, *dao, *dq, *dk, *dv, *dq0, *dk0, *dqkv;
    ALLOC(dx, (size_t)N * C);
    ALLOC(dln, (size_t)N * C);
    ALLOC(dao, (size_t)N * qd);
    ALLOC(dq, (size_t)N * qd);
    ALLOC(dk, (size_t)N * kd);
    ALLOC(dv, (size_t)N * kd);
    ALLOC(dq0, (size_t)N * qd);
    ALLOC(dk0, (size_t)N * kd);
    ALLOC(dqkv, (size_t)N * qkvd);
    float *lmid = NULL, *ltmp = NULL; // LoRA scratch
    if (w->lora_rank > 0) {
        ALLOC(lmid, (size_t)N * w->lora_rank);
        ALLOC(ltmp, (size_t)N * (qkvd > C ? qkvd : C));
    }
    ops->zero(ctx, dx, sizeof(float) * N * C);
    ops->rmsnorm_backward(ctx, dx, g->norm, dout, a->xf, w->norm, a->rstdf, N, C);
    for (int l = cfg->n_layers - 1; l >= 0; l--) {
        const ds_lm_layer *L = &w->layers[l];
        ds_lm_layer *G = &g->layers[l];
        const ds_lm_layer_acts *la = &a->l[l];
        ds_arena_mark_t layer_mark = ds_arena_mark(arena);
        ds_lm_layer_acts again;
        if (a->recompute) { // the layer's forward once more, from its saved input
            float *qkv, *xo;
            ALLOC(qkv, (size_t)N * qkvd);
            ALLOC(xo, (size_t)N * C);
            int rc = layer_forward(ctx, cfg, w, lay, a, l, la->x, qkv, xo, &again, NULL, arena);
            if (rc) return rc;
            la = &again;
        }
        // x_next = x2 + ffn(norm(x2)): dx reaches x2 directly and through the FFN.
        ops->zero(ctx, dln, sizeof(float) * N * C);
        int rc = ds_lm_ffn_backward(ctx, cfg, L, G, l, la->ln2, dx, dln, N, la, lay, arena);
        if (rc) return rc;
        ops->rmsnorm_backward(ctx, dx, G->ffn_norm, dln, la->x2, L->ffn_norm, la->rstd2, N, C);
        // x2 = x + o(attention(norm(x))).
        ops->zero(ctx, dao, sizeof(float) * N * qd);
        ops->matmul_backward(ctx, dao, G->o, NULL, dx, la->ao, L->o, N, qd, C);
        int r = w->lora_rank;
        if (L->lora_o_a)
            ds_lora_backward(ctx, dao, G->lora_o_a, G->lora_o_b, lmid, ltmp, dx, la->ao,
                             la->lora_o_mid, L->lora_o_a, L->lora_o_b, N, qd, C, r, w->lora_scale);
        ops->zero(ctx, dq, sizeof(float) * N * qd);
        ops->zero(ctx, dk, sizeof(float) * N * kd);
        ops->zero(ctx, dv, sizeof(float) * N * kd);
        for (int b = 0; b < lay->n_seq; b++) {
            int t0 = lay->seq_off[b], T = lay->seq_off[b + 1] - t0;
            if (T <= 0) continue;
            ops->attention_backward(ctx, dq + (size_t)t0 * qd, dk + (size_t)t0 * kd,
                                    dv + (size_t)t0 * kd, dao + (size_t)t0 * qd,
                                    la->att + a->att_off[b], la->q + (size_t)t0 * qd,
                                    la->k + (size_t)t0 * kd, la->v + (size_t)t0 * kd, 1, T, nh, nkv,
                                    hd, seq_mask(cfg, lay, b));
        }
        ops->zero(ctx, dq0, sizeof(float) * N * qd);
        ops->zero(ctx, dk0, sizeof(float) * N * kd);
        ops->rope_backward(ctx, dq0, dq, lay->pos, N, nh, hd, cfg->rope_theta);
        ops->rope_backward(ctx, dk0, dk, lay->pos, N, nkv, hd, cfg->rope_theta);
        ds_qkv_merge(ctx, dqkv, dq0, dk0, dv, N, nh, nkv, hd);
        ops->zero(ctx, dln, sizeof(float) * N * C);
        ops->matmul_backward(ctx, dln, G->qkv, NULL, dqkv, la->ln1, L->qkv, N, C, qkvd);
        if (L->lora_qkv_a)
            ds_lora_backward(ctx, dln, G->lora_qkv_a, G->lora_qkv_b, lmid, ltmp, dqkv, la->ln1,
                             la->lora_qkv_mid, L->lora_qkv_a, L->lora_qkv_b, N, C, qkvd, r,
                             w->lora_scale);
        ops->rmsnorm_backward(ctx, dx, G->attn_norm, dln, la->x, L->attn_norm, la->rstd1, N, C);
        ds_arena_rewind(arena, layer_mark);
    }
    ops->axpy(ctx, dx0, dx, 1.0f, (int64_t)N * C);
    ds_arena_rewind(arena, mark);
    return 0;
}
