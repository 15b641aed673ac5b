// cuda-parity.c: the CUDA parity tests' shared context and buffer helpers.
#include "tests/cuda-parity.h"
#include "core/error.h"
#include "tests/test.h"

#include <stdlib.h>
#include <string.h>

ds_ctx *ds_par_gpu(void) {
    static ds_ctx *gpu;
    static int tried;
    if (!tried) {
        tried = 1;
        gpu = ds_ctx_new(DS_BACKEND_CUDA, 1);
#ifdef DS_HAVE_CUDA
        if (gpu) ds_cuda_set_gemm_f32(gpu, 1);
#endif
    }
    if (!gpu) printf("  skip: no CUDA device here (%s)\n", ds_errmsg());
    return gpu;
}

int ds_par_quick(void) {
    const char *q = getenv("DS_PARITY_QUICK");
    return q && q[0] && strcmp(q, "0") != 0;
}

ds_ctx *ds_par_cpu(void) {
    static ds_ctx *cpu;
    if (!cpu) cpu = ds_ctx_new(DS_BACKEND_CPU, 1);
    DS_ASSERT(cpu != NULL);
    return cpu;
}

static void *up(ds_ctx *g, const void *host, size_t bytes) {
    void *d = g->ops->alloc(g, bytes);
    DS_ASSERT(d != NULL);
    if (bytes) g->ops->upload(g, d, host, bytes);
    return d;
}

float *ds_par_up(ds_ctx *g, const float *host, int64_t n) {
    return up(g, host, sizeof(float) * (size_t)n);
}

int32_t *ds_par_up_i32(ds_ctx *g, const int32_t *host, int64_t n) {
    return up(g, host, sizeof(int32_t) * (size_t)n);
}

void *ds_par_zeros(ds_ctx *g, size_t bytes) {
    void *d = g->ops->alloc(g, bytes);
    DS_ASSERT(d != NULL);
    g->ops->zero(g, d, bytes);
    return d;
}

static void *down(ds_ctx *g, const void *dev, size_t bytes) {
    void *h = malloc(bytes ? bytes : 1);
    DS_ASSERT(h != NULL);
    if (bytes) g->ops->download(g, h, dev, bytes);
    return h;
}

float *ds_par_down(ds_ctx *g, const float *dev, int64_t n) {
    return down(g, dev, sizeof(float) * (size_t)n);
}

int32_t *ds_par_down_i32(ds_ctx *g, const int32_t *dev, int64_t n) {
    return down(g, dev, sizeof(int32_t) * (size_t)n);
}

float *ds_par_randn(int64_t n, uint64_t seed, float std) {
    float *x = malloc(sizeof(float) * (size_t)(n ? n : 1));
    DS_ASSERT(x != NULL);
    ds_test_randn(x, n, seed, std);
    return x;
}

int64_t ds_par_check(ds_ctx *g, const char *what, const float *dev, const float *ref, int64_t n,
                     double atol, double rtol) {
    float *got = ds_par_down(g, dev, n);
    int64_t bad = ds_test_close_f32(what, got, ref, n, atol, rtol);
    free(got);
    return bad;
}
