// cuda_fp16.h (emulated): the half type and the two conversions kernels/cuda
// uses, over g++'s _Float16 (IEEE binary16, round to nearest even, as the
// device's cvt.rn.f16.f32 and the CPU backend's _Float16 stores).
#ifndef DS_CUDA_EMU_FP16_H
#define DS_CUDA_EMU_FP16_H

typedef _Float16 __half;

static inline float __half2float(__half h) {
    return (float)h;
}
static inline __half __float2half_rn(float f) {
    return (__half)f;
}

#endif
