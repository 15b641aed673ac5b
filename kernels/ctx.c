// ctx.c: backend contexts. The CPU context owns a thread pool and pins
// OpenBLAS to one thread, because the kernels already split rows across the
// pool and two levels of threads would oversubscribe the cores. A CUDA
// context is created by kernels/cuda when that backend is compiled in.
#include "kernels/ops.h"
#include "core/error.h"
#include "core/log.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DS_HAVE_CUDA
int ds_cuda_ctx_init(ds_ctx *ctx, int device);
void ds_cuda_ctx_release(ds_ctx *ctx);
void ds_cuda_ctx_use(ds_ctx *ctx);
int ds_cuda_device_count(void);
int ds_cuda_device_name(int index, char *buf, size_t size);
#endif

ds_ctx *ds_ctx_new(ds_backend backend, int n_threads) {
    return ds_ctx_new_device(backend, n_threads, 0);
}

ds_ctx *ds_ctx_new_device(ds_backend backend, int n_threads, int device) {
    ds_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        ds_error(DS_E_NOMEM, "cannot allocate a compute context");
        return NULL;
    }
    ctx->backend = backend;
    ctx->device = device;
    if (backend == DS_BACKEND_CPU) {
        ctx->ops = ds_ops_cpu();
        openblas_set_num_threads(1);
        n_threads = n_threads < 1 ? 1 : n_threads > 64 ? 64 : n_threads;
        ctx->pool = ds_pool_new(n_threads);
        if (!ctx->pool) {
            free(ctx);
            ds_error(DS_E_NOMEM, "cannot start %d compute threads", n_threads);
            return NULL;
        }
        return ctx;
    }
#ifdef DS_HAVE_CUDA
    if (ds_cuda_ctx_init(ctx, device) == 0) return ctx;
    free(ctx);
    return NULL;
#else
    (void)device;
    free(ctx);
    ds_error(DS_E_NODEVICE, "this docseek was built without CUDA (rebuild with nvcc installed)");
    return NULL;
#endif
}

// The context of a parsed spec, or NULL with the error detail set.
static ds_ctx *open_spec(const char *spec, int n_threads, int *bad_spec) {
    *bad_spec = 0;
    if (!spec || !strcmp(spec, "auto")) {
#ifdef DS_HAVE_CUDA
        if (ds_cuda_device_count() > 0) { // a GPU that cannot be used (busy, full): the CPU
            ds_ctx *g = ds_ctx_new_device(DS_BACKEND_CUDA, n_threads, 0);
            if (g) return g;
            DS_LOGW("device auto: GPU 0 is present but unusable (%s): computing on the CPU",
                    ds_errmsg());
        }
#endif
        return ds_ctx_new(DS_BACKEND_CPU, n_threads);
    }
    if (!strcmp(spec, "cpu")) return ds_ctx_new(DS_BACKEND_CPU, n_threads);
    if (!strcmp(spec, "cuda")) return ds_ctx_new_device(DS_BACKEND_CUDA, n_threads, 0);
    if (!strncmp(spec, "cuda:", 5)) {
        char *end = NULL;
        long d = strtol(spec + 5, &end, 10);
        if (end != spec + 5 && !*end && d >= 0 && d < 1024)
            return ds_ctx_new_device(DS_BACKEND_CUDA, n_threads, (int)d);
    }
    *bad_spec = 1;
    ds_error(DS_E_INVAL, "unknown device '%s' (cpu, cuda, cuda:N or auto)", spec);
    return NULL;
}

int ds_ctx_open(const char *spec, int n_threads, ds_ctx **out) {
    int bad_spec;
    *out = open_spec(spec, n_threads, &bad_spec);
    return *out ? 0 : bad_spec ? DS_E_INVAL : DS_E_NODEVICE;
}

const char *ds_ctx_describe(const ds_ctx *ctx, char *buf, size_t cap) {
    if (ctx->backend == DS_BACKEND_CPU) {
        int n = ds_pool_size(ctx->pool);
        snprintf(buf, cap, "CPU, %d thread%s", n, n == 1 ? "" : "s");
        return buf;
    }
    char name[192] = "?";
#ifdef DS_HAVE_CUDA
    if (ds_cuda_device_name(ctx->device, name, sizeof name) != 0) snprintf(name, sizeof name, "?");
#endif
    snprintf(buf, cap, "cuda:%d %s", ctx->device, name);
    return buf;
}

void ds_ctx_use(ds_ctx *ctx) {
#ifdef DS_HAVE_CUDA
    if (ctx->backend == DS_BACKEND_CUDA) ds_cuda_ctx_use(ctx);
#else
    (void)ctx;
#endif
}

void ds_ctx_free(ds_ctx *ctx) {
    if (!ctx) return;
    if (ctx->scratch) ctx->ops->free(ctx, ctx->scratch);
#ifdef DS_HAVE_CUDA
    if (ctx->backend == DS_BACKEND_CUDA) ds_cuda_ctx_release(ctx);
#endif
    ds_pool_free(ctx->pool);
    free(ctx);
}

static void *arena_chunk_alloc(void *user, size_t bytes) {
    ds_ctx *ctx = user;
    return ctx->ops->alloc(ctx, bytes);
}

static void arena_chunk_free(void *user, void *ptr) {
    ds_ctx *ctx = user;
    ctx->ops->free(ctx, ptr);
}

void ds_ctx_arena_init(ds_ctx *ctx, ds_arena *arena, ds_arena *host, size_t chunk_size,
                       size_t limit) {
    ds_arena_init(host, 0, 0);
    if (ctx->backend == DS_BACKEND_CPU) {
        ds_arena_init(arena, chunk_size, limit);
        return;
    }
    ds_arena_backing b = {arena_chunk_alloc, arena_chunk_free, ctx};
    ds_arena_init_backed(arena, chunk_size, limit, &b, host);
}

void *ds_ctx_scratch(ds_ctx *ctx, size_t bytes) {
    if (bytes <= ctx->scratch_bytes) return ctx->scratch;
    if (ctx->scratch) ctx->ops->free(ctx, ctx->scratch);
    ctx->scratch = ctx->ops->alloc(ctx, bytes);
    DS_ASSERT(ctx->scratch != NULL);
    ctx->scratch_bytes = bytes;
    return ctx->scratch;
}
