// test-moe.c: the MoE routing and data-movement ops of the CPU backend against independent
// references: a brute-force group-limited selection (full sorts, written apart from the
// kernel's insertion lists), naive double forwards, and central finite differences of those
// forwards for every backward. Sizes include odd ones and more rows than threads.
#include "tests/test.h"
#include "core/rng.h"
#include "kernels/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- shared helpers

typedef struct {
    float v;
    int i;
} ranked;

// Decreasing value, then increasing index: the order the op promises.
static int ranked_cmp(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    if (a->v > b->v) return -1;
    if (a->v < b->v) return 1;
    return (a->i > b->i) - (a->i < b->i);
}

static int float_desc(const void *pa, const void *pb) {
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a < b) - (a > b);
}

// Double-precision scores of one row.
static void ref_scores(double *s, const double *l, int E, ds_router_score fn) {
    if (fn == DS_ROUTER_SIGMOID) {
        for (int e = 0; e < E; e++) s[e] = 1.0 / (1.0 + exp(-l[e]));
        return;
    }
    double mx = l[0], sum = 0;
    for (int e = 1; e < E; e++) mx = fmax(mx, l[e]);
    for (int e = 0; e < E; e++) sum += (s[e] = exp(l[e] - mx));
    for (int e = 0; e < E; e++) s[e] /= sum;
}

// Double-precision weights of one row for a given (fixed) selection.
static void ref_weights(double *w, const double *s, const int32_t *idx, ds_router_cfg cfg) {
    double sum = 0;
    for (int k = 0; k < cfg.topk; k++) sum += s[idx[k]];
    for (int k = 0; k < cfg.topk; k++)
        w[k] = (cfg.normalize ? s[idx[k]] / sum : s[idx[k]]) * cfg.scale;
}

// Brute-force group-limited selection of one row from float scores s (E) and bias (or NULL),
// DeepSeek-V3 section 2.1.2: group score = sum of its top-2 biased scores (top-1 for a
// one-expert group) by a full sort; keep the best topk_groups groups; fully sort the rest.
static void brute_select(int32_t *idx, const float *s, const float *bias, ds_router_cfg c) {
    int E = c.n_experts, G = c.n_groups, gs = E / G;
    float *b = malloc(sizeof(float) * E), *tmp = malloc(sizeof(float) * gs);
    ranked *groups = malloc(sizeof(ranked) * G), *cand = malloc(sizeof(ranked) * E);
    char *keep = calloc((size_t)G, 1);
    for (int e = 0; e < E; e++) b[e] = bias ? s[e] + bias[e] : s[e];
    for (int g = 0; g < G; g++) {
        memcpy(tmp, b + g * gs, sizeof(float) * gs);
        qsort(tmp, (size_t)gs, sizeof(float), float_desc);
        groups[g] = (ranked){gs >= 2 ? tmp[0] + tmp[1] : tmp[0], g};
    }
    qsort(groups, (size_t)G, sizeof(ranked), ranked_cmp);
    for (int g = 0; g < c.topk_groups; g++) keep[groups[g].i] = 1;
    int n = 0;
    for (int e = 0; e < E; e++)
        if (keep[e / gs]) cand[n++] = (ranked){b[e], e};
    qsort(cand, (size_t)n, sizeof(ranked), ranked_cmp);
    for (int k = 0; k < c.topk; k++) idx[k] = cand[k].i;
    free(b);
    free(tmp);
    free(groups);
    free(cand);
    free(keep);
}

// ---- routing: selection

DS_TEST(moe_route_select) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    // (E, n_groups, topk_groups, topk); (6,6,3,2) has one-expert groups (group score = top-1).
    static const int shapes[][4] = {{16, 4, 2, 2}, {16, 4, 4, 2}, {8, 1, 1, 2},
                                    {12, 3, 1, 3}, {6, 6, 3, 2},  {32, 8, 3, 5}};
    const int T = 37;
    int fails = 0, ties = 0;
    ds_rng rng;
    ds_rng_seed(&rng, 1234);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        for (int variant = 0; variant < 8; variant++) {
            ds_router_cfg cfg = {.n_experts = shapes[si][0],
                                 .n_groups = shapes[si][1],
                                 .topk_groups = shapes[si][2],
                                 .topk = shapes[si][3],
                                 .score = (variant & 1) ? DS_ROUTER_SIGMOID : DS_ROUTER_SOFTMAX,
                                 .normalize = (variant >> 2) & 1,
                                 .scale = 2.5f};
            int use_bias = (variant >> 1) & 1;
            // Variants 0..3 quantise logits to multiples of 0.5 so ties happen often and the
            // lower-index rule is exercised; 4..7 use continuous logits.
            int quantise = variant < 4;
            int E = cfg.n_experts, K = cfg.topk;
            float *logits = malloc(sizeof(float) * T * E), *bias = malloc(sizeof(float) * E);
            float *scores = malloc(sizeof(float) * T * E), *w = malloc(sizeof(float) * T * K);
            int32_t *idx = malloc(sizeof(int32_t) * T * K), *ref_idx = malloc(sizeof(int32_t) * K);
            double *ld = malloc(sizeof(double) * E), *sd = malloc(sizeof(double) * T * E);
            double *wd = malloc(sizeof(double) * T * K);
            ds_rng_fill_normal(&rng, logits, (int64_t)T * E, 0.0f, 1.5f);
            ds_rng_fill_normal(&rng, bias, E, 0.0f, 0.3f);
            if (quantise)
                for (int i = 0; i < T * E; i++) logits[i] = roundf(logits[i] * 2.0f) * 0.5f;
            if (quantise)
                for (int e = 0; e < E; e++) bias[e] = roundf(bias[e] * 8.0f) * 0.125f;
            ctx->ops->moe_route_forward(ctx, idx, w, scores, logits, use_bias ? bias : NULL, T,
                                        cfg);
            int bad_sel = 0;
            for (int t = 0; t < T; t++) {
                // Selection from the kernel's own float scores: the brute force must agree
                // exactly, ties included; scores are checked against double separately.
                brute_select(ref_idx, scores + t * E, use_bias ? bias : NULL, cfg);
                for (int k = 0; k < K; k++) {
                    if (idx[t * K + k] != ref_idx[k]) {
                        if (bad_sel < 3)
                            fprintf(stderr,
                                    "  E=%d G=%d kg=%d k=%d var=%d t=%d slot %d: %d vs %d\n", E,
                                    cfg.n_groups, cfg.topk_groups, K, variant, t, k, idx[t * K + k],
                                    ref_idx[k]);
                        bad_sel++;
                    }
                }
                // Count ties that touch the selection, to show the lower-index rule is used.
                for (int k = 0; k < K; k++) {
                    int c = idx[t * K + k];
                    float bc = scores[t * E + c] + (use_bias ? bias[c] : 0.0f);
                    for (int e = 0; e < E; e++)
                        ties += e != c && scores[t * E + e] + (use_bias ? bias[e] : 0.0f) == bc;
                }
                ds_test_to_f64(ld, logits + t * E, E);
                ref_scores(sd + t * E, ld, E, cfg.score);
                ref_weights(wd + t * K, sd + t * E, idx + t * K, cfg);
            }
            char what[96];
            snprintf(what, sizeof what, "select E%d G%d kg%d k%d var%d", E, cfg.n_groups,
                     cfg.topk_groups, K, variant);
            printf("  %-40s %d of %d slots differ from brute force %s\n", what, bad_sel, T * K,
                   bad_sel ? "MISMATCH" : "ok");
            fails += bad_sel;
            snprintf(what, sizeof what, "scores E%d var%d", E, variant);
            fails += ds_test_close_f64(what, scores, sd, (int64_t)T * E, 1e-6, 1e-5) != 0;
            snprintf(what, sizeof what, "weights E%d var%d", E, variant);
            fails += ds_test_close_f64(what, w, wd, (int64_t)T * K, 1e-6, 1e-5) != 0;
            free(logits);
            free(bias);
            free(scores);
            free(w);
            free(idx);
            free(ref_idx);
            free(ld);
            free(sd);
            free(wd);
        }
    }
    printf("  ties touching the selection (quantised logits): %d\n", ties);
    DS_CHECK(ties > 0);
    ds_ctx_free(ctx);
    return fails != 0;
}

// ---- routing: the bias steers selection only

DS_TEST(moe_route_bias) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const int T = 23, E = 16, K = 3, star = 5;
    int fails = 0;
    float *logits = malloc(sizeof(float) * T * E), *bias = calloc((size_t)E, sizeof(float));
    float *scores = malloc(sizeof(float) * T * E), *w = malloc(sizeof(float) * T * K);
    int32_t *idx = malloc(sizeof(int32_t) * T * K);
    double *ld = malloc(sizeof(double) * E), *sd = malloc(sizeof(double) * E);
    double *wd = malloc(sizeof(double) * T * K);
    ds_test_randn(logits, (int64_t)T * E, 77, 1.0f);
    for (int t = 0; t < T; t++) logits[t * E + star] = -4.0f; // never chosen on merit
    for (int pass = 0; pass < 2; pass++) {
        ds_router_cfg cfg = {.n_experts = E,
                             .n_groups = 4,
                             .topk_groups = 2,
                             .topk = K,
                             .score = pass ? DS_ROUTER_SOFTMAX : DS_ROUTER_SIGMOID,
                             .normalize = !pass,
                             .scale = 2.5f};
        bias[star] = 0.0f;
        ctx->ops->moe_route_forward(ctx, idx, w, scores, logits, bias, T, cfg);
        for (int i = 0; i < T * K; i++) DS_CHECK(idx[i] != star);
        bias[star] = 10.0f;
        ctx->ops->moe_route_forward(ctx, idx, w, scores, logits, bias, T, cfg);
        for (int t = 0; t < T; t++) {
            DS_CHECK_INT_EQ(idx[t * K], star); // the largest biased score comes first
            ds_test_to_f64(ld, logits + t * E, E);
            ref_scores(sd, ld, E, cfg.score);
            // The weight is the UNBIASED score (normalised over the chosen set), not s + bias.
            ref_weights(wd + t * K, sd, idx + t * K, cfg);
        }
        fails += ds_test_close_f64(pass ? "bias softmax raw weights" : "bias sigmoid norm weights",
                                   w, wd, (int64_t)T * K, 1e-6, 1e-5) != 0;
    }
    free(logits);
    free(bias);
    free(scores);
    free(w);
    free(idx);
    free(ld);
    free(sd);
    free(wd);
    ds_ctx_free(ctx);
    return fails != 0;
}

// ---- routing: backward vs finite differences with the selection held fixed

typedef struct {
    const double *logits; // (T, E)
    const double *g;      // (T, K) loss weights
    const int32_t *idx;   // (T, K) the fixed selection
    double *s;            // (E) work
    int T;
    ds_router_cfg cfg;
} route_env;

static double route_loss(void *p) {
    route_env *v = p;
    int E = v->cfg.n_experts, K = v->cfg.topk;
    double w[64], loss = 0;
    for (int t = 0; t < v->T; t++) {
        ref_scores(v->s, v->logits + t * E, E, v->cfg.score);
        ref_weights(w, v->s, v->idx + t * K, v->cfg);
        for (int k = 0; k < K; k++) loss += v->g[t * K + k] * w[k];
    }
    return loss;
}

DS_TEST(moe_route_grad) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const int T = 9, E = 12, K = 3;
    const float prefill = 0.25f;
    int fails = 0;
    ds_rng rng;
    ds_rng_seed(&rng, 99);
    float *logits = malloc(sizeof(float) * T * E), *bias = malloc(sizeof(float) * E);
    float *scores = malloc(sizeof(float) * T * E), *w = malloc(sizeof(float) * T * K);
    float *g = malloc(sizeof(float) * T * K), *dl = malloc(sizeof(float) * T * E);
    int32_t *idx = malloc(sizeof(int32_t) * T * K);
    double *ld = malloc(sizeof(double) * T * E), *gd = malloc(sizeof(double) * T * K);
    double *fd = malloc(sizeof(double) * T * E), *sw = malloc(sizeof(double) * E);
    // Well-separated logits: a shuffled ladder with steps of 0.35, so the finite-difference
    // step (1e-4) cannot reorder experts even if the selection were recomputed.
    for (int t = 0; t < T; t++) {
        for (int e = 0; e < E; e++) logits[t * E + e] = -2.0f + 0.35f * e;
        for (int e = E - 1; e > 0; e--) {
            int j = (int)ds_rng_below(&rng, (uint64_t)e + 1);
            float tmp = logits[t * E + e];
            logits[t * E + e] = logits[t * E + j];
            logits[t * E + j] = tmp;
        }
    }
    ds_rng_fill_normal(&rng, bias, E, 0.0f, 0.01f);
    ds_rng_fill_normal(&rng, g, (int64_t)T * K, 0.0f, 1.0f);
    ds_test_to_f64(ld, logits, (int64_t)T * E);
    ds_test_to_f64(gd, g, (int64_t)T * K);
    static const struct {
        ds_router_score score;
        int normalize;
        float scale;
    } cases[] = {{DS_ROUTER_SIGMOID, 1, 2.5f},
                 {DS_ROUTER_SIGMOID, 0, 1.5f},
                 {DS_ROUTER_SOFTMAX, 1, 2.5f},
                 {DS_ROUTER_SOFTMAX, 0, 0.7f}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        ds_router_cfg cfg = {.n_experts = E,
                             .n_groups = 3,
                             .topk_groups = 2,
                             .topk = K,
                             .score = cases[ci].score,
                             .normalize = cases[ci].normalize,
                             .scale = cases[ci].scale};
        ctx->ops->moe_route_forward(ctx, idx, w, scores, logits, bias, T, cfg);
        route_env env = {.logits = ld, .g = gd, .idx = idx, .s = sw, .T = T, .cfg = cfg};
        ds_test_fd_grad(ld, (int64_t)T * E, fd, route_loss, &env, 1e-4);
        for (int i = 0; i < T * E; i++) {
            dl[i] = prefill;
            fd[i] += prefill; // backward accumulates onto what is there
        }
        ctx->ops->moe_route_backward(ctx, dl, g, idx, scores, T, cfg);
        char what[64];
        snprintf(what, sizeof what, "route dlogits %s norm%d scale%.1f",
                 cfg.score == DS_ROUTER_SIGMOID ? "sigmoid" : "softmax", cfg.normalize,
                 (double)cfg.scale);
        fails += ds_test_close_f64(what, dl, fd, (int64_t)T * E, 1e-4, 1e-3) != 0;
    }
    free(logits);
    free(bias);
    free(scores);
    free(w);
    free(g);
    free(dl);
    free(idx);
    free(ld);
    free(gd);
    free(fd);
    free(sw);
    ds_ctx_free(ctx);
    return fails != 0;
}

// ---- permute

// Random routing: topk distinct experts per token drawn from the first E_used of E experts,
// so the last experts get no rows (empty segments must work too).
static void random_routing(int32_t *idx, int T, int K, int E_used, uint64_t seed) {
    ds_rng r;
    ds_rng_seed(&r, seed);
    for (int t = 0; t < T; t++)
        for (int k = 0; k < K; k++) {
            int32_t e;
            int dup;
            do {
                e = (int32_t)ds_rng_below(&r, (uint64_t)E_used);
                dup = 0;
                for (int j = 0; j < k; j++) dup |= idx[t * K + j] == e;
            } while (dup);
            idx[t * K + k] = e;
        }
}

DS_TEST(moe_permute) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const int T = 37, K = 3, E = 11, N = T * K;
    int32_t *idx = malloc(sizeof(int32_t) * N), *offsets = malloc(sizeof(int32_t) * (E + 1));
    int32_t *row_of = malloc(sizeof(int32_t) * N), *token_of = malloc(sizeof(int32_t) * N);
    int32_t *assign_of = malloc(sizeof(int32_t) * N), *count = calloc((size_t)E, sizeof(int32_t));
    random_routing(idx, T, K, E - 2, 5);
    for (int i = 0; i < N; i++) count[idx[i]]++;
    for (int i = 0; i < N; i++) assign_of[i] = -1;
    ctx->ops->moe_permute(ctx, offsets, row_of, token_of, idx, T, K, E);
    DS_CHECK_INT_EQ(offsets[0], 0);
    DS_CHECK_INT_EQ(offsets[E], N);
    for (int e = 0; e < E; e++) {
        DS_CHECK(offsets[e] <= offsets[e + 1]);
        DS_CHECK_INT_EQ(offsets[e + 1] - offsets[e], count[e]);
    }
    DS_CHECK_INT_EQ(count[E - 1], 0);
    for (int i = 0; i < N; i++) {
        int32_t r = row_of[i];
        DS_CHECK(r >= 0 && r < N);
        DS_CHECK_INT_EQ(assign_of[r], -1); // each row is used once: a bijection
        assign_of[r] = i;
        DS_CHECK_INT_EQ(token_of[r], i / K);                       // token_of inverts row_of
        DS_CHECK(r >= offsets[idx[i]] && r < offsets[idx[i] + 1]); // in its expert's segment
    }
    // Stable: inside each expert's segment, the assignments keep (token, slot) order.
    for (int e = 0; e < E; e++)
        for (int r = offsets[e] + 1; r < offsets[e + 1]; r++)
            DS_CHECK(assign_of[r - 1] < assign_of[r]);
    printf("  permute T=%d topk=%d E=%d: counts, offsets, inverse maps, stability ok\n", T, K, E);
    free(idx);
    free(offsets);
    free(row_of);
    free(token_of);
    free(assign_of);
    free(count);
    ds_ctx_free(ctx);
    return 0;
}

// ---- dispatch and combine: forward

DS_TEST(moe_dispatch_combine) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const int T = 37, K = 3, E = 7, C = 13, N = T * K;
    int fails = 0;
    int32_t *idx = malloc(sizeof(int32_t) * N), *offsets = malloc(sizeof(int32_t) * (E + 1));
    int32_t *row_of = malloc(sizeof(int32_t) * N), *token_of = malloc(sizeof(int32_t) * N);
    float *x = malloc(sizeof(float) * T * C), *xp = malloc(sizeof(float) * N * C);
    float *out = malloc(sizeof(float) * T * C), *w = malloc(sizeof(float) * N);
    double *ref = malloc(sizeof(double) * N * C);
    random_routing(idx, T, K, E, 11);
    ds_test_randn(x, (int64_t)T * C, 12, 1.0f);
    ctx->ops->moe_permute(ctx, offsets, row_of, token_of, idx, T, K, E);
    ctx->ops->moe_dispatch_forward(ctx, xp, x, token_of, T, K, C);
    for (int r = 0; r < N; r++)
        for (int c = 0; c < C; c++) ref[r * C + c] = x[token_of[r] * C + c];
    fails += ds_test_close_f64("dispatch xp", xp, ref, (int64_t)N * C, 0, 0) != 0;
    // Identity experts (yp = xp) with unit weights: every token comes back topk times.
    for (int i = 0; i < N; i++) w[i] = 1.0f;
    memset(out, 0xff, sizeof(float) * T * C); // NaN garbage: forward must overwrite
    ctx->ops->moe_combine_forward(ctx, out, xp, w, row_of, T, K, C);
    for (int i = 0; i < T * C; i++) ref[i] = (double)K * x[i];
    fails += ds_test_close_f64("identity experts, unit weights = topk*x", out, ref, (int64_t)T * C,
                               1e-6, 1e-6) != 0;
    for (int i = 0; i < N; i++) w[i] = 1.0f / K;
    ctx->ops->moe_combine_forward(ctx, out, xp, w, row_of, T, K, C);
    for (int i = 0; i < T * C; i++) ref[i] = x[i];
    fails += ds_test_close_f64("identity experts, weights 1/topk = x", out, ref, (int64_t)T * C,
                               1e-6, 1e-6) != 0;
    // Random expert outputs and weights against a naive double loop.
    ds_test_randn(xp, (int64_t)N * C, 13, 1.0f);
    ds_test_randn(w, N, 14, 1.0f);
    ctx->ops->moe_combine_forward(ctx, out, xp, w, row_of, T, K, C);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += (double)w[t * K + k] * xp[row_of[t * K + k] * C + c];
            ref[t * C + c] = s;
        }
    fails += ds_test_close_f64("combine out", out, ref, (int64_t)T * C, 1e-5, 1e-4) != 0;
    free(idx);
    free(offsets);
    free(row_of);
    free(token_of);
    free(x);
    free(xp);
    free(out);
    free(w);
    free(ref);
    ds_ctx_free(ctx);
    return fails != 0;
}

// ---- dispatch and combine: backward vs finite differences

typedef struct {
    const double *x, *yp, *w, *g; // g: loss weights of the output
    const int32_t *row_of, *token_of;
    int T, K, C;
} move_env;

static double dispatch_loss(void *p) {
    move_env *v = p;
    double loss = 0;
    for (int r = 0; r < v->T * v->K; r++)
        for (int c = 0; c < v->C; c++) loss += v->g[r * v->C + c] * v->x[v->token_of[r] * v->C + c];
    return loss;
}

static double combine_loss(void *p) {
    move_env *v = p;
    double loss = 0;
    for (int t = 0; t < v->T; t++)
        for (int c = 0; c < v->C; c++) {
            double o = 0;
            for (int k = 0; k < v->K; k++)
                o += v->w[t * v->K + k] * v->yp[v->row_of[t * v->K + k] * v->C + c];
            loss += v->g[t * v->C + c] * o;
        }
    return loss;
}

DS_TEST(moe_dispatch_combine_grad) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const int T = 9, K = 2, E = 5, C = 7, N = T * K;
    const float prefill = 0.5f;
    int fails = 0;
    int32_t *idx = malloc(sizeof(int32_t) * N), *offsets = malloc(sizeof(int32_t) * (E + 1));
    int32_t *row_of = malloc(sizeof(int32_t) * N), *token_of = malloc(sizeof(int32_t) * N);
    float *yp = malloc(sizeof(float) * N * C), *w = malloc(sizeof(float) * N);
    float *gout = malloc(sizeof(float) * T * C), *gxp = malloc(sizeof(float) * N * C);
    float *dx = malloc(sizeof(float) * T * C), *dyp = malloc(sizeof(float) * N * C);
    float *dw = malloc(sizeof(float) * N);
    double *xd = malloc(sizeof(double) * T * C), *ypd = malloc(sizeof(double) * N * C);
    double *wd = malloc(sizeof(double) * N), *god = malloc(sizeof(double) * T * C);
    double *gxd = malloc(sizeof(double) * N * C), *fd = malloc(sizeof(double) * N * C);
    random_routing(idx, T, K, E, 21);
    ctx->ops->moe_permute(ctx, offsets, row_of, token_of, idx, T, K, E);
    ds_test_randn(dx, (int64_t)T * C, 22, 1.0f); // x values, reused as a buffer below
    ds_test_to_f64(xd, dx, (int64_t)T * C);
    ds_test_randn(yp, (int64_t)N * C, 23, 1.0f);
    ds_test_randn(w, N, 24, 1.0f);
    ds_test_randn(gout, (int64_t)T * C, 25, 1.0f);
    ds_test_randn(gxp, (int64_t)N * C, 26, 1.0f);
    ds_test_to_f64(ypd, yp, (int64_t)N * C);
    ds_test_to_f64(wd, w, N);
    ds_test_to_f64(god, gout, (int64_t)T * C);
    ds_test_to_f64(gxd, gxp, (int64_t)N * C);

    // dispatch: loss = sum(xp * gxp), FD over x.
    move_env env = {
        .x = xd, .g = gxd, .row_of = row_of, .token_of = token_of, .T = T, .K = K, .C = C};
    ds_test_fd_grad(xd, (int64_t)T * C, fd, dispatch_loss, &env, 1e-3);
    for (int i = 0; i < T * C; i++) {
        dx[i] = prefill;
        fd[i] += prefill;
    }
    ctx->ops->moe_dispatch_backward(ctx, dx, gxp, row_of, T, K, C);
    fails += ds_test_close_f64("dispatch dx", dx, fd, (int64_t)T * C, 1e-4, 1e-3) != 0;

    // combine: loss = sum(out * gout), FD over yp and w.
    move_env cenv = {.yp = ypd, .w = wd, .g = god, .row_of = row_of, .T = T, .K = K, .C = C};
    ds_test_fd_grad(ypd, (int64_t)N * C, fd, combine_loss, &cenv, 1e-3);
    for (int i = 0; i < N * C; i++) {
        dyp[i] = prefill;
        fd[i] += prefill;
    }
    for (int i = 0; i < N; i++) dw[i] = prefill;
    ctx->ops->moe_combine_backward(ctx, dyp, dw, gout, yp, w, row_of, T, K, C);
    fails += ds_test_close_f64("combine dyp", dyp, fd, (int64_t)N * C, 1e-4, 1e-3) != 0;
    ds_test_fd_grad(wd, N, fd, combine_loss, &cenv, 1e-3);
    for (int i = 0; i < N; i++) fd[i] += prefill;
    fails += ds_test_close_f64("combine dw", dw, fd, N, 1e-4, 1e-3) != 0;
    // NULL gradients are skipped: dw alone must match too.
    for (int i = 0; i < N; i++) dw[i] = prefill;
    ctx->ops->moe_combine_backward(ctx, NULL, dw, gout, yp, w, row_of, T, K, C);
    fails += ds_test_close_f64("combine dw (dyp NULL)", dw, fd, N, 1e-4, 1e-3) != 0;

    free(idx);
    free(offsets);
    free(row_of);
    free(token_of);
    free(yp);
    free(w);
    free(gout);
    free(gxp);
    free(dx);
    free(dyp);
    free(dw);
    free(xd);
    free(ypd);
    free(wd);
    free(god);
    free(gxd);
    free(fd);
    ds_ctx_free(ctx);
    return fails != 0;
}
