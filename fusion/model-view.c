// model-view.c: see ds_model_view_new in model.h. The view is the trainer's
// device model made for inference: the same layout walk (ds_model_point) over
// parameters copied once into the context's memory.
#include "fusion/model.h"

#include "core/error.h"

#include <stdlib.h>

int ds_model_view_new(ds_model *m, ds_ctx *ctx, ds_model **out) {
    *out = NULL;
    ds_model *v = calloc(1, sizeof *v);
    if (!v) return ds_error(DS_E_NOMEM, "model view: out of memory");
    size_t nb = sizeof(float) * (size_t)m->cfg.n_layers * m->cfg.n_experts;
    size_t np = sizeof(float) * (size_t)m->table.total;
    v->cfg = m->cfg;
    v->tok = m->tok;
    v->table = m->table;
    v->host = m;
    v->params = ctx->ops->alloc(ctx, np);
    v->router_bias = ctx->ops->alloc(ctx, nb > 0 ? nb : 1);
    if (!v->params || !v->router_bias) {
        ds_model_view_free(v, ctx);
        return ds_error(DS_E_NOMEM, "model on %s: cannot hold %zu MiB of parameters",
                        ctx->ops->name, np >> 20);
    }
    ctx->ops->upload(ctx, v->params, m->params, np);
    ctx->ops->upload(ctx, v->router_bias, m->router_bias, nb);
    ds_model_point(m, v->params, &v->w);
    *out = v;
    return 0;
}

void ds_model_view_free(ds_model *v, ds_ctx *ctx) {
    if (!v) return;
    ctx->ops->free(ctx, v->params);
    ctx->ops->free(ctx, v->router_bias);
    free(v);
}
