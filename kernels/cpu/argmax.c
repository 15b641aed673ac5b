// argmax.c: the index of each row's largest value, for the trainer's accuracy
// figures (is the target the model's first choice?) without copying whole rows
// of probabilities back from a device. Ties go to the lowest index; NaN never wins.
#include "kernels/cpu/cpu-impl.h"

typedef struct {
    int32_t *out;
    const float *x;
    int T, V;
} argmax_args;

static void argmax_task(void *p, int ith, int nth) {
    const argmax_args *a = p;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *row = a->x + t * a->V;
        int best = 0;
        for (int v = 1; v < a->V; v++)
            if (row[v] == row[v] && (row[v] > row[best] || row[best] != row[best])) best = v;
        a->out[t] = best;
    }
}

void ds_cpu_argmax_rows(ds_ctx *ctx, int32_t *out, const float *x, int T, int V) {
    if (T <= 0 || V <= 0) return;
    argmax_args a = {out, x, T, V};
    ds_cpu_run(ctx, argmax_task, &a, (int64_t)T * V);
}
