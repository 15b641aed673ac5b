// ctx.c: backend contexts. The CPU context owns a thread pool and pins
// OpenBLAS to one thread, because the kernels already split rows across the
// pool and two levels of threads would oversubscribe the cores. A CUDA
// context is created by kernels/cuda when that backend is compiled in.
#include "kernels/ops.h"
#include "core/error.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#ifdef DS_HAVE_CUDA
int ds_cuda_ctx_init(ds_ctx *ctx, int device);
void ds_cuda_ctx_release(ds_ctx *ctx);
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
