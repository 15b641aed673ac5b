// attn-range.h: the visible keys of ds_attn_mask as intervals, shared by the CPU
// reference (kernels/cpu/attention*.c) and the CUDA kernels (kernels/cuda/attention*.cu)
// so every attention op applies one mask. Every mask of ops.h keeps, for query i, one
// interval of keys whose two ends never decrease with i; that lets a block of query rows
// bound its keys by its first and last rows, and a block of keys bound its queries.
// Private to kernels/. Not here: the masking of single entries (callers test j against
// the row's interval).
#ifndef DS_ATTN_RANGE_H
#define DS_ATTN_RANGE_H

#include "kernels/ops.h"

#ifdef __CUDACC__
#define DS_ATTN_HD __host__ __device__
#else
#define DS_ATTN_HD
#endif

// Visible keys of query i: [*lo, *hi). The visible set of ops.h,
// {j <= i, or i, j < n_prefix} intersected with |i - j| < window, is an interval
// because both parts are intervals that contain i; it is never empty (it holds i).
static inline DS_ATTN_HD void ds_attn_row_range(int i, int T, ds_attn_mask m, int *lo, int *hi) {
    int64_t l = 0, h = T;
    if (m.causal) {
        int64_t np = m.n_prefix < 0 ? 0 : m.n_prefix > T ? T : m.n_prefix;
        h = i < np ? np : (int64_t)i + 1;
    }
    if (m.window > 0) {
        int64_t wl = (int64_t)i - m.window + 1, wh = (int64_t)i + m.window;
        if (wl > l) l = wl;
        if (wh < h) h = wh;
    }
    *lo = (int)l;
    *hi = (int)h;
}

// The queries [*i0, *i1) that see at least one key of [j0, j1) (0 <= j0 < j1 <= T): query
// i does exactly when lo(i) < j1 and hi(i) > j0, and both ends grow with i, so the set is
// an interval found by two binary searches (empty when *i0 == *i1).
static inline DS_ATTN_HD void ds_attn_col_range(int j0, int j1, int T, ds_attn_mask m, int *i0,
                                                int *i1) {
    int a = 0, b = T; // first i with hi(i) > j0
    while (a < b) {
        int mid = a + (b - a) / 2, lo, hi;
        ds_attn_row_range(mid, T, m, &lo, &hi);
        if (hi > j0)
            b = mid;
        else
            a = mid + 1;
    }
    *i0 = a;
    a = *i0, b = T; // first i with lo(i) >= j1
    while (a < b) {
        int mid = a + (b - a) / 2, lo, hi;
        ds_attn_row_range(mid, T, m, &lo, &hi);
        if (lo >= j1)
            b = mid;
        else
            a = mid + 1;
    }
    *i1 = a;
}

#endif
