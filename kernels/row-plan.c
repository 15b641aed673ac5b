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

// A destination with more sources than LONG_SOURCES sums them in chunks first, each into
// a partial row of the context's scratch, then adds its partial rows in order: the chunks
// run on parallel threads (GPU blocks), where one destination's list was one serial loop.
// A page embedding's gradient (every token of the batch on one row) took 7.8 ms of an H200
// training step as one block. The order is the plan's, so the CPU and the GPU still sum
// alike; the forward's gathers and ROI pools stay far below the bound.
enum { LONG_SOURCES = 1024, MIN_CHUNK = 64 };

// Sources per chunk of a destination of k sources: about sqrt(k), so that the chunks and
// the fold of their partial rows are loops of about the same length.
static int chunk_len(int k) {
    int c = MIN_CHUNK;
    while ((int64_t)c * c < k) c++;
    return c;
}

// Host moves (mv->n destinations, src_off[n] sources) up to the context's memory.
static int moves_up(ds_ctx *ctx, ds_arena *arena, const ds_row_moves *host, ds_row_moves *mv) {
    int n = host->n, m = host->src_off[n];
    mv->n = n;
    mv->dst_row = to_ctx(ctx, arena, host->dst_row, sizeof(int32_t) * (size_t)n);
    mv->src_off = to_ctx(ctx, arena, host->src_off, sizeof(int32_t) * ((size_t)n + 1));
    mv->src_row = to_ctx(ctx, arena, host->src_row, sizeof(int32_t) * (size_t)m);
    mv->src_scale =
        host->src_scale ? to_ctx(ctx, arena, host->src_scale, sizeof(float) * (size_t)m) : NULL;
    if (!mv->dst_row || !mv->src_off || !mv->src_row || (host->src_scale && !mv->src_scale))
        return ds_error(DS_E_NOMEM, "row plan: arena full (%d rows)", m);
    return 0;
}

// Empty host moves with room for n destinations and m sources.
static int moves_alloc(ds_arena *h, int n, int m, int scaled, ds_row_moves *mv) {
    mv->n = 0;
    mv->dst_row = ds_arena_alloc(h, sizeof(int32_t) * ((size_t)n + 1));
    mv->src_off = ds_arena_alloc(h, sizeof(int32_t) * ((size_t)n + 1));
    mv->src_row = ds_arena_alloc(h, sizeof(int32_t) * ((size_t)m + 1));
    mv->src_scale = scaled ? ds_arena_alloc(h, sizeof(float) * ((size_t)m + 1)) : NULL;
    if (!mv->dst_row || !mv->src_off || !mv->src_row || (scaled && !mv->src_scale))
        return ds_error(DS_E_NOMEM, "row plan: arena full (%d rows)", m);
    mv->src_off[0] = 0;
    return 0;
}

// Appends destination row taking sources [j0, j1) of the grouped moves g.
static void moves_push(ds_row_moves *mv, int32_t row, const ds_row_moves *g, int j0, int j1) {
    int at = mv->src_off[mv->n];
    for (int j = j0; j < j1; j++, at++) {
        mv->src_row[at] = g->src_row[j];
        if (mv->src_scale) mv->src_scale[at] = g->src_scale[j];
    }
    mv->dst_row[mv->n++] = row;
    mv->src_off[mv->n] = at;
}

// The grouped moves g, n_long of whose destinations are long (m_long sources in n_part
// chunks), as the plan's direct moves, chunks and folds, sent up.
static int split_long(ds_ctx *ctx, ds_arena *arena, const ds_row_moves *g, int n_long, int m_long,
                      int n_part, ds_row_plan *plan) {
    ds_arena *h = ds_arena_host(arena);
    int scaled = g->src_scale != NULL;
    ds_row_moves direct, chunk, fold;
    int rc = moves_alloc(h, g->n - n_long, g->src_off[g->n] - m_long, scaled, &direct);
    if (!rc) rc = moves_alloc(h, n_part, m_long, scaled, &chunk);
    if (!rc) rc = moves_alloc(h, n_long, n_part, 0, &fold);
    if (rc) return rc;
    for (int k = 0; k < n_part; k++) fold.src_row[k] = k; // the partial rows, in order
    for (int i = 0; i < g->n; i++) {
        int j0 = g->src_off[i], j1 = g->src_off[i + 1];
        if (j1 - j0 <= LONG_SOURCES) {
            moves_push(&direct, g->dst_row[i], g, j0, j1);
            continue;
        }
        for (int j = j0, len = chunk_len(j1 - j0); j < j1; j += len)
            moves_push(&chunk, chunk.n, g, j, j + len < j1 ? j + len : j1);
        fold.dst_row[fold.n++] = g->dst_row[i];
        fold.src_off[fold.n] = chunk.n;
    }
    DS_ASSERT(chunk.n == n_part && fold.n == n_long);
    plan->n_part = n_part;
    rc = moves_up(ctx, arena, &direct, &plan->direct);
    if (!rc) rc = moves_up(ctx, arena, &chunk, &plan->chunk);
    if (!rc) rc = moves_up(ctx, arena, &fold, &plan->fold);
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
    ds_row_moves grouped = {n, dst_row, src_off, src_row, sc};
    int n_long = 0, m_long = 0, n_part = 0;
    for (int i = 0; i < n; i++) {
        int k = src_off[i + 1] - src_off[i];
        if (k > LONG_SOURCES) n_long++, m_long += k, n_part += (k - 1) / chunk_len(k) + 1;
    }
    if (n_long) return split_long(ctx, arena, &grouped, n_long, m_long, n_part, plan);
    return moves_up(ctx, arena, &grouped, &plan->direct);
}

static void moves_apply(ds_ctx *ctx, const ds_row_moves *mv, float *dst, const float *src, int C) {
    if (mv->n > 0)
        ctx->ops->rows_add(ctx, dst, mv->dst_row, mv->src_off, mv->src_row, mv->src_scale, src,
                           mv->n, C);
}

void ds_row_plan_apply(ds_ctx *ctx, const ds_row_plan *p, float *dst, const float *src, int C) {
    moves_apply(ctx, &p->direct, dst, src, C);
    if (!p->n_part) return;
    size_t bytes = sizeof(float) * (size_t)p->n_part * (size_t)C;
    float *part = ds_ctx_scratch(ctx, bytes);
    ctx->ops->zero(ctx, part, bytes);
    moves_apply(ctx, &p->chunk, part, src, C);
    moves_apply(ctx, &p->fold, dst, part, C);
}
