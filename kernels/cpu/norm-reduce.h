// norm-reduce.h: the deterministic parameter-gradient reduction shared by the
// norms. Each thread sums its rows' contributions into its own slice of the
// context scratch; the slices are then added in thread order, so dweight and
// dbias do not depend on timing. Private to kernels/cpu.
#ifndef DS_NORM_REDUCE_H
#define DS_NORM_REDUCE_H

#include "kernels/ops.h"

// Per-thread partial buffers: nth slices of `width` floats, zeroed.
float *ds_norm_partials(ds_ctx *ctx, int width);
// dst (width) += sum over threads of the partial slices, in thread order.
void ds_norm_reduce(ds_ctx *ctx, float *dst, const float *partials, int width);

#endif
