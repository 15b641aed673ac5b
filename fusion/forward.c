// forward.c: one training step's forward and backward over a packed batch:
// embed (vision + fusion) -> language model -> heads, and back. The
// forward returns the losses and the expert load; the backward accumulates
// every parameter's gradient.
#include "fusion/model-impl.h"

#include "core/error.h"
#include "kernels/row-plan.h"

#include <string.h>

// The batch's sequences, with the positions in the context's memory (the RoPE op reads them).
static ds_seq_layout layout_of(const ds_batch *b, const ds_fwd *f) {
    ds_seq_layout lay = {b->n_seq, b->seq_off, b->n_prefix, f->pos};
    return lay;
}

int ds_model_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_arena *arena, ds_fwd **fwd,
                     ds_step_stats *st) {
    memset(st, 0, sizeof *st);
    if (b->N <= 0) return ds_error(DS_E_INVAL, "model: empty batch");
    ds_fwd *f;
    DS_ARENA_HOST_ALLOC(arena, f, 1); // a host struct of pointers
    memset(f, 0, sizeof *f);
    f->pos = ds_ctx_i32(ctx, arena, b->pos, b->N);
    if (!f->pos) return ds_error(DS_E_NOMEM, "model: arena full");
    int rc = ds_embed_forward(m, ctx, b, f, arena);
    ds_seq_layout lay = layout_of(b, f);
    if (!rc) rc = ds_lm_forward(ctx, &m->cfg, &m->w.lm, m->router_bias, f->x0, &lay, &f->lm, arena);
    if (!rc) rc = ds_heads_forward(m, ctx, b, f, arena, st);
    if (rc) return rc;
    st->balance = f->lm.balance_loss;
    st->loss += st->balance;
    st->load = f->lm.load;
    *fwd = f;
    return 0;
}

int ds_model_backward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_weights *grads,
                      ds_arena *arena) {
    int N = b->N, C = m->cfg.dim;
    ds_arena_mark_t mark = ds_arena_mark(arena);
    float *dh, *dx0;
    DS_ALLOC(dh, (size_t)N * C);
    DS_ALLOC(dx0, (size_t)N * C);
    ctx->ops->zero(ctx, dh, sizeof(float) * N * C);
    ctx->ops->zero(ctx, dx0, sizeof(float) * N * C);
    ds_seq_layout lay = layout_of(b, f);
    int rc = ds_heads_backward(m, ctx, b, f, grads, dh, arena);
    if (!rc) rc = ds_lm_backward(ctx, &m->cfg, &m->w.lm, &grads->lm, &lay, &f->lm, dh, dx0, arena);
    if (!rc) rc = ds_embed_backward(m, ctx, b, f, grads, dx0, arena);
    ds_arena_rewind(arena, mark);
    return rc;
}
