// trainer.c: see trainer.h. Gradients and both AdamW moments mirror the
// parameter buffer (llm.c), so the update is one call over all parameters.
#include "train/trainer.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ds_trainer {
    ds_model *m;
    ds_ctx *ctx;
    ds_trainer_opts o;
    float *grad, *mom, *var;
    ds_weights gw;
    ds_arena arena;
    int step;
};

void ds_trainer_opts_default(ds_trainer_opts *o) {
    o->beta1 = 0.9f;
    o->beta2 = 0.95f;
    o->eps = 1e-8f;
    o->weight_decay = 0.0f;
    o->clip = 1.0f;
    o->arena_limit = 0;
}

int ds_trainer_new(ds_model *m, ds_ctx *ctx, const ds_trainer_opts *o, ds_trainer **out) {
    if (!m->params_owned)
        return ds_error(DS_E_INVAL, "trainer: parameters are read-only (call "
                                    "ds_model_make_writable)");
    ds_trainer *t = calloc(1, sizeof *t);
    if (!t) return ds_error(DS_E_NOMEM, "trainer: out of memory");
    t->m = m;
    t->ctx = ctx;
    if (o)
        t->o = *o;
    else
        ds_trainer_opts_default(&t->o);
    size_t n = (size_t)m->table.total;
    t->grad = calloc(n, sizeof(float));
    t->mom = calloc(n, sizeof(float));
    t->var = calloc(n, sizeof(float));
    if (!t->grad || !t->mom || !t->var) {
        ds_trainer_free(t);
        return ds_error(DS_E_NOMEM, "trainer: cannot allocate 3 x %zu floats", n);
    }
    ds_model_point(m, t->grad, &t->gw);
    ds_arena_init(&t->arena, 64u << 20, t->o.arena_limit);
    *out = t;
    return 0;
}

void ds_trainer_free(ds_trainer *t) {
    if (!t) return;
    free(t->grad);
    free(t->mom);
    free(t->var);
    ds_arena_free(&t->arena);
    free(t);
}

int ds_trainer_steps_done(const ds_trainer *t) {
    return t->step;
}

int ds_trainer_step(ds_trainer *t, const ds_batch *b, float lr, ds_step_stats *st,
                    double *grad_norm) {
    ds_model *m = t->m;
    const ds_ops *ops = t->ctx->ops;
    int64_t n = m->table.total;
    ds_arena_reset(&t->arena);
    ops->zero(t->ctx, t->grad, sizeof(float) * n);
    ds_fwd *f;
    int rc = ds_model_forward(m, t->ctx, b, &t->arena, &f, st);
    if (!rc) rc = ds_model_backward(m, t->ctx, b, f, &t->gw, &t->arena);
    if (rc) return rc;
    double norm = sqrt(ops->sumsq(t->ctx, t->grad, n));
    if (grad_norm) *grad_norm = norm;
    if (!isfinite(norm))
        return ds_error(DS_E_INTERNAL, "trainer: gradient norm is %g at step %d", norm,
                        t->step + 1);
    t->step++;
    ds_adamw_cfg cfg = {lr,       t->o.beta1,        t->o.beta2,
                        t->o.eps, t->o.weight_decay, ds_clip_scale(norm, t->o.clip),
                        t->step};
    ops->adamw_update(t->ctx, m->params, t->grad, t->mom, t->var, n, &cfg);
    ds_moe_bias_update(&m->cfg, m->router_bias, st->load);
    return 0;
}
