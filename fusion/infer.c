// infer.c: forward over new tokens with the KV cache. The same weights and
// ops as the training forward, but nothing is saved for a backward, keys and
// values go to the cache, and attention reads them back from there; the
// feed-forward half runs on the new tokens of all sequences together (that is
// what batching buys: one GEMM per expert for the whole batch).
#include "fusion/infer.h"

#include "core/error.h"
#include "fusion/model-impl.h"
#include "kernels/glue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Layer l over the N new tokens of in (one packed sequence per state; positions pos):
// keys and values to the cache, x (N, C) updated in place. wb: bf16 copies of the
// weights to read instead of the f32 ones (decode steps), or NULL. Scratch comes from
// the arena and goes back to it.
static int lm_layer(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st,
                    const ds_batch *in, const ds_lm_bf16 *wb, int l, const int32_t *pos, float *x,
                    ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_lm_weights *w = &m->w.lm;
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
    for (int i = 0; i < in->n_seq; i++) {
        int t0 = in->seq_off[i], n = in->seq_off[i + 1] - t0;
        ds_kv_store(cache, &st[i]->kv, l, k + (size_t)t0 * kd, v + (size_t)t0 * kd, n);
        if (st[i]->kv.len == 0 && n > 1) {
            // a prefill from an empty cache: the chunk holds every key, so the blocked
            // attention kernel of the training path does it faster than the cache walk
            ds_arena_mark_t am = ds_arena_mark(arena);
            float *att;
            DS_ALLOC(att, (size_t)nh * n * n);
            ds_attn_mask mk = {1, st[i]->kv.n_prefix, cfg->window};
            ops->attention_forward(ctx, ao + (size_t)t0 * qd, att, q + (size_t)t0 * qd,
                                   k + (size_t)t0 * kd, v + (size_t)t0 * kd, 1, n, nh, nkv, hd, mk);
            ds_arena_rewind(arena, am);
        } else {
            ds_kv_attention(ctx, cache, &st[i]->kv, l, ao + (size_t)t0 * qd, q + (size_t)t0 * qd, n,
                            cfg->window);
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

// Positions of in's new tokens: each sequence continues where its cache ends.
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

// The embedding of in's tokens (the vision encoder for its pages included) into x (N, C).
static int embed(ds_model *m, ds_ctx *ctx, const ds_batch *in, float *x, ds_arena *arena) {
    ds_arena_mark_t top = ds_arena_mark(arena);
    ds_fwd *f;
    DS_ALLOC(f, 1);
    memset(f, 0, sizeof *f);
    int rc = ds_embed_forward(m, ctx, in, f, arena);
    if (!rc) memcpy(x, f->x0, sizeof(float) * (size_t)in->N * m->cfg.dim);
    ds_arena_rewind(arena, top);
    return rc;
}

// Runs in through all the layers at once (a decode step); hidden (in->N, C).
static int infer_forward(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st,
                         const ds_batch *in, const ds_lm_bf16 *wb, float *hidden, ds_arena *arena) {
    const ds_model_cfg *cfg = &m->cfg;
    int N = in->N, C = cfg->dim;
    int rc = reserve(cache, st, in);
    if (rc) return rc;
    int32_t *pos;
    float *x, *rstd;
    DS_ALLOC(pos, N);
    DS_ALLOC(x, (size_t)N * C);
    DS_ALLOC(rstd, N);
    if ((rc = embed(m, ctx, in, x, arena))) return rc;
    new_positions(st, in, pos);
    for (int l = 0; l < cfg->n_layers && !rc; l++)
        rc = lm_layer(m, ctx, cache, st, in, wb, l, pos, x, arena);
    if (rc) return rc;
    for (int i = 0; i < in->n_seq; i++) st[i]->kv.len += in->seq_off[i + 1] - in->seq_off[i];
    ctx->ops->rmsnorm_forward(ctx, hidden, rstd, x, m->w.lm.norm, N, C, cfg->norm_eps);
    return 0;
}

// A prefill in pieces (infer.h): the packed prefixes, and the residual stream between
// the pieces (malloc'd: the arena is the decode steps' between two pieces).
struct ds_prefill {
    ds_model *m;
    ds_ctx *ctx;
    ds_kv_cache *cache;
    int n, next; // sequences; the next piece: 0 the embedding, 1 + l layer l
    ds_gen_state *st[DS_PREFILL_MAX];
    ds_seq seqs[DS_PREFILL_MAX];
    ds_batch in;
    int32_t *pos;
    float *x;      // (N, C) the residual stream
    float *hidden; // (N, C) the final hidden states, after the last piece
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
    p->pos = malloc(sizeof(int32_t) * N);
    p->x = malloc(sizeof(float) * N * C);
    p->hidden = malloc(sizeof(float) * N * C);
    if (!p->pos || !p->x || !p->hidden) rc = ds_error(DS_E_NOMEM, "prefill: out of memory");
    if (!rc) rc = reserve(cache, p->st, &p->in);
    if (rc) {
        ds_prefill_free(p);
        return rc;
    }
    new_positions(p->st, &p->in, p->pos);
    *out = p;
    return 0;
}

int ds_prefill_pieces(const ds_prefill *p) {
    return 1 + p->m->cfg.n_layers;
}

// What the heads need later from each document: pointer keys of its words and
// pointer-generator keys of its tokens (from the final hidden states h).
static int head_keys(ds_model *m, ds_ctx *ctx, ds_gen_state **st, const ds_batch *in, int n,
                     const float *h, ds_arena *arena) {
    const ds_model_cfg *cfg = &m->cfg;
    int C = cfg->dim, rc = 0;
    ds_arena_mark_t mark = ds_arena_mark(arena);
    for (int i = 0; i < n && !rc; i++) {
        ds_gen_state *g = st[i];
        int w0 = in->word_off[i], nw = in->word_off[i + 1] - w0;
        int d0 = in->doc_lo[i], nd = in->doc_hi[i] - d0;
        float *rows = ds_arena_alloc(arena, sizeof(float) * (size_t)(nw > nd ? nw : nd) * C + 64);
        if (!rows) {
            rc = ds_error(DS_E_NOMEM, "prefill: activation arena full");
            break;
        }
        if (cfg->copy_pointer && nw > 0) {
            g->n_words = nw;
            g->ptr_keys = malloc(sizeof(float) * (size_t)nw * C);
            if (!g->ptr_keys) {
                rc = ds_error(DS_E_NOMEM, "prefill: out of memory");
                break;
            }
            for (int j = 0; j < nw; j++)
                memcpy(rows + (size_t)j * C, h + (size_t)in->word_tok[w0 + j] * C,
                       sizeof(float) * C);
            ctx->ops->matmul_forward(ctx, g->ptr_keys, rows, m->w.hd.ptr_k, NULL, nw, C, C);
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
                ctx->ops->matmul_forward(ctx, g->pg_keys, h + (size_t)d0 * C, m->w.hd.pg_k, NULL,
                                         nd, C, C);
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
        rc = lm_layer(m, p->ctx, p->cache, p->st, &p->in, NULL, p->next - 1, p->pos, p->x, arena);
    }
    if (rc) return rc;
    if (++p->next <= L) return 0;
    // the last layer ran: the caches hold the prefixes, and the heads get their keys
    for (int i = 0; i < p->n; i++) p->st[i]->kv.len += p->in.seq_off[i + 1] - p->in.seq_off[i];
    ds_arena_mark_t mark = ds_arena_mark(arena);
    float *rstd = ds_arena_alloc(arena, sizeof(float) * (size_t)p->in.N + 64);
    if (!rstd) return ds_error(DS_E_NOMEM, "prefill: activation arena full");
    p->ctx->ops->rmsnorm_forward(p->ctx, p->hidden, rstd, p->x, m->w.lm.norm, p->in.N, m->cfg.dim,
                                 m->cfg.norm_eps);
    ds_arena_rewind(arena, mark);
    rc = head_keys(m, p->ctx, p->st, &p->in, p->n, p->hidden, arena);
    if (!rc) *done = 1;
    return rc;
}

const float *ds_prefill_hidden(const ds_prefill *p) {
    return p->hidden;
}

void ds_prefill_free(ds_prefill *p) {
    if (!p) return;
    ds_batch_free(&p->in);
    free(p->pos);
    free(p->x);
    free(p->hidden);
    free(p);
}

int ds_infer_prefill(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st,
                     ds_seq *const *seqs, int n, float *hidden, ds_arena *arena) {
    ds_prefill *p;
    int rc = ds_prefill_begin(m, ctx, cache, st, seqs, n, &p), done = 0;
    while (!rc && !done) rc = ds_prefill_next(p, arena, &done);
    if (!rc && hidden) memcpy(hidden, p->hidden, sizeof(float) * (size_t)p->in.N * m->cfg.dim);
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
    DS_ALLOC(seq_off, n + 1);
    DS_ALLOC(pg, n);
    DS_ALLOC(bx, 4 * n);
    DS_ALLOC(roi, 5 * n);
    DS_ALLOC(img, n);
    DS_ALLOC(ids_ok, n);
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
    ds_lm_linear(ctx, logits, hidden, m->w.lm.head, m->dec_bf16 ? m->dec_bf16->head : NULL, n,
                 m->cfg.dim, m->cfg.vocab);
}

int ds_infer_set_bf16(ds_model *m, int on) {
    ds_lm_bf16_free(m->dec_bf16);
    m->dec_bf16 = NULL;
    return on ? ds_lm_bf16_new(&m->cfg, &m->w.lm, &m->dec_bf16) : 0;
}

void ds_infer_pointer(ds_model *m, const ds_gen_state *st, const float *hidden, int kind,
                      int min_word, float *p) {
    int C = m->cfg.dim, nw = st->n_words;
    const float *W = kind == 1 ? m->w.hd.ptr_q_start : m->w.hd.ptr_q_end;
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
