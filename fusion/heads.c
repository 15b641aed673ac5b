// heads.c: the output side: vocabulary logits with cross-entropy on every
// position that has a target (answer tokens, and document tokens for the
// document LM loss); the copy mask (copy path c) on generated value tokens;
// the pointer-generator mixture (b, See et al. 2017) on those same tokens;
// and the word-span pointers (a): a start-word and an end-word distribution
// over the sequence's document words, scored as scaled dot products between
// a query from the pointing position and a key from each word's first token.
// The plain vocabulary head (no copy mask, no mixture) and the pointers
// (pointer-heads.c) run through the ops, on either backend; the copy mask and the
// pointer-generator mixture loop on the host, so they run on the CPU only.
#include "fusion/model-impl.h"

#include "core/error.h"
#include "kernels/glue.h"
#include "kernels/row-plan.h"

#include <math.h>
#include <string.h>

void ds_copy_mask(const int32_t *doc, int n_doc, int32_t prev, int first, uint8_t *allowed, int V) {
    memset(allowed, 0, (size_t)V);
    int any = 0;
    if (!first)
        for (int j = 0; j + 1 < n_doc; j++)
            if (doc[j] == prev) {
                allowed[doc[j + 1]] = 1;
                any = 1;
            }
    if (!any)
        for (int j = 0; j < n_doc; j++) allowed[doc[j]] = 1;
    allowed[DS_TOK_EOV] = 1;
}

// Softmax of x (n) into p; returns nothing; stable.
static void softmax(float *p, const float *x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    double z = 0;
    for (int i = 0; i < n; i++) {
        p[i] = expf(x[i] - mx);
        z += p[i];
    }
    for (int i = 0; i < n; i++) p[i] = (float)(p[i] / z);
}

typedef struct {
    const float *logits;
    float *probs;
    int32_t *argmax;
    int M, V;
} rows_args;

// Softmax and argmax of each row, rows split across threads.
static void softmax_rows_task(void *arg, int ith, int nth) {
    rows_args *a = arg;
    int64_t lo, hi;
    ds_split(a->M, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float *p = a->probs + (size_t)i * a->V;
        softmax(p, a->logits + (size_t)i * a->V, a->V);
        int best = 0;
        for (int v = 1; v < a->V; v++) best = p[v] > p[best] ? v : best;
        a->argmax[i] = best;
    }
}

typedef struct {
    float *dlogits;
    const float *probs, *scale;
    const int32_t *rows, *target;
    int M, V;
} dlogits_args;

// d(-log p_t)/dlogits = scale * (p - onehot(t)), rows split across threads.
static void dlogits_task(void *arg, int ith, int nth) {
    dlogits_args *a = arg;
    int64_t lo, hi;
    ds_split(a->M, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float *dl = a->dlogits + (size_t)i * a->V, sc = a->scale[i];
        const float *p = a->probs + (size_t)i * a->V;
        for (int v = 0; v < a->V; v++) dl[v] = sc * p[v];
        dl[a->target[a->rows[i]]] -= sc;
    }
}

static float dot(const float *a, const float *b, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static int seq_of(const ds_batch *b, int t) {
    int lo = 0, hi = b->n_seq - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (b->seq_off[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static int is_value(uint8_t role) {
    return role == DS_ROLE_VALUE0 || role == DS_ROLE_VALUE;
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_) return rc_;                                                                       \
    } while (0)

// Plain vocabulary head: softmax cross-entropy of every row's logits through the op;
// the losses and each row's first choice come back for the figures.
static int vocab_forward(ds_ctx *ctx, const ds_batch *b, ds_fwd *f, const float *logits,
                         ds_arena *arena, double *sum_ans, double *sum_doc, int *ans_ok) {
    const ds_ops *ops = ctx->ops;
    int M = f->M, V = f->V;
    if ((int64_t)M * V > INT32_MAX) // the targets' probabilities are fetched by int32 index
        return ds_error(DS_E_TOO_LARGE, "heads: %d rows of %d logits in one batch", M, V);
    int32_t *tgt, *amax, *amax_h;
    float *losses, *p_h; // losses: the op's own, in float (unused: see below)
    DS_ARENA_HOST_ALLOC(arena, tgt, M);
    DS_ARENA_HOST_ALLOC(arena, amax_h, M);
    DS_ARENA_HOST_ALLOC(arena, p_h, M);
    DS_ALLOC(amax, M);
    DS_ALLOC(losses, M);
    for (int i = 0; i < M; i++) tgt[i] = b->target[f->rows[i]];
    f->vt = (int32_t *)ds_ctx_i32(ctx, arena, tgt, M);
    if (!f->vt) return ds_error(DS_E_NOMEM, "heads: arena full");
    ops->crossentropy_forward(ctx, losses, f->probs, logits, f->vt, M, V);
    ops->argmax_rows(ctx, amax, f->probs, M, V);
    // the loss from each row's probability of its target, in double (pointer-heads.c)
    int32_t *at;
    DS_ARENA_HOST_ALLOC(arena, at, M);
    for (int i = 0; i < M; i++) at[i] = (int32_t)((int64_t)i * V + tgt[i]);
    TRY(ds_gather_values(ctx, arena, f->probs, at, M, p_h));
    ops->download(ctx, amax_h, amax, sizeof(int32_t) * M);
    for (int i = 0; i < M; i++) {
        int t = f->rows[i];
        double ce = -log(p_h[i] > 1e-30f ? p_h[i] : 1e-30f);
        f->pg_att_off[i] = -1;
        f->pg_p[i] = p_h[i];
        if (b->role[t]) {
            *sum_ans += ce * b->target_w[t];
            *ans_ok += amax_h[i] == tgt[i];
        } else {
            *sum_doc += ce * b->target_w[t];
        }
    }
    return 0;
}

// The vocabulary head with the copy mask and / or the pointer-generator mixture, on the
// host (CPU backend only): logits is host memory.
static int vocab_mixture_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f,
                                 float *logits, ds_arena *arena, double *sum_ans, double *sum_doc,
                                 int *ans_ok) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_weights *w = &m->w;
    int M = f->M, C = cfg->dim, V = cfg->vocab;
    const float *H = f->lm.out;
    float isq = 1.0f / sqrtf((float)C);
    // document tokens of every sequence (pointer-generator keys, copy mask)
    DS_ALLOC(f->doc_off, b->n_seq + 1);
    int nd = 0;
    for (int s = 0; s < b->n_seq; s++) nd += b->doc_hi[s] - b->doc_lo[s];
    f->n_doc = nd;
    DS_ALLOC(f->doc_tok, nd);
    nd = 0;
    for (int s = 0; s < b->n_seq; s++) {
        f->doc_off[s] = nd;
        for (int t = b->doc_lo[s]; t < b->doc_hi[s]; t++) f->doc_tok[nd++] = t;
    }
    f->doc_off[b->n_seq] = nd;
    int32_t *doc_ids;
    DS_ALLOC(doc_ids, nd);
    for (int j = 0; j < nd; j++) doc_ids[j] = b->ids[f->doc_tok[j]];
    uint8_t *allowed;
    DS_ALLOC(allowed, V);
    int pg = cfg->copy_pointer_gen && nd > 0;
    int64_t att_n = 0;
    if (pg) {
        float *hd;
        DS_ALLOC(hd, (size_t)nd * C);
        DS_ALLOC(f->pg_k, (size_t)nd * C);
        DS_ALLOC(f->pg_q, (size_t)M * C);
        DS_ALLOC(f->pg_gate, M);
        for (int j = 0; j < nd; j++)
            memcpy(hd + (size_t)j * C, H + (size_t)f->doc_tok[j] * C, sizeof(float) * C);
        ops->matmul_forward(ctx, f->pg_k, hd, w->hd.pg_k, NULL, nd, C, C);
        ops->matmul_forward(ctx, f->pg_q, f->hm, w->hd.pg_q, NULL, M, C, C);
        for (int i = 0; i < M; i++)
            if (is_value(b->role[f->rows[i]])) {
                int s = seq_of(b, f->rows[i]);
                att_n += f->doc_off[s + 1] - f->doc_off[s];
            }
        DS_ALLOC(f->pg_att, att_n);
    }
    // copy mask (few rows), then the softmax of every row across the threads
    for (int i = 0; i < M; i++) {
        int t = f->rows[i], s = seq_of(b, t), tgt = b->target[t];
        float *lg = logits + (size_t)i * V;
        f->masked[i] = 0;
        int d0 = f->doc_off[s], dn = f->doc_off[s + 1] - d0;
        if (cfg->copy_mask && is_value(b->role[t]) && dn > 0) {
            ds_copy_mask(doc_ids + d0, dn, b->ids[t], b->role[t] == DS_ROLE_VALUE0, allowed, V);
            if (allowed[tgt]) { // a target the mask would forbid is left unmasked (no inf loss)
                f->masked[i] = 1;
                for (int v = 0; v < V; v++)
                    if (!allowed[v]) lg[v] = -1e30f;
            }
        }
    }
    int32_t *argmax;
    DS_ALLOC(argmax, M);
    rows_args ra = {logits, f->probs, argmax, M, V};
    ds_pool_run(ctx->pool, softmax_rows_task, &ra);
    att_n = 0;
    for (int i = 0; i < M; i++) {
        int t = f->rows[i], s = seq_of(b, t), tgt = b->target[t];
        float *p = f->probs + (size_t)i * V;
        f->pg_att_off[i] = -1;
        int d0 = f->doc_off[s], dn = f->doc_off[s + 1] - d0;
        float pt = p[tgt];
        int best = argmax[i];
        if (pg && is_value(b->role[t]) && dn > 0) {
            float *a = f->pg_att + att_n;
            f->pg_att_off[i] = att_n;
            att_n += dn;
            const float *q = f->pg_q + (size_t)i * C;
            for (int j = 0; j < dn; j++) a[j] = dot(q, f->pg_k + (size_t)(d0 + j) * C, C) * isq;
            softmax(a, a, dn);
            float z = dot(f->hm + (size_t)i * C, w->hd.pg_gate, C) + w->hd.pg_gate[C];
            float gt = 1.0f / (1.0f + expf(-z));
            f->pg_gate[i] = gt;
            float ct = 0;
            for (int j = 0; j < dn; j++) ct += doc_ids[d0 + j] == tgt ? a[j] : 0.0f;
            pt = gt * pt + (1.0f - gt) * ct;
        }
        f->pg_p[i] = pt;
        double ce = -log(pt > 1e-30f ? pt : 1e-30f);
        if (b->role[t]) {
            *sum_ans += ce * b->target_w[t];
            *ans_ok += best == tgt;
        } else {
            *sum_doc += ce * b->target_w[t];
        }
    }
    return 0;
}

int ds_heads_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_arena *arena,
                     ds_step_stats *st) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_weights *w = &m->w;
    int N = b->N, C = cfg->dim, V = cfg->vocab;
    int host_only = cfg->copy_mask || cfg->copy_pointer_gen;
    if (host_only && ctx->backend != DS_BACKEND_CPU)
        return ds_error(DS_E_UNSUPPORTED, "the copy mask and the pointer-generator heads run on "
                                          "the CPU only (this model's config uses them)");
    // ---- counts and normalisation: answer targets and pointers share one mean; the
    // document LM loss has its own mean, weighted by target_w.
    int n_ans = 0, n_doc = 0, n_ptr = 0;
    for (int t = 0; t < N; t++) {
        if (b->target[t] >= 0) b->role[t] ? n_ans++ : n_doc++;
        if (b->ptr_kind[t] && b->ptr_target[t] >= 0) n_ptr++;
    }
    st->n_ans = n_ans;
    st->n_doc = n_doc;
    st->n_ptr = n_ptr;
    float norm_ans = 1.0f / (float)(n_ans + n_ptr > 0 ? n_ans + n_ptr : 1);
    float norm_doc = 1.0f / (float)(n_doc > 0 ? n_doc : 1);
    // ---- vocabulary rows
    int M = n_ans + n_doc;
    f->M = M;
    f->V = V;
    DS_ARENA_HOST_ALLOC(arena, f->rows, M);
    DS_ARENA_HOST_ALLOC(arena, f->rw, M);
    DS_ARENA_HOST_ALLOC(arena, f->masked, M);
    DS_ARENA_HOST_ALLOC(arena, f->pg_p, M);
    DS_ARENA_HOST_ALLOC(arena, f->pg_att_off, M);
    DS_ALLOC(f->hm, (size_t)M * C);
    DS_ALLOC(f->probs, (size_t)M * V);
    int r = 0;
    for (int t = 0; t < N; t++)
        if (b->target[t] >= 0) {
            f->rows[r] = t;
            f->rw[r] = b->target_w[t] * (b->role[t] ? norm_ans : norm_doc);
            f->masked[r] = 0;
            r++;
        }
    ds_row_plan plan;
    TRY(ds_row_plan_gather(ctx, arena, f->rows, M, N, 0, &plan));
    ops->zero(ctx, f->hm, sizeof(float) * M * C);
    ds_row_plan_apply(ctx, &plan, f->hm, f->lm.out, C);
    float *logits;
    DS_ALLOC(logits, (size_t)M * V);
    ops->matmul_forward(ctx, logits, f->hm, w->lm.head, NULL, M, C, V);
    double sum_ans = 0, sum_doc = 0, sum_ptr = 0;
    int ans_ok = 0, ptr_ok = 0;
    TRY(host_only ? vocab_mixture_forward(m, ctx, b, f, logits, arena, &sum_ans, &sum_doc, &ans_ok)
                  : vocab_forward(ctx, b, f, logits, arena, &sum_ans, &sum_doc, &ans_ok));
    TRY(ds_pointer_forward(m, ctx, b, f, norm_ans, arena, &sum_ptr, &ptr_ok));
    st->loss_ans = n_ans ? sum_ans / n_ans : 0;
    st->loss_doc = n_doc ? sum_doc / n_doc : 0;
    st->loss_ptr = n_ptr ? sum_ptr / n_ptr : 0;
    st->ans_correct = ans_ok;
    st->ptr_correct = ptr_ok;
    st->loss = (sum_ans + sum_ptr) * norm_ans + sum_doc * norm_doc;
    return 0;
}

// dlogits of the mixture head (host): the pointer-generator's gate and copy attention
// gradients go straight into g and dhm, dq, dk; the vocabulary share into dlogits.
static void mixture_backward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_weights *g,
                             float *dlogits, float *row_scale, float *dhm, float *dq, float *dk) {
    const ds_weights *w = &m->w;
    int C = m->cfg.dim, V = m->cfg.vocab, M = f->M;
    float isq = 1.0f / sqrtf((float)C);
    for (int i = 0; i < M; i++) {
        int t = f->rows[i], tgt = b->target[t];
        const float *p = f->probs + (size_t)i * V;
        float rw = f->rw[i];
        // plain: d(-log p_t)/dz = p - onehot. Mixture: the vocabulary share g p_t / P scales it.
        float scale = rw;
        if (f->pg_att_off[i] >= 0) {
            int s = seq_of(b, t), d0 = f->doc_off[s], dn = f->doc_off[s + 1] - d0;
            float P = f->pg_p[i] > 1e-30f ? f->pg_p[i] : 1e-30f, gt = f->pg_gate[i];
            const float *a = f->pg_att + f->pg_att_off[i];
            float ct = 0;
            for (int j = 0; j < dn; j++) ct += b->ids[f->doc_tok[d0 + j]] == tgt ? a[j] : 0.0f;
            scale = rw * gt * p[tgt] / P;
            // gate: dL/dg = -(p_t - c_t) / P, through the sigmoid
            float dz = rw * -(p[tgt] - ct) / P * gt * (1.0f - gt);
            ds_row_axpy(g->hd.pg_gate, f->hm + (size_t)i * C, dz, C);
            g->hd.pg_gate[C] += dz;
            ds_row_axpy(dhm + (size_t)i * C, w->hd.pg_gate, dz, C);
            // copy distribution: da_j = -(1-g)/P [tok_j = t]; softmax backward
            float k1 = -(1.0f - gt) / P, sum = k1 * ct;
            const float *q = f->pg_q + (size_t)i * C;
            for (int j = 0; j < dn; j++) {
                float da = b->ids[f->doc_tok[d0 + j]] == tgt ? k1 : 0.0f;
                float ds = rw * a[j] * (da - sum) * isq;
                if (ds == 0.0f) continue;
                ds_row_axpy(dq + (size_t)i * C, f->pg_k + (size_t)(d0 + j) * C, ds, C);
                ds_row_axpy(dk + (size_t)(d0 + j) * C, q, ds, C);
            }
        }
        row_scale[i] = scale;
        // Masked logits (copy mask) got probability exactly 0, hence no gradient: the
        // mask is a constant, as it should be.
    }
    dlogits_args da = {dlogits, f->probs, row_scale, f->rows, b->target, M, V};
    ds_pool_run(ctx->pool, dlogits_task, &da);
}

int ds_heads_backward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_weights *g,
                      float *dh, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_weights *w = &m->w;
    int C = cfg->dim, V = cfg->vocab, M = f->M;
    ds_arena_mark_t mark = ds_arena_mark(arena);
    float *dlogits, *dhm;
    DS_ALLOC(dlogits, (size_t)M * V);
    DS_ALLOC(dhm, (size_t)M * C);
    ops->zero(ctx, dhm, sizeof(float) * M * C);
    float *dq = NULL, *dk = NULL;
    if (f->pg_q) {
        DS_ALLOC(dq, (size_t)M * C);
        DS_ALLOC(dk, (size_t)f->n_doc * C);
        ops->zero(ctx, dq, sizeof(float) * M * C);
        ops->zero(ctx, dk, sizeof(float) * f->n_doc * C);
    }
    if (cfg->copy_mask || cfg->copy_pointer_gen) {
        float *row_scale;
        DS_ALLOC(row_scale, M);
        mixture_backward(m, ctx, b, f, g, dlogits, row_scale, dhm, dq, dk);
    } else { // each row's loss weight through the cross-entropy op's backward
        float *dl;
        DS_ALLOC(dl, M);
        ops->upload(ctx, dl, f->rw, sizeof(float) * M);
        ops->zero(ctx, dlogits, sizeof(float) * M * V);
        ops->crossentropy_backward(ctx, dlogits, dl, f->probs, f->vt, M, V);
    }
    ops->matmul_backward(ctx, dhm, g->lm.head, NULL, dlogits, f->hm, w->lm.head, M, C, V);
    if (f->pg_q) {
        float *hd, *dhd;
        DS_ALLOC(hd, (size_t)f->n_doc * C);
        DS_ALLOC(dhd, (size_t)f->n_doc * C);
        for (int j = 0; j < f->n_doc; j++)
            memcpy(hd + (size_t)j * C, f->lm.out + (size_t)f->doc_tok[j] * C, sizeof(float) * C);
        ops->zero(ctx, dhd, sizeof(float) * f->n_doc * C);
        ops->matmul_backward(ctx, dhm, g->hd.pg_q, NULL, dq, f->hm, w->hd.pg_q, M, C, C);
        ops->matmul_backward(ctx, dhd, g->hd.pg_k, NULL, dk, hd, w->hd.pg_k, f->n_doc, C, C);
        for (int j = 0; j < f->n_doc; j++)
            ds_row_axpy(dh + (size_t)f->doc_tok[j] * C, dhd + (size_t)j * C, 1.0f, C);
    }
    ds_row_plan plan;
    TRY(ds_row_plan_gather(ctx, arena, f->rows, M, b->N, 1, &plan)); // to the rows' tokens
    ds_row_plan_apply(ctx, &plan, dh, dhm, C);
    int rc = ds_pointer_backward(m, ctx, b, f, g, dh, arena);
    ds_arena_rewind(arena, mark);
    return rc;
}
