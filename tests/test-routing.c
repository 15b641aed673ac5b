// test-routing.c: MoE behaviour at the model level (text/moe.c), on top of the
// routing kernels that tests/test-moe.c checks op by op: the selection bias
// steers which experts are chosen but never their weights; the bias update
// (DeepSeek-V3's auxiliary-loss-free balancing) drives a skewed load toward
// balance; a whole MoE FFN layer against a naive double re-implementation; the
// sequence-wise balance loss and its gradient against the formula and finite
// differences. Not here: kernel edge cases (ties, odd sizes), which test-moe.c owns.
#include "core/arena.h"
#include "core/error.h"
#include "model-fixtures.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- naive double-precision pieces

static void ref_scores(double *s, const double *l, int E, int sigmoid) {
    if (sigmoid) {
        for (int e = 0; e < E; e++) s[e] = 1.0 / (1.0 + exp(-l[e]));
        return;
    }
    double mx = l[0], sum = 0;
    for (int e = 1; e < E; e++) mx = fmax(mx, l[e]);
    for (int e = 0; e < E; e++) sum += (s[e] = exp(l[e] - mx));
    for (int e = 0; e < E; e++) s[e] /= sum;
}

// Group-limited top-k of one row, written from the paper's description: a group
// scores the sum of its two best biased scores, the topk_groups best groups stay,
// the topk best biased scores inside them are chosen (equal values: lower index).
static void ref_select(int32_t *idx, const double *s, const float *bias, ds_router_cfg c) {
    int E = c.n_experts, G = c.n_groups, gs = E / G;
    double b[1024], gscore[1024];
    int keep[1024] = {0}, taken[1024] = {0};
    for (int e = 0; e < E; e++) b[e] = s[e] + (bias ? bias[e] : 0.0);
    for (int g = 0; g < G; g++) {
        double m1 = -INFINITY, m2 = -INFINITY;
        for (int e = g * gs; e < (g + 1) * gs; e++) {
            if (b[e] > m1) {
                m2 = m1;
                m1 = b[e];
            } else if (b[e] > m2) {
                m2 = b[e];
            }
        }
        gscore[g] = gs >= 2 ? m1 + m2 : m1;
    }
    for (int r = 0; r < c.topk_groups; r++) {
        int best = -1;
        for (int g = 0; g < G; g++)
            if (!keep[g] && (best < 0 || gscore[g] > gscore[best])) best = g;
        keep[best] = 1;
    }
    for (int k = 0; k < c.topk; k++) {
        int best = -1;
        for (int e = 0; e < E; e++)
            if (keep[e / gs] && !taken[e] && (best < 0 || b[e] > b[best])) best = e;
        taken[best] = 1;
        idx[k] = best;
    }
}

static double silu(double x) {
    return x / (1.0 + exp(-x));
}

// y (C) += scale * W2 (C, H) @ (silu(gate) * up), [gate | up] = W13 (2H, C) @ x (C).
static void ref_swiglu(double *y, const float *x, const float *w13, const float *w2, int C, int H,
                       double scale) {
    double *a = malloc(sizeof(double) * H);
    for (int j = 0; j < H; j++) {
        double g = 0, u = 0;
        for (int c = 0; c < C; c++) {
            g += (double)w13[(size_t)j * C + c] * x[c];
            u += (double)w13[(size_t)(H + j) * C + c] * x[c];
        }
        a[j] = silu(g) * u;
    }
    for (int c = 0; c < C; c++) {
        double acc = 0;
        for (int j = 0; j < H; j++) acc += (double)w2[(size_t)c * H + j] * a[j];
        y[c] += scale * acc;
    }
    free(a);
}

static int same_set(const int32_t *a, const int32_t *b, int k) {
    for (int i = 0; i < k; i++) {
        int found = 0;
        for (int j = 0; j < k; j++) found |= a[i] == b[j];
        if (!found) return 0;
    }
    return 1;
}

// ---- the bias picks experts, it does not weigh them

// Checks one routing result: weights are the unbiased sigmoid scores of the chosen
// experts normalised over them (double, from the logits); every chosen expert lies in
// one of the topk_groups best groups by (sum of the 2 best biased scores), and beats
// every unchosen expert of the kept groups on biased score. Returns the mismatches.
static int check_routing(const char *what, const float *logits, const float *bias,
                         const float *scores, const int32_t *idx, const float *w, int T,
                         ds_router_cfg c) {
    int E = c.n_experts, K = c.topk, gs = E / c.n_groups, bad = 0;
    double *wd = malloc(sizeof(double) * T * K), ld[64], sd[64];
    for (int t = 0; t < T; t++) {
        ds_test_to_f64(ld, logits + (size_t)t * E, E);
        ref_scores(sd, ld, E, 1);
        double sum = 0;
        for (int k = 0; k < K; k++) sum += sd[idx[t * K + k]];
        for (int k = 0; k < K; k++) wd[t * K + k] = sd[idx[t * K + k]] / sum * c.scale;
        // Groups by the kernel's own float scores plus the bias, as selection sees them.
        float b[64], gsc[64];
        for (int e = 0; e < E; e++) b[e] = scores[(size_t)t * E + e] + (bias ? bias[e] : 0.0f);
        for (int g = 0; g < c.n_groups; g++) {
            float m1 = -INFINITY, m2 = -INFINITY;
            for (int e = g * gs; e < (g + 1) * gs; e++) {
                if (b[e] > m1) {
                    m2 = m1;
                    m1 = b[e];
                } else if (b[e] > m2) {
                    m2 = b[e];
                }
            }
            gsc[g] = m1 + m2;
        }
        for (int k = 0; k < K; k++) {
            int e = idx[t * K + k], g = e / gs, better = 0;
            for (int h = 0; h < c.n_groups; h++) better += gsc[h] > gsc[g];
            if (better >= c.topk_groups) {
                if (bad < 3)
                    fprintf(stderr, "  %s t=%d: expert %d in group %d, %d groups score higher\n",
                            what, t, e, g, better);
                bad++;
            }
            for (int o = 0; o < E; o++) {
                int chosen = 0;
                for (int j = 0; j < K; j++) chosen |= idx[t * K + j] == o;
                if (!chosen && b[o] > b[e]) {
                    // an unchosen expert beats a chosen one: only allowed when its group
                    // was dropped
                    int ob = 0;
                    for (int h = 0; h < c.n_groups; h++) ob += gsc[h] > gsc[o / gs];
                    if (ob < c.topk_groups) {
                        if (bad < 3)
                            fprintf(stderr, "  %s t=%d: unchosen %d (kept group) beats %d\n", what,
                                    t, o, e);
                        bad++;
                    }
                }
            }
        }
    }
    bad += ds_test_close_f64(what, w, wd, (int64_t)T * K, 1e-6, 1e-5) != 0;
    free(wd);
    return bad;
}

DS_TEST(routing_bias_selects_not_weighs) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    DS_CHECK(ctx != NULL);
    const int T = 64, E = 16, K = 2;
    ds_router_cfg rc = {.n_experts = E,
                        .n_groups = 4,
                        .topk_groups = 2,
                        .topk = K,
                        .score = DS_ROUTER_SIGMOID,
                        .normalize = 1,
                        .scale = 1.0f};
    float *logits = malloc(sizeof(float) * T * E);
    ds_test_randn(logits, (int64_t)T * E, 31, 1.5f);
    float strong[16] = {0}, mild[16];
    strong[5] = 1.0f;  // group 1
    strong[10] = 1.0f; // group 2
    ds_test_randn(mild, E, 32, 0.15f);
    const float *biases[3] = {NULL, strong, mild};
    const char *names[3] = {"no bias", "strong bias (+1 on 5, 10)", "mild bias (std 0.15)"};
    int32_t *idx[3];
    float *w[3], *sc[3];
    int fails = 0;
    for (int r = 0; r < 3; r++) {
        idx[r] = malloc(sizeof(int32_t) * T * K);
        w[r] = malloc(sizeof(float) * T * K);
        sc[r] = malloc(sizeof(float) * T * E);
        ctx->ops->moe_route_forward(ctx, idx[r], w[r], sc[r], logits, biases[r], T, rc);
        fails += check_routing(names[r], logits, biases[r], sc[r], idx[r], w[r], T, rc);
    }
    // The bias never touches the scores.
    DS_CHECK(memcmp(sc[0], sc[1], sizeof(float) * T * E) == 0);
    DS_CHECK(memcmp(sc[0], sc[2], sizeof(float) * T * E) == 0);
    int changed_strong = 0, picked_star = 0, changed_mild = 0, same_mild = 0;
    double worst_same = 0;
    for (int t = 0; t < T; t++) {
        changed_strong += !same_set(idx[0] + t * K, idx[1] + t * K, K);
        picked_star += (idx[1][t * K] == 5 || idx[1][t * K] == 10) &&
                       (idx[1][t * K + 1] == 5 || idx[1][t * K + 1] == 10);
        if (!same_set(idx[0] + t * K, idx[2] + t * K, K)) {
            changed_mild++;
            continue;
        }
        // Same experts chosen: the same weight per expert, bias or not.
        same_mild++;
        for (int k = 0; k < K; k++)
            for (int j = 0; j < K; j++)
                if (idx[2][t * K + k] == idx[0][t * K + j])
                    worst_same = fmax(worst_same, fabs(w[2][t * K + k] - w[0][t * K + j]));
    }
    printf("  strong bias: chosen set changed for %d of %d tokens (%d pick exactly {5, 10})\n",
           changed_strong, T, picked_star);
    printf("  mild bias: changed for %d tokens; on the %d unchanged ones the weights differ by "
           "at most %.3g\n",
           changed_mild, same_mild, worst_same);
    DS_CHECK(changed_strong >= T / 2);
    DS_CHECK(changed_mild > 0);
    DS_CHECK(same_mild > 0);
    DS_CHECK(worst_same == 0.0);
    for (int r = 0; r < 3; r++) {
        free(idx[r]);
        free(w[r]);
        free(sc[r]);
    }
    free(logits);
    ds_ctx_free(ctx);
    return fails != 0;
}

// ---- the bias update balances the load

typedef struct {
    double max, min, cv;
} load_stats;

static load_stats route_load(ds_ctx *ctx, float *load, int32_t *idx, float *w, float *scores,
                             const float *logits, const float *bias, int T, ds_router_cfg rc) {
    int E = rc.n_experts, K = rc.topk;
    ctx->ops->moe_route_forward(ctx, idx, w, scores, logits, bias, T, rc);
    memset(load, 0, sizeof(float) * E);
    for (int i = 0; i < T * K; i++) load[idx[i]] += 1.0f / ((float)T * K);
    load_stats s = {0, 1, 0};
    double mean = 1.0 / E, var = 0;
    for (int e = 0; e < E; e++) {
        s.max = fmax(s.max, load[e]);
        s.min = fmin(s.min, load[e]);
        var += (load[e] - mean) * (load[e] - mean) / E;
    }
    s.cv = sqrt(var) / mean;
    return s;
}

DS_TEST(routing_bias_update_balances) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    DS_CHECK(ctx != NULL);
    ds_model_cfg cfg;
    ds_model_cfg_default(&cfg); // 16 experts, 4 groups, 2 kept, top-2, sigmoid, normalised
    cfg.n_layers = 1;
    cfg.n_dense_layers = 0;
    cfg.bias_rate = 0.01f;
    DS_CHECK_INT_EQ(ds_model_cfg_check(&cfg), 0);
    ds_router_cfg rc = ds_cfg_router(&cfg);
    const int T = 512, C = 32, E = cfg.n_experts, K = cfg.topk, steps = 300;
    float *x = malloc(sizeof(float) * T * C), *wr = malloc(sizeof(float) * E * C);
    float *logits = malloc(sizeof(float) * T * E), *scores = malloc(sizeof(float) * T * E);
    float *w = malloc(sizeof(float) * T * K), *bias = calloc((size_t)E, sizeof(float));
    float *load = malloc(sizeof(float) * E), skew[64] = {0};
    int32_t *idx = malloc(sizeof(int32_t) * T * K);
    ds_test_randn(x, (int64_t)T * C, 41, 1.0f);
    ds_test_randn(wr, (int64_t)E * C, 42, 0.2f);
    for (int e = 0; e < 4; e++) skew[e] = 1.5f; // experts 0..3 (group 0) favoured by the router
    ctx->ops->matmul_forward(ctx, logits, x, wr, skew, T, C, E);
    load_stats before = route_load(ctx, load, idx, w, scores, logits, NULL, T, rc);
    printf("  before: load of experts 0..3 %.3f %.3f %.3f %.3f; max %.4f min %.4f CV %.3f\n",
           load[0], load[1], load[2], load[3], before.max, before.min, before.cv);
    load_stats s = before;
    double cv_tail = 0;
    for (int it = 0; it < steps; it++) {
        s = route_load(ctx, load, idx, w, scores, logits, bias, T, rc);
        if (it >= steps - 20) cv_tail += s.cv / 20;
        if (it == 0 || it == 10 || it == 30 || it == 100)
            printf("  step %3d: max %.4f min %.4f CV %.3f\n", it, s.max, s.min, s.cv);
        ds_moe_bias_update(&cfg, bias, load);
    }
    load_stats after = route_load(ctx, load, idx, w, scores, logits, bias, T, rc);
    printf("  after %d updates: max %.4f min %.4f CV %.3f (mean CV of the last 20 steps %.3f); "
           "ideal load %.4f\n",
           steps, after.max, after.min, after.cv, cv_tail, 1.0 / E);
    printf("  bias of experts 0..3: %.3f %.3f %.3f %.3f; of 4..7: %.3f %.3f %.3f %.3f\n", bias[0],
           bias[1], bias[2], bias[3], bias[4], bias[5], bias[6], bias[7]);
    printf("  CV reduced %.1fx, max load reduced %.1fx\n", before.cv / after.cv,
           before.max / after.max);
    int ok =
        after.max < 0.5 * before.max && after.cv * 3.0 <= before.cv && cv_tail * 3.0 <= before.cv;
    // The update moved the favoured experts' bias down and the others' up.
    for (int e = 0; e < 4; e++) ok &= bias[e] < 0.0f;
    free(x);
    free(wr);
    free(logits);
    free(scores);
    free(w);
    free(bias);
    free(load);
    free(idx);
    ds_ctx_free(ctx);
    DS_CHECK(ok);
    return 0;
}

// ---- a whole MoE FFN layer against a naive double version

// y (N, C) in double: shared SwiGLU + sum over the chosen experts of weight * SwiGLU_e.
// Selection and weights from naive double scores; the chosen experts go to ref_idx.
static void ref_moe_ffn(double *y, int32_t *ref_idx, double *ref_w, const ds_model_cfg *cfg,
                        const ds_lm_layer *L, const float *bias, const float *inp, int N) {
    int C = cfg->dim, E = cfg->n_experts, K = cfg->topk, He = cfg->expert_hidden;
    int SH = cfg->n_shared * He;
    ds_router_cfg rc = ds_cfg_router(cfg);
    double ld[1024], sd[1024];
    for (int t = 0; t < N; t++) {
        const float *x = inp + (size_t)t * C;
        double *yt = y + (size_t)t * C;
        memset(yt, 0, sizeof(double) * C);
        for (int e = 0; e < E; e++) {
            double acc = 0;
            for (int c = 0; c < C; c++) acc += (double)L->router[(size_t)e * C + c] * x[c];
            ld[e] = acc;
        }
        ref_scores(sd, ld, E, cfg->router_sigmoid);
        int32_t *idx = ref_idx + (size_t)t * K;
        ref_select(idx, sd, bias, rc);
        double sum = 0;
        for (int k = 0; k < K; k++) sum += sd[idx[k]];
        for (int k = 0; k < K; k++) {
            double wk = (cfg->router_normalize ? sd[idx[k]] / sum : sd[idx[k]]) * cfg->router_scale;
            ref_w[(size_t)t * K + k] = wk;
            ref_swiglu(yt, x, L->exp_w13 + (size_t)idx[k] * 2 * He * C,
                       L->exp_w2 + (size_t)idx[k] * C * He, C, He, wk);
        }
        if (SH > 0) ref_swiglu(yt, x, L->shared_w13, L->shared_w2, C, SH, 1.0);
    }
}

DS_TEST(routing_moe_ffn_naive) {
    ds_model_cfg base;
    ds_fixture_tiny_cfg(&base, 0);
    ds_model *m;
    DS_CHECK_INT_EQ(ds_model_init(&base, NULL, 17, &m), 0);
    DS_CHECK(ds_lm_is_moe(&m->cfg, 1) && !ds_lm_is_moe(&m->cfg, 0));
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    ds_arena arena;
    ds_arena_init(&arena, 0, 0);
    const int N = 29, C = base.dim, E = base.n_experts, K = base.topk;
    float *inp = malloc(sizeof(float) * N * C), *y = malloc(sizeof(float) * N * C);
    float *bias = malloc(sizeof(float) * E);
    double *yref = malloc(sizeof(double) * N * C), *wref = malloc(sizeof(double) * N * K);
    int32_t *iref = malloc(sizeof(int32_t) * N * K);
    ds_test_randn(inp, (int64_t)N * C, 18, 1.0f);
    ds_test_randn(bias, E, 19, 0.05f);
    int fails = 0;
    // (sigmoid, normalize, scale, bias): the model's own settings, then the other branches.
    static const struct {
        int sigmoid, normalize;
        float scale;
        int use_bias;
    } variants[] = {{1, 1, 1.0f, 1}, {0, 0, 1.5f, 1}, {1, 0, 2.5f, 0}, {0, 1, 1.0f, 0}};
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        ds_model_cfg cfg = m->cfg;
        cfg.router_sigmoid = variants[v].sigmoid;
        cfg.router_normalize = variants[v].normalize;
        cfg.router_scale = variants[v].scale;
        const float *b = variants[v].use_bias ? bias : NULL;
        ds_arena_reset(&arena);
        ds_lm_layer_acts la;
        memset(&la, 0, sizeof la);
        DS_CHECK_INT_EQ(
            ds_lm_ffn_forward(ctx, &cfg, &m->w.lm.layers[1], 1, b, inp, y, N, &la, &arena), 0);
        ref_moe_ffn(yref, iref, wref, &cfg, &m->w.lm.layers[1], b, inp, N);
        int bad_sel = 0;
        for (int i = 0; i < N * K; i++) bad_sel += la.eidx[i] != iref[i];
        char what[96];
        snprintf(what, sizeof what, "moe ffn %s norm=%d scale=%.1f %s",
                 cfg.router_sigmoid ? "sigmoid" : "softmax", cfg.router_normalize, cfg.router_scale,
                 b ? "bias" : "no bias");
        printf("  %-44s selection: %d of %d slots differ from the naive one\n", what, bad_sel,
               N * K);
        fails += bad_sel != 0;
        fails += ds_test_close_f64(what, la.ew, wref, (int64_t)N * K, 1e-6, 1e-5) != 0;
        fails += ds_test_close_f64(what, y, yref, (int64_t)N * C, 1e-5, 1e-4) != 0;
    }
    // The dense layer 0 through the same entry point: one SwiGLU.
    ds_arena_reset(&arena);
    ds_lm_layer_acts la;
    memset(&la, 0, sizeof la);
    DS_CHECK_INT_EQ(
        ds_lm_ffn_forward(ctx, &m->cfg, &m->w.lm.layers[0], 0, NULL, inp, y, N, &la, &arena), 0);
    for (int t = 0; t < N; t++) {
        memset(yref + (size_t)t * C, 0, sizeof(double) * C);
        ref_swiglu(yref + (size_t)t * C, inp + (size_t)t * C, m->w.lm.layers[0].w13,
                   m->w.lm.layers[0].w2, C, base.dense_hidden, 1.0);
    }
    fails += ds_test_close_f64("dense ffn layer 0", y, yref, (int64_t)N * C, 1e-5, 1e-4) != 0;
    free(inp);
    free(y);
    free(bias);
    free(yref);
    free(wref);
    free(iref);
    ds_arena_free(&arena);
    ds_ctx_free(ctx);
    ds_model_free(m);
    return fails != 0;
}

// ---- the sequence-wise balance loss

typedef struct {
    const ds_model_cfg *cfg;
    const ds_seq_layout *lay;
    const int32_t *eidx; // fixed selection
    double *logits;      // (N, E), varied by the finite differences
    double weight;
} bal_env;

// DeepSeek-V3 eq. 17-20 per sequence: sum_i f_i P_i, f_i = E / (k T) * count_i,
// P_i = mean over the sequence's tokens of s_i / sum_j s_j; mean over sequences, times weight.
static double ref_balance(void *p) {
    const bal_env *env = p;
    int E = env->cfg->n_experts, K = env->cfg->topk;
    double total = 0, sd[1024];
    for (int b = 0; b < env->lay->n_seq; b++) {
        int t0 = env->lay->seq_off[b], t1 = env->lay->seq_off[b + 1], T = t1 - t0;
        double f[1024] = {0}, P[1024] = {0};
        for (int t = t0; t < t1; t++)
            for (int k = 0; k < K; k++) f[env->eidx[t * K + k]] += (double)E / ((double)K * T);
        for (int t = t0; t < t1; t++) {
            ref_scores(sd, env->logits + (size_t)t * E, E, env->cfg->router_sigmoid);
            double Z = 0;
            for (int e = 0; e < E; e++) Z += sd[e];
            for (int e = 0; e < E; e++) P[e] += sd[e] / Z / T;
        }
        for (int e = 0; e < E; e++) total += f[e] * P[e];
    }
    return env->weight * total / env->lay->n_seq;
}

DS_TEST(routing_balance_loss) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    DS_CHECK(ctx != NULL);
    const int N = 17, E = 8;
    int32_t seq_off[3] = {0, 7, N}, n_prefix[2] = {2, 3}, pos[17];
    for (int t = 0; t < N; t++) pos[t] = t < 7 ? t : t - 7;
    ds_seq_layout lay = {2, seq_off, n_prefix, pos};
    int fails = 0;
    for (int sigmoid = 1; sigmoid >= 0; sigmoid--) {
        ds_model_cfg cfg;
        ds_fixture_tiny_cfg(&cfg, 0); // 8 experts, 4 groups, 2 kept, top-2
        cfg.router_sigmoid = sigmoid;
        int K = cfg.topk;
        ds_router_cfg rc = ds_cfg_router(&cfg);
        float *logits = malloc(sizeof(float) * N * E), *scores = malloc(sizeof(float) * N * E);
        float *w = malloc(sizeof(float) * N * K), *dlogits = calloc((size_t)N * E, sizeof(float));
        int32_t *eidx = malloc(sizeof(int32_t) * N * K);
        double *ld = malloc(sizeof(double) * N * E), *grad = malloc(sizeof(double) * N * E);
        ds_test_randn(logits, (int64_t)N * E, 50 + sigmoid, 1.2f);
        // A skew, so the loss is far from its balanced value and f varies.
        for (int t = 0; t < N; t++) logits[t * E + 1] += 1.0f;
        ctx->ops->moe_route_forward(ctx, eidx, w, scores, logits, NULL, N, rc);
        const float weight = 0.3f;
        double got = ds_moe_balance_loss(&cfg, &lay, N, scores, eidx, weight, NULL);
        double got2 = ds_moe_balance_loss(&cfg, &lay, N, scores, eidx, weight, dlogits);
        ds_test_to_f64(ld, logits, (int64_t)N * E);
        bal_env env = {&cfg, &lay, eidx, ld, weight};
        double ref = ref_balance(&env);
        double rel = fabs(got - ref) / fabs(ref);
        printf("  %s: balance loss %.9f, naive %.9f (rel diff %.2g; balanced value would be "
               "%.3f)\n",
               sigmoid ? "sigmoid" : "softmax", got, ref, rel, (double)weight);
        fails += !(rel < 1e-5) || got != got2;
        // Gradient w.r.t. the logits through the scores, selection held fixed.
        ds_test_fd_grad(ld, (int64_t)N * E, grad, ref_balance, &env, 1e-5);
        double gmax = 0;
        for (int i = 0; i < N * E; i++) gmax = fmax(gmax, fabs(grad[i]));
        printf("  %s: largest |dL/dlogit| %.3g\n", sigmoid ? "sigmoid" : "softmax", gmax);
        char what[64];
        snprintf(what, sizeof what, "balance dlogits %s", sigmoid ? "sigmoid" : "softmax");
        fails += ds_test_close_f64(what, dlogits, grad, (int64_t)N * E, 1e-8, 1e-4) != 0;
        fails += !(gmax > 1e-4);
        free(logits);
        free(scores);
        free(w);
        free(dlogits);
        free(eidx);
        free(ld);
        free(grad);
    }
    ds_ctx_free(ctx);
    return fails != 0;
}
