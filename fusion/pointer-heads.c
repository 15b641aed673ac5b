// pointer-heads.c: the word-span pointers (copy path a): the query of each
// pointing position (a start or an end pointer) is scored against the keys of
// its sequence's document words (scaled dot products; an end pointer may not
// point before its start word), a softmax over those words, cross-entropy
// against the gold word. Per sequence one GEMM of its queries by its words' keys
// and the cross-entropy op, so the heads run on either backend; the host lays
// out rows, targets and masks from the batch, as it knows them.
#include "fusion/model-impl.h"

#include "core/error.h"
#include "kernels/row-plan.h"

#include <math.h>
#include <string.h>

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_) return rc_;                                                                       \
    } while (0)
#define HOST_ALLOC(ptr, n) DS_ARENA_HOST_ALLOC(arena, ptr, n)

// The pointing rows of sequence s are [r[s], r[s + 1]) (rows are in token order).
static void seq_rows(const ds_batch *b, const ds_fwd *f, int32_t *r) {
    int i = 0;
    for (int s = 0; s < b->n_seq; s++) {
        r[s] = i;
        while (i < f->Mp && f->prow[i] < b->seq_off[s + 1]) i++;
    }
    r[b->n_seq] = i;
}

// Row i of the queries is row i of qs (start pointers) or of qe (end pointers): plans that
// move those rows (and, the same rows, their gradients back).
static int query_plans(ds_ctx *ctx, const ds_batch *b, const ds_fwd *f, ds_arena *arena,
                       ds_row_plan *start, ds_row_plan *end) {
    int32_t *rs, *re;
    HOST_ALLOC(rs, f->Mp);
    HOST_ALLOC(re, f->Mp);
    int ns = 0, ne = 0;
    for (int i = 0; i < f->Mp; i++) {
        if (b->ptr_kind[f->prow[i]] == 1)
            rs[ns++] = i;
        else
            re[ne++] = i;
    }
    TRY(ds_row_plan_build(ctx, arena, rs, rs, NULL, ns, f->Mp, start));
    return ds_row_plan_build(ctx, arena, re, re, NULL, ne, f->Mp, end);
}

int ds_pointer_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, float norm_ans,
                       ds_arena *arena, double *sum_ptr, int *ptr_ok) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_weights *w = &m->w;
    int N = b->N, C = cfg->dim, W = b->n_words, Mp = 0;
    float isq = 1.0f / sqrtf((float)C);
    *sum_ptr = 0;
    *ptr_ok = 0;
    for (int t = 0; t < N; t++) Mp += b->ptr_kind[t] > 0;
    f->Mp = cfg->copy_pointer && W > 0 ? Mp : 0;
    if (f->Mp == 0) return 0;
    int32_t *tgt, *r;
    HOST_ALLOC(f->prow, Mp);
    HOST_ALLOC(f->pp_off, Mp + 1);
    HOST_ALLOC(f->pw, Mp);
    HOST_ALLOC(tgt, Mp);
    HOST_ALLOC(r, b->n_seq + 1);
    int64_t pn = 0;
    for (int t = 0, i = 0; t < N; t++) {
        if (b->ptr_kind[t] <= 0) continue;
        int s = 0;
        while (b->seq_off[s + 1] <= t) s++;
        f->prow[i] = t;
        f->pp_off[i] = pn;
        pn += b->word_off[s + 1] - b->word_off[s];
        tgt[i] = b->ptr_target[t];
        f->pw[i] = tgt[i] >= 0 ? norm_ans : 0.0f;
        i++;
    }
    f->pp_off[Mp] = pn;
    if (pn > INT32_MAX) // the gold words' probabilities are fetched by int32 index
        return ds_error(DS_E_TOO_LARGE, "pointer heads: %lld scores in one batch", (long long)pn);
    seq_rows(b, f, r);
    const float *H = f->lm.out;
    ds_row_plan plan, start, end;
    DS_ALLOC(f->hp, (size_t)Mp * C);
    DS_ALLOC(f->hw, (size_t)W * C);
    TRY(ds_row_plan_gather(ctx, arena, f->prow, Mp, N, 0, &plan));
    ops->zero(ctx, f->hp, sizeof(float) * Mp * C);
    ds_row_plan_apply(ctx, &plan, f->hp, H, C);
    TRY(ds_row_plan_gather(ctx, arena, b->word_tok, W, N, 0, &plan));
    ops->zero(ctx, f->hw, sizeof(float) * W * C);
    ds_row_plan_apply(ctx, &plan, f->hw, H, C);
    DS_ALLOC(f->qs, (size_t)Mp * C);
    DS_ALLOC(f->qe, (size_t)Mp * C);
    DS_ALLOC(f->kw, (size_t)W * C);
    DS_ALLOC(f->q, (size_t)Mp * C);
    ops->matmul_forward(ctx, f->qs, f->hp, w->hd.ptr_q_start, NULL, Mp, C, C);
    ops->matmul_forward(ctx, f->qe, f->hp, w->hd.ptr_q_end, NULL, Mp, C, C);
    ops->matmul_forward(ctx, f->kw, f->hw, w->hd.ptr_k, NULL, W, C, C);
    TRY(query_plans(ctx, b, f, arena, &start, &end));
    ops->zero(ctx, f->q, sizeof(float) * Mp * C);
    ds_row_plan_apply(ctx, &start, f->q, f->qs, C);
    ds_row_plan_apply(ctx, &end, f->q, f->qe, C);
    // scores: q . k / sqrt(C), and -1e30 (probability 0) before an end pointer's start
    float *raw, *sc, *mask_h, *mask, *losses; // losses: the op's, in float (unused: see below)
    int32_t *amax;
    DS_ALLOC(raw, pn);
    DS_ALLOC(sc, pn);
    DS_ALLOC(mask, pn);
    DS_ALLOC(f->pp, pn);
    DS_ALLOC(losses, Mp);
    DS_ALLOC(amax, Mp);
    HOST_ALLOC(mask_h, pn);
    for (int i = 0; i < Mp; i++) {
        int t = f->prow[i], lo = b->ptr_kind[t] == 2 ? b->ptr_min[t] : 0;
        int nw = (int)(f->pp_off[i + 1] - f->pp_off[i]);
        for (int j = 0; j < nw; j++) mask_h[f->pp_off[i] + j] = j < lo ? -1e30f : 0.0f;
    }
    ops->upload(ctx, mask, mask_h, sizeof(float) * pn);
    f->ptgt = (int32_t *)ds_ctx_i32(ctx, arena, tgt, Mp);
    if (!f->ptgt) return ds_error(DS_E_NOMEM, "pointer heads: arena full");
    ops->zero(ctx, losses, sizeof(float) * Mp);
    for (int s = 0; s < b->n_seq; s++) {
        int r0 = r[s], n = r[s + 1] - r0, w0 = b->word_off[s], nw = b->word_off[s + 1] - w0;
        if (n > 0 && nw > 0)
            ops->matmul_forward(ctx, raw + f->pp_off[r0], f->q + (size_t)r0 * C,
                                f->kw + (size_t)w0 * C, NULL, n, C, nw);
    }
    ops->zero(ctx, sc, sizeof(float) * pn);
    ops->axpy(ctx, sc, raw, isq, pn);
    ops->axpy(ctx, sc, mask, 1.0f, pn);
    for (int s = 0; s < b->n_seq; s++) {
        int r0 = r[s], n = r[s + 1] - r0, nw = b->word_off[s + 1] - b->word_off[s];
        if (n == 0 || nw == 0) continue;
        int64_t o = f->pp_off[r0];
        ops->crossentropy_forward(ctx, losses + r0, f->pp + o, sc + o, f->ptgt + r0, n, nw);
        ops->argmax_rows(ctx, amax + r0, f->pp + o, n, nw);
    }
    // The loss as -log p of the gold word, taken in double from the op's probability: the
    // op's own float losses (about 8 at the start, so steps of 1e-6) blur the finite
    // differences of model_grad_check past its tolerance. (The probabilities are the
    // cross-entropy op's softmax, summed in float; the host heads' summed in double.)
    float *p_h;
    int32_t *at, *amax_h;
    HOST_ALLOC(p_h, Mp);
    HOST_ALLOC(at, Mp);
    HOST_ALLOC(amax_h, Mp);
    for (int i = 0; i < Mp; i++) at[i] = (int32_t)(f->pp_off[i] + (tgt[i] > 0 ? tgt[i] : 0));
    TRY(ds_gather_values(ctx, arena, f->pp, at, Mp, p_h));
    ops->download(ctx, amax_h, amax, sizeof(int32_t) * Mp);
    for (int i = 0; i < Mp; i++) {
        if (tgt[i] < 0 || f->pp_off[i + 1] == f->pp_off[i]) continue;
        *sum_ptr += -log(p_h[i] > 1e-30f ? p_h[i] : 1e-30f);
        *ptr_ok += amax_h[i] == tgt[i];
    }
    return 0;
}

int ds_pointer_backward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_weights *g,
                        float *dh, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_weights *w = &m->w;
    int Mp = f->Mp, W = b->n_words, N = b->N, C = cfg->dim;
    if (Mp == 0) return 0;
    float isq = 1.0f / sqrtf((float)C);
    ds_arena_mark_t mark = ds_arena_mark(arena);
    int64_t pn = f->pp_off[Mp];
    int32_t *r;
    HOST_ALLOC(r, b->n_seq + 1);
    seq_rows(b, f, r);
    float *dl, *dsc, *dscs, *dq, *dkw, *dqs, *dqe, *dhp, *dhw;
    DS_ALLOC(dl, Mp);
    DS_ALLOC(dsc, pn);
    DS_ALLOC(dscs, pn);
    DS_ALLOC(dq, (size_t)Mp * C);
    DS_ALLOC(dkw, (size_t)W * C);
    DS_ALLOC(dqs, (size_t)Mp * C);
    DS_ALLOC(dqe, (size_t)Mp * C);
    DS_ALLOC(dhp, (size_t)Mp * C);
    DS_ALLOC(dhw, (size_t)W * C);
    ops->upload(ctx, dl, f->pw, sizeof(float) * Mp); // each row's loss weight
    ops->zero(ctx, dsc, sizeof(float) * pn);
    for (int s = 0; s < b->n_seq; s++) {
        int r0 = r[s], n = r[s + 1] - r0, nw = b->word_off[s + 1] - b->word_off[s];
        if (n == 0 || nw == 0) continue;
        int64_t o = f->pp_off[r0];
        ops->crossentropy_backward(ctx, dsc + o, dl + r0, f->pp + o, f->ptgt + r0, n, nw);
    }
    ops->zero(ctx, dscs, sizeof(float) * pn);
    ops->axpy(ctx, dscs, dsc, isq, pn);
    ops->zero(ctx, dq, sizeof(float) * Mp * C);
    ops->zero(ctx, dkw, sizeof(float) * W * C);
    for (int s = 0; s < b->n_seq; s++) {
        int r0 = r[s], n = r[s + 1] - r0, w0 = b->word_off[s], nw = b->word_off[s + 1] - w0;
        if (n > 0 && nw > 0)
            ops->matmul_backward(ctx, dq + (size_t)r0 * C, dkw + (size_t)w0 * C, NULL,
                                 dscs + f->pp_off[r0], f->q + (size_t)r0 * C,
                                 f->kw + (size_t)w0 * C, n, C, nw);
    }
    ds_row_plan plan, start, end;
    TRY(query_plans(ctx, b, f, arena, &start, &end));
    ops->zero(ctx, dqs, sizeof(float) * Mp * C);
    ops->zero(ctx, dqe, sizeof(float) * Mp * C);
    ds_row_plan_apply(ctx, &start, dqs, dq, C);
    ds_row_plan_apply(ctx, &end, dqe, dq, C);
    ops->zero(ctx, dhp, sizeof(float) * Mp * C);
    ops->zero(ctx, dhw, sizeof(float) * W * C);
    ops->matmul_backward(ctx, dhp, g->hd.ptr_q_start, NULL, dqs, f->hp, w->hd.ptr_q_start, Mp, C,
                         C);
    ops->matmul_backward(ctx, dhp, g->hd.ptr_q_end, NULL, dqe, f->hp, w->hd.ptr_q_end, Mp, C, C);
    ops->matmul_backward(ctx, dhw, g->hd.ptr_k, NULL, dkw, f->hw, w->hd.ptr_k, W, C, C);
    TRY(ds_row_plan_gather(ctx, arena, f->prow, Mp, N, 1, &plan));
    ds_row_plan_apply(ctx, &plan, dh, dhp, C);
    TRY(ds_row_plan_gather(ctx, arena, b->word_tok, W, N, 1, &plan));
    ds_row_plan_apply(ctx, &plan, dh, dhw, C);
    ds_arena_rewind(arena, mark);
    return 0;
}
