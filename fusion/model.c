// model.c: the model's life cycle: parameter layout over all modules,
// initialisation, the model file (safetensors with the config and the
// tokenizer as JSON in __metadata__) and parameter counts. Loading checks
// every tensor against the layout the config implies and, since the layout is
// gap-free like the file's, uses the mapping in place (no copy).
#include "fusion/model.h"

#include "core/error.h"
#include "core/rng.h"

#include <math.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

// Weights are streamed once per decoded token: 2 MiB pages cut the TLB misses of
// that stream (transparent huge pages; a hint, ignored where unsupported).
static void ds_advise_huge(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    if (bytes > 4096) madvise((void *)a, bytes - (a - (uintptr_t)p), MADV_HUGEPAGE);
#else
    (void)p, (void)bytes;
#endif
}

static void layout(const ds_model_cfg *cfg, ds_weights *w, ds_carver *c) {
    memset(w, 0, sizeof *w);
    int C = cfg->dim, D = cfg->vit_dim;
    if (ds_cfg_use_vit(cfg)) ds_vit_layout(cfg, &w->vit, c);
    if (cfg->use_prefix) {
        w->fu.proj1_w = ds_carve(c, 2, C, 4 * D, 0, "fusion.proj1.weight");
        w->fu.proj1_b = ds_carve(c, 1, C, 0, 0, "fusion.proj1.bias");
        w->fu.proj2_w = ds_carve(c, 2, C, C, 0, "fusion.proj2.weight");
        w->fu.proj2_b = ds_carve(c, 1, C, 0, 0, "fusion.proj2.bias");
    }
    if (cfg->use_box) {
        w->fu.box = ds_carve(c, 2, 4 * DS_BOX_BINS, C, 0, "fusion.box");
        w->fu.page = ds_carve(c, 2, cfg->max_pages, C, 0, "fusion.page");
    }
    if (cfg->use_roi) {
        w->fu.roi_w = ds_carve(c, 2, C, D, 0, "fusion.roi.weight");
        w->fu.roi_b = ds_carve(c, 1, C, 0, 0, "fusion.roi.bias");
    }
    if (cfg->use_glyph) {
        w->fu.glyph_w = ds_carve(c, 2, C, DS_GLYPH_DIM, 0, "fusion.glyph.weight");
        w->fu.glyph_b = ds_carve(c, 1, C, 0, 0, "fusion.glyph.bias");
    }
    ds_lm_layout(cfg, &w->lm, c);
    if (cfg->copy_pointer) {
        w->hd.ptr_q_start = ds_carve(c, 2, C, C, 0, "head.ptr_q_start.weight");
        w->hd.ptr_q_end = ds_carve(c, 2, C, C, 0, "head.ptr_q_end.weight");
        w->hd.ptr_k = ds_carve(c, 2, C, C, 0, "head.ptr_k.weight");
    }
    if (cfg->copy_pointer_gen) {
        w->hd.pg_q = ds_carve(c, 2, C, C, 0, "head.pg_q.weight");
        w->hd.pg_k = ds_carve(c, 2, C, C, 0, "head.pg_k.weight");
        w->hd.pg_gate = ds_carve(c, 1, C + 1, 0, 0, "head.pg_gate");
    }
}

void ds_model_point(const ds_model *m, float *base, ds_weights *w) {
    ds_carver c = {base, 0, NULL, 0};
    layout(&m->cfg, w, &c);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

// Norm weights 1, biases and the gate 0, everything else normal(0, std); the
// projections that write into a residual stream are scaled by 1/sqrt(2 L)
// (GPT-2) so the stream's variance does not grow with depth.
static void init_params(ds_model *m, uint64_t seed) {
    const ds_model_cfg *cfg = &m->cfg;
    ds_rng rng;
    ds_rng_seed(&rng, seed);
    for (int i = 0; i < m->table.n; i++) {
        const ds_param *p = &m->table.items[i];
        float *x = m->params + p->offset;
        const char *n = p->name;
        if (ends_with(n, "norm.weight") || ends_with(n, "ln1.weight") ||
            ends_with(n, "ln2.weight") || ends_with(n, "lnf.weight")) {
            for (int64_t j = 0; j < p->numel; j++) x[j] = 1.0f;
        } else if (ends_with(n, ".bias") || strcmp(n, "head.pg_gate") == 0) {
            memset(x, 0, sizeof(float) * p->numel);
        } else {
            float std = cfg->init_std;
            int layers = strncmp(n, "vision.", 7) == 0 ? cfg->vit_layers : cfg->n_layers;
            if (ends_with(n, ".o.weight") || ends_with(n, "w2.weight") ||
                ends_with(n, ".proj.weight") || ends_with(n, ".fc2.weight"))
                std /= sqrtf(2.0f * layers);
            ds_rng_fill_normal(&rng, x, p->numel, 0.0f, std);
        }
    }
}

static int model_new(const ds_model_cfg *cfg, ds_model **out) {
    int rc = ds_model_cfg_check(cfg);
    if (rc) return rc;
    ds_model *m = calloc(1, sizeof *m);
    if (!m) return ds_error(DS_E_NOMEM, "model: out of memory");
    m->cfg = *cfg;
    ds_carver c = {NULL, 0, &m->table, 0};
    layout(cfg, &m->w, &c);
    m->router_bias = calloc((size_t)cfg->n_layers * cfg->n_experts, sizeof(float));
    if (c.failed || !m->router_bias) {
        ds_model_free(m);
        return ds_error(DS_E_NOMEM, "model: out of memory");
    }
    *out = m;
    return 0;
}

int ds_model_init(const ds_model_cfg *cfg, ds_tokenizer *tok, uint64_t seed, ds_model **out) {
    if (tok && ds_tokenizer_vocab_size(tok) != cfg->vocab)
        return ds_error(DS_E_INVAL, "model: config vocab = %d but the tokenizer has %d tokens",
                        cfg->vocab, ds_tokenizer_vocab_size(tok));
    ds_model *m;
    int rc = model_new(cfg, &m);
    if (rc) return rc;
    m->params = aligned_alloc(64, ((size_t)m->table.total * sizeof(float) + 63) & ~(size_t)63);
    if (!m->params) {
        ds_model_free(m);
        return ds_error(DS_E_NOMEM, "model: cannot allocate %lld parameters",
                        (long long)m->table.total);
    }
    m->params_owned = 1;
    ds_advise_huge(m->params, (size_t)m->table.total * sizeof(float));
    ds_model_point(m, m->params, &m->w);
    init_params(m, seed);
    m->tok = tok;
    *out = m;
    return 0;
}

void ds_model_free(ds_model *m) {
    if (!m) return;
    if (m->params_owned) free(m->params);
    ds_st_close(m->file);
    ds_tokenizer_free(m->tok);
    free(m->training);
    free(m->router_bias);
    ds_lm_bf16_free(m->dec_bf16);
    ds_param_table_free(&m->table);
    free(m);
}

#define DS_MODEL_FORMAT "docseek-model-1"
#define DS_BIAS_NAME    "lm.router_bias"

int ds_model_save(const ds_model *m, const char *path) {
    ds_st_writer *w = ds_st_writer_new();
    if (!w) return ds_error(DS_E_NOMEM, "model: out of memory");
    int rc = 0;
    for (int i = 0; i < m->table.n && !rc; i++) {
        const ds_param *p = &m->table.items[i];
        rc = ds_st_writer_add(w, p->name, DS_DTYPE_F32, p->ndim, p->shape, m->params + p->offset);
    }
    int64_t bshape[2] = {m->cfg.n_layers, m->cfg.n_experts};
    if (!rc) rc = ds_st_writer_add(w, DS_BIAS_NAME, DS_DTYPE_F32, 2, bshape, m->router_bias);
    json_t *cj = ds_model_cfg_to_json(&m->cfg);
    char *cs = cj ? json_dumps(cj, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_t *tj = m->tok ? ds_tokenizer_to_json(m->tok) : NULL;
    char *ts = tj ? json_dumps(tj, JSON_COMPACT) : NULL;
    if (!rc && (!cs || (m->tok && !ts))) rc = ds_error(DS_E_NOMEM, "model: out of memory");
    if (!rc) rc = ds_st_writer_set_metadata(w, "format", DS_MODEL_FORMAT);
    if (!rc) rc = ds_st_writer_set_metadata(w, "config", cs);
    if (!rc && ts) rc = ds_st_writer_set_metadata(w, "tokenizer", ts);
    if (!rc && m->training) rc = ds_st_writer_set_metadata(w, "training", m->training);
    if (!rc) rc = ds_st_writer_write(w, path);
    free(cs);
    free(ts);
    json_decref(cj);
    json_decref(tj);
    ds_st_writer_free(w);
    return rc;
}

static int check_tensor(const char *path, const ds_st_tensor *t, const char *name, int ndim,
                        const int64_t *shape) {
    if (!t)
        return ds_error(DS_E_FORMAT, "%s: tensor '%s' is missing (the config needs it)", path,
                        name);
    if (t->view.dtype != DS_DTYPE_F32)
        return ds_error(DS_E_DTYPE, "%s: tensor '%s' is %s, expected F32", path, name,
                        ds_dtype_name(t->view.dtype));
    int same = t->view.ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->view.shape[i] == shape[i];
    if (!same) {
        char got[96], want[96];
        ds_tensor wt = ds_tensor_make(NULL, DS_DTYPE_F32, ndim, shape);
        return ds_error(DS_E_SHAPE, "%s: tensor '%s' has shape %s, the config needs %s", path, name,
                        ds_tensor_shape_str(&t->view, got, sizeof got),
                        ds_tensor_shape_str(&wt, want, sizeof want));
    }
    if (!t->aligned)
        return ds_error(DS_E_FORMAT, "%s: tensor '%s' is not 4-byte aligned in the file", path,
                        name);
    return 0;
}

int ds_model_load(const char *path, ds_model **out) {
    ds_safetensors *st;
    int rc = ds_st_open(path, &st);
    if (rc) return rc;
    const char *fmt = ds_st_metadata_get(st, "format");
    const char *cs = ds_st_metadata_get(st, "config");
    if (!fmt || strcmp(fmt, DS_MODEL_FORMAT) != 0 || !cs) {
        ds_st_close(st);
        return ds_error(DS_E_FORMAT,
                        "%s: not a docseek model (metadata needs format=%s and a config)", path,
                        DS_MODEL_FORMAT);
    }
    json_error_t jerr;
    json_t *cj = json_loads(cs, 0, &jerr);
    ds_model_cfg cfg;
    rc = cj ? ds_model_cfg_from_json(cj, &cfg)
            : ds_error(DS_E_FORMAT, "%s: config metadata: %s", path, jerr.text);
    json_decref(cj);
    if (rc) {
        ds_st_close(st);
        return rc;
    }
    ds_tokenizer *tok = NULL;
    const char *ts = ds_st_metadata_get(st, "tokenizer");
    if (ts) {
        json_t *tj = json_loads(ts, 0, &jerr);
        rc = tj ? ds_tokenizer_from_json(tj, &tok)
                : ds_error(DS_E_FORMAT, "%s: tokenizer metadata: %s", path, jerr.text);
        json_decref(tj);
        if (!rc && ds_tokenizer_vocab_size(tok) != cfg.vocab)
            rc = ds_error(DS_E_FORMAT, "%s: config vocab = %d but the tokenizer has %d tokens",
                          path, cfg.vocab, ds_tokenizer_vocab_size(tok));
        if (rc) {
            ds_tokenizer_free(tok);
            ds_st_close(st);
            return rc;
        }
    }
    ds_model *m;
    rc = model_new(&cfg, &m);
    if (rc) {
        ds_tokenizer_free(tok);
        ds_st_close(st);
        return rc;
    }
    m->tok = tok;
    m->file = st;
    const char *tr = ds_st_metadata_get(st, "training");
    if (tr && !(m->training = strdup(tr))) {
        ds_model_free(m);
        return ds_error(DS_E_NOMEM, "model: out of memory");
    }
    int expected = m->table.n + 1;
    if (ds_st_count(st) != expected)
        for (int i = 0; i < ds_st_count(st); i++) {
            const char *n = ds_st_get(st, i)->name;
            if (strcmp(n, DS_BIAS_NAME) != 0 && !ds_param_find(&m->table, n)) {
                // the message first: n belongs to the file, which ds_model_free closes
                rc = ds_error(DS_E_FORMAT, "%s: tensor '%s' is not part of this config", path, n);
                ds_model_free(m);
                return rc;
            }
        }
    int in_place = 1;
    const float *base = NULL;
    for (int i = 0; i < m->table.n; i++) {
        const ds_param *p = &m->table.items[i];
        const ds_st_tensor *t = ds_st_find(st, p->name);
        if ((rc = check_tensor(path, t, p->name, p->ndim, p->shape))) {
            ds_model_free(m);
            return rc;
        }
        const float *d = t->view.data;
        if (i == 0)
            base = d - p->offset;
        else if (d != base + p->offset)
            in_place = 0;
    }
    int64_t bshape[2] = {cfg.n_layers, cfg.n_experts};
    const ds_st_tensor *bt = ds_st_find(st, DS_BIAS_NAME);
    if ((rc = check_tensor(path, bt, DS_BIAS_NAME, 2, bshape))) {
        ds_model_free(m);
        return rc;
    }
    memcpy(m->router_bias, bt->view.data, sizeof(float) * cfg.n_layers * cfg.n_experts);
    if (in_place) {
        m->params = (float *)base;
    } else { // a file written by another tool may order tensors differently
        m->params = aligned_alloc(64, ((size_t)m->table.total * sizeof(float) + 63) & ~(size_t)63);
        if (!m->params) {
            ds_model_free(m);
            return ds_error(DS_E_NOMEM, "model: out of memory");
        }
        m->params_owned = 1;
        for (int i = 0; i < m->table.n; i++) {
            const ds_param *p = &m->table.items[i];
            memcpy(m->params + p->offset, ds_st_find(st, p->name)->view.data,
                   sizeof(float) * p->numel);
        }
    }
    ds_model_point(m, m->params, &m->w);
    *out = m;
    return 0;
}

int ds_model_make_writable(ds_model *m) {
    if (m->params_owned) return 0;
    float *p = aligned_alloc(64, ((size_t)m->table.total * sizeof(float) + 63) & ~(size_t)63);
    if (!p) return ds_error(DS_E_NOMEM, "model: out of memory");
    ds_advise_huge(p, sizeof(float) * m->table.total);
    memcpy(p, m->params, sizeof(float) * m->table.total);
    m->params = p;
    m->params_owned = 1;
    ds_model_point(m, m->params, &m->w);
    return 0;
}

void ds_model_count(const ds_model *m, int64_t *total, int64_t *active) {
    const ds_model_cfg *c = &m->cfg;
    int64_t per_expert = (int64_t)3 * c->expert_hidden * c->dim;
    int n_moe = c->n_layers - c->n_dense_layers;
    *total = m->table.total;
    *active = m->table.total - (int64_t)n_moe * (c->n_experts - c->topk) * per_expert;
}
