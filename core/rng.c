// rng.c: xoshiro256** with splitmix64 seeding, as in the reference code at
// prng.di.unimi.it. ds_rng_normal uses Box-Muller with one output per call
// so the stream position depends only on the number of calls.
#include "core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void ds_rng_seed(ds_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t ds_rng_u64(ds_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t ds_rng_below(ds_rng *r, uint64_t n) {
    // Lemire's rejection keeps the result unbiased.
    uint64_t limit = -n % n;
    for (;;) {
        uint64_t x = ds_rng_u64(r);
        if (x >= limit) return x % n;
    }
}

float ds_rng_uniform(ds_rng *r) {
    return (float)(ds_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

float ds_rng_normal(ds_rng *r) {
    double u1 = ((double)(ds_rng_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = (double)(ds_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void ds_rng_fill_normal(ds_rng *r, float *x, int64_t n, float mean, float std) {
    for (int64_t i = 0; i < n; i++) x[i] = mean + std * ds_rng_normal(r);
}

void ds_rng_fill_uniform(ds_rng *r, float *x, int64_t n, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * ds_rng_uniform(r);
}
