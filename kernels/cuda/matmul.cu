// matmul.cu: out (M, N) = inp (M, K) @ weight (N, K)^T + bias, and its
// backward, through cuBLAS. cuBLAS is column-major: a row-major (R, C) matrix
// is its (C, R) transpose there, so out^T = weight . inp^T is one GEMM with
// the weight transposed. Products run on bf16 tensor cores with f32 sums
// (COMPUTE_32F_FAST_16BF: f32 buffers, no conversion pass of our own) unless
// the context asks for full f32 (ds_cuda_set_gemm_f32, for the parity tests).
// The bias and its gradient are small kernels of their own.
#include "kernels/cuda/cuda-impl.h"

// Column-major C (m, n) = alpha op(A) op(B) + beta C, all f32 in memory.
static void gemm(ds_ctx *ctx, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    const float alpha = 1.0f;
    DS_CUBLAS_TRY(cublasGemmEx(ds_cuda_of(ctx)->blas, ta, tb, m, n, k, &alpha, A, CUDA_R_32F, lda,
                               B, CUDA_R_32F, ldb, &beta, C, CUDA_R_32F, ldc,
                               ds_cuda_gemm_compute(ctx), CUBLAS_GEMM_DEFAULT));
}

static __global__ void add_bias_kernel(float *out, const float *bias, int M, int N) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (long long)M * N) out[i] += bias[i % N];
}

// dbias (N) += column sums of dout (M, N): one thread per column, rows in order.
static __global__ void bias_grad_kernel(float *dbias, const float *dout, int M, int N) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= N) return;
    float s = 0;
    for (int i = 0; i < M; i++) s += dout[(long long)i * N + j];
    dbias[j] += s;
}

void ds_cuda_matmul_forward(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                            const float *bias, int M, int K, int N) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { // an empty sum: the bias alone
        ds_cuda_zero(ctx, out, sizeof(float) * M * N);
    } else {
        gemm(ctx, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, weight, K, inp, K, 0.0f, out, N);
    }
    if (bias) {
        add_bias_kernel<<<ds_cuda_blocks((long long)M * N, 256), 256, 0, ds_cuda_stream(ctx)>>>(
            out, bias, M, N);
        DS_CUDA_LAUNCHED();
    }
}

void ds_cuda_matmul_backward(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                             const float *dout, const float *inp, const float *weight, int M, int K,
                             int N) {
    if (M <= 0 || N <= 0) return;
    if (dinp && K > 0) // dinp (M, K) += dout (M, N) @ weight (N, K)
        gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_N, K, M, N, weight, K, dout, N, 1.0f, dinp, K);
    if (dweight && K > 0) // dweight (N, K) += dout^T (N, M) @ inp (M, K)
        gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_T, K, N, M, inp, K, dout, N, 1.0f, dweight, K);
    if (dbias) {
        bias_grad_kernel<<<ds_cuda_blocks(N, 128), 128, 0, ds_cuda_stream(ctx)>>>(dbias, dout, M,
                                                                                  N);
        DS_CUDA_LAUNCHED();
    }
}
