// embedding.c: token embedding lookup, out (T, C) = table (V, C)[ids (T)], and
// its backward, a scatter-add into the table. Ids repeat within a batch, so the
// backward splits the C columns across threads instead of the tokens: every
// thread owns its columns of every row, with no races and a fixed order.
// Ids are trusted here (the tokenizer produces them); range checks happen there.
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"

#include <string.h>

typedef struct {
    float *out, *dtable;
    const float *table, *dout;
    const int32_t *ids;
    int T, V, C;
} embedding_args;

static void embedding_forward_task(void *p, int ith, int nth) {
    const embedding_args *a = p;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        DS_ASSERT(a->ids[t] >= 0 && a->ids[t] < a->V);
        memcpy(a->out + t * a->C, a->table + (int64_t)a->ids[t] * a->C, (size_t)a->C * 4);
    }
}

void ds_cpu_embedding_forward(ds_ctx *ctx, float *out, const int32_t *ids, const float *table,
                              int T, int V, int C) {
    embedding_args a = {.out = out, .table = table, .ids = ids, .T = T, .V = V, .C = C};
    ds_cpu_run(ctx, embedding_forward_task, &a, (int64_t)T * C);
}

static void embedding_backward_task(void *p, int ith, int nth) {
    const embedding_args *a = p;
    int64_t c0, c1;
    ds_split(a->C, ith, nth, &c0, &c1);
    for (int64_t t = 0; t < a->T; t++) {
        float *row = a->dtable + (int64_t)a->ids[t] * a->C;
        const float *d = a->dout + t * a->C;
        for (int64_t c = c0; c < c1; c++) row[c] += d[c];
    }
}

void ds_cpu_embedding_backward(ds_ctx *ctx, float *dtable, const float *dout, const int32_t *ids,
                               int T, int V, int C) {
    if (!dtable) return;
    for (int t = 0; t < T; t++) DS_ASSERT(ids[t] >= 0 && ids[t] < V);
    embedding_args a = {.dtable = dtable, .dout = dout, .ids = ids, .T = T, .V = V, .C = C};
    ds_pool_run(ctx->pool, embedding_backward_task, &a);
}
