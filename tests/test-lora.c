// test-lora.c: LoRA adapters: gradients of A and B against finite differences,
// a merged model computes what the base with its adapter attached computes, an
// adapter file round-trips and refuses another base, and adapter training
// leaves the base untouched while the loss falls.
#include "core/error.h"
#include "fusion/lora.h"
#include "fusion/model-impl.h"
#include "model-fixtures.h"
#include "test.h"
#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double loss_of(ds_model *m, ds_ctx *ctx, ds_batch *b, ds_arena *a) {
    ds_arena_reset(a);
    ds_fwd *f;
    ds_step_stats st;
    return ds_model_forward(m, ctx, b, a, &f, &st) ? NAN : st.loss;
}

static int setup(ds_model **m, ds_lora **l, ds_seq *seqs, ds_batch *b) {
    ds_model_cfg cfg;
    ds_fixture_tiny_cfg(&cfg, 0);
    cfg.n_layers = 2; // keep it quick: one dense, one MoE layer
    if (ds_model_init(&cfg, NULL, 3, m)) return 1;
    if (ds_lora_new(*m, 4, 8.0f, 1, 5, l)) return 1; // attention, FFN, shared, routed experts
    ds_rng r;
    ds_rng_seed(&r, 6);
    for (int i = 0; i < (*l)->table.n; i++) { // a trained-looking adapter: B not zero
        const ds_param *p = &(*l)->table.items[i];
        ds_rng_fill_normal(&r, (*l)->params + p->offset, p->numel, 0.0f, 0.2f);
    }
    ds_seq *ptrs[2];
    for (int i = 0; i < 2; i++) {
        if (ds_fixture_seq(&cfg, &r, 1, 6, &seqs[i])) return 1;
        ptrs[i] = &seqs[i];
    }
    return ds_batch_pack(&cfg, ptrs, 2, b);
}

DS_TEST(lora_grad_check) {
    ds_model *m;
    ds_lora *l;
    ds_seq seqs[2];
    ds_batch b;
    DS_CHECK(setup(&m, &l, seqs, &b) == 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    ds_arena a;
    ds_arena_init(&a, 0, 0);
    ds_lora_attach(m, l);
    float *grad = calloc((size_t)m->table.total, sizeof(float));
    float *lgrad = calloc((size_t)l->table.total, sizeof(float));
    ds_weights gw;
    ds_model_point(m, grad, &gw);
    ds_lora_point(m, l, lgrad, &gw);
    ds_fwd *f;
    ds_step_stats st;
    DS_CHECK(ds_model_forward(m, ctx, &b, &a, &f, &st) == 0);
    DS_CHECK(ds_model_backward(m, ctx, &b, f, &gw, &a) == 0);
    double worst = 0;
    ds_rng r;
    ds_rng_seed(&r, 9);
    for (int i = 0; i < l->table.n; i++) {
        const ds_param *p = &l->table.items[i];
        float *x = l->params + p->offset, *g = lgrad + p->offset;
        float *d = malloc(sizeof(float) * p->numel), *x0 = malloc(sizeof(float) * p->numel);
        memcpy(x0, x, sizeof(float) * p->numel);
        double an = 0, dn = 0;
        for (int64_t j = 0; j < p->numel; j++) {
            d[j] = ds_rng_normal(&r);
            dn += (double)d[j] * d[j];
        }
        for (int64_t j = 0; j < p->numel; j++) {
            d[j] = (float)(d[j] / sqrt(dn));
            an += (double)d[j] * g[j];
        }
        double gn = 0;
        for (int64_t j = 0; j < p->numel; j++) gn += (double)g[j] * g[j];
        // Central differences at two step sizes: a step that moves some token's top-k
        // expert choice in a later MoE layer crosses a kink of the loss and spoils that
        // difference, not the gradient; the smaller error of the two counts.
        double rel = INFINITY, fd = 0;
        for (double h = 1e-3; h > 1e-4; h /= 4) {
            for (int64_t j = 0; j < p->numel; j++) x[j] = x0[j] + (float)h * d[j];
            double lp = loss_of(m, ctx, &b, &a);
            for (int64_t j = 0; j < p->numel; j++) x[j] = x0[j] - (float)h * d[j];
            double lm = loss_of(m, ctx, &b, &a);
            memcpy(x, x0, sizeof(float) * p->numel);
            // a random direction can be nearly orthogonal to g: measure against |g| / 20 at least
            double fdh = (lp - lm) / (2 * h);
            double e =
                fabs(fdh - an) / fmax(fmax(fabs(fdh), fabs(an)), fmax(0.05 * sqrt(gn), 1e-4));
            if (e < rel) rel = e, fd = fdh;
        }
        printf("  %-24s directional derivative %+.6f vs FD %+.6f  rel err %.1e\n", p->name, an, fd,
               rel);
        worst = fmax(worst, rel);
        free(d);
        free(x0);
    }
    printf("  %d adapter tensors, worst relative error %.2e\n", l->table.n, worst);
    free(grad);
    free(lgrad);
    ds_arena_free(&a);
    ds_ctx_free(ctx);
    ds_batch_free(&b);
    ds_seq_free(&seqs[0]);
    ds_seq_free(&seqs[1]);
    ds_lora_free(l);
    ds_model_free(m);
    return worst > 2e-2;
}

DS_TEST(lora_merge_save_load_train) {
    ds_model *m;
    ds_lora *l;
    ds_seq seqs[2];
    ds_batch b;
    DS_CHECK(setup(&m, &l, seqs, &b) == 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    ds_arena a;
    ds_arena_init(&a, 0, 0);
    double base = loss_of(m, ctx, &b, &a);
    ds_lora_attach(m, l);
    double with = loss_of(m, ctx, &b, &a);
    // save, load into a fresh attachment: the same loss
    char path[512];
    snprintf(path, sizeof path, "%s/adapter.safetensors", ds_test_tmpdir());
    DS_CHECK(ds_lora_save(l, m, path) == 0);
    ds_lora *l2;
    DS_CHECK(ds_lora_load(path, m, &l2) == 0);
    ds_lora_attach(m, l2);
    double loaded = loss_of(m, ctx, &b, &a);
    DS_CHECK(memcmp(l->params, l2->params, sizeof(float) * l->table.total) == 0);
    // merged weights compute what base + adapter computes
    DS_CHECK(ds_lora_merge(m, l2) == 0);
    double merged = loss_of(m, ctx, &b, &a);
    printf("  loss: base %.6f, with adapter %.6f, adapter reloaded %.6f, merged %.6f\n", base, with,
           loaded, merged);
    DS_CHECK(fabs(with - base) > 1e-3); // the adapter matters
    DS_CHECK(loaded == with);
    DS_CHECK(fabs(merged - with) < 1e-4 * fabs(with));
    // an adapter for another config is refused
    ds_model_cfg other = m->cfg;
    other.dim = 24;
    other.head_dim = 6;
    ds_model *m2;
    DS_CHECK(ds_model_init(&other, NULL, 1, &m2) == 0);
    ds_lora *l3 = NULL;
    int rc = ds_lora_load(path, m2, &l3);
    printf("  adapter on another model: %s (%s)\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK(rc == DS_E_INVAL && l3 == NULL);
    ds_model_free(m2);
    // training an adapter: the loss falls, the base does not move
    ds_lora_free(l2);
    ds_lora *fresh;
    DS_CHECK(ds_lora_new(m, 4, 8.0f, 1, 11, &fresh) == 0);
    float *before = malloc(sizeof(float) * m->table.total);
    memcpy(before, m->params, sizeof(float) * m->table.total);
    ds_trainer *t;
    DS_CHECK(ds_trainer_new_lora(m, ctx, NULL, fresh, &t) == 0);
    ds_step_stats st;
    double gn, first = 0;
    for (int s = 1; s <= 30; s++) {
        DS_CHECK(ds_trainer_step(t, &b, 1e-2f, &st, &gn) == 0);
        if (s == 1) first = st.loss;
    }
    printf("  adapter training: loss %.4f -> %.4f in 30 steps; base parameters unchanged\n", first,
           st.loss);
    DS_CHECK(st.loss < 0.8 * first);
    DS_CHECK(memcmp(before, m->params, sizeof(float) * m->table.total) == 0);
    free(before);
    ds_trainer_free(t);
    ds_lora_free(fresh);
    ds_arena_free(&a);
    ds_ctx_free(ctx);
    ds_batch_free(&b);
    ds_seq_free(&seqs[0]);
    ds_seq_free(&seqs[1]);
    ds_lora_free(l);
    ds_model_free(m);
    return 0;
}
