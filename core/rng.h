// rng.h: deterministic random numbers (xoshiro256**, seeded through splitmix64;
// Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021).
// Same seed, same stream on every machine: training and tests depend on it.
// Not for cryptography.
#ifndef DS_RNG_H
#define DS_RNG_H

#include <stdint.h>

typedef struct ds_rng {
    uint64_t s[4];
} ds_rng;

void ds_rng_seed(ds_rng *r, uint64_t seed);
uint64_t ds_rng_u64(ds_rng *r);
// Uniform in [0, n) without modulo bias; n >= 1.
uint64_t ds_rng_below(ds_rng *r, uint64_t n);
// Uniform float in [0, 1) with 24 random bits.
float ds_rng_uniform(ds_rng *r);
// Standard normal (Box-Muller, both outputs used in turn is not kept: stateless per call).
float ds_rng_normal(ds_rng *r);
// Fills x[0..n) with mean + std * N(0,1).
void ds_rng_fill_normal(ds_rng *r, float *x, int64_t n, float mean, float std);
// Fills x[0..n) uniformly in [lo, hi).
void ds_rng_fill_uniform(ds_rng *r, float *x, int64_t n, float lo, float hi);

#endif
