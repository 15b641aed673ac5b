// fast-exp.h: a vectorisable expf for the CPU kernels' hot loops (softmax rows
// of attention, SwiGLU's sigmoid), where libm's expf blocks vectorisation.
// Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, a degree-6 Taylor
// polynomial (truncation error < 1.2e-7 relative, about 1 ulp), and 2^n built
// in the exponent bits: the scheme of Cephes expf. x is clamped to [-87, 88]
// so 2^n stays a normal float: exp(-87) ~ 1.6e-38 stands in for 0 and
// exp(88) ~ 1.7e38 for overflow, which no softmax or sigmoid can tell apart.
// Private to kernels/cpu.
#ifndef DS_FAST_EXP_H
#define DS_FAST_EXP_H

#include <stdint.h>
#include <string.h>

static inline float ds_fast_expf(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float shift = 12582912.0f; // 1.5 * 2^23: adding it rounds to an integer
    float t = x * 1.44269504f + shift;
    float n = t - shift;
    int32_t ti;
    memcpy(&ti, &t, sizeof ti);
    float r = x - n * 0.693145752f - n * 1.42860677e-6f; // ln2 split hi + lo
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f +
                                                  r * (0.0416666679f + r * (0.00833333377f +
                                                                            r * 0.00138888892f)))));
    int32_t bits = (int32_t)((uint32_t)(ti - 0x4B400000 + 127) << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// 1 / (1 + exp(-x)) through ds_fast_expf.
static inline float ds_fast_sigmoidf(float x) {
    return 1.0f / (1.0f + ds_fast_expf(-x));
}

#endif
