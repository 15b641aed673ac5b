// lm-bf16.c: bf16 copies of the language model's matrices for decoding. A
// decode step is bound by the bytes it streams (every used weight once per
// token), so reading bf16 halves its cost; the rounding (8 significant bits,
// relative error <= 2^-8) is far below what separates the model's choices.
// Made once when a model is prepared for inference; training never sees them.
// Not here: the embedding table (one row a token), the router (see lm.h), the
// heads' small matrices, quantisation below 16 bits.
#include "text/lm.h"

#include "core/error.h"
#include "core/tensor.h"

#include <stdlib.h>
#include <string.h>

// Carves n bf16 values from *at (64-byte aligned), converting src into them when the
// allocation exists (base != NULL); with base NULL it only counts.
static uint16_t *carve(uint16_t *base, size_t *at, const float *src, size_t n) {
    if (!src) return NULL;
    uint16_t *p = base ? base + *at : NULL;
    if (p)
        for (size_t i = 0; i < n; i++) p[i] = ds_f32_to_bf16(src[i]);
    *at += (n + 31) & ~(size_t)31;
    return p;
}

static void layout(const ds_model_cfg *cfg, const ds_lm_weights *w, ds_lm_bf16 *b, size_t *at) {
    size_t C = (size_t)cfg->dim, hd = (size_t)cfg->head_dim, nh = (size_t)cfg->n_heads;
    size_t qkvd = (nh + 2 * (size_t)cfg->n_kv_heads) * hd, E = (size_t)cfg->n_experts;
    size_t He = (size_t)cfg->expert_hidden, SH = (size_t)cfg->n_shared * He;
    size_t H = (size_t)cfg->dense_hidden;
    *at = 0;
    for (int l = 0; l < cfg->n_layers; l++) {
        const ds_lm_layer *L = &w->layers[l];
        ds_lm_layer_bf16 *B = &b->layers[l];
        B->qkv = carve(b->mem, at, L->qkv, qkvd * C);
        B->o = carve(b->mem, at, L->o, C * nh * hd);
        B->w13 = carve(b->mem, at, L->w13, 2 * H * C);
        B->w2 = carve(b->mem, at, L->w2, C * H);
        B->exp_w13 = carve(b->mem, at, L->exp_w13, E * 2 * He * C);
        B->exp_w2 = carve(b->mem, at, L->exp_w2, E * C * He);
        B->shared_w13 = carve(b->mem, at, SH ? L->shared_w13 : NULL, 2 * SH * C);
        B->shared_w2 = carve(b->mem, at, SH ? L->shared_w2 : NULL, C * SH);
    }
    b->head = carve(b->mem, at, w->head, (size_t)cfg->vocab * C);
}

int ds_lm_bf16_new(const ds_model_cfg *cfg, const ds_lm_weights *w, ds_lm_bf16 **out) {
    *out = NULL;
    ds_lm_bf16 *b = calloc(1, sizeof *b);
    if (!b) return ds_error(DS_E_NOMEM, "bf16 decode weights: out of memory");
    size_t n;
    layout(cfg, w, b, &n); // count
    b->bytes = n * sizeof(uint16_t);
    b->mem = aligned_alloc(64, b->bytes ? b->bytes : 64);
    if (!b->mem) {
        free(b);
        return ds_error(DS_E_NOMEM, "bf16 decode weights: cannot allocate %zu bytes", n * 2);
    }
    layout(cfg, w, b, &n); // carve and convert
    *out = b;
    return 0;
}

void ds_lm_bf16_free(ds_lm_bf16 *b) {
    if (!b) return;
    free(b->mem);
    free(b);
}

void ds_lm_linear(ds_ctx *ctx, float *out, const float *inp, const float *W, const uint16_t *wb,
                  int N, int K, int Nout) {
    if (wb)
        ctx->ops->matmul_bf16_forward(ctx, out, inp, wb, NULL, N, K, Nout);
    else
        ctx->ops->matmul_forward(ctx, out, inp, W, NULL, N, K, Nout);
}
