// norm-reduce.c: see norm-reduce.h. Slices are padded to 16 floats (a cache
// line) so threads writing their partials never share a line.
#include "kernels/cpu/norm-reduce.h"

#include <string.h>

static int64_t padded(int width) {
    return ((int64_t)width + 15) & ~(int64_t)15;
}

float *ds_norm_partials(ds_ctx *ctx, int width) {
    int nth = ds_pool_size(ctx->pool);
    size_t bytes = (size_t)(padded(width) * nth) * sizeof(float);
    float *p = ds_ctx_scratch(ctx, bytes);
    memset(p, 0, bytes);
    return p;
}

void ds_norm_reduce(ds_ctx *ctx, float *dst, const float *partials, int width) {
    int nth = ds_pool_size(ctx->pool);
    for (int i = 0; i < nth; i++) {
        const float *s = partials + i * padded(width);
        for (int c = 0; c < width; c++) dst[c] += s[c];
    }
}
