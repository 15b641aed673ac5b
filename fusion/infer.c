// infer.c: forward over new tokens with the KV cache. The same weights and
// ops as the training forward, but nothing is saved for a backward, keys and
// values go to the cache, and attention reads them back from there; the
// feed-forward half runs on the new tokens of all sequences together (that is
// what batching buys: one GEMM per expert for the whole batch).
#include "fusion/infer.h"

#include "core/error.h"
#include "fusion/model-impl.h"
#include "kernels/glue.h"
#include "kernels/row-plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Layer l over the N new tokens of in (one packed sequence per state; positions pos, cache
// places plan): keys and values to the cache, x (N, C) updated in place. wb: bf16 copies
// of the weights to read instead of the f32 ones (decode steps), or NULL. Scratch comes
// from the arena and goes back to it; everything but st is in the context's memory.
static int lm_layer(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, const ds_kv_plan *plan,
                    ds_gen_state **st, const ds_batch *in, const ds_lm_bf16 *wb, int l,
                    const int32_t *pos, float *x, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_lm_weights *w = &m->w.lm;
    const ds_kv_pool *pool = ds_kv_cache_pool(cache);
    int N = in->N, C = cfg->dim, nh = cfg->n_heads, nkv = cfg->n_kv_heads, hd = cfg->head_dim;
    int qd = nh * hd, kd = nkv * hd, E = cfg->n_experts;
    ds_arena_mark_t top = ds_arena_mark(arena);
    float *ln, *rstd, *qkv, *q, *k, *v, *ao, *x2, *y;
    DS_ALLOC(ln, (size_t)N * C);
    DS_ALLOC(rstd, N);
    DS_ALLOC(qkv, (size_t)N * (qd + 2 * kd));
    DS_ALLOC(q, (size_t)N * qd);
    DS_ALLOC(k, (size_t)N * kd);
    DS_ALLOC(v, (size_t)N * kd);
    DS_ALLOC(ao, (size_t)N * qd);
    DS_ALLOC(x2, (size_t)N * C);
    DS_ALLOC(y, (size_t)N * C);
    float *lmid = NULL, *ltmp = NULL; // LoRA scratch
    if (w->lora_rank > 0) {
        DS_ALLOC(lmid, (size_t)N * w->lora_rank);
        DS_ALLOC(ltmp, (size_t)N * (qd + 2 * kd > C ? qd + 2 * kd : C));
    }
    const ds_lm_layer *L = &w->layers[l];
    const ds_lm_layer_bf16 *Lb = wb ? &wb->layers[l] : NULL;
    ops->rmsnorm_forward(ctx, ln, rstd, x, L->attn_norm, N, C, cfg->norm_eps);
    ds_lm_linear(ctx, qkv, ln, L->qkv, Lb ? Lb->qkv : NULL, N, C, qd + 2 * kd);
    if (L->lora_qkv_a)
        ds_lora_forward(ctx, qkv, lmid, ltmp, ln, L->lora_qkv_a, L->lora_qkv_b, N, C, qd + 2 * kd,
                        w->lora_rank, w->lora_scale);
    ds_qkv_split(ctx, q, k, v, qkv, N, nh, nkv, hd);
    ops->rope_forward(ctx, q, q, pos, N, nh, hd, cfg->rope_theta);
    ops->rope_forward(ctx, k, k, pos, N, nkv, hd, cfg->rope_theta);
    ops->kv_store(ctx, pool, l, k, v, plan->slot, N);
    // A prefill from an empty cache holds every key of its sequence, so the blocked
    // attention kernel of the training path does it faster than the cache walk; every
    // other query (a decode step, a prefill continuing a sequence) reads the cache, all
    // in one call when no sequence of the batch is a fresh prefill.
    int fresh = 0;
    for (int i = 0; i < in->n_seq; i++)
        fresh |= st[i]->kv.len == 0 && in->seq_off[i + 1] - in->seq_off[i] > 1;
    if (!fresh)
        ops->kv_attention(ctx, pool, l, ao, q, plan->info, plan->blocks, N, nh, cfg->window);
    for (int i = 0; fresh && i < in->n_seq; i++) {
        int t0 = in->seq_off[i], n = in->seq_off[i + 1] - t0;
        if (st[i]->kv.len == 0 && n > 1) {
            ds_arena_mark_t am = ds_arena_mark(arena);
            float *att;
            DS_ALLOC(att, (size_t)nh * n * n);
            ds_attn_mask mk = {1, st[i]->kv.n_prefix, cfg->window};
            ops->attention_forward(ctx, ao + (size_t)t0 * qd, att, q + (size_t)t0 * qd,
                                   k + (size_t)t0 * kd, v + (size_t)t0 * kd, 1, n, nh, nkv, hd, mk);
            ds_arena_rewind(arena, am);
        } else {
            ops->kv_attention(ctx, pool, l, ao + (size_t)t0 * qd, q + (size_t)t0 * qd,
                              plan->info + 3 * (size_t)t0, plan->blocks, n, nh, cfg->window);
        }
    }
    ds_lm_linear(ctx, x2, ao, L->o, Lb ? Lb->o : NULL, N, qd, C);
    if (L->lora_o_a)
        ds_lora_forward(ctx, x2, lmid, ltmp, ao, L->lora_o_a, L->lora_o_b, N, qd, C, w->lora_rank,
                        w->lora_scale);
    ops->add(ctx, x2, x2, x, (int64_t)N * C);
    ops->rmsnorm_forward(ctx, ln, rstd, x2, L->ffn_norm, N, C, cfg->norm_eps);
    ds_lm_layer_acts la;
    memset(&la, 0, sizeof la);
    int rc = ds_lm_ffn_forward_bf16(ctx, cfg, L, Lb, l, m->router_bias + (size_t)l * E, ln, y, N,
                                    &la, arena);
    if (!rc) ops->add(ctx, x, x2, y, (int64_t)N * C);
    ds_arena_rewind(arena, top);
    return rc;
}

// Positions of in's new tokens (host pos): each sequence continues where its cache ends.
static void new_positions(ds_gen_state **st, const ds_batch *in, int32_t *pos) {
    for (int i = 0; i < in->n_seq; i++)
        for (int t = in->seq_off[i]; t < in->seq_off[i + 1]; t++)
            pos[t] = st[i]->kv.len + t - in->seq_off[i];
}

// Reserves cache room for in's new tokens.
static int reserve(ds_kv_cache *cache, ds_gen_state **st, const ds_batch *in) {
    for (int i = 0; i < in->n_seq; i++) {
        int rc = ds_kv_seq_reserve(cache, &st[i]->kv, in->seq_off[i + 1] - in->seq_off[i]);
        if (rc) return rc;
    }
    return 0;
}

// The cache places of in's new tokens (after reserve), from arena or, arena NULL, owned.
static int plan_positions(ds_ctx *ctx, ds_arena *arena, ds_kv_cache *cache, ds_gen_state **st,
                          const ds_batch *in, ds_kv_plan *plan) {
    const ds_kv_seq **seqs = malloc(sizeof *seqs * (size_t)in->n_seq);
    if (!seqs) return ds_error(DS_E_NOMEM, "infer: out of memory");
    for (int i = 0; i < in->n_seq; i++) seqs[i] = &st[i]->kv;
    int rc = ds_kv_plan_build(ctx, arena, cache, seqs, in->seq_off, in->n_seq, plan);
    free(seqs);
    return rc;
}

// The embedding of in's tokens (the vision encoder for its pages included) into x (N, C).
static int embed(ds_model *m, ds_ctx *ctx, const ds_batch *in, float *x, ds_arena *arena) {
    ds_arena_mark_t top = ds_arena_mark(arena);
    ds_fwd *f;
    DS_ARENA_HOST_ALLOC(arena, f, 1);
    memset(f, 0, sizeof *f);
    int rc = ds_embed_forward(m, ctx, in, f, arena);
    if (!rc) ctx->ops->copy_2d(ctx, x, m->cfg.dim, f->x0, m->cfg.dim, in->N, m->cfg.dim);
    ds_arena_rewind(arena, top);
    return rc;
}

// Runs in through all the layers at once (a decode step); hidden (in->N, C) in host memory.
static int infer_forward(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st,
                         const ds_batch *in, const ds_lm_bf16 *wb, float *hidden, ds_arena *arena) {
    const ds_model_cfg *cfg = &m->cfg;
    int N = in->N, C = cfg->dim;
    int rc = reserve(cache, st, in);
    if (rc) return rc;
    ds_kv_plan plan;
    int32_t *pos_h;
    float *x, *rstd, *h;
    DS_ARENA_HOST_ALLOC(arena, pos_h, N);
    DS_ALLOC(x, (size_t)N * C);
    DS_ALLOC(rstd, N);
    DS_ALLOC(h, (size_t)N * C);
    new_positions(st, in, pos_h);
    const int32_t *pos = ds_ctx_i32(ctx, arena, pos_h, N);
    if (!pos) return ds_error(DS_E_NOMEM, "decode: activation arena full");
    if ((rc = plan_positions(ctx, arena, cache, st, in, &plan))) return rc;
    if ((rc = embed(m, ctx, in, x, arena))) return rc;
    for (int l = 0; l < cfg->n_layers && !rc; l++)
        rc = lm_layer(m, ctx, cache, &plan, st, in, wb, l, pos, x, arena);
    if (rc) return rc;
    for (int i = 0; i < in->n_seq; i++) st[i]->kv.len += in->seq_off[i + 1] - in->seq_off[i];
    ctx->ops->rmsnorm_forward(ctx, h, rstd, x, m->w.lm.norm, N, C, cfg->norm_eps);
    ctx->ops->download(ctx, hidden, h, sizeof(float) * (size_t)N * C);
    return 0;
}

// A prefill in pieces (infer.h): the packed prefixes, and what lives between the pieces
// in the context's memory (allocated apart: the arena is the decode steps' in between).
struct ds_prefill {
    ds_model *m;
    ds_ctx *ctx;
    ds_kv_cache *cache;
    int n, next; // sequences; the next piece: 0 the embedding, 1 + l layer l
    ds_gen_state *st[DS_PREFILL_MAX];
    ds_seq seqs[DS_PREFILL_MAX];
    ds_batch in;
    ds_kv_plan plan; // the cache places of the tokens
    int32_t *pos;    // (N) their positions
    float *x;        // (N, C) the residual stream
    float *hidden;   // (N, C) the final hidden states, after the last piece
    float *hidden_h; // the same in host memory
};

int ds_prefill_begin(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st,
                     ds_seq *const *seqs, int n, ds_prefill **out) {
    *out = NULL;
    if (n < 1 || n > DS_PREFILL_MAX)
        return ds_error(DS_E_INVAL, "prefill: 1 to %d sequences per call, got %d", DS_PREFILL_MAX,
                        n);
    for (int i = 0; i < n; i++)
        if (st[i]->kv.len != 0)
            return ds_error(DS_E_INVAL, "prefill: sequence %d already holds %d positions", i,
                            st[i]->kv.len);
    ds_prefill *p = calloc(1, sizeof *p);
    if (!p) return ds_error(DS_E_NOMEM, "prefill: out of memory");
    *p = (ds_prefill){.m = m, .ctx = ctx, .cache = cache, .n = n};
    ds_seq *ptrs[DS_PREFILL_MAX];
    for (int i = 0; i < n; i++) {
        p->seqs[i] = *seqs[i];
        ptrs[i] = &p->seqs[i];
        p->st[i] = st[i];
        st[i]->kv.n_prefix = seqs[i]->n_prefix;
    }
    int rc = ds_batch_pack(&m->cfg, ptrs, n, &p->in);
    if (rc) {
        free(p);
        return rc;
    }
    size_t N = (size_t)p->in.N, C = (size_t)m->cfg.dim;
    int32_t *pos_h = malloc(sizeof(int32_t) * N);
    p->pos = ctx->ops->alloc(ctx, sizeof(int32_t) * N);
    p->x = ctx->ops->alloc(ctx, sizeof(float) * N * C);
    p->hidden = ctx->ops->alloc(ctx, sizeof(float) * N * C);
    p->hidden_h = malloc(sizeof(float) * N * C);
    if (!pos_h || !p->pos || !p->x || !p->hidden || !p->hidden_h)
        rc = ds_error(DS_E_NOMEM, "prefill: out of memory");
    if (!rc) rc = reserve(cache, p->st, &p->in);
    if (!rc) rc = plan_positions(ctx, NULL, cache, p->st, &p->in, &p->plan);
    if (!rc) {
        new_positions(p->st, &p->in, pos_h);
        ctx->ops->upload(ctx, p->pos, pos_h, sizeof(int32_t) * N);
    }
    free(pos_h);
    if (rc) {
        ds_prefill_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int ds_prefill_pieces(const ds_prefill *p) {
    return 1 + p->m->cfg.n_layers;
}

// What the heads need later from each document, in host memory: pointer keys of its
// words and pointer-generator keys of its tokens (from the final hidden states h,
// context memory).
static int head_keys(ds_model *m, ds_ctx *ctx, ds_gen_state **st, const ds_batch *in, int n,
                     const float *h, ds_arena *arena) {
    const ds_model_cfg *cfg = &m->cfg;
    int C = cfg->dim, rc = 0;
    ds_arena_mark_t mark = ds_arena_mark(arena);
    for (int i = 0; i < n && !rc; i++) {
        ds_gen_state *g = st[i];
        int w0 = in->word_off[i], nw = in->word_off[i + 1] - w0;
        int d0 = in->doc_lo[i], nd = in->doc_hi[i] - d0;
        size_t most = (size_t)(nw > nd ? nw : nd) * C;
        float *rows = ds_arena_alloc(arena, sizeof(float) * most + 64);
        float *keys = ds_arena_alloc(arena, sizeof(float) * most + 64);
        if (!rows || !keys) {
            rc = ds_error(DS_E_NOMEM, "prefill: activation arena full");
            break;
        }
        if (cfg->copy_pointer && nw > 0) {
            g->n_words = nw;
            g->ptr_keys = malloc(sizeof(float) * (size_t)nw * C);
            ds_row_plan gather;
            if (!g->ptr_keys) {
                rc = ds_error(DS_E_NOMEM, "prefill: out of memory");
                break;
            }
            if ((rc = ds_row_plan_gather(ctx, arena, in->word_tok + w0, nw, 0, 0, &gather))) break;
            ctx->ops->zero(ctx, rows, sizeof(float) * (size_t)nw * C);
            ds_row_plan_apply(ctx, &gather, rows, h, C);
            ctx->ops->matmul_forward(ctx, keys, rows, m->w.hd.ptr_k, NULL, nw, C, C);
            ctx->ops->download(ctx, g->ptr_keys, keys, sizeof(float) * (size_t)nw * C);
        }
        if (nd > 0) {
            g->n_doc = nd;
            g->doc_ids = malloc(sizeof(int32_t) * nd);
            if (!g->doc_ids) {
                rc = ds_error(DS_E_NOMEM, "prefill: out of memory");
                break;
            }
            memcpy(g->doc_ids, in->ids + d0, sizeof(int32_t) * nd);
            // each token's word: the last word starting at or before it (special
            // tokens, the page and image markers, belong to none)
            if (nw > 0 && !(g->doc_word = malloc(sizeof(int32_t) * nd))) {
                rc = ds_error(DS_E_NOMEM, "prefill: out of memory");
                break;
            }
            for (int t = 0, w = -1; nw > 0 && t < nd; t++) {
                while (w + 1 < nw && in->word_tok[w0 + w + 1] <= d0 + t) w++;
                g->doc_word[t] = g->doc_ids[t] >= DS_TOK_BYTE0 ? w : -1;
            }
            if (cfg->copy_pointer_gen) {
                g->pg_keys = malloc(sizeof(float) * (size_t)nd * C);
                if (!g->pg_keys) {
                    rc = ds_error(DS_E_NOMEM, "prefill: out of memory");
                    break;
                }
                ctx->ops->matmul_forward(ctx, keys, h + (size_t)d0 * C, m->w.hd.pg_k, NULL, nd, C,
                                         C);
                ctx->ops->download(ctx, g->pg_keys, keys, sizeof(float) * (size_t)nd * C);
            }
        }
    }
    ds_arena_rewind(arena, mark);
    return rc;
}

int ds_prefill_next(ds_prefill *p, ds_arena *arena, int *done) {
    ds_model *m = p->m;
    int L = m->cfg.n_layers, rc;
    *done = 0;
    if (p->next > L) return ds_error(DS_E_INVAL, "prefill: already finished");
    if (p->next == 0) {
        rc = embed(m, p->ctx, &p->in, p->x, arena);
    } else {
        rc = lm_layer(m, p->ctx, p->cache, &p->plan, p->st, &p->in, NULL, p->next - 1, p->pos, p->x,
                      arena);
    }
    if (rc) return rc;
    if (++p->next <= L) return 0;
    // the last layer ran: the caches hold the prefixes, and the heads get their keys
    for (int i = 0; i < p->n; i++) p->st[i]->kv.len += p->in.seq_off[i + 1] - p->in.seq_off[i];
    ds_arena_mark_t mark = ds_arena_mark(arena);
    float *rstd = ds_arena_alloc(arena, sizeof(float) * (size_t)p->in.N + 64);
    if (!rstd) return ds_error(DS_E_NOMEM, "prefill: activation arena full");
    size_t NC = (size_t)p->in.N * m->cfg.dim;
    p->ctx->ops->rmsnorm_forward(p->ctx, p->hidden, rstd, p->x, m->w.lm.norm, p->in.N, m->cfg.dim,
                                 m->cfg.norm_eps);
    p->ctx->ops->download(p->ctx, p->hidden_h, p->hidden, sizeof(float) * NC);
    ds_arena_rewind(arena, mark);
    rc = head_keys(m, p->ctx, p->st, &p->in, p->n, p->hidden, arena);
    if (!rc) *done = 1;
    return rc;
}

const float *ds_prefill_hidden(const ds_prefill *p) {
    return p->hidden_h;
}

void ds_prefill_free(ds_prefill *p) {
    if (!p) return;
    ds_ctx *ctx = p->ctx;
    ds_batch_free(&p->in);
    ds_kv_plan_free(ctx, &p->plan);
    ctx->ops->free(ctx, p->pos);
    ctx->ops->free(ctx, p->x);
    ctx->ops->free(ctx, p->hidden);
    free(p->hidden_h);
    free(p);
}

int ds_infer_prefill(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st,
                     ds_seq *const *seqs, int n, float *hidden, ds_arena *arena) {
    ds_prefill *p;
    int rc = ds_prefill_begin(m, ctx, cache, st, seqs, n, &p), done = 0;
    while (!rc && !done) rc = ds_prefill_next(p, arena, &done);
    if (!rc && hidden) memcpy(hidden, p->hidden_h, sizeof(float) * (size_t)p->in.N * m->cfg.dim);
    ds_prefill_free(p);
    return rc;
}

int ds_infer_step(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st, int n,
                  const int32_t *ids, const int32_t *box, const int32_t *page, float *hidden,
                  ds_arena *arena) {
    const ds_model_cfg *cfg = &m->cfg;
    ds_arena_mark_t mark = ds_arena_mark(arena);
    ds_batch in;
    memset(&in, 0, sizeof in);
    in.n_seq = in.N = n;
    int32_t *seq_off, *pg, *bx, *roi, *img, *ids_ok;
    DS_ARENA_HOST_ALLOC(arena, seq_off, n + 1);
    DS_ARENA_HOST_ALLOC(arena, pg, n);
    DS_ARENA_HOST_ALLOC(arena, bx, 4 * n);
    DS_ARENA_HOST_ALLOC(arena, roi, 5 * n);
    DS_ARENA_HOST_ALLOC(arena, img, n);
    DS_ARENA_HOST_ALLOC(arena, ids_ok, n);
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= cfg->vocab)
            return ds_error(DS_E_INVAL, "decode: token id %d outside the vocabulary", ids[i]);
        seq_off[i] = i;
        ids_ok[i] = ids[i];
        int has = box && box[4 * i] >= 0;
        for (int j = 0; j < 4; j++) bx[4 * i + j] = has ? box[4 * i + j] : -1;
        pg[i] = has && page ? page[i] : 0;
        if (pg[i] < 0 || pg[i] >= cfg->max_pages)
            return ds_error(DS_E_INVAL, "decode: page %d outside 0..%d", pg[i], cfg->max_pages - 1);
        for (int j = 0; j < 5; j++) roi[5 * i + j] = -1;
        img[i] = -1;
    }
    seq_off[n] = n;
    in.seq_off = seq_off;
    in.ids = ids_ok;
    in.box = bx;
    in.page = pg;
    in.roi = roi;
    in.img = img;
    int rc = infer_forward(m, ctx, cache, st, &in, m->dec_bf16, hidden, arena);
    ds_arena_rewind(arena, mark);
    return rc;
}

void ds_infer_logits(ds_model *m, ds_ctx *ctx, const float *hidden, int n, float *logits) {
    size_t C = (size_t)m->cfg.dim, V = (size_t)m->cfg.vocab;
    const uint16_t *wb = m->dec_bf16 ? m->dec_bf16->head : NULL;
    if (ctx->backend == DS_BACKEND_CPU) {
        ds_lm_linear(ctx, logits, hidden, m->w.lm.head, wb, n, (int)C, (int)V);
        return;
    }
    // The context's scratch (grown once, then reused: no allocation per decode step, where
    // a cudaFree would also wait for the device). The one GEMM below takes no scratch of
    // its own on the GPU, so nothing else claims it before the download.
    float *h = ds_ctx_scratch(ctx, sizeof(float) * n * (C + V)), *lg = h + n * C;
    ctx->ops->upload(ctx, h, hidden, sizeof(float) * n * C);
    ds_lm_linear(ctx, lg, h, m->w.lm.head, wb, n, (int)C, (int)V);
    ctx->ops->download(ctx, logits, lg, sizeof(float) * n * V);
}

int ds_infer_set_bf16(ds_model *m, int on) {
    ds_lm_bf16_free(m->dec_bf16);
    m->dec_bf16 = NULL;
    return on ? ds_lm_bf16_new(&m->cfg, &m->w.lm, &m->dec_bf16) : 0;
}

void ds_infer_pointer(ds_model *m, const ds_gen_state *st, const float *hidden, int kind,
                      int min_word, float *p) {
    int C = m->cfg.dim, nw = st->n_words;
    const ds_model *hm = ds_model_host(m); // a view's weights are not host memory
    const float *W = kind == 1 ? hm->w.hd.ptr_q_start : hm->w.hd.ptr_q_end;
    float *q = malloc(sizeof(float) * C);
    if (!q || nw <= 0) {
        free(q);
        return;
    }
    for (int i = 0; i < C; i++) { // q = W hidden (one row: a GEMV, not worth a GEMM call)
        float s = 0;
        for (int j = 0; j < C; j++) s += W[(size_t)i * C + j] * hidden[j];
        q[i] = s;
    }
    float isq = 1.0f / sqrtf((float)C), mx = -INFINITY;
    for (int w = 0; w < nw; w++) {
        float s = -INFINITY;
        if (w >= min_word) {
            s = 0;
            for (int j = 0; j < C; j++) s += q[j] * st->ptr_keys[(size_t)w * C + j];
            s *= isq;
        }
        p[w] = s;
        mx = s > mx ? s : mx;
    }
    double z = 0;
    for (int w = 0; w < nw; w++) {
        p[w] = w >= min_word ? expf(p[w] - mx) : 0.0f;
        z += p[w];
    }
    for (int w = 0; w < nw; w++) p[w] = (float)(p[w] / z);
    free(q);
}

void ds_gen_state_release(ds_kv_cache *cache, ds_gen_state *st) {
    if (!st) return;
    if (cache) ds_kv_seq_release(cache, &st->kv);
    free(st->ptr_keys);
    free(st->pg_keys);
    free(st->doc_ids);
    free(st->doc_word);
    memset(st, 0, sizeof *st);
}
