// test-backend.c: backend selection. The CPU table is complete (no NULL op);
// asking for CUDA where it cannot run is a clear DS_E_NODEVICE / DS_E_UNSUPPORTED,
// never a crash. GPU parity tests arrive with the CUDA kernels.
#include "tests/test.h"
#include "core/error.h"
#include "kernels/ops.h"

#include <string.h>

DS_TEST(backend_cpu_table_complete) {
    const ds_ops *ops = ds_ops_cpu();
    // Every member after the name is a function pointer; none may be missing.
    const void *const *fn = (const void *const *)((const char *)ops + sizeof(const char *));
    size_t n = (sizeof(ds_ops) - sizeof(const char *)) / sizeof(void *);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++) missing += fn[i] == NULL;
    printf("  cpu table: %zu ops, %zu missing\n", n, missing);
    DS_CHECK(strcmp(ops->name, "cpu") == 0);
    DS_CHECK_INT_EQ(missing, 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 0); // thread count clamps to 1
    DS_CHECK(ctx != NULL && ds_pool_size(ctx->pool) == 1);
    void *s1 = ds_ctx_scratch(ctx, 100), *s2 = ds_ctx_scratch(ctx, 50);
    DS_CHECK(s1 != NULL && s1 == s2); // smaller requests reuse the scratch
    ds_ctx_free(ctx);
    ds_ctx_free(NULL);
    return 0;
}

DS_TEST(backend_cuda_unavailable) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CUDA, 1);
    if (ctx) { // a GPU with complete CUDA kernels: nothing to check here
        printf("  CUDA context created (%s)\n", ctx->ops->name);
        ds_ctx_free(ctx);
        return 0;
    }
    printf("  CUDA unavailable, as expected here: %s\n", ds_errmsg());
    DS_CHECK(strstr(ds_errmsg(), "--device cpu") || strstr(ds_errmsg(), "without CUDA"));
    return 0;
}
