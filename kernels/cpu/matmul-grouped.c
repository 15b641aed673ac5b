// matmul-grouped.c: one GEMM per expert over its contiguous rows (the layout
// moe_permute produces): rows offsets[e] .. offsets[e+1] of inp (rows, K) times
// weight[e] (N, K)^T. Expert sizes are uneven and change every step, so the
// work is cut into blocks that threads take from a shared counter until none
// is left; each block writes its own rows (forward, dinp) or its own rows of
// one expert's dweight, so results do not depend on which thread took it.
// Not here: routing, permutation, the expert activation (see moe-*.c, silu.c).
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"
#include "kernels/cpu/gemv.h"

#include <cblas.h>
#include <stdatomic.h>

#define GROUPED_ROWS 64 // rows per block: a GEMM large enough to run near peak
#define GROUPED_COLS 64 // dweight rows (N) per block

typedef struct {
    float *out, *dinp, *dweight;
    const float *inp, *weight, *dout;
    const int32_t *offsets;
    int E, K, N;
    int n_row_blocks, n_col_blocks;
    atomic_int next; // the next block to take
} grouped_args;

// Rows [r0, r1) of the permuted matrix: one GEMM per expert the range spans.
// mode 0: out = inp @ W_e^T; mode 1: dinp += dout @ W_e.
static void row_block(const grouped_args *a, int r0, int r1, int mode) {
    int e = 0;
    while (e < a->E && a->offsets[e + 1] <= r0) e++;
    for (; e < a->E && a->offsets[e] < r1; e++) {
        int lo = a->offsets[e] > r0 ? a->offsets[e] : r0;
        int hi = a->offsets[e + 1] < r1 ? a->offsets[e + 1] : r1;
        if (hi <= lo) continue;
        const float *w = a->weight + (int64_t)e * a->N * a->K;
        if (mode == 0 && hi - lo <= 2) // a token or two: stream the expert's weight (gemv.h)
            for (int r = lo; r < hi; r++)
                ds_gemv(a->out + (int64_t)r * a->N, w, a->inp + (int64_t)r * a->K, NULL, a->N,
                        a->K);
        else if (mode == 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, a->N, a->K, 1.0f,
                        a->inp + (int64_t)lo * a->K, a->K, w, a->K, 0.0f,
                        a->out + (int64_t)lo * a->N, a->N);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, hi - lo, a->K, a->N, 1.0f,
                        a->dout + (int64_t)lo * a->N, a->N, w, a->K, 1.0f,
                        a->dinp + (int64_t)lo * a->K, a->K);
    }
}

// Few rows per expert (decoding, small batches): every thread takes its share of the
// output columns of every expert that has rows, so all threads stream their part of
// each chosen expert's weight instead of one thread taking the single row block.
static void grouped_forward_cols_task(void *p, int ith, int nth) {
    grouped_args *a = p;
    int64_t n0, n1;
    ds_split(a->N, ith, nth, &n0, &n1);
    if (n1 <= n0) return;
    for (int e = 0; e < a->E; e++) {
        int r0 = a->offsets[e], r1 = a->offsets[e + 1];
        const float *w = a->weight + ((int64_t)e * a->N + n0) * a->K;
        if (r1 - r0 > 2) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, (int)(n1 - n0), a->K,
                        1.0f, a->inp + (int64_t)r0 * a->K, a->K, w, a->K, 0.0f,
                        a->out + (int64_t)r0 * a->N + n0, a->N);
            continue;
        }
        for (int r = r0; r < r1; r++)
            ds_gemv(a->out + (int64_t)r * a->N + n0, w, a->inp + (int64_t)r * a->K, NULL, n1 - n0,
                    a->K);
    }
}

static void grouped_forward_task(void *p, int ith, int nth) {
    grouped_args *a = p;
    const int rows = a->offsets[a->E];
    for (;;) {
        int b = atomic_fetch_add_explicit(&a->next, 1, memory_order_relaxed);
        if (b >= a->n_row_blocks) return;
        int r0 = b * GROUPED_ROWS;
        row_block(a, r0, r0 + GROUPED_ROWS < rows ? r0 + GROUPED_ROWS : rows, 0);
    }
}

static void check_offsets(const int32_t *offsets, int E) {
    DS_ASSERT(offsets[0] == 0);
    for (int e = 0; e < E; e++) DS_ASSERT(offsets[e + 1] >= offsets[e]);
}

void ds_cpu_matmul_grouped_forward(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                                   const int32_t *offsets, int E, int K, int N) {
    check_offsets(offsets, E);
    DS_ASSERT(K > 0);
    int rows = offsets[E];
    if (rows == 0 || N <= 0) return;
    grouped_args a = {.out = out,
                      .inp = inp,
                      .weight = weight,
                      .offsets = offsets,
                      .E = E,
                      .K = K,
                      .N = N,
                      .n_row_blocks = (rows + GROUPED_ROWS - 1) / GROUPED_ROWS};
    atomic_init(&a.next, 0);
    int nth = ds_pool_size(ctx->pool);
    ds_pool_run(ctx->pool,
                rows < 8 * E && nth > 1 ? grouped_forward_cols_task : grouped_forward_task, &a);
}

// Blocks 0 .. n_row_blocks-1 are dinp row blocks; the rest are (expert, column block)
// pieces of dweight: dweight_e[n0:n1] += dout_e[:, n0:n1]^T @ inp_e.
static void grouped_backward_task(void *p, int ith, int nth) {
    grouped_args *a = p;
    const int rows = a->offsets[a->E];
    const int n_row = a->dinp ? a->n_row_blocks : 0;
    const int n_w = a->dweight ? a->E * a->n_col_blocks : 0;
    for (;;) {
        int b = atomic_fetch_add_explicit(&a->next, 1, memory_order_relaxed);
        if (b >= n_row + n_w) return;
        if (b < n_row) {
            int r0 = b * GROUPED_ROWS;
            row_block(a, r0, r0 + GROUPED_ROWS < rows ? r0 + GROUPED_ROWS : rows, 1);
            continue;
        }
        int e = (b - n_row) / a->n_col_blocks, cb = (b - n_row) % a->n_col_blocks;
        int lo = a->offsets[e], hi = a->offsets[e + 1];
        int n0 = cb * GROUPED_COLS, n1 = n0 + GROUPED_COLS < a->N ? n0 + GROUPED_COLS : a->N;
        if (hi <= lo) continue; // an expert without tokens keeps its gradient
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n1 - n0, a->K, hi - lo, 1.0f,
                    a->dout + (int64_t)lo * a->N + n0, a->N, a->inp + (int64_t)lo * a->K, a->K,
                    1.0f, a->dweight + ((int64_t)e * a->N + n0) * a->K, a->K);
    }
}

void ds_cpu_matmul_grouped_backward(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                                    const float *inp, const float *weight, const int32_t *offsets,
                                    int E, int K, int N) {
    check_offsets(offsets, E);
    DS_ASSERT(K > 0);
    int rows = offsets[E];
    if (rows == 0 || N <= 0 || (!dinp && !dweight)) return;
    grouped_args a = {.dinp = dinp,
                      .dweight = dweight,
                      .dout = dout,
                      .inp = inp,
                      .weight = weight,
                      .offsets = offsets,
                      .E = E,
                      .K = K,
                      .N = N,
                      .n_row_blocks = (rows + GROUPED_ROWS - 1) / GROUPED_ROWS,
                      .n_col_blocks = (N + GROUPED_COLS - 1) / GROUPED_COLS};
    atomic_init(&a.next, 0);
    ds_pool_run(ctx->pool, grouped_backward_task, &a);
}
