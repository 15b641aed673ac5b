// softmax-row.h: the one max-subtracted softmax of a row, shared by softmax.c
// and crossentropy.c so both compute identical probabilities. Private to
// kernels/cpu.
#ifndef DS_SOFTMAX_ROW_H
#define DS_SOFTMAX_ROW_H

#include <math.h>

// y (n) = softmax(x (n)); returns logsumexp(x), from which cross-entropy takes its
// loss exactly even where a probability underflows. y may alias x.
static inline float ds_softmax_row(float *y, const float *x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        y[i] = expf(x[i] - mx);
        sum += y[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) y[i] *= inv;
    return logf(sum) + mx;
}

#endif
