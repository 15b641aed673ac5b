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
// The same with the pool in ctx's memory (a GPU's for a CUDA context); ctx NULL: host
// memory from malloc. The context must outlive the cache.
int ds_kv_cache_new_on(ds_ctx *ctx, const ds_model_cfg *cfg, int n_blocks, int block_size, int f16,
                       ds_kv_cache **out);
void ds_kv_cache_free(ds_kv_cache *c);
// The pool, for the kv_store and kv_attention ops.
const ds_kv_pool *ds_kv_cache_pool(const ds_kv_cache *c);
int ds_kv_cache_free_blocks(const ds_kv_cache *c);
int ds_kv_cache_block_size(const ds_kv_cache *c);
size_t ds_kv_cache_bytes(const ds_kv_cache *c);

// Makes room for n_more positions after seq->len. DS_E_BUSY when the pool has too few
// free blocks (the scheduler waits or refuses the request); nothing is taken then.
int ds_kv_seq_reserve(ds_kv_cache *c, ds_kv_seq *seq, int n_more);
// Returns the sequence's blocks to the pool and resets it.
void ds_kv_seq_release(ds_kv_cache *c, ds_kv_seq *seq);

// The cache places of a batch's new positions, in the context's memory, for the kv_store
// and kv_attention ops (kernels/ops.h): slot (n), info (3 n), and the block tables info
// points into. One plan serves every layer of a forward.
typedef struct {
    int n;
    int32_t *slot, *info, *blocks;
    int owned; // allocated apart from any arena: ds_kv_plan_free releases it
} ds_kv_plan;

// Plans the new positions seq_off[i] .. seq_off[i+1] - 1 of batch row range i, which
// continue seqs[i] (room reserved; their n_prefix set) from seqs[i]->len on, for n_seq
// sequences. From arena when it is not NULL (until rewound), else one allocation of ctx's
// that ds_kv_plan_free releases. 0 or DS_E_NOMEM.
int ds_kv_plan_build(ds_ctx *ctx, ds_arena *arena, const ds_kv_cache *c,
                     const ds_kv_seq *const *seqs, const int32_t *seq_off, int n_seq,
                     ds_kv_plan *plan);
void ds_kv_plan_free(ds_ctx *ctx, ds_kv_plan *plan);

#endif
