// test-embedding.c: the lookup copies table rows exactly; the backward adds
// every occurrence of a repeated id (no lost updates between threads) and
// leaves rows of unused ids untouched.
#include "tests/test.h"
#include "kernels/ops.h"

#include <stdlib.h>

DS_TEST(embedding_forward_backward) {
    enum { T = 9, V = 6, C = 35 };
    const int32_t ids[T] = {2, 0, 2, 5, 2, 0, 1, 5, 2}; // id 3 and 4 unused
    int64_t bad = 0;
    for (int threads = 1; threads <= 3; threads++) {
        ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
        DS_CHECK(ctx != NULL);
        float table[V * C], out[T * C], dout[T * C], dtable[V * C];
        double ref_out[T * C], ref_d[V * C];
        ds_test_randn(table, V * C, 61, 1.0f);
        ds_test_randn(dout, T * C, 62, 1.0f);
        ctx->ops->embedding_forward(ctx, out, ids, table, T, V, C);
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++) ref_out[t * C + c] = table[ids[t] * C + c];
        bad += ds_test_close_f64("embedding out (exact copy)", out, ref_out, T * C, 0, 0);
        for (int i = 0; i < V * C; i++) dtable[i] = 0.5f, ref_d[i] = 0.5;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++) ref_d[ids[t] * C + c] += dout[t * C + c];
        ctx->ops->embedding_backward(ctx, dtable, dout, ids, T, V, C);
        bad +=
            ds_test_close_f64("embedding dtable (+0.5, repeats)", dtable, ref_d, V * C, 1e-6, 1e-6);
        ds_ctx_free(ctx);
    }
    return bad != 0;
}
