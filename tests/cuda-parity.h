// cuda-parity.h: helpers for the CUDA parity tests (tests/test-cuda-*.c): each
// test runs an op through the CPU reference table on host buffers and through
// the CUDA table on device copies of the same inputs, then compares with
// ds_test_close_f32 at a tolerance stated per dtype. Without a GPU (or without
// a CUDA build) ds_par_gpu prints one skip line and the test passes.
#ifndef DS_CUDA_PARITY_H
#define DS_CUDA_PARITY_H

#include "kernels/ops.h"

#include <stdint.h>

// Tolerances |got - ref| <= atol + rtol |ref|: f32 kernels (different summation
// order only), and GEMMs on bf16 tensor cores (8-bit mantissas, f32 sums).
#define DS_PAR_F32_ATOL  1e-5
#define DS_PAR_F32_RTOL  1e-5
#define DS_PAR_BF16_RTOL 8e-2

// The shared GPU context (created once, GEMMs in full f32), or NULL after
// printing "  skip: ..." when there is none.
ds_ctx *ds_par_gpu(void);
// The CPU reference context (one thread).
ds_ctx *ds_par_cpu(void);
// A device copy of n host values; aborts if the device cannot hold it.
float *ds_par_up(ds_ctx *g, const float *host, int64_t n);
int32_t *ds_par_up_i32(ds_ctx *g, const int32_t *host, int64_t n);
// A device buffer of n zeros.
void *ds_par_zeros(ds_ctx *g, size_t bytes);
// A malloc'ed host copy of n device values (free with free()).
float *ds_par_down(ds_ctx *g, const float *dev, int64_t n);
int32_t *ds_par_down_i32(ds_ctx *g, const int32_t *dev, int64_t n);
// Random host values N(0, std^2) from seed (malloc'ed; free with free()).
float *ds_par_randn(int64_t n, uint64_t seed, float std);
// 1 when DS_PARITY_QUICK is set (ctest sets it for the CUDA emulator, tests/cuda-emu): tests
// leave out the shapes too large to emulate in seconds, never an op or a mask kind.
int ds_par_quick(void);
// Compares n device values with a host reference: the mismatch count (0 = pass).
int64_t ds_par_check(ds_ctx *g, const char *what, const float *dev, const float *ref, int64_t n,
                     double atol, double rtol);

#endif
