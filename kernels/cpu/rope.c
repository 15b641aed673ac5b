// rope.c: rotary position embedding (RoFormer, Su et al. 2021, arXiv:2104.09864,
// section 3.4.2, eq. 34) on interleaved pairs (x[2i], x[2i+1]) of every head of
// (T, nh, hd), pair i rotated by pos[t] * theta^(-2i/hd). Forward may run in place;
// backward accumulates the transposed rotation into dinp.
// Deliberately not here: the "half-split" (GPT-NeoX) pair layout, frequency scaling
// (NTK / YaRN) and any global sin/cos table: angles are computed per call, once per
// row, and shared by the row's heads.
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"

#include <math.h>

typedef struct {
    float *out;       // forward: out; backward: dinp
    const float *inp; // forward: inp; backward: dout
    const int32_t *pos;
    const double *inv_freq; // (hd/2) theta^(-2i/hd)
    float *trig;            // per thread (hd): cos (hd/2) then sin (hd/2)
    int T, nh, hd;
    int backward; // 1: out += R^T inp (gradient); 0: out = R inp
} ds_rope_args;

// cos/sin of pos * inv_freq[i] for one row. The angle is formed in double: with
// positions in the tens of thousands a float angle is off by ~1e-3 rad, which a
// reference kernel must not be.
static void rope_row_trig(float *c, float *s, const double *inv_freq, int32_t pos, int half) {
    for (int i = 0; i < half; i++) {
        double a = (double)pos * inv_freq[i];
        c[i] = (float)cos(a);
        s[i] = (float)sin(a);
    }
}

// One task for both directions: forward writes R(angle) x; backward adds
// R(-angle) dy = R^T dy (the rotation is orthogonal), i.e. the same rotation with
// the sine negated, accumulated.
static void rope_task(void *p, int ith, int nth) {
    ds_rope_args *a = p;
    int half = a->hd / 2;
    float *c = a->trig + (size_t)ith * a->hd, *s = c + half;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        rope_row_trig(c, s, a->inv_freq, a->pos[t], half);
        if (a->backward)
            for (int i = 0; i < half; i++) s[i] = -s[i];
        for (int h = 0; h < a->nh; h++) {
            size_t off = ((size_t)t * a->nh + h) * a->hd;
            const float *x = a->inp + off;
            float *y = a->out + off;
            // Both members of a pair are read before either is written: in place is safe.
            for (int i = 0; i < half; i++) {
                float x0 = x[2 * i], x1 = x[2 * i + 1];
                float y0 = x0 * c[i] - x1 * s[i], y1 = x0 * s[i] + x1 * c[i];
                if (a->backward) {
                    y[2 * i] += y0;
                    y[2 * i + 1] += y1;
                } else {
                    y[2 * i] = y0;
                    y[2 * i + 1] = y1;
                }
            }
        }
    }
}

// Fills the scratch: inv_freq (hd/2 doubles, shared read-only) then per-thread trig rows.
static void rope_setup(ds_ctx *ctx, ds_rope_args *a, float theta) {
    DS_ASSERT(a->hd > 0 && a->hd % 2 == 0); // model configs guarantee an even head size
    int half = a->hd / 2, nth = ds_pool_size(ctx->pool);
    size_t bytes = (size_t)half * sizeof(double) + (size_t)nth * a->hd * sizeof(float);
    double *inv_freq = ds_ctx_scratch(ctx, bytes);
    double log_theta = log((double)theta);
    for (int i = 0; i < half; i++) inv_freq[i] = exp(-(2.0 * i / a->hd) * log_theta);
    a->inv_freq = inv_freq;
    a->trig = (float *)(inv_freq + half);
}

void ds_cpu_rope_forward(ds_ctx *ctx, float *out, const float *inp, const int32_t *pos, int T,
                         int nh, int hd, float theta) {
    if (T <= 0 || nh <= 0) return;
    ds_rope_args a = {.out = out, .inp = inp, .pos = pos, .T = T, .nh = nh, .hd = hd};
    rope_setup(ctx, &a, theta);
    ds_cpu_run(ctx, rope_task, &a, (int64_t)T * nh * hd);
}

void ds_cpu_rope_backward(ds_ctx *ctx, float *dinp, const float *dout, const int32_t *pos, int T,
                          int nh, int hd, float theta) {
    if (!dinp || T <= 0 || nh <= 0) return;
    DS_ASSERT(dinp != dout); // accumulation in place would read its own updates
    ds_rope_args a = {
        .out = dinp, .inp = dout, .pos = pos, .T = T, .nh = nh, .hd = hd, .backward = 1};
    rope_setup(ctx, &a, theta);
    ds_cpu_run(ctx, rope_task, &a, (int64_t)T * nh * hd);
}
