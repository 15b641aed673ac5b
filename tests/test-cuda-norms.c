// test-cuda-norms.c: the CUDA row-wise and elementwise ops against the CPU
// reference: RMSNorm, LayerNorm, cross-entropy, GELU / SiLU / SwiGLU, the
// embedding and AdamW, forward and backward, several shapes each, gradients
// accumulated onto non-zero starting values (and NULL gradients left alone).
// Without a GPU (or without a CUDA build) each test prints a skip line; an op
// not yet in the CUDA table is skipped with its own line (cuda_table_complete
// is the test that reports it missing).
#include "tests/test.h"
#include "tests/cuda-parity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *host_zeros(int64_t n) {
    float *x = calloc((size_t)(n ? n : 1), sizeof(float));
    if (!x) abort();
    return x;
}

// Column sums over T rows (dweight, dbias) add in a different order on the GPU
// (chunks of rows, then the chunks): the rounding grows with sqrt(T), as the
// matmul test's does with K.
static double rows_atol(int T) {
    return DS_PAR_F32_ATOL * 4 * sqrt(T > 1 ? T : 1);
}

// ---- RMSNorm and LayerNorm

// One shape: forward (out and saved statistics), then backward from each
// backend's own statistics onto random starting gradients; a gradient with its
// flag off is passed as NULL and must come back untouched.
static int64_t norm_case(ds_ctx *g, int layer, int T, int C, int with_dinp, int with_dparams) {
    ds_ctx *c = ds_par_cpu();
    const int64_t n = (int64_t)T * C;
    const float eps = 1e-5f;
    uint64_t seed = 5000 + (uint64_t)layer * 7919 + (uint64_t)T * 131 + (uint64_t)C;
    float *x = ds_par_randn(n, seed, 1.5f), *w = ds_par_randn(C, seed + 1, 1.0f);
    float *b = ds_par_randn(C, seed + 2, 1.0f), *dy = ds_par_randn(n, seed + 3, 1.0f);
    float *dx = ds_par_randn(n, seed + 4, 1.0f), *dw = ds_par_randn(C, seed + 5, 1.0f);
    float *db = ds_par_randn(C, seed + 6, 1.0f);
    for (int64_t i = 0; i < n; i++) x[i] += 0.3f; // a non-zero mean matters for LayerNorm
    float *y = host_zeros(n), *mean = host_zeros(T), *rstd = host_zeros(T);
    float *gx = ds_par_up(g, x, n), *gw = ds_par_up(g, w, C), *gb = ds_par_up(g, b, C);
    float *gdy = ds_par_up(g, dy, n), *gdx = ds_par_up(g, dx, n), *gdw = ds_par_up(g, dw, C);
    float *gdb = ds_par_up(g, db, C), *gy = ds_par_zeros(g, sizeof(float) * (size_t)n);
    float *gmean = ds_par_zeros(g, sizeof(float) * (size_t)T);
    float *grstd = ds_par_zeros(g, sizeof(float) * (size_t)T);
    const char *name = layer ? "layernorm" : "rmsnorm";
    char what[96];
    int64_t fails = 0;

    if (layer) {
        c->ops->layernorm_forward(c, y, mean, rstd, x, w, b, T, C, eps);
        g->ops->layernorm_forward(g, gy, gmean, grstd, gx, gw, gb, T, C, eps);
    } else {
        c->ops->rmsnorm_forward(c, y, rstd, x, w, T, C, eps);
        g->ops->rmsnorm_forward(g, gy, grstd, gx, gw, T, C, eps);
    }
    snprintf(what, sizeof what, "%s out T%d C%d", name, T, C);
    fails += ds_par_check(g, what, gy, y, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    snprintf(what, sizeof what, "%s rstd T%d C%d", name, T, C);
    fails += ds_par_check(g, what, grstd, rstd, T, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    if (layer) {
        snprintf(what, sizeof what, "%s mean T%d C%d", name, T, C);
        fails += ds_par_check(g, what, gmean, mean, T, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    }

    if (layer) {
        c->ops->layernorm_backward(c, with_dinp ? dx : NULL, with_dparams ? dw : NULL,
                                   with_dparams ? db : NULL, dy, x, w, mean, rstd, T, C);
        g->ops->layernorm_backward(g, with_dinp ? gdx : NULL, with_dparams ? gdw : NULL,
                                   with_dparams ? gdb : NULL, gdy, gx, gw, gmean, grstd, T, C);
    } else {
        c->ops->rmsnorm_backward(c, with_dinp ? dx : NULL, with_dparams ? dw : NULL, dy, x, w, rstd,
                                 T, C);
        g->ops->rmsnorm_backward(g, with_dinp ? gdx : NULL, with_dparams ? gdw : NULL, gdy, gx, gw,
                                 grstd, T, C);
    }
    snprintf(what, sizeof what, "%s dinp T%d C%d%s", name, T, C, with_dinp ? "" : " (NULL)");
    fails += ds_par_check(g, what, gdx, dx, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    snprintf(what, sizeof what, "%s dweight T%d C%d%s", name, T, C, with_dparams ? "" : " (NULL)");
    fails += ds_par_check(g, what, gdw, dw, C, rows_atol(T), DS_PAR_F32_RTOL);
    if (layer) {
        snprintf(what, sizeof what, "%s dbias T%d C%d%s", name, T, C,
                 with_dparams ? "" : " (NULL)");
        fails += ds_par_check(g, what, gdb, db, C, rows_atol(T), DS_PAR_F32_RTOL);
    }

    float *dev[] = {gx, gw, gb, gdy, gdx, gdw, gdb, gy, gmean, grstd};
    for (size_t i = 0; i < sizeof dev / sizeof *dev; i++) g->ops->free(g, dev[i]);
    free(x), free(w), free(b), free(dy), free(dx), free(dw), free(db);
    free(y), free(mean), free(rstd);
    return fails;
}

// T = 129 and 1000 leave a short last chunk of rows in the GPU's column sums.
static const int norm_T[] = {1, 5, 129}, norm_C[] = {7, 64, 1000};

static int64_t norm_cases(ds_ctx *g, int layer) {
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof norm_T / sizeof *norm_T; i++)
        for (size_t j = 0; j < sizeof norm_C / sizeof *norm_C; j++)
            fails += norm_case(g, layer, norm_T[i], norm_C[j], 1, 1);
    fails += norm_case(g, layer, 1000, 64, 1, 1);
    fails += norm_case(g, layer, 5, 64, 1, 0);  // parameter gradients NULL
    fails += norm_case(g, layer, 129, 7, 0, 1); // dinp NULL
    return fails;
}

DS_TEST(cuda_rmsnorm) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    return (int)norm_cases(g, 0);
}

DS_TEST(cuda_layernorm) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    return (int)norm_cases(g, 1);
}

// ---- cross-entropy

static int64_t crossentropy_case(ds_ctx *g, int T, int V) {
    ds_ctx *c = ds_par_cpu();
    const int64_t n = (int64_t)T * V;
    uint64_t seed = 6000 + (uint64_t)T * 131 + (uint64_t)V;
    float *logits = ds_par_randn(n, seed, 2.0f), *dl = ds_par_randn(T, seed + 1, 0.5f);
    float *dlogits = ds_par_randn(n, seed + 2, 1.0f);
    for (int v = 0; v < V; v++) logits[v] += 40.0f; // row 0 needs its max subtracted
    int32_t *targets = malloc(sizeof(int32_t) * (size_t)T);
    if (!targets) abort();
    for (int t = 0; t < T; t++) // ignored rows, the first and the last class
        targets[t] = t % 3 == 1 ? -1 : t == 0 ? V - 1 : t == 2 ? 0 : (t * 7919 + 3) % V;
    float *losses = host_zeros(T), *probs = host_zeros(n);
    float *glogits = ds_par_up(g, logits, n), *gdl = ds_par_up(g, dl, T);
    float *gdlogits = ds_par_up(g, dlogits, n);
    int32_t *gtargets = ds_par_up_i32(g, targets, T);
    float *glosses = ds_par_zeros(g, sizeof(float) * (size_t)T);
    float *gprobs = ds_par_zeros(g, sizeof(float) * (size_t)n);
    char what[96];
    int64_t fails = 0;

    c->ops->crossentropy_forward(c, losses, probs, logits, targets, T, V);
    g->ops->crossentropy_forward(g, glosses, gprobs, glogits, gtargets, T, V);
    snprintf(what, sizeof what, "crossentropy losses T%d V%d", T, V);
    fails += ds_par_check(g, what, glosses, losses, T, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    snprintf(what, sizeof what, "crossentropy probs T%d V%d", T, V);
    fails += ds_par_check(g, what, gprobs, probs, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);

    c->ops->crossentropy_backward(c, dlogits, dl, probs, targets, T, V);
    g->ops->crossentropy_backward(g, gdlogits, gdl, gprobs, gtargets, T, V);
    snprintf(what, sizeof what, "crossentropy dlogits T%d V%d", T, V);
    fails += ds_par_check(g, what, gdlogits, dlogits, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);

    g->ops->free(g, gtargets);
    float *dev[] = {glogits, gdl, gdlogits, glosses, gprobs};
    for (size_t i = 0; i < sizeof dev / sizeof *dev; i++) g->ops->free(g, dev[i]);
    free(logits), free(dl), free(dlogits), free(targets), free(losses), free(probs);
    return fails;
}

DS_TEST(cuda_crossentropy) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    static const int shapes[][2] = {{1, 11}, {5, 11}, {7, 8000}, {33, 8000}, {3, 32000}};
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        fails += crossentropy_case(g, shapes[i][0], shapes[i][1]);
    return (int)fails;
}

// ---- activations

// Random inputs of std 3 with saturated tails at the front (where n allows).
static float *activation_input(int64_t n, uint64_t seed) {
    float *x = ds_par_randn(n, seed, 3.0f);
    static const float tails[] = {-100.0f, 100.0f, -20.0f, 20.0f, 0.0f};
    for (int64_t i = 0; i < n && i < 5; i++) x[i] = tails[i];
    return x;
}

// GELU (which = 0) or SiLU (1) over n elements, forward and backward.
static int64_t elementwise_case(ds_ctx *g, int which, int64_t n) {
    ds_ctx *c = ds_par_cpu();
    uint64_t seed = 7000 + (uint64_t)which * 7919 + (uint64_t)n;
    float *x = activation_input(n, seed), *dy = ds_par_randn(n, seed + 1, 1.0f);
    float *dx = ds_par_randn(n, seed + 2, 1.0f), *y = host_zeros(n);
    float *gx = ds_par_up(g, x, n), *gdy = ds_par_up(g, dy, n), *gdx = ds_par_up(g, dx, n);
    float *gy = ds_par_zeros(g, sizeof(float) * (size_t)n);
    const char *name = which ? "silu" : "gelu";
    char what[96];
    int64_t fails = 0;
    if (which) {
        c->ops->silu_forward(c, y, x, n);
        g->ops->silu_forward(g, gy, gx, n);
        c->ops->silu_backward(c, dx, dy, x, n);
        g->ops->silu_backward(g, gdx, gdy, gx, n);
    } else {
        c->ops->gelu_forward(c, y, x, n);
        g->ops->gelu_forward(g, gy, gx, n);
        c->ops->gelu_backward(c, dx, dy, x, n);
        g->ops->gelu_backward(g, gdx, gdy, gx, n);
    }
    snprintf(what, sizeof what, "%s out n%lld", name, (long long)n);
    fails += ds_par_check(g, what, gy, y, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    snprintf(what, sizeof what, "%s dinp n%lld", name, (long long)n);
    fails += ds_par_check(g, what, gdx, dx, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    float *dev[] = {gx, gdy, gdx, gy};
    for (size_t i = 0; i < sizeof dev / sizeof *dev; i++) g->ops->free(g, dev[i]);
    free(x), free(dy), free(dx), free(y);
    return fails;
}

static int64_t swiglu_case(ds_ctx *g, int T, int H) {
    ds_ctx *c = ds_par_cpu();
    const int64_t n_in = (int64_t)T * 2 * H, n_out = (int64_t)T * H;
    uint64_t seed = 8000 + (uint64_t)T * 131 + (uint64_t)H;
    float *x = activation_input(n_in, seed), *dy = ds_par_randn(n_out, seed + 1, 1.0f);
    float *dx = ds_par_randn(n_in, seed + 2, 1.0f), *y = host_zeros(n_out);
    float *gx = ds_par_up(g, x, n_in), *gdy = ds_par_up(g, dy, n_out);
    float *gdx = ds_par_up(g, dx, n_in), *gy = ds_par_zeros(g, sizeof(float) * (size_t)n_out);
    char what[96];
    int64_t fails = 0;
    c->ops->swiglu_forward(c, y, x, T, H);
    g->ops->swiglu_forward(g, gy, gx, T, H);
    snprintf(what, sizeof what, "swiglu out T%d H%d", T, H);
    fails += ds_par_check(g, what, gy, y, n_out, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    c->ops->swiglu_backward(c, dx, dy, x, T, H);
    g->ops->swiglu_backward(g, gdx, gdy, gx, T, H);
    snprintf(what, sizeof what, "swiglu dinp T%d H%d", T, H);
    fails += ds_par_check(g, what, gdx, dx, n_in, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    float *dev[] = {gx, gdy, gdx, gy};
    for (size_t i = 0; i < sizeof dev / sizeof *dev; i++) g->ops->free(g, dev[i]);
    free(x), free(dy), free(dx), free(y);
    return fails;
}

DS_TEST(cuda_activations) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    static const int64_t sizes[] = {1, 1000, 100003};
    static const int swiglu_shapes[][2] = {{1, 1}, {5, 64}, {33, 1000}};
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        fails += elementwise_case(g, 0, sizes[i]);
        fails += elementwise_case(g, 1, sizes[i]);
    }
    for (size_t i = 0; i < sizeof swiglu_shapes / sizeof *swiglu_shapes; i++)
        fails += swiglu_case(g, swiglu_shapes[i][0], swiglu_shapes[i][1]);
    return (int)fails;
}

// ---- embedding

static int64_t embedding_case(ds_ctx *g, int T, int V, int C) {
    ds_ctx *c = ds_par_cpu();
    const int64_t n = (int64_t)T * C, nt = (int64_t)V * C;
    uint64_t seed = 9000 + (uint64_t)T * 131 + (uint64_t)V * 17 + (uint64_t)C;
    float *table = ds_par_randn(nt, seed, 1.0f), *dy = ds_par_randn(n, seed + 1, 1.0f);
    float *dtable = ds_par_randn(nt, seed + 2, 1.0f), *y = host_zeros(n);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)T);
    if (!ids) abort();
    uint64_t s = seed; // ids repeat (V is small next to T), in no particular order
    for (int t = 0; t < T; t++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids[t] = (int32_t)((s >> 33) % (uint64_t)V);
    }
    if (T > 3) ids[T - 1] = ids[0], ids[1] = ids[0]; // the first token's id, near and far
    float *gtable = ds_par_up(g, table, nt), *gdy = ds_par_up(g, dy, n);
    float *gdtable = ds_par_up(g, dtable, nt), *gy = ds_par_zeros(g, sizeof(float) * (size_t)n);
    int32_t *gids = ds_par_up_i32(g, ids, T);
    char what[96];
    int64_t fails = 0;
    c->ops->embedding_forward(c, y, ids, table, T, V, C);
    g->ops->embedding_forward(g, gy, gids, gtable, T, V, C);
    snprintf(what, sizeof what, "embedding out T%d V%d C%d", T, V, C);
    fails += ds_par_check(g, what, gy, y, n, 0, 0); // a gather is exact
    c->ops->embedding_backward(c, dtable, dy, ids, T, V, C);
    g->ops->embedding_backward(g, gdtable, gdy, gids, T, V, C);
    // The GPU adds each column in the CPU's token order, so this should be exact too;
    // the f32 tolerance keeps the check about the op, not about the compiler.
    snprintf(what, sizeof what, "embedding dtable T%d V%d C%d", T, V, C);
    fails += ds_par_check(g, what, gdtable, dtable, nt, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    g->ops->free(g, gids);
    float *dev[] = {gtable, gdy, gdtable, gy};
    for (size_t i = 0; i < sizeof dev / sizeof *dev; i++) g->ops->free(g, dev[i]);
    free(table), free(dy), free(dtable), free(y), free(ids);
    return fails;
}

DS_TEST(cuda_embedding) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    // 600 tokens over 3 ids: each id's occurrences span several 256-token chunks.
    static const int shapes[][3] = {{1, 5, 7}, {64, 11, 64}, {300, 1000, 33}, {600, 3, 257}};
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        fails += embedding_case(g, shapes[i][0], shapes[i][1], shapes[i][2]);
    return (int)fails;
}

// ---- AdamW

static int64_t adamw_case(ds_ctx *g, int64_t n, int steps) {
    ds_ctx *c = ds_par_cpu();
    uint64_t seed = 10000 + (uint64_t)n;
    float *p = ds_par_randn(n, seed, 1.0f), *m = host_zeros(n), *v = host_zeros(n);
    float *gp = ds_par_up(g, p, n), *gm = ds_par_zeros(g, sizeof(float) * (size_t)n);
    float *gv = ds_par_zeros(g, sizeof(float) * (size_t)n);
    float *gg = ds_par_zeros(g, sizeof(float) * (size_t)n);
    ds_adamw_cfg cfg = {.lr = 1e-2f,
                        .beta1 = 0.9f,
                        .beta2 = 0.999f,
                        .eps = 1e-8f,
                        .weight_decay = 0.1f,
                        .grad_scale = 0.37f};
    for (int s = 1; s <= steps; s++) {
        float *grad = ds_par_randn(n, seed + (uint64_t)s, 1.0f);
        g->ops->upload(g, gg, grad, sizeof(float) * (size_t)n);
        cfg.step = s;
        c->ops->adamw_update(c, p, grad, m, v, n, &cfg);
        g->ops->adamw_update(g, gp, gg, gm, gv, n, &cfg);
        free(grad); // the upload has staged it already (memory.cu)
    }
    char what[96];
    int64_t fails = 0;
    snprintf(what, sizeof what, "adamw params n%lld after %d steps", (long long)n, steps);
    fails += ds_par_check(g, what, gp, p, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    snprintf(what, sizeof what, "adamw m n%lld", (long long)n);
    fails += ds_par_check(g, what, gm, m, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    snprintf(what, sizeof what, "adamw v n%lld", (long long)n);
    fails += ds_par_check(g, what, gv, v, n, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    float *dev[] = {gp, gm, gv, gg};
    for (size_t i = 0; i < sizeof dev / sizeof *dev; i++) g->ops->free(g, dev[i]);
    free(p), free(m), free(v);
    return fails;
}

DS_TEST(cuda_adamw) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    static const int64_t sizes[] = {1, 1000, 100003};
    int64_t fails = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) fails += adamw_case(g, sizes[i], 5);
    return (int)fails;
}

// argmax_rows on rows with planted ties (the lowest index must win), a NaN (never wins),
// an all-NaN row (index 0) and rows wider than a block's threads: the CPU must give the
// planted answers and the GPU the CPU's indices.
DS_TEST(cuda_argmax_rows) {
    ds_ctx *c = ds_par_cpu(), *g = ds_par_gpu();
    int64_t fails = 0;
    const int shapes[][2] = {{7, 1}, {33, 31}, {20, 1000}, {6, 8192}};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        int T = shapes[k][0], V = shapes[k][1];
        float *x = ds_par_randn((int64_t)T * V, 61 + k, 1.0f);
        for (int t = 0; t < T; t++) { // a tie for the maximum in every third row, a NaN in others
            float *row = x + (size_t)t * V;
            if (t % 3 == 0 && V > 2)
                row[V - 1] = row[V / 2] = 9.0f;
            else if (t % 3 == 1)
                row[t % V] = NAN;
        }
        if (T > 5)
            for (int v = 0; v < V; v++) x[(size_t)5 * V + v] = NAN;
        int32_t *want = malloc(sizeof(int32_t) * T);
        c->ops->argmax_rows(c, want, x, T, V);
        int bad = T > 5 && want[5] != 0;
        for (int t = 0; t < T && V > 2; t += 3) bad += want[t] != V / 2;
        for (int t = 1; t < T && V > 1; t += 3) bad += want[t] == t % V;
        if (g) {
            float *gx = ds_par_up(g, x, (int64_t)T * V);
            int32_t *gout = ds_par_zeros(g, sizeof(int32_t) * T);
            g->ops->argmax_rows(g, gout, gx, T, V);
            int32_t *got = ds_par_down_i32(g, gout, T);
            bad += memcmp(got, want, sizeof(int32_t) * T) != 0;
            g->ops->free(g, gx);
            g->ops->free(g, gout);
            free(got);
        }
        printf("  argmax_rows %d x %d: %s\n", T, V,
               bad ? "WRONG"
               : g ? "planted answers, the GPU's the same"
                   : "planted answers");
        fails += bad;
        free(x), free(want);
    }
    return (int)fails;
}
