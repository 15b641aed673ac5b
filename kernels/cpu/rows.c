// rows.c: rows_add, the gathers and scatters of fusion and the heads as one op:
// each destination row adds a weighted sum of source rows, the sources grouped
// by destination beforehand (the caller knows every index), so threads split
// the destinations and never share a row, and each sum runs in list order.
#include "kernels/cpu/cpu-impl.h"

typedef struct {
    float *dst;
    const int32_t *dst_row, *src_off, *src_row;
    const float *src_scale, *src;
    int n, C;
} rows_args;

static void rows_add_task(void *p, int ith, int nth) {
    const rows_args *a = p;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float *d = a->dst + (int64_t)a->dst_row[i] * a->C;
        for (int32_t j = a->src_off[i]; j < a->src_off[i + 1]; j++) {
            const float *s = a->src + (int64_t)a->src_row[j] * a->C;
            float w = a->src_scale ? a->src_scale[j] : 1.0f;
            for (int c = 0; c < a->C; c++) d[c] += w * s[c];
        }
    }
}

void ds_cpu_rows_add(ds_ctx *ctx, float *dst, const int32_t *dst_row, const int32_t *src_off,
                     const int32_t *src_row, const float *src_scale, const float *src, int n,
                     int C) {
    if (n <= 0 || C <= 0) return;
    rows_args a = {dst, dst_row, src_off, src_row, src_scale, src, n, C};
    ds_cpu_run(ctx, rows_add_task, &a, (int64_t)src_off[n] * C);
}
