// trainer.c: see trainer.h. Gradients and both AdamW moments mirror the
// parameter buffer (llm.c), so the update is one call over all parameters.
// On a GPU context the parameters, gradients and moments are device buffers
// (one allocation each) and the trainer computes with the model's view there
// (ds_model_view_new); the model's host parameters are brought up to date
// by ds_trainer_sync. The routing bias is nudged on the host and sent up. Under
// LoRA the view runs with a copy of the adapter in device memory, which AdamW
// updates, and ds_trainer_sync brings the adapter's host parameters up to date.
#include "train/trainer.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ds_trainer {
    ds_model *m;
    ds_ctx *ctx;
    ds_trainer_opts o;
    float *grad, *mom, *var; // context memory
    float *opt_p, *opt_g;    // what AdamW updates: the model's parameters, or an adapter's
    int64_t opt_n;
    float *lgrad;        // adapter gradients (LoRA), or NULL
    const ds_lora *lora; // the adapter trained, or NULL
    ds_weights gw;
    ds_arena arena, host; // activations (context memory); host: the device arena's companion
    ds_model *dev;        // on a GPU: the model's view there (weights, routing bias), or NULL
    ds_lora *ldev;        // on a GPU under LoRA: the adapter up there, attached to dev
    int on_device;
    int step;
};

const char *ds_trainer_device(const ds_model_cfg *cfg, const char *device) {
    return !strcmp(device, "auto") && (cfg->copy_mask || cfg->copy_pointer_gen) ? "cpu" : device;
}

// The model as the context computes it.
static ds_model *compute_model(ds_trainer *t) {
    return t->dev ? t->dev : t->m;
}

// n floats of zeros in the context's memory, or NULL.
static float *ctx_zeros(ds_ctx *ctx, int64_t n) {
    float *p = ctx->ops->alloc(ctx, sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (p) ctx->ops->zero(ctx, p, sizeof(float) * (size_t)n);
    return p;
}

void ds_trainer_opts_default(ds_trainer_opts *o) {
    o->beta1 = 0.9f;
    o->beta2 = 0.95f;
    o->eps = 1e-8f;
    o->weight_decay = 0.0f;
    o->clip = 1.0f;
    o->arena_limit = 0;
    o->arena_chunk = (size_t)64 << 20;
    o->recompute = 0;
}

// A trainer whose AdamW updates opt_n parameters at opt_p: the model's own, or an
// adapter's (l not NULL: then the base's gradients are computed by the backward
// pass and ignored, and l is attached to the model).
static int trainer_new(ds_model *m, ds_ctx *ctx, const ds_trainer_opts *o, ds_lora *l,
                       ds_trainer **out) {
    ds_trainer *t = calloc(1, sizeof *t);
    if (!t) return ds_error(DS_E_NOMEM, "trainer: out of memory");
    t->m = m;
    t->ctx = ctx;
    if (o)
        t->o = *o;
    else
        ds_trainer_opts_default(&t->o);
    t->on_device = ctx->backend != DS_BACKEND_CPU;
    if (t->on_device && (m->cfg.copy_mask || m->cfg.copy_pointer_gen)) {
        free(t);
        return ds_error(DS_E_UNSUPPORTED, "trainer: the copy mask and pointer-generator heads "
                                          "train on the CPU only so far (use --device cpu)");
    }
    t->opt_n = l ? l->table.total : m->table.total;
    t->grad = ctx_zeros(ctx, m->table.total);
    t->lgrad = l ? ctx_zeros(ctx, t->opt_n) : NULL;
    t->mom = ctx_zeros(ctx, t->opt_n);
    t->var = ctx_zeros(ctx, t->opt_n);
    if (t->on_device && ds_model_view_new(m, ctx, &t->dev) == 0 && l &&
        ds_lora_view_new(l, ctx, &t->ldev) == 0)
        ds_lora_attach(t->dev, t->ldev);
    if (!t->grad || (l && !t->lgrad) || !t->mom || !t->var ||
        (t->on_device && (!t->dev || (l && !t->ldev)))) {
        long long n = (long long)t->opt_n;
        ds_trainer_free(t);
        return ds_error(DS_E_NOMEM,
                        "trainer: cannot allocate the gradients and moments of %lld parameters", n);
    }
    ds_model_point(m, t->grad, &t->gw);
    if (l) {
        ds_lora_attach(m, l);
        ds_lora_point(m, l, t->lgrad, &t->gw);
    }
    ds_ctx_arena_init(ctx, &t->arena, &t->host, t->o.arena_chunk, t->o.arena_limit);
    m->w.lm.recompute = t->o.recompute;
    if (t->dev) t->dev->w.lm.recompute = t->o.recompute;
    t->lora = l;
    t->opt_p = l ? (t->ldev ? t->ldev->params : l->params) : t->dev ? t->dev->params : m->params;
    t->opt_g = l ? t->lgrad : t->grad;
    *out = t;
    return 0;
}

int ds_trainer_new(ds_model *m, ds_ctx *ctx, const ds_trainer_opts *o, ds_trainer **out) {
    if (!m->params_owned)
        return ds_error(DS_E_INVAL, "trainer: parameters are read-only (call "
                                    "ds_model_make_writable)");
    return trainer_new(m, ctx, o, NULL, out);
}

int ds_trainer_new_lora(ds_model *m, ds_ctx *ctx, const ds_trainer_opts *o, ds_lora *l,
                        ds_trainer **out) {
    return trainer_new(m, ctx, o, l, out);
}

void ds_trainer_free(ds_trainer *t) {
    if (!t) return;
    ds_ctx *ctx = t->ctx;
    float *bufs[] = {t->grad, t->lgrad, t->mom, t->var};
    for (int i = 0; i < 4; i++) ctx->ops->free(ctx, bufs[i]);
    ds_model_view_free(t->dev, ctx);
    ds_lora_view_free(t->ldev, ctx);
    ds_arena_free(&t->arena);
    ds_arena_free(&t->host);
    free(t);
}

int ds_trainer_sync(ds_trainer *t) {
    if (!t->on_device) return 0;
    if (t->lora) // the base stays frozen (and may be a read-only mapping)
        t->ctx->ops->download(t->ctx, t->lora->params, t->ldev->params, sizeof(float) * t->opt_n);
    else
        t->ctx->ops->download(t->ctx, t->m->params, t->dev->params,
                              sizeof(float) * t->m->table.total);
    return 0;
}

int ds_trainer_steps_done(const ds_trainer *t) {
    return t->step;
}

size_t ds_trainer_arena_peak(const ds_trainer *t) {
    return t->arena.bytes_peak;
}

int ds_trainer_step(ds_trainer *t, const ds_batch *b, float lr, ds_step_stats *st,
                    double *grad_norm) {
    ds_model *m = t->m;
    const ds_ops *ops = t->ctx->ops;
    int64_t n = m->table.total;
    ds_arena_reset(&t->arena);
    ops->zero(t->ctx, t->grad, sizeof(float) * n);
    if (t->lgrad) ops->zero(t->ctx, t->lgrad, sizeof(float) * t->opt_n);
    ds_fwd *f;
    ds_model *cm = compute_model(t);
    int rc = ds_model_forward(cm, t->ctx, b, &t->arena, &f, st);
    if (!rc) rc = ds_model_backward(cm, t->ctx, b, f, &t->gw, &t->arena);
    if (rc) return rc;
    double norm = sqrt(ops->sumsq(t->ctx, t->opt_g, t->opt_n));
    if (grad_norm) *grad_norm = norm;
    if (!isfinite(norm))
        return ds_error(DS_E_INTERNAL, "trainer: gradient norm is %g at step %d", norm,
                        t->step + 1);
    t->step++;
    ds_adamw_cfg cfg = {lr,       t->o.beta1,        t->o.beta2,
                        t->o.eps, t->o.weight_decay, ds_clip_scale(norm, t->o.clip),
                        t->step};
    ops->adamw_update(t->ctx, t->opt_p, t->opt_g, t->mom, t->var, t->opt_n, &cfg);
    if (!t->lgrad) { // frozen under LoRA
        ds_moe_bias_update(&m->cfg, m->router_bias, st->load);
        if (t->on_device)
            ops->upload(t->ctx, t->dev->router_bias, m->router_bias,
                        sizeof(float) * m->cfg.n_layers * m->cfg.n_experts);
    }
    return 0;
}

// ---- checkpoints

// What an adapter checkpoint must match besides the base's config: "rank R alpha A"
// (and " experts" for adapters on the feed-forward too).
static void adapter_tag(const ds_trainer *t, char *buf, size_t cap) {
    snprintf(buf, cap, "rank %d alpha %g%s", t->lora->rank, (double)t->lora->alpha,
             t->lora->experts ? " experts" : "");
}

// The n floats at p (context memory) on the host: p itself on the CPU, else a malloc'ed
// copy (*owned set to it, free it); NULL when out of memory.
static const float *on_host(ds_ctx *ctx, const float *p, int64_t n, float **owned) {
    *owned = NULL;
    if (ctx->backend == DS_BACKEND_CPU) return p;
    if (!(*owned = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1)))) return NULL;
    ctx->ops->download(ctx, *owned, p, sizeof(float) * (size_t)n);
    return *owned;
}

// The optimised parameters (the model's, or under LoRA the adapter's) with their
// AdamW moments; the router bias only for model training (frozen under LoRA).
int ds_trainer_save(const ds_trainer *t, const char *path, const json_t *meta) {
    const ds_model *m = t->m;
    float *own[3];
    const float *hp = on_host(t->ctx, t->opt_p, t->opt_n, &own[0]);
    const float *hm = on_host(t->ctx, t->mom, t->opt_n, &own[1]);
    const float *hv = on_host(t->ctx, t->var, t->opt_n, &own[2]);
    ds_st_writer *w = hp && hm && hv ? ds_st_writer_new() : NULL;
    if (!w) {
        for (int i = 0; i < 3; i++) free(own[i]);
        return ds_error(DS_E_NOMEM, "checkpoint: out of memory");
    }
    int64_t n[1] = {t->opt_n}, nb[1] = {(int64_t)m->cfg.n_layers * m->cfg.n_experts};
    json_t *cj = ds_model_cfg_to_json(&m->cfg);
    char *cs = cj ? json_dumps(cj, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_t *tj = m->tok ? ds_tokenizer_to_json(m->tok) : NULL;
    char *ts = tj ? json_dumps(tj, JSON_COMPACT) : NULL;
    char *ms = meta ? json_dumps(meta, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    char step[32];
    snprintf(step, sizeof step, "%d", t->step);
    int rc = !cs || (m->tok && !ts) ? ds_error(DS_E_NOMEM, "checkpoint: out of memory") : 0;
    char tag[64];
    if (t->lora) adapter_tag(t, tag, sizeof tag);
    if (!rc) rc = ds_st_writer_add(w, "params", DS_DTYPE_F32, 1, n, hp);
    if (!rc) rc = ds_st_writer_add(w, "adam_m", DS_DTYPE_F32, 1, n, hm);
    if (!rc) rc = ds_st_writer_add(w, "adam_v", DS_DTYPE_F32, 1, n, hv);
    if (!rc && !t->lora)
        rc = ds_st_writer_add(w, "router_bias", DS_DTYPE_F32, 1, nb, m->router_bias);
    if (!rc) rc = ds_st_writer_set_metadata(w, "format", "docseek-checkpoint-1");
    if (!rc && t->lora) rc = ds_st_writer_set_metadata(w, "adapter", tag);
    if (!rc) rc = ds_st_writer_set_metadata(w, "config", cs);
    if (!rc && ts) rc = ds_st_writer_set_metadata(w, "tokenizer", ts);
    if (!rc) rc = ds_st_writer_set_metadata(w, "step", step);
    if (!rc && ms) rc = ds_st_writer_set_metadata(w, "train", ms);
    if (!rc) rc = ds_st_writer_write(w, path);
    free(cs);
    free(ts);
    free(ms);
    json_decref(cj);
    json_decref(tj);
    ds_st_writer_free(w);
    for (int i = 0; i < 3; i++) free(own[i]);
    return rc;
}

// Tensor name (n floats) of the checkpoint into dst, in ctx's memory.
static int load_tensor(ds_ctx *ctx, const ds_safetensors *st, const char *path, const char *name,
                       float *dst, int64_t n) {
    const ds_st_tensor *t = ds_st_find(st, name);
    if (!t || t->view.dtype != DS_DTYPE_F32 || t->view.ndim != 1 || t->view.shape[0] != n)
        return ds_error(DS_E_FORMAT, "checkpoint %s: tensor '%s' missing or not F32 (%lld)", path,
                        name, (long long)n);
    ctx->ops->upload(ctx, dst, t->view.data, sizeof(float) * n);
    return 0;
}

int ds_trainer_load(ds_trainer *t, const char *path, json_t **meta) {
    ds_model *m = t->m;
    ds_safetensors *st;
    int rc = ds_st_open(path, &st);
    if (rc) return rc;
    const char *fmt = ds_st_metadata_get(st, "format");
    const char *cs = ds_st_metadata_get(st, "config");
    const char *ss = ds_st_metadata_get(st, "step");
    json_t *cj = cs ? json_loads(cs, 0, NULL) : NULL, *mine = ds_model_cfg_to_json(&m->cfg);
    if (!fmt || strcmp(fmt, "docseek-checkpoint-1") != 0 || !ss)
        rc = ds_error(DS_E_FORMAT, "%s: not a docseek checkpoint", path);
    else if (!cj || !json_equal(cj, mine))
        rc = ds_error(DS_E_INVAL, "%s: the checkpoint's config differs from this model's", path);
    json_decref(cj);
    json_decref(mine);
    const char *have = ds_st_metadata_get(st, "adapter");
    char tag[64];
    if (t->lora) adapter_tag(t, tag, sizeof tag);
    if (!rc && (t->lora ? !have || strcmp(have, tag) != 0 : have != NULL))
        rc = ds_error(DS_E_INVAL, "%s: a checkpoint of %s, this is %s training", path,
                      have ? have : "model", t->lora ? tag : "model");
    int64_t n = t->opt_n;
    int64_t nb = (int64_t)m->cfg.n_layers * m->cfg.n_experts;
    if (!rc) rc = load_tensor(t->ctx, st, path, "params", t->opt_p, n);
    if (!rc) rc = load_tensor(t->ctx, st, path, "adam_m", t->mom, n);
    if (!rc) rc = load_tensor(t->ctx, st, path, "adam_v", t->var, n);
    if (!rc && !t->lora) {
        const ds_st_tensor *bt = ds_st_find(st, "router_bias");
        if (!bt || bt->view.dtype != DS_DTYPE_F32 || bt->view.ndim != 1 || bt->view.shape[0] != nb)
            rc =
                ds_error(DS_E_FORMAT, "checkpoint %s: tensor 'router_bias' missing or wrong", path);
        else
            memcpy(m->router_bias, bt->view.data, sizeof(float) * nb);
        if (!rc && t->on_device)
            t->ctx->ops->upload(t->ctx, t->dev->router_bias, m->router_bias, sizeof(float) * nb);
    }
    if (!rc) rc = ds_trainer_sync(t); // the model's host parameters follow
    if (!rc) t->step = atoi(ss);
    if (!rc && meta) {
        const char *ms = ds_st_metadata_get(st, "train");
        *meta = ms ? json_loads(ms, 0, NULL) : NULL;
    }
    ds_st_close(st);
    return rc;
}
