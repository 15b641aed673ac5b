// moe-route.c: group-limited top-k expert routing of DeepSeek-V3 (arXiv:2412.19437
// section 2.1.2; the Gate of its reference inference code, inference/model.py).
// Forward scores every expert, keeps the topk_groups best groups by biased score, picks the
// topk best experts inside them and returns their unbiased, optionally normalised, scaled
// weights. Backward flows through the weights only: the selection is piecewise constant and
// the bias (moved by the auxiliary-loss-free balancing rule, not by gradients) gets none.
// Not here: the router GEMM, capacity limits, token dropping, auxiliary balance losses.
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"
#include "kernels/cpu/softmax-row.h"

#include <math.h>

typedef struct {
    int32_t *expert_idx;    // (T, topk)
    float *expert_w;        // (T, topk)
    float *scores;          // (T, E)
    const float *logits;    // (T, E)
    const float *bias;      // (E) or NULL
    float *dlogits;         // (T, E)
    const float *dexpert_w; // (T, topk)
    const int32_t *chosen;  // (T, topk), backward
    const float *saved;     // (T, E), backward
    float *scratch;         // per-thread selection buffers, stride floats apart
    int64_t stride;
    int T;
    ds_router_cfg cfg;
} route_args;

// Configs are validated when the model loads, so a bad one here is a broken invariant.
static void check_cfg(ds_router_cfg c) {
    DS_ASSERT(c.n_experts >= 1 && c.n_groups >= 1);
    DS_ASSERT(c.n_experts % c.n_groups == 0);
    DS_ASSERT(c.topk_groups >= 1 && c.topk_groups <= c.n_groups);
    DS_ASSERT(c.topk >= 1 && c.topk <= c.topk_groups * (c.n_experts / c.n_groups));
    DS_ASSERT(c.score == DS_ROUTER_SOFTMAX || c.score == DS_ROUTER_SIGMOID);
}

static void score_row(float *s, const float *l, int E, ds_router_score fn) {
    if (fn == DS_ROUTER_SIGMOID) {
        for (int e = 0; e < E; e++) s[e] = 1.0f / (1.0f + expf(-l[e]));
        return;
    }
    ds_softmax_row(s, l, E);
}

// Inserts candidate c with value v into the list idx/val (*n entries, at most k), kept in
// decreasing value. Candidates arrive in increasing index, and only a strictly larger value
// moves ahead, so ties go to the lower index: deterministic, and a rule every backend can match.
static void topk_insert(int32_t *idx, float *val, int *n, int k, int32_t c, float v) {
    int i = *n;
    if (i == k) {
        if (!(v > val[k - 1])) return;
        i = k - 1;
    } else {
        (*n)++;
    }
    for (; i > 0 && v > val[i - 1]; i--) {
        idx[i] = idx[i - 1];
        val[i] = val[i - 1];
    }
    idx[i] = c;
    val[i] = v;
}

static void route_forward_task(void *p, int ith, int nth) {
    route_args *a = p;
    const ds_router_cfg c = a->cfg;
    const int E = c.n_experts, G = c.n_groups, gsize = E / G, K = c.topk, KG = c.topk_groups;
    float *gscore = a->scratch + ith * a->stride; // (G)
    float *gval = gscore + G;                     // (KG)
    int32_t *gidx = (int32_t *)(gval + KG);       // (KG)
    float *eval = (float *)(gidx + KG);           // (K)
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        float *s = a->scores + t * E;
        const float *bias = a->bias;
        int32_t *idx = a->expert_idx + t * K;
        float *w = a->expert_w + t * K;
        score_row(s, a->logits + t * E, E, c.score);

        // Group score: sum of the two best biased scores of the group (DeepSeek-V3 Gate);
        // a single-expert group has only its one score.
        for (int g = 0; g < G; g++) {
            float b1 = -INFINITY, b2 = -INFINITY;
            for (int e = g * gsize; e < (g + 1) * gsize; e++) {
                float b = bias ? s[e] + bias[e] : s[e];
                if (b > b1) {
                    b2 = b1;
                    b1 = b;
                } else if (b > b2) {
                    b2 = b;
                }
            }
            gscore[g] = gsize == 1 ? b1 : b1 + b2;
        }
        int ng = 0;
        for (int g = 0; g < G; g++) topk_insert(gidx, gval, &ng, KG, g, gscore[g]);
        DS_ASSERT(ng == KG); // only NaN scores leave it short
        // Visit the kept groups in increasing index so experts arrive in increasing index.
        for (int i = 1; i < KG; i++)
            for (int j = i; j > 0 && gidx[j - 1] > gidx[j]; j--) {
                int32_t tmp = gidx[j];
                gidx[j] = gidx[j - 1];
                gidx[j - 1] = tmp;
            }
        int ne = 0;
        for (int i = 0; i < KG; i++)
            for (int e = gidx[i] * gsize; e < (gidx[i] + 1) * gsize; e++)
                topk_insert(idx, eval, &ne, K, e, bias ? s[e] + bias[e] : s[e]);
        DS_ASSERT(ne == K);

        // Weights use the unbiased scores: the bias only steers selection (section 2.1.2).
        float sum = 0.0f;
        for (int k = 0; k < K; k++) sum += s[idx[k]];
        for (int k = 0; k < K; k++) {
            float v = s[idx[k]];
            if (c.normalize) v /= sum;
            w[k] = v * c.scale;
        }
    }
}

void ds_cpu_moe_route_forward(ds_ctx *ctx, int32_t *expert_idx, float *expert_w, float *scores,
                              const float *logits, const float *bias, int T, ds_router_cfg cfg) {
    check_cfg(cfg);
    int nth = ds_pool_size(ctx->pool);
    // Per thread: group scores, kept groups (values and indices), chosen values; padded to a
    // cache line so threads do not share one.
    int64_t stride = cfg.n_groups + 2 * cfg.topk_groups + cfg.topk;
    stride = (stride + 15) & ~(int64_t)15;
    route_args a = {.expert_idx = expert_idx,
                    .expert_w = expert_w,
                    .scores = scores,
                    .logits = logits,
                    .bias = bias,
                    .scratch = ds_ctx_scratch(ctx, (size_t)(stride * nth) * sizeof(float)),
                    .stride = stride,
                    .T = T,
                    .cfg = cfg};
    ds_cpu_run(ctx, route_forward_task, &a, (int64_t)T * cfg.n_experts);
}

// With S = sum_k s_k over the chosen experts and w_k = scale * s_k / S (normalize) or
// scale * s_k: dL/ds_k = scale / S * (g_k - sum_j g_j s_j / S), or scale * g_k.
// Sigmoid: dl_k = ds_k s_k (1 - s_k), chosen experts only. Softmax: the full Jacobian,
// dl_i = s_i (ds_i - sum_k ds_k s_k) over all E, with ds_i = 0 off the chosen set.
static void route_backward_task(void *p, int ith, int nth) {
    route_args *a = p;
    const ds_router_cfg c = a->cfg;
    const int E = c.n_experts, K = c.topk;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *s = a->saved + t * E;
        const float *g = a->dexpert_w + t * K;
        const int32_t *idx = a->chosen + t * K;
        float *dl = a->dlogits + t * E;
        float mul = c.scale, gs = 0.0f;
        if (c.normalize) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) {
                sum += s[idx[k]];
                gs += g[k] * s[idx[k]];
            }
            mul = c.scale / sum;
            gs /= sum;
        }
        if (c.score == DS_ROUTER_SIGMOID) {
            for (int k = 0; k < K; k++) {
                float sk = s[idx[k]];
                dl[idx[k]] += mul * (g[k] - gs) * sk * (1.0f - sk);
            }
        } else {
            float dot = 0.0f;
            for (int k = 0; k < K; k++) dot += mul * (g[k] - gs) * s[idx[k]];
            for (int e = 0; e < E; e++) dl[e] -= s[e] * dot;
            for (int k = 0; k < K; k++) dl[idx[k]] += s[idx[k]] * mul * (g[k] - gs);
        }
    }
}

void ds_cpu_moe_route_backward(ds_ctx *ctx, float *dlogits, const float *dexpert_w,
                               const int32_t *expert_idx, const float *scores, int T,
                               ds_router_cfg cfg) {
    check_cfg(cfg);
    if (!dlogits) return;
    route_args a = {.dlogits = dlogits,
                    .dexpert_w = dexpert_w,
                    .chosen = expert_idx,
                    .saved = scores,
                    .T = T,
                    .cfg = cfg};
    ds_pool_run(ctx->pool, route_backward_task, &a);
}
