// kv-cache.h: the key/value cache of the inference path, in fixed-size
// blocks (vLLM's paged attention, Kwon et al. 2023): one pool of blocks for
// all sequences, each sequence a table of block numbers, so sequences of any
// length share memory without fragmentation and leave it at once when done.
// A block holds block_size positions of every layer's keys and values.
// Storage is fp32 or fp16, chosen when the cache is made (int8 is a later option).
// Opaque pool; plain per-sequence struct. Not thread-safe: the model's
// scheduler thread owns the cache.
#ifndef DS_KV_CACHE_H
#define DS_KV_CACHE_H

#include <stdint.h>

#include "fusion/config.h"
#include "kernels/ops.h"

typedef struct ds_kv_cache ds_kv_cache;

typedef struct {
    int len;        // positions stored
    int n_prefix;   // bidirectional prefix length (set before the prefill)
    int n_blocks;   // blocks held
    int cap_blocks; // entries of blocks[]
    int32_t *blocks;
} ds_kv_seq;

// A pool of n_blocks blocks of block_size positions for the model of cfg, stored as float.
int ds_kv_cache_new(const ds_model_cfg *cfg, int n_blocks, int block_size, ds_kv_cache **out);
// The same with half-precision storage when f16 is 1: half the memory and half the bytes
// each decoded token reads (relative error of a stored value ~5e-4).
int ds_kv_cache_new_f16(const ds_model_cfg *cfg, int n_blocks, int block_size, int f16,
                        ds_kv_cache **out);
void ds_kv_cache_free(ds_kv_cache *c);
int ds_kv_cache_free_blocks(const ds_kv_cache *c);
int ds_kv_cache_block_size(const ds_kv_cache *c);
size_t ds_kv_cache_bytes(const ds_kv_cache *c);

// Makes room for n_more positions after seq->len. DS_E_BUSY when the pool has too few
// free blocks (the scheduler waits or refuses the request); nothing is taken then.
int ds_kv_seq_reserve(ds_kv_cache *c, ds_kv_seq *seq, int n_more);
// Returns the sequence's blocks to the pool and resets it.
void ds_kv_seq_release(ds_kv_cache *c, ds_kv_seq *seq);

// Stores k, v (n, nkv * hd) of layer at positions seq->len .. seq->len + n - 1 (reserved).
// Does not advance len (all layers write the same positions; the caller advances).
void ds_kv_store(ds_kv_cache *c, const ds_kv_seq *seq, int layer, const float *k, const float *v,
                 int n);
// Attention of n new queries q (n, nh * hd) at positions seq->len .. + n - 1 over the
// cached keys of the sequence (stored, including the new ones), with the model's mask:
// prefix bidirectional, causal after it, sliding window. out (n, nh * hd).
void ds_kv_attention(ds_ctx *ctx, ds_kv_cache *c, const ds_kv_seq *seq, int layer, float *out,
                     const float *q, int n, int window);

#endif
