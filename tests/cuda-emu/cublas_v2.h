// cublas_v2.h (emulated): the cuBLAS subset kernels/cuda uses (handles bound to a stream and
// cublasGemmEx over f32 buffers), implemented in tests/cuda-emu/emu.cpp as naive column-major
// loops with double sums. COMPUTE_32F_FAST_16BF rounds A and B to bf16 (nearest even) first,
// as the tensor cores see them, so the bf16 tolerance of the parity tests means something.
// Deliberately not here: other data types, batched or strided GEMMs, other BLAS routines.
#ifndef DS_CUDA_EMU_CUBLAS_H
#define DS_CUDA_EMU_CUBLAS_H

#include "cuda_runtime.h"

typedef enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
} cublasStatus_t;

typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 } cublasOperation_t;

typedef enum { CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14 } cudaDataType;
typedef cudaDataType cudaDataType_t;

typedef enum {
    CUBLAS_COMPUTE_32F = 68,
    CUBLAS_COMPUTE_32F_FAST_16F = 74,
    CUBLAS_COMPUTE_32F_FAST_16BF = 75,
    CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
} cublasComputeType_t;

typedef enum { CUBLAS_GEMM_DEFAULT = -1 } cublasGemmAlgo_t;

typedef struct emu_blas *cublasHandle_t;

extern "C" {
cublasStatus_t cublasCreate(cublasHandle_t *handle);
cublasStatus_t cublasDestroy(cublasHandle_t handle);
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream);
const char *cublasGetStatusString(cublasStatus_t status);
// C (m, n) = alpha op(A) op(B) + beta C, column-major; beta = 0 never reads C.
cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb,
                            int m, int n, int k, const void *alpha, const void *A,
                            cudaDataType Atype, int lda, const void *B, cudaDataType Btype, int ldb,
                            const void *beta, void *C, cudaDataType Ctype, int ldc,
                            cublasComputeType_t compute, cublasGemmAlgo_t algo);
// count such products, entry i at A + i sA, B + i sB, C + i sC (elements).
cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t ta,
                                          cublasOperation_t tb, int m, int n, int k,
                                          const void *alpha, const void *A, cudaDataType Atype,
                                          int lda, long long sA, const void *B, cudaDataType Btype,
                                          int ldb, long long sB, const void *beta, void *C,
                                          cudaDataType Ctype, int ldc, long long sC, int count,
                                          cublasComputeType_t compute, cublasGemmAlgo_t algo);
}

#endif
