// row-plan.c: building rows_add plans: a stable counting sort of the triples by
// destination on the host, then the arrays up to the context's memory.
#include "kernels/row-plan.h"

#include "core/error.h"

#include <string.h>

// host (n elements of size bytes) copied into the context's memory from arena.
static void *to_ctx(ds_ctx *ctx, ds_arena *arena, const void *host, size_t bytes) {
    if (ds_arena_in_host_memory(arena)) return (void *)host; // already there
    void *d = ds_arena_alloc(arena, bytes ? bytes : 1);
    if (d && bytes) ctx->ops->upload(ctx, d, host, bytes);
    return d;
}

const int32_t *ds_ctx_i32(ds_ctx *ctx, ds_arena *arena, const int32_t *host, int64_t n) {
    return to_ctx(ctx, arena, host, sizeof(int32_t) * (size_t)n);
}

int ds_row_plan_gather(ds_ctx *ctx, ds_arena *arena, const int32_t *idx, int n, int n_rows,
                       int reverse, ds_row_plan *plan) {
    int32_t *seq = ds_arena_alloc(ds_arena_host(arena), sizeof(int32_t) * ((size_t)n + 1));
    if (!seq) return ds_error(DS_E_NOMEM, "row plan: arena full (%d rows)", n);
    for (int i = 0; i < n; i++) seq[i] = i;
    return reverse ? ds_row_plan_build(ctx, arena, idx, seq, NULL, n, n_rows, plan)
                   : ds_row_plan_build(ctx, arena, seq, idx, NULL, n, n, plan);
}

int ds_gather_values(ds_ctx *ctx, ds_arena *arena, const float *x, const int32_t *idx, int n,
                     float *host_out) {
    if (n <= 0) return 0;
    if (ds_arena_in_host_memory(arena)) { // read in place
        for (int i = 0; i < n; i++) host_out[i] = x[idx[i]];
        return 0;
    }
    ds_arena_mark_t mark = ds_arena_mark(arena);
    float *out = ds_arena_alloc(arena, sizeof(float) * (size_t)n);
    if (!out) return ds_error(DS_E_NOMEM, "gathering %d values: arena full", n);
    ds_row_plan plan; // rows of one value
    int rc = ds_row_plan_gather(ctx, arena, idx, n, 0, 0, &plan);
    if (!rc) {
        ctx->ops->zero(ctx, out, sizeof(float) * (size_t)n);
        ds_row_plan_apply(ctx, &plan, out, x, 1);
        ctx->ops->download(ctx, host_out, out, sizeof(float) * (size_t)n);
    }
    ds_arena_rewind(arena, mark);
    return rc;
}

int ds_row_plan_build(ds_ctx *ctx, ds_arena *arena, const int32_t *dst, const int32_t *src,
                      const float *scale, int m, int n_dst, ds_row_plan *plan) {
    memset(plan, 0, sizeof *plan);
    ds_arena *h = ds_arena_host(arena);
    int32_t *count, *dst_row, *src_off, *src_row;
    float *sc = NULL;
    count = ds_arena_alloc(h, sizeof(int32_t) * ((size_t)n_dst + 1));
    dst_row = ds_arena_alloc(h, sizeof(int32_t) * ((size_t)n_dst + 1));
    src_off = ds_arena_alloc(h, sizeof(int32_t) * ((size_t)n_dst + 2));
    src_row = ds_arena_alloc(h, sizeof(int32_t) * ((size_t)m + 1));
    if (scale) sc = ds_arena_alloc(h, sizeof(float) * ((size_t)m + 1));
    if (!count || !dst_row || !src_off || !src_row || (scale && !sc))
        return ds_error(DS_E_NOMEM, "row plan: arena full (%d rows)", m);
    memset(count, 0, sizeof(int32_t) * (size_t)n_dst);
    for (int i = 0; i < m; i++) {
        DS_ASSERT(dst[i] >= 0 && dst[i] < n_dst);
        count[dst[i]]++;
    }
    int n = 0; // destinations with sources, in row order; count becomes each one's next slot
    src_off[0] = 0;
    for (int r = 0; r < n_dst; r++) {
        if (!count[r]) continue;
        dst_row[n] = r;
        src_off[n + 1] = src_off[n] + count[r];
        count[r] = src_off[n];
        n++;
    }
    for (int i = 0; i < m; i++) {
        int j = count[dst[i]]++;
        src_row[j] = src[i];
        if (sc) sc[j] = scale[i];
    }
    plan->n = n;
    plan->dst_row = to_ctx(ctx, arena, dst_row, sizeof(int32_t) * (size_t)n);
    plan->src_off = to_ctx(ctx, arena, src_off, sizeof(int32_t) * ((size_t)n + 1));
    plan->src_row = to_ctx(ctx, arena, src_row, sizeof(int32_t) * (size_t)m);
    plan->src_scale = sc ? to_ctx(ctx, arena, sc, sizeof(float) * (size_t)m) : NULL;
    if (!plan->dst_row || !plan->src_off || !plan->src_row || (sc && !plan->src_scale))
        return ds_error(DS_E_NOMEM, "row plan: arena full (%d rows)", m);
    return 0;
}
