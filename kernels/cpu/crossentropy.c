// crossentropy.c: softmax cross-entropy over a vocabulary, per row:
// losses[t] = logsumexp(logits[t]) - logits[t][target], probs saved for the
// backward dlogits += dlosses[t] * (probs - onehot(target)) (llm.c's fused
// crossentropy_softmax_backward). A negative target marks a position that does
// not count (prompt tokens, padding): loss 0 and no gradient, probs still written.
// Not here: label smoothing, the mean over rows (the caller weights dlosses).
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"
#include "kernels/cpu/softmax-row.h"

typedef struct {
    float *losses, *probs, *dlogits;
    const float *logits, *dlosses, *saved;
    const int32_t *targets;
    int T, V;
} ce_args;

static void ce_forward_task(void *p, int ith, int nth) {
    const ce_args *a = p;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *x = a->logits + t * a->V;
        float lse = ds_softmax_row(a->probs + t * a->V, x, a->V);
        int32_t y = a->targets[t];
        DS_ASSERT(y < a->V);
        // From the logits rather than -log(prob): exact even when the prob underflows.
        a->losses[t] = y < 0 ? 0.0f : lse - x[y];
    }
}

void ds_cpu_crossentropy_forward(ds_ctx *ctx, float *losses, float *probs, const float *logits,
                                 const int32_t *targets, int T, int V) {
    ce_args a = {
        .losses = losses, .probs = probs, .logits = logits, .targets = targets, .T = T, .V = V};
    ds_pool_run(ctx->pool, ce_forward_task, &a);
}

static void ce_backward_task(void *p, int ith, int nth) {
    const ce_args *a = p;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        int32_t y = a->targets[t];
        if (y < 0) continue;
        const float *pr = a->saved + t * a->V;
        float *dx = a->dlogits + t * a->V;
        float dl = a->dlosses[t];
        for (int v = 0; v < a->V; v++) dx[v] += dl * pr[v];
        dx[y] -= dl;
    }
}

void ds_cpu_crossentropy_backward(ds_ctx *ctx, float *dlogits, const float *dlosses,
                                  const float *probs, const int32_t *targets, int T, int V) {
    if (!dlogits) return;
    ce_args a = {
        .dlogits = dlogits, .dlosses = dlosses, .saved = probs, .targets = targets, .T = T, .V = V};
    ds_pool_run(ctx->pool, ce_backward_task, &a);
}
