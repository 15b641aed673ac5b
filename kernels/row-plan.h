// row-plan.h: plans for the rows_add op (kernels/ops.h). Fusion and the heads
// move rows by indices the host knows (a token's box bins, its image token, the
// patch cells under its box): a plan lists (destination, source, scale) triples
// grouped by destination, in the context's memory, ready for one rows_add call;
// the reverse plan (sources and destinations swapped) carries the gradients back.
#ifndef DS_ROW_PLAN_H
#define DS_ROW_PLAN_H

#include "core/arena.h"
#include "kernels/ops.h"

typedef struct {
    int n;                                // destination rows
    int32_t *dst_row, *src_off, *src_row; // (n), (n + 1), (src_off[n]); context memory
    float *src_scale;                     // (src_off[n]) or NULL (all 1); context memory
} ds_row_moves;                           // one rows_add call

typedef struct {
    ds_row_moves direct; // destinations of up to 1024 sources: all of them, mostly
    // Longer ones: their sources in chunks of about sqrt(count) into n_part partial rows
    // (the context's scratch), then each destination adds its partial rows in order.
    ds_row_moves chunk, fold;
    int n_part;
} ds_row_plan;

// The plan of m triples (dst[i], src[i], scale[i]; scale NULL: all 1), dst[i] in 0..n_dst-1:
// destinations in increasing order, each one's sources in the order given. Arrays from
// arena (context memory; the grouping is done on the arena's host side). 0 or DS_E_NOMEM.
int ds_row_plan_build(ds_ctx *ctx, ds_arena *arena, const int32_t *dst, const int32_t *src,
                      const float *scale, int m, int n_dst, ds_row_plan *plan);

// The plan of a gather: row i takes row idx[i] (idx host, n of them); reverse: row idx[i]
// (distinct, below n_rows; n_rows is read by reverse only) takes row i, carrying gradients
// back.
int ds_row_plan_gather(ds_ctx *ctx, ds_arena *arena, const int32_t *idx, int n, int n_rows,
                       int reverse, ds_row_plan *plan);

// dst rows += the plan's weighted source rows (rows of C floats). Uses the context's
// scratch when the plan has long destinations: src and dst must not be in it.
void ds_row_plan_apply(ds_ctx *ctx, const ds_row_plan *p, float *dst, const float *src, int C);

// host_out (n) = x[idx[i]] for the n indices idx (host) into x (context memory): single
// values fetched without copying x back (a row's probability of its target). 0 or DS_E_NOMEM.
int ds_gather_values(ds_ctx *ctx, ds_arena *arena, const float *x, const int32_t *idx, int n,
                     float *host_out);

// n int32 host values in the context's memory: the host array itself when the arena is
// host memory, else a copy in the arena. NULL when the arena is full.
const int32_t *ds_ctx_i32(ds_ctx *ctx, ds_arena *arena, const int32_t *host, int64_t n);

#endif
