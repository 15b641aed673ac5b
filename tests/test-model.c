// test-model.c: the whole model on a tiny config: gradients of every parameter
// tensor against central finite differences. (The model file and the config's
// checks: test-model-file.c; routing and balancing: test-routing.c.)
#include "core/error.h"
#include "core/rng.h"
#include "fusion/model-impl.h"
#include "model-fixtures.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ds_model *m;
    ds_ctx *ctx;
    ds_batch *b;
    ds_arena arena;
    int32_t *routes; // expert choices of the reference forward, to detect flips
    int64_t n_routes;
    int flipped;
} gc_env;

static int64_t collect_routes(const ds_model *m, const ds_fwd *f, int32_t *out) {
    int64_t n = 0;
    for (int l = m->cfg.n_dense_layers; l < m->cfg.n_layers; l++)
        for (int64_t i = 0; i < (int64_t)f->lm.N * m->cfg.topk; i++) {
            if (out) out[n] = f->lm.l[l].eidx[i];
            n++;
        }
    return n;
}

static double gc_loss(gc_env *e) {
    ds_arena_reset(&e->arena);
    ds_fwd *f;
    ds_step_stats st;
    if (ds_model_forward(e->m, e->ctx, e->b, &e->arena, &f, &st)) return NAN;
    if (e->routes) {
        int32_t *now = malloc(sizeof(int32_t) * e->n_routes);
        collect_routes(e->m, f, now);
        if (memcmp(now, e->routes, sizeof(int32_t) * e->n_routes)) e->flipped = 1;
        free(now);
    }
    return st.loss;
}

static int make_batch(ds_model_cfg *cfg, ds_batch *b, ds_seq *seqs, int n, uint64_t seed) {
    ds_rng r;
    ds_rng_seed(&r, seed);
    ds_seq *ptrs[8];
    for (int i = 0; i < n; i++) {
        if (ds_fixture_seq(cfg, &r, 1 + i % 2, 5 + 2 * i, &seqs[i])) return 1;
        ptrs[i] = &seqs[i];
    }
    return ds_batch_pack(cfg, ptrs, n, b);
}

DS_TEST(model_grad_check) {
    ds_model_cfg cfg;
    ds_model *m;
    ds_rng r;
    ds_rng_seed(&r, 3);
    DS_CHECK(ds_fixture_tiny_model(12, 7, &r, &cfg, &m) == 0);
    ds_seq seqs[2];
    ds_batch b;
    DS_CHECK(make_batch(&cfg, &b, seqs, 2, 11) == 0);
    printf("  batch: %d sequences, %d tokens, %d pages, %d words\n", b.n_seq, b.N, b.P, b.n_words);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    DS_CHECK(ctx);
    gc_env e = {m, ctx, &b, {0}, NULL, 0, 0};
    ds_arena_init(&e.arena, 0, 0);
    // analytic gradients
    float *grad = calloc((size_t)m->table.total, sizeof(float));
    ds_weights gw;
    ds_model_point(m, grad, &gw);
    ds_fwd *f;
    ds_step_stats st;
    DS_CHECK(ds_model_forward(m, ctx, &b, &e.arena, &f, &st) == 0);
    printf("  loss %.5f: answer %.4f (%d), pointer %.4f (%d), document %.4f (%d), balance %.5f\n",
           st.loss, st.loss_ans, st.n_ans, st.loss_ptr, st.n_ptr, st.loss_doc, st.n_doc,
           st.balance);
    DS_CHECK(st.n_ans > 0 && st.n_ptr > 0 && st.n_doc > 0 && st.balance > 0);
    e.n_routes = collect_routes(m, f, NULL);
    e.routes = malloc(sizeof(int32_t) * e.n_routes);
    collect_routes(m, f, e.routes);
    DS_CHECK(ds_model_backward(m, ctx, &b, f, &gw, &e.arena) == 0);
    // Per tensor: the directional derivative along a random direction and along the
    // gradient itself, and the single largest entry, each against central differences.
    int fails = 0;
    double worst = 0;
    for (int i = 0; i < m->table.n; i++) {
        const ds_param *p = &m->table.items[i];
        float *x = m->params + p->offset, *g = grad + p->offset;
        float *d = malloc(sizeof(float) * p->numel), *x0 = malloc(sizeof(float) * p->numel);
        memcpy(x0, x, sizeof(float) * p->numel);
        double gnorm = 0;
        int64_t imax = 0;
        for (int64_t j = 0; j < p->numel; j++) {
            gnorm += (double)g[j] * g[j];
            if (fabsf(g[j]) > fabsf(g[imax])) imax = j;
        }
        gnorm = sqrt(gnorm);
        double rel[3] = {0, 0, 0};
        const char *what[3] = {"random", "gradient", "largest"};
        for (int k = 0; k < 3; k++) {
            // direction, and the analytic directional derivative
            double an = 0, dn = 0;
            for (int64_t j = 0; j < p->numel; j++) {
                d[j] = k == 0 ? ds_rng_normal(&r) : k == 1 ? g[j] : (j == imax);
                dn += (double)d[j] * d[j];
            }
            dn = sqrt(dn);
            if (dn == 0) continue;
            for (int64_t j = 0; j < p->numel; j++) {
                d[j] = (float)(d[j] / dn);
                an += (double)d[j] * g[j];
            }
            double fd = NAN;
            for (double h = 1e-2; h > 1e-5; h /= 4) {
                e.flipped = 0;
                for (int64_t j = 0; j < p->numel; j++) x[j] = x0[j] + (float)h * d[j];
                double lp = gc_loss(&e);
                for (int64_t j = 0; j < p->numel; j++) x[j] = x0[j] - (float)h * d[j];
                double lm = gc_loss(&e);
                memcpy(x, x0, sizeof(float) * p->numel);
                if (!e.flipped) { // a routing flip makes the loss jump: try a smaller step
                    fd = (lp - lm) / (2 * h);
                    break;
                }
            }
            // A random direction can be nearly orthogonal to the gradient (sparse ones like
            // the box tables): its error is measured against a twentieth of |g| at least.
            double err = fabs(fd - an), scale = fmax(fmax(fabs(fd), fabs(an)), 1e-4);
            if (k == 0) scale = fmax(scale, 0.05 * gnorm);
            rel[k] = err / scale;
            if (isnan(fd)) rel[k] = INFINITY;
        }
        double tol = 2e-2;
        int bad = rel[0] > tol || rel[1] > tol || rel[2] > tol;
        fails += bad;
        for (int k = 0; k < 3; k++) worst = fmax(worst, rel[k]);
        printf("  %-44s |g| %.3e  rel err %s %.1e, %s %.1e, %s %.1e%s\n", p->name, gnorm, what[0],
               rel[0], what[1], rel[1], what[2], rel[2], bad ? "  <-- FAIL" : "");
        free(d);
        free(x0);
    }
    printf("  %d tensors, worst relative error %.2e, %d over tolerance 2e-2\n", m->table.n, worst,
           fails);
    free(e.routes);
    free(grad);
    ds_arena_free(&e.arena);
    ds_ctx_free(ctx);
    ds_batch_free(&b);
    for (int i = 0; i < 2; i++) ds_seq_free(&seqs[i]);
    ds_model_free(m);
    return fails != 0;
}

// Activation recomputation (ds_lm_weights.recompute) changes what a step holds, not what
// it computes: the same losses, expert load and gradients bit for bit, with less of the
// arena held between the forward and the backward (the LM keeps only each layer's input).
static int grads_of(ds_model *m, ds_ctx *ctx, const ds_batch *b, int recompute, float *grad,
                    ds_step_stats *st, float *load, size_t *held) {
    ds_arena arena;
    ds_arena_init(&arena, 0, 0);
    ds_weights gw;
    ds_model_point(m, grad, &gw);
    memset(grad, 0, sizeof(float) * m->table.total);
    m->w.lm.recompute = recompute;
    ds_fwd *f;
    int rc = ds_model_forward(m, ctx, b, &arena, &f, st);
    *held = arena.bytes_used;
    if (!rc) memcpy(load, st->load, sizeof(float) * m->cfg.n_layers * m->cfg.n_experts);
    st->load = NULL; // in the arena, freed below
    if (!rc) rc = ds_model_backward(m, ctx, b, f, &gw, &arena);
    if (!rc && recompute != f->lm.recompute) rc = 1;
    ds_arena_free(&arena);
    m->w.lm.recompute = 0;
    return rc;
}

DS_TEST(model_recompute_same_gradients) {
    ds_model_cfg cfg;
    ds_model *m;
    ds_rng r;
    ds_rng_seed(&r, 3);
    DS_CHECK(ds_fixture_tiny_model(12, 7, &r, &cfg, &m) == 0);
    ds_seq seqs[3];
    ds_batch b;
    DS_CHECK(make_batch(&cfg, &b, seqs, 3, 12) == 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx);
    float *g0 = malloc(sizeof(float) * m->table.total),
          *g1 = malloc(sizeof(float) * m->table.total);
    float *load0 = malloc(sizeof(float) * cfg.n_layers * cfg.n_experts);
    float *load1 = malloc(sizeof(float) * cfg.n_layers * cfg.n_experts);
    ds_step_stats s0, s1;
    size_t held0, held1;
    DS_CHECK(grads_of(m, ctx, &b, 0, g0, &s0, load0, &held0) == 0);
    DS_CHECK(grads_of(m, ctx, &b, 1, g1, &s1, load1, &held1) == 0);
    printf("  %d tokens, %d layers: loss %.7f / %.7f (balance %.3g / %.3g); arena held between "
           "forward and backward %zu / %zu bytes (%.0f%%)\n",
           b.N, cfg.n_layers, s0.loss, s1.loss, s0.balance, s1.balance, held0, held1,
           100.0 * held1 / held0);
    DS_CHECK(s0.loss == s1.loss && s0.balance == s1.balance && s0.balance > 0);
    DS_CHECK(memcmp(g0, g1, sizeof(float) * m->table.total) == 0);
    DS_CHECK(memcmp(load0, load1, sizeof(float) * cfg.n_layers * cfg.n_experts) == 0);
    DS_CHECK(held1 < held0);
    free(g0);
    free(g1);
    free(load0);
    free(load1);
    ds_ctx_free(ctx);
    ds_batch_free(&b);
    for (int i = 0; i < 3; i++) ds_seq_free(&seqs[i]);
    ds_model_free(m);
    return 0;
}

// The glyph strip of a word sees a filled square drawn in its left margin, in
// the margin's columns and rows where the square is, and nothing elsewhere; the
// same square moved right of the word shows in the right margin instead.
DS_TEST(model_glyph_strip_sees_marks) {
    const int S = 64;
    float *px = malloc(sizeof(float) * 2 * 3 * S * S);
    DS_CHECK(px);
    for (int i = 0; i < 2 * 3 * S * S; i++) px[i] = 1.0f; // white
    // page 1: word box x 20..40, y 30..36 (h = 6, margins 12 px); a black square
    // x 12..16, y 31..35 in the left margin [8, 20)
    for (int c = 0; c < 3; c++)
        for (int y = 31; y < 35; y++)
            for (int x = 12; x < 16; x++) px[(size_t)(3 + c) * S * S + y * S + x] = -1.0f;
    int32_t roi[5] = {1, 20, 30, 40, 36};
    float g[DS_GLYPH_DIM];
    ds_glyph_strip(g, px, S, roi);
    double left = 0, rest = 0;
    int inked = 0;
    for (int i = 0; i < DS_GLYPH_ROWS; i++)
        for (int j = 0; j < DS_GLYPH_COLS; j++) {
            float v = g[i * DS_GLYPH_COLS + j];
            DS_CHECK(v >= -1e-6f && v <= 1.0f + 1e-6f);
            if (j < DS_GLYPH_MARGIN_COLS)
                left += v, inked += v > 0.5f;
            else
                rest += v;
        }
    // the square covers 4 of the margin's 12 columns (2.7 of 8 cells) and 4 of the
    // strip's 9 rows (2.7 of 6 cells): about 7 cells' worth of ink
    printf("  left margin ink %.2f (cells > 0.5: %d), elsewhere %.2f\n", left, inked, rest);
    DS_CHECK(left > 4.0 && left < 10.0 && inked >= 2);
    DS_CHECK(rest < 1e-6);
    // the same square on the right of the word: x 44..48 in [40, 52)
    for (int i = 3 * S * S; i < 6 * S * S; i++) px[i] = 1.0f;
    for (int c = 0; c < 3; c++)
        for (int y = 31; y < 35; y++)
            for (int x = 44; x < 48; x++) px[(size_t)(3 + c) * S * S + y * S + x] = -1.0f;
    ds_glyph_strip(g, px, S, roi);
    double right = 0;
    rest = 0;
    for (int i = 0; i < DS_GLYPH_ROWS; i++)
        for (int j = 0; j < DS_GLYPH_COLS; j++)
            if (j >= DS_GLYPH_COLS - DS_GLYPH_MARGIN_COLS)
                right += g[i * DS_GLYPH_COLS + j];
            else
                rest += g[i * DS_GLYPH_COLS + j];
    printf("  moved right: right margin ink %.2f, elsewhere %.2f\n", right, rest);
    DS_CHECK(fabs(right - left) < 1e-3 && rest < 1e-6);
    // page 0 (white) reads nothing
    roi[0] = 0;
    ds_glyph_strip(g, px, S, roi);
    for (int i = 0; i < DS_GLYPH_DIM; i++) DS_CHECK(g[i] == 0.0f);
    free(px);
    return 0;
}
