// lora.c: see lora.h.
#include "fusion/lora.h"

#include "core/error.h"
#include "core/rng.h"
#include "core/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void layout(const ds_model_cfg *c, int r, int experts, ds_lm_weights *w, ds_carver *cv) {
    int C = c->dim, qd = c->n_heads * c->head_dim, qkvd = qd + 2 * c->n_kv_heads * c->head_dim;
    int E = c->n_experts, He = c->expert_hidden, SH = c->n_shared * He;
    for (int l = 0; l < c->n_layers; l++) {
        ds_lm_layer *L = &w->layers[l];
        L->lora_qkv_a = ds_carve(cv, 2, r, C, 0, "lora.layers.%d.qkv.a", l);
        L->lora_qkv_b = ds_carve(cv, 2, qkvd, r, 0, "lora.layers.%d.qkv.b", l);
        L->lora_o_a = ds_carve(cv, 2, r, qd, 0, "lora.layers.%d.o.a", l);
        L->lora_o_b = ds_carve(cv, 2, C, r, 0, "lora.layers.%d.o.b", l);
        if (!experts) continue;
        // the dense feed-forward, or the shared experts of a MoE layer
        int H = ds_lm_is_moe(c, l) ? SH : c->dense_hidden;
        if (H > 0) {
            L->lora_w13_a = ds_carve(cv, 2, r, C, 0, "lora.layers.%d.ffn.w13.a", l);
            L->lora_w13_b = ds_carve(cv, 2, 2 * H, r, 0, "lora.layers.%d.ffn.w13.b", l);
            L->lora_w2_a = ds_carve(cv, 2, r, H, 0, "lora.layers.%d.ffn.w2.a", l);
            L->lora_w2_b = ds_carve(cv, 2, C, r, 0, "lora.layers.%d.ffn.w2.b", l);
        }
        if (!ds_lm_is_moe(c, l)) continue;
        L->lora_exp13_a = ds_carve(cv, 3, E, r, C, "lora.layers.%d.experts.w13.a", l);
        L->lora_exp13_b = ds_carve(cv, 3, E, 2 * He, r, "lora.layers.%d.experts.w13.b", l);
        L->lora_exp2_a = ds_carve(cv, 3, E, r, He, "lora.layers.%d.experts.w2.a", l);
        L->lora_exp2_b = ds_carve(cv, 3, E, C, r, "lora.layers.%d.experts.w2.b", l);
    }
}

void ds_lora_point(const ds_model *m, const ds_lora *l, float *base, ds_weights *w) {
    ds_carver cv = {base, 0, NULL, 0};
    layout(&m->cfg, l->rank, l->experts, &w->lm, &cv);
    w->lm.lora_rank = l->rank;
    w->lm.lora_scale = l->alpha / (float)l->rank;
    for (int i = 0; i < m->cfg.n_layers; i++) {
        w->lm.layers[i].lora_ffn_rank = l->rank;
        w->lm.layers[i].lora_ffn_scale = w->lm.lora_scale;
    }
}

void ds_lora_attach(ds_model *m, const ds_lora *l) {
    ds_lora_point(m, l, l->params, &m->w);
    m->lora = l;
}

void ds_lora_detach(ds_model *m) {
    for (int l = 0; l < m->cfg.n_layers; l++) {
        ds_lm_layer *L = &m->w.lm.layers[l];
        L->lora_qkv_a = L->lora_qkv_b = L->lora_o_a = L->lora_o_b = NULL;
        L->lora_w13_a = L->lora_w13_b = L->lora_w2_a = L->lora_w2_b = NULL;
        L->lora_exp13_a = L->lora_exp13_b = L->lora_exp2_a = L->lora_exp2_b = NULL;
        L->lora_ffn_rank = 0;
    }
    m->w.lm.lora_rank = 0;
    m->lora = NULL;
}

static int lora_alloc(const ds_model *m, int rank, float alpha, int experts, ds_lora **out) {
    if (rank < 1 || rank > 1024 || !(alpha > 0))
        return ds_error(DS_E_INVAL, "lora: rank %d / alpha %g out of range", rank, alpha);
    ds_lora *l = calloc(1, sizeof *l);
    if (!l) return ds_error(DS_E_NOMEM, "lora: out of memory");
    l->rank = rank;
    l->alpha = alpha;
    l->experts = experts;
    ds_lm_weights tmp;
    memset(&tmp, 0, sizeof tmp);
    ds_carver cv = {NULL, 0, &l->table, 0};
    layout(&m->cfg, rank, experts, &tmp, &cv);
    l->params = calloc((size_t)l->table.total, sizeof(float));
    if (cv.failed || !l->params) {
        ds_lora_free(l);
        return ds_error(DS_E_NOMEM, "lora: out of memory");
    }
    *out = l;
    return 0;
}

int ds_lora_new(const ds_model *m, int rank, float alpha, int experts, uint64_t seed,
                ds_lora **out) {
    int rc = lora_alloc(m, rank, alpha, experts, out);
    if (rc) return rc;
    ds_lora *l = *out;
    ds_rng r;
    ds_rng_seed(&r, seed);
    for (int i = 0; i < l->table.n; i++) {
        const ds_param *p = &l->table.items[i];
        size_t n = strlen(p->name);
        if (p->name[n - 1] == 'a') // A: ([E,] r, in), B stays 0
            ds_rng_fill_normal(&r, l->params + p->offset, p->numel, 0.0f,
                               1.0f / sqrtf((float)p->shape[p->ndim - 1]));
    }
    return 0;
}

void ds_lora_free(ds_lora *l) {
    if (!l) return;
    free(l->params);
    free(l->training);
    ds_param_table_free(&l->table);
    free(l);
}

int ds_lora_view_new(const ds_lora *l, ds_ctx *ctx, ds_lora **out) {
    *out = NULL;
    ds_lora *v = malloc(sizeof *v);
    if (!v) return ds_error(DS_E_NOMEM, "lora: out of memory");
    *v = *l; // the table is borrowed
    v->training = NULL;
    size_t bytes = sizeof(float) * (size_t)l->table.total;
    if (!(v->params = ctx->ops->alloc(ctx, bytes ? bytes : 1))) {
        free(v);
        return ds_error(DS_E_NOMEM, "lora on %s: cannot hold %zu KiB of adapter", ctx->ops->name,
                        bytes >> 10);
    }
    ctx->ops->upload(ctx, v->params, l->params, bytes);
    *out = v;
    return 0;
}

void ds_lora_view_free(ds_lora *v, ds_ctx *ctx) {
    if (!v) return;
    ctx->ops->free(ctx, v->params);
    free(v);
}

int ds_lora_save(const ds_lora *l, const ds_model *m, const char *path) {
    ds_st_writer *w = ds_st_writer_new();
    if (!w) return ds_error(DS_E_NOMEM, "lora: out of memory");
    int rc = 0;
    for (int i = 0; i < l->table.n && !rc; i++) {
        const ds_param *p = &l->table.items[i];
        rc = ds_st_writer_add(w, p->name, DS_DTYPE_F32, p->ndim, p->shape, l->params + p->offset);
    }
    json_t *cj = ds_model_cfg_to_json(&m->cfg);
    char *cs = cj ? json_dumps(cj, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    char rank[16], alpha[32];
    snprintf(rank, sizeof rank, "%d", l->rank);
    snprintf(alpha, sizeof alpha, "%.9g", l->alpha);
    if (!rc && !cs) rc = ds_error(DS_E_NOMEM, "lora: out of memory");
    if (!rc) rc = ds_st_writer_set_metadata(w, "format", "docseek-lora-1");
    if (!rc) rc = ds_st_writer_set_metadata(w, "rank", rank);
    if (!rc) rc = ds_st_writer_set_metadata(w, "alpha", alpha);
    if (!rc)
        rc =
            ds_st_writer_set_metadata(w, "targets", l->experts ? "attention,experts" : "attention");
    if (!rc) rc = ds_st_writer_set_metadata(w, "base_config", cs);
    if (!rc && l->training) rc = ds_st_writer_set_metadata(w, "training", l->training);
    if (!rc) rc = ds_st_writer_write(w, path);
    free(cs);
    json_decref(cj);
    ds_st_writer_free(w);
    return rc;
}

int ds_lora_load(const char *path, const ds_model *m, ds_lora **out) {
    ds_safetensors *st;
    int rc = ds_st_open(path, &st);
    if (rc) return rc;
    const char *fmt = ds_st_metadata_get(st, "format"), *rs = ds_st_metadata_get(st, "rank");
    const char *as = ds_st_metadata_get(st, "alpha"), *cs = ds_st_metadata_get(st, "base_config");
    if (!fmt || strcmp(fmt, "docseek-lora-1") != 0 || !rs || !as || !cs) {
        ds_st_close(st);
        return ds_error(DS_E_FORMAT, "%s: not a docseek LoRA adapter", path);
    }
    json_t *cj = json_loads(cs, 0, NULL), *mine = ds_model_cfg_to_json(&m->cfg);
    int same = cj && mine && json_equal(cj, mine);
    json_decref(cj);
    json_decref(mine);
    if (!same) {
        ds_st_close(st);
        return ds_error(DS_E_INVAL, "%s: the adapter was made for a model of another config", path);
    }
    // adapters written before the experts option name no targets: attention only
    const char *targets = ds_st_metadata_get(st, "targets");
    int experts = targets && strstr(targets, "experts") != NULL;
    if ((rc = lora_alloc(m, atoi(rs), strtof(as, NULL), experts, out))) {
        ds_st_close(st);
        return rc;
    }
    ds_lora *l = *out;
    for (int i = 0; i < l->table.n && !rc; i++) {
        const ds_param *p = &l->table.items[i];
        const ds_st_tensor *t = ds_st_find(st, p->name);
        int same_shape = t && t->view.ndim == p->ndim;
        for (int d = 0; same_shape && d < p->ndim; d++)
            same_shape = t->view.shape[d] == p->shape[d];
        if (!t || t->view.dtype != DS_DTYPE_F32 || !same_shape)
            rc = ds_error(t ? DS_E_SHAPE : DS_E_FORMAT, "%s: tensor '%s' %s", path, p->name,
                          t ? "does not match the model" : "is missing");
        else
            memcpy(l->params + p->offset, t->view.data, sizeof(float) * p->numel);
    }
    const char *training = ds_st_metadata_get(st, "training");
    if (!rc && training && !(l->training = strdup(training)))
        rc = ds_error(DS_E_NOMEM, "lora: out of memory");
    ds_st_close(st);
    if (rc) {
        ds_lora_free(l);
        *out = NULL;
    }
    return rc;
}

// W (out, in) += s * B (out, r) A (r, in)
static void merge_one(float *W, const float *A, const float *B, int out, int in, int r, float s) {
    for (int o = 0; o < out; o++)
        for (int k = 0; k < r; k++) {
            float b = s * B[(size_t)o * r + k];
            const float *a = A + (size_t)k * in;
            float *w = W + (size_t)o * in;
            for (int i = 0; i < in; i++) w[i] += b * a[i];
        }
}

int ds_lora_merge(ds_model *m, const ds_lora *l) {
    if (!m->params_owned) return ds_error(DS_E_INVAL, "lora: merging needs writable weights");
    const ds_model_cfg *c = &m->cfg;
    int C = c->dim, qd = c->n_heads * c->head_dim, qkvd = qd + 2 * c->n_kv_heads * c->head_dim;
    ds_weights w;
    memset(&w, 0, sizeof w);
    ds_lora_point(m, l, l->params, &w);
    float s = l->alpha / (float)l->rank;
    for (int i = 0; i < c->n_layers; i++) {
        ds_lm_layer *L = &m->w.lm.layers[i];
        const ds_lm_layer *A = &w.lm.layers[i];
        merge_one(L->qkv, A->lora_qkv_a, A->lora_qkv_b, qkvd, C, l->rank, s);
        merge_one(L->o, A->lora_o_a, A->lora_o_b, C, qd, l->rank, s);
        if (!l->experts) continue;
        int moe = ds_lm_is_moe(c, i), E = c->n_experts, He = c->expert_hidden;
        int H = moe ? c->n_shared * He : c->dense_hidden;
        if (H > 0) {
            merge_one(moe ? L->shared_w13 : L->w13, A->lora_w13_a, A->lora_w13_b, 2 * H, C, l->rank,
                      s);
            merge_one(moe ? L->shared_w2 : L->w2, A->lora_w2_a, A->lora_w2_b, C, H, l->rank, s);
        }
        for (int e = 0; moe && e < E; e++) {
            int r = l->rank;
            merge_one(L->exp_w13 + (size_t)e * 2 * He * C, A->lora_exp13_a + (size_t)e * r * C,
                      A->lora_exp13_b + (size_t)e * 2 * He * r, 2 * He, C, r, s);
            merge_one(L->exp_w2 + (size_t)e * C * He, A->lora_exp2_a + (size_t)e * r * He,
                      A->lora_exp2_b + (size_t)e * C * r, C, He, r, s);
        }
    }
    ds_lora_detach(m);
    return 0;
}
