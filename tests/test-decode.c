// test-decode.c: token choice of the decoder: greedy picks the best allowed
// token; sampling draws with the softmax's frequencies at the given
// temperature, and top-p draws only from the nucleus, renormalised.
#include "core/rng.h"
#include "fusion/decode.h"
#include "test.h"

#include <math.h>
#include <string.h>

enum { NV = 8 };

// Observed frequencies of n draws against expected probabilities; worst abs difference.
static double draw(const float *logits, const int32_t *allowed, int na, ds_decode_opts *o, int n,
                   const double *expect) {
    int count[NV] = {0};
    for (int i = 0; i < n; i++) {
        double p;
        count[ds_sample_pick(logits, allowed, na, o, &p)]++;
    }
    double worst = 0;
    for (int v = 0; v < NV; v++) worst = fmax(worst, fabs((double)count[v] / n - expect[v]));
    return worst;
}

DS_TEST(decode_sampling) {
    const float logits[NV] = {2.0f, 1.0f, 0.5f, 3.0f, -1.0f, 0.0f, 1.5f, 9.0f};
    const int32_t allowed[6] = {0, 1, 2, 3, 5, 6}; // 7 (the global best) is not allowed
    double p;
    DS_CHECK_INT_EQ(ds_sample_pick(logits, allowed, 6, NULL, &p), 3);
    double z = 0;
    for (int i = 0; i < 6; i++) z += exp(logits[allowed[i]]);
    DS_CHECK(fabs(p - exp(3.0) / z) < 1e-6);
    ds_rng rng;
    ds_rng_seed(&rng, 42);
    int n = 40000;
    for (int k = 0; k < 3; k++) {
        float temp = k == 0 ? 1.0f : k == 1 ? 0.5f : 1.0f;
        float top_p = k == 2 ? 0.6f : 1.0f;
        ds_decode_opts o = {.temperature = temp, .top_p = top_p, .rng = &rng};
        double w[NV] = {0}, e[NV] = {0}, zz = 0;
        for (int i = 0; i < 6; i++) zz += (w[allowed[i]] = exp(logits[allowed[i]] / temp));
        // nucleus: most likely first until the mass reaches top_p
        int order[6];
        memcpy(order, allowed, sizeof order);
        for (int i = 1; i < 6; i++)
            for (int j = i; j > 0 && w[order[j]] > w[order[j - 1]]; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        double mass = 0;
        int keep = 0;
        while (keep < 6 && mass < top_p * zz) mass += w[order[keep++]];
        for (int i = 0; i < keep; i++) e[order[i]] = w[order[i]] / mass;
        double worst = draw(logits, allowed, 6, &o, n, e);
        printf("  temperature %.1f top-p %.1f: %d tokens in the nucleus, worst frequency error "
               "%.4f over %d draws\n",
               temp, top_p, keep, worst, n);
        DS_CHECK(worst < 0.01);
        if (k == 2) DS_CHECK(keep < 6 && e[1] == 0.0); // token 1 is outside the nucleus
    }
    return 0;
}
