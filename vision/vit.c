// vit.c: forward and backward of the ViT encoder, llm.c style: one function
// each, the backward walking the forward's saved activations in reverse.
// The patch embedding is im2col + one GEMM (a convolution with stride equal
// to its kernel has no overlap, so im2col is a pure reshape).
#include "vision/vit.h"

#include "core/error.h"
#include "kernels/glue.h"

#include <string.h>

void ds_vit_layout(const ds_model_cfg *cfg, ds_vit_weights *w, ds_carver *c) {
    int D = cfg->vit_dim, M = cfg->vit_mlp, p = cfg->patch, G = ds_cfg_grid(cfg);
    w->patch_w = ds_carve(c, 2, D, 3 * p * p, 0, "vision.patch.weight");
    w->patch_b = ds_carve(c, 1, D, 0, 0, "vision.patch.bias");
    w->pos = ds_carve(c, 2, G * G, D, 0, "vision.pos");
    for (int l = 0; l < cfg->vit_layers; l++) {
        ds_vit_block *b = &w->blocks[l];
        b->ln1_w = ds_carve(c, 1, D, 0, 0, "vision.blocks.%d.ln1.weight", l);
        b->ln1_b = ds_carve(c, 1, D, 0, 0, "vision.blocks.%d.ln1.bias", l);
        b->qkv_w = ds_carve(c, 2, 3 * D, D, 0, "vision.blocks.%d.qkv.weight", l);
        b->qkv_b = ds_carve(c, 1, 3 * D, 0, 0, "vision.blocks.%d.qkv.bias", l);
        b->proj_w = ds_carve(c, 2, D, D, 0, "vision.blocks.%d.proj.weight", l);
        b->proj_b = ds_carve(c, 1, D, 0, 0, "vision.blocks.%d.proj.bias", l);
        b->ln2_w = ds_carve(c, 1, D, 0, 0, "vision.blocks.%d.ln2.weight", l);
        b->ln2_b = ds_carve(c, 1, D, 0, 0, "vision.blocks.%d.ln2.bias", l);
        b->fc1_w = ds_carve(c, 2, M, D, 0, "vision.blocks.%d.fc1.weight", l);
        b->fc1_b = ds_carve(c, 1, M, 0, 0, "vision.blocks.%d.fc1.bias", l);
        b->fc2_w = ds_carve(c, 2, D, M, 0, "vision.blocks.%d.fc2.weight", l);
        b->fc2_b = ds_carve(c, 1, D, 0, 0, "vision.blocks.%d.fc2.bias", l);
    }
    w->lnf_w = ds_carve(c, 1, D, 0, 0, "vision.lnf.weight");
    w->lnf_b = ds_carve(c, 1, D, 0, 0, "vision.lnf.bias");
}

// pixels (P, 3, S, S) -> patches (P*G*G, 3*p*p), columns ordered (channel, py, px)
// like the weight of a PyTorch Conv2d flattened.
static void im2col(float *patches, const float *pixels, int P, int S, int p) {
    int G = S / p, K = 3 * p * p;
    for (int i = 0; i < P; i++)
        for (int gy = 0; gy < G; gy++)
            for (int gx = 0; gx < G; gx++) {
                float *row = patches + ((size_t)(i * G + gy) * G + gx) * K;
                for (int c = 0; c < 3; c++)
                    for (int py = 0; py < p; py++)
                        memcpy(row + (c * p + py) * p,
                               pixels + (((size_t)i * 3 + c) * S + gy * p + py) * S + gx * p,
                               sizeof(float) * p);
            }
}

#define ALLOC(ptr, n) DS_ARENA_ALLOC(arena, ptr, n)

int ds_vit_forward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_vit_weights *w,
                   const float *pixels, int P, ds_vit_acts *a, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    int D = cfg->vit_dim, M = cfg->vit_mlp, p = cfg->patch, S = cfg->img_size;
    int G = S / p, T = G * G, N = P * T, H = cfg->vit_heads, hd = D / H, K = 3 * p * p;
    float eps = 1e-6f;
    memset(a, 0, sizeof *a);
    a->P = P;
    a->T = T;
    ALLOC(a->patches, (size_t)N * K);
    if (ds_arena_in_host_memory(arena)) { // in place
        im2col(a->patches, pixels, P, S, p);
    } else { // on the host, then up: a reshape of the input, like tokenising
        float *host;
        DS_ARENA_HOST_ALLOC(arena, host, (size_t)N * K);
        im2col(host, pixels, P, S, p);
        ops->upload(ctx, a->patches, host, sizeof(float) * N * K);
    }
    float *x;
    ALLOC(x, (size_t)N * D);
    ops->matmul_forward(ctx, x, a->patches, w->patch_w, w->patch_b, N, K, D);
    for (int i = 0; i < P; i++)
        ops->add(ctx, x + (size_t)i * T * D, x + (size_t)i * T * D, w->pos, (int64_t)T * D);
    float *qkv;
    ALLOC(qkv, (size_t)N * 3 * D);
    ds_attn_mask full = {0, 0, 0};
    for (int l = 0; l < cfg->vit_layers; l++) {
        const ds_vit_block *b = &w->blocks[l];
        a->l[l].x = x;
        ALLOC(a->l[l].ln1, (size_t)N * D);
        ALLOC(a->l[l].mean1, N);
        ALLOC(a->l[l].rstd1, N);
        ALLOC(a->l[l].q, (size_t)N * D);
        ALLOC(a->l[l].k, (size_t)N * D);
        ALLOC(a->l[l].v, (size_t)N * D);
        ALLOC(a->l[l].att, (size_t)P * H * T * T);
        ALLOC(a->l[l].ao, (size_t)N * D);
        ALLOC(a->l[l].x2, (size_t)N * D);
        ALLOC(a->l[l].ln2, (size_t)N * D);
        ALLOC(a->l[l].mean2, N);
        ALLOC(a->l[l].rstd2, N);
        ALLOC(a->l[l].f1, (size_t)N * M);
        ALLOC(a->l[l].g, (size_t)N * M);
        ops->layernorm_forward(ctx, a->l[l].ln1, a->l[l].mean1, a->l[l].rstd1, x, b->ln1_w,
                               b->ln1_b, N, D, eps);
        ops->matmul_forward(ctx, qkv, a->l[l].ln1, b->qkv_w, b->qkv_b, N, D, 3 * D);
        ds_qkv_split(ctx, a->l[l].q, a->l[l].k, a->l[l].v, qkv, N, H, H, hd);
        ops->attention_forward(ctx, a->l[l].ao, a->l[l].att, a->l[l].q, a->l[l].k, a->l[l].v, P, T,
                               H, H, hd, full);
        float *x2 = a->l[l].x2;
        ops->matmul_forward(ctx, x2, a->l[l].ao, b->proj_w, b->proj_b, N, D, D);
        ops->add(ctx, x2, x2, x, (int64_t)N * D);
        ops->layernorm_forward(ctx, a->l[l].ln2, a->l[l].mean2, a->l[l].rstd2, x2, b->ln2_w,
                               b->ln2_b, N, D, eps);
        ops->matmul_forward(ctx, a->l[l].f1, a->l[l].ln2, b->fc1_w, b->fc1_b, N, D, M);
        ops->gelu_forward(ctx, a->l[l].g, a->l[l].f1, (int64_t)N * M);
        float *xn;
        ALLOC(xn, (size_t)N * D);
        ops->matmul_forward(ctx, xn, a->l[l].g, b->fc2_w, b->fc2_b, N, M, D);
        ops->add(ctx, xn, xn, x2, (int64_t)N * D);
        x = xn;
    }
    a->xf = x;
    ALLOC(a->out, (size_t)N * D);
    ALLOC(a->meanf, N);
    ALLOC(a->rstdf, N);
    ops->layernorm_forward(ctx, a->out, a->meanf, a->rstdf, x, w->lnf_w, w->lnf_b, N, D, eps);
    return 0;
}

int ds_vit_backward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_vit_weights *w,
                    ds_vit_weights *g, const ds_vit_acts *a, float *dout, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    int D = cfg->vit_dim, M = cfg->vit_mlp, p = cfg->patch;
    int P = a->P, T = a->T, N = P * T, H = cfg->vit_heads, hd = D / H, K = 3 * p * p;
    ds_arena_mark_t mark = ds_arena_mark(arena);
    float *dx, *dln, *dqkv, *dq, *dk, *dv, *dao, *df1, *dg;
    ALLOC(dx, (size_t)N * D);
    ALLOC(dln, (size_t)N * D);
    ALLOC(dqkv, (size_t)N * 3 * D);
    ALLOC(dq, (size_t)N * D);
    ALLOC(dk, (size_t)N * D);
    ALLOC(dv, (size_t)N * D);
    ALLOC(dao, (size_t)N * D);
    ALLOC(df1, (size_t)N * M);
    ALLOC(dg, (size_t)N * M);
    ds_attn_mask full = {0, 0, 0};
    ops->zero(ctx, dx, sizeof(float) * N * D);
    ops->layernorm_backward(ctx, dx, g->lnf_w, g->lnf_b, dout, a->xf, w->lnf_w, a->meanf, a->rstdf,
                            N, D);
    for (int l = cfg->vit_layers - 1; l >= 0; l--) {
        const ds_vit_block *b = &w->blocks[l];
        ds_vit_block *gb = &g->blocks[l];
        // dx is the gradient of this block's output = x2 + mlp(x2): it flows to x2 as is.
        ops->zero(ctx, dg, sizeof(float) * N * M);
        ops->matmul_backward(ctx, dg, gb->fc2_w, gb->fc2_b, dx, a->l[l].g, b->fc2_w, N, M, D);
        ops->zero(ctx, df1, sizeof(float) * N * M);
        ops->gelu_backward(ctx, df1, dg, a->l[l].f1, (int64_t)N * M);
        ops->zero(ctx, dln, sizeof(float) * N * D);
        ops->matmul_backward(ctx, dln, gb->fc1_w, gb->fc1_b, df1, a->l[l].ln2, b->fc1_w, N, D, M);
        ops->layernorm_backward(ctx, dx, gb->ln2_w, gb->ln2_b, dln, a->l[l].x2, b->ln2_w,
                                a->l[l].mean2, a->l[l].rstd2, N, D);
        // now dx is the gradient of x2 = x + proj(ao): flows to x as is.
        ops->zero(ctx, dao, sizeof(float) * N * D);
        ops->matmul_backward(ctx, dao, gb->proj_w, gb->proj_b, dx, a->l[l].ao, b->proj_w, N, D, D);
        ops->zero(ctx, dq, sizeof(float) * N * D);
        ops->zero(ctx, dk, sizeof(float) * N * D);
        ops->zero(ctx, dv, sizeof(float) * N * D);
        ops->attention_backward(ctx, dq, dk, dv, dao, a->l[l].att, a->l[l].q, a->l[l].k, a->l[l].v,
                                P, T, H, H, hd, full);
        ds_qkv_merge(ctx, dqkv, dq, dk, dv, N, H, H, hd);
        ops->zero(ctx, dln, sizeof(float) * N * D);
        ops->matmul_backward(ctx, dln, gb->qkv_w, gb->qkv_b, dqkv, a->l[l].ln1, b->qkv_w, N, D,
                             3 * D);
        ops->layernorm_backward(ctx, dx, gb->ln1_w, gb->ln1_b, dln, a->l[l].x, b->ln1_w,
                                a->l[l].mean1, a->l[l].rstd1, N, D);
    }
    for (int i = 0; i < P; i++)
        ops->axpy(ctx, g->pos, dx + (size_t)i * T * D, 1.0f, (int64_t)T * D);
    // The patches' gradient is not needed (pixels are input), only the weights'.
    ops->matmul_backward(ctx, NULL, g->patch_w, g->patch_b, dx, a->patches, w->patch_w, N, K, D);
    ds_arena_rewind(arena, mark);
    return 0;
}
