// memory.c: the CPU backend's memory and elementwise ops. Host memory is the
// device memory here, so upload/download are copies.
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

void *ds_cpu_alloc(ds_ctx *ctx, size_t bytes) {
    (void)ctx;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, rounded ? rounded : 64);
}

void ds_cpu_free(ds_ctx *ctx, void *ptr) {
    (void)ctx;
    free(ptr);
}

void ds_cpu_upload(ds_ctx *ctx, void *dst, const void *host_src, size_t bytes) {
    (void)ctx;
    if (bytes) memmove(dst, host_src, bytes);
}

void ds_cpu_download(ds_ctx *ctx, void *host_dst, const void *src, size_t bytes) {
    (void)ctx;
    if (bytes) memmove(host_dst, src, bytes);
}

void ds_cpu_zero(ds_ctx *ctx, void *ptr, size_t bytes) {
    (void)ctx;
    if (bytes) memset(ptr, 0, bytes);
}

void ds_cpu_sync(ds_ctx *ctx) {
    (void)ctx;
}

void ds_cpu_copy_2d(ds_ctx *ctx, float *dst, int64_t dst_ld, const float *src, int64_t src_ld,
                    int rows, int cols) {
    (void)ctx;
    if (cols <= 0) return;
    for (int r = 0; r < rows; r++)
        memcpy(dst + (size_t)r * dst_ld, src + (size_t)r * src_ld, sizeof(float) * cols);
}

typedef struct {
    float *out;
    const float *a, *b;
    float scale;
    int64_t n;
    double partial[64];
} ds_elem_args;

static void add_task(void *p, int ith, int nth) {
    ds_elem_args *a = p;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) a->out[i] = a->a[i] + a->b[i];
}

void ds_cpu_add(ds_ctx *ctx, float *out, const float *a, const float *b, int64_t n) {
    ds_elem_args args = {.out = out, .a = a, .b = b, .n = n};
    ds_cpu_run(ctx, add_task, &args, n);
}

static void axpy_task(void *p, int ith, int nth) {
    ds_elem_args *a = p;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) a->out[i] += a->scale * a->a[i];
}

void ds_cpu_axpy(ds_ctx *ctx, float *dst, const float *src, float scale, int64_t n) {
    ds_elem_args args = {.out = dst, .a = src, .scale = scale, .n = n};
    ds_cpu_run(ctx, axpy_task, &args, n);
}

static void sumsq_task(void *p, int ith, int nth) {
    ds_elem_args *a = p;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    double s = 0;
    for (int64_t i = lo; i < hi; i++) s += (double)a->a[i] * a->a[i];
    a->partial[ith] = s;
}

double ds_cpu_sumsq(ds_ctx *ctx, const float *x, int64_t n) {
    ds_elem_args args = {.a = x, .n = n};
    int nth = ds_pool_size(ctx->pool);
    DS_ASSERT(nth <= 64);
    ds_pool_run(ctx->pool, sumsq_task, &args);
    double s = 0;
    for (int i = 0; i < nth; i++) s += args.partial[i]; // fixed order: deterministic
    return s;
}
