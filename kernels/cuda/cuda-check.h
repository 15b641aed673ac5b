// cuda-check.h: the one checking macro for every CUDA runtime and cuBLAS
// call (ggml CUDA_CHECK, llm.c cudaCheck): on failure it prints the
// statement, function, file and line with the library's own message.
// Start-up code may treat a failure as fatal; request paths turn it into
// DS_E_INTERNAL through ds_cuda_status.
#ifndef DS_CUDA_CHECK_H
#define DS_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>

#define DS_CUDA_CHECK(stmt) ds_cuda_check_impl((stmt), #stmt, __func__, __FILE__, __LINE__)

static inline int ds_cuda_check_impl(cudaError_t err, const char *stmt, const char *func,
                                     const char *file, int line) {
    if (err == cudaSuccess) return 0;
    fprintf(stderr, "docseek: CUDA error %s (%s)\n  in %s at %s:%d: %s\n", cudaGetErrorName(err),
            cudaGetErrorString(err), func, file, line, stmt);
    return -1;
}

#define DS_CUBLAS_CHECK(stmt) ds_cublas_check_impl((stmt), #stmt, __func__, __FILE__, __LINE__)

static inline int ds_cublas_check_impl(cublasStatus_t st, const char *stmt, const char *func,
                                       const char *file, int line) {
    if (st == CUBLAS_STATUS_SUCCESS) return 0;
    fprintf(stderr, "docseek: cuBLAS error %s\n  in %s at %s:%d: %s\n", cublasGetStatusString(st),
            func, file, line, stmt);
    return -1;
}

#endif
