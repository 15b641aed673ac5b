// matmul.c: the linear layer, out (M, N) = inp (M, K) @ weight (N, K)^T + bias,
// forward and backward, as single-threaded OpenBLAS sgemm calls on blocks
// (llm.c's layout: weights stored (out, in)). Each thread writes its own block
// of the output, so no two threads touch the same element and every sum runs in
// a fixed order whatever the timing.
// Not here: quantised weights, transposed-weight variants, fused activations.
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"
#include "kernels/cpu/gemv.h"

#include <cblas.h>

typedef struct {
    float *out, *dinp, *dweight, *dbias;
    const float *inp, *weight, *bias, *dout;
    int M, K, N;
    int split_rows; // forward / dinp: 1 = threads take rows of M, 0 = columns
} matmul_args;

// Enough rows for every thread to get a block worth a GEMM; otherwise (decoding a
// token or two) the threads split the columns and each streams its own part of
// the weight, which is what that case costs.
static int split_rows(int M, int nth) {
    return M >= 8 * nth;
}

static void matmul_forward_task(void *p, int ith, int nth) {
    const matmul_args *a = p;
    int64_t m0 = 0, m1 = a->M, n0 = 0, n1 = a->N;
    if (a->split_rows)
        ds_split(a->M, ith, nth, &m0, &m1);
    else
        ds_split(a->N, ith, nth, &n0, &n1);
    if (m1 <= m0 || n1 <= n0) return;
    float *out = a->out + m0 * a->N + n0;
    if (a->bias)
        for (int64_t m = 0; m < m1 - m0; m++)
            for (int64_t n = 0; n < n1 - n0; n++) out[m * a->N + n] = a->bias[n0 + n];
    if (m1 - m0 <= 2) { // decoding: stream the weight once per row (gemv.h)
        for (int64_t m = m0; m < m1; m++)
            ds_gemv(a->out + m * a->N + n0, a->weight + n0 * a->K, a->inp + m * a->K,
                    a->bias ? a->bias + n0 : NULL, n1 - n0, a->K);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(m1 - m0), (int)(n1 - n0), a->K, 1.0f,
                a->inp + m0 * a->K, a->K, a->weight + n0 * a->K, a->K, a->bias ? 1.0f : 0.0f, out,
                a->N);
}

void ds_cpu_matmul_forward(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                           const float *bias, int M, int K, int N) {
    DS_ASSERT(K > 0);
    if (M <= 0 || N <= 0) return;
    matmul_args a = {.out = out,
                     .inp = inp,
                     .weight = weight,
                     .bias = bias,
                     .M = M,
                     .K = K,
                     .N = N,
                     .split_rows = split_rows(M, ds_pool_size(ctx->pool))};
    ds_pool_run(ctx->pool, matmul_forward_task, &a);
}

// Each thread does three independent shares: its rows (or columns) of dinp, its
// rows of dweight and the matching entries of dbias.
static void matmul_backward_task(void *p, int ith, int nth) {
    const matmul_args *a = p;
    const int M = a->M, K = a->K, N = a->N;
    if (a->dinp) { // dinp (M, K) += dout (M, N) @ weight (N, K)
        int64_t m0 = 0, m1 = M, k0 = 0, k1 = K;
        if (a->split_rows)
            ds_split(M, ith, nth, &m0, &m1);
        else
            ds_split(K, ith, nth, &k0, &k1);
        if (m1 > m0 && k1 > k0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m1 - m0), (int)(k1 - k0),
                        N, 1.0f, a->dout + m0 * N, N, a->weight + k0, K, 1.0f,
                        a->dinp + m0 * K + k0, K);
    }
    int64_t n0, n1;
    ds_split(N, ith, nth, &n0, &n1);
    if (n1 <= n0) return;
    if (a->dweight) // dweight (N, K) += dout^T (N, M) @ inp (M, K), rows n0..n1
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(n1 - n0), K, M, 1.0f,
                    a->dout + n0, N, a->inp, K, 1.0f, a->dweight + n0 * K, K);
    if (a->dbias)
        for (int64_t m = 0; m < M; m++) {
            const float *row = a->dout + m * N;
            for (int64_t n = n0; n < n1; n++) a->dbias[n] += row[n];
        }
}

void ds_cpu_matmul_backward(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight, int M, int K,
                            int N) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    matmul_args a = {.dinp = dinp,
                     .dweight = dweight,
                     .dbias = dbias,
                     .dout = dout,
                     .inp = inp,
                     .weight = weight,
                     .M = M,
                     .K = K,
                     .N = N,
                     .split_rows = split_rows(M, ds_pool_size(ctx->pool))};
    ds_pool_run(ctx->pool, matmul_backward_task, &a);
}
