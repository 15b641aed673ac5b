// ops.h: the op interface every compute backend implements. The CPU backend
// (kernels/cpu) is the reference; a CUDA backend (kernels/cuda) provides the
// same table over device pointers and is checked op by op against it.
//
// Conventions, for every op:
// - float32, row-major, contiguous; sizes are passed explicitly; shapes are
//   written beside each pointer. Index arrays are int32.
// - forward functions overwrite their outputs;
// - backward functions ACCUMULATE (+=) into every gradient they are given
//   (inputs and parameters alike, llm.c style), so residual branches and
//   tied weights need no extra adds; the caller zeroes gradients once per
//   step. A NULL gradient pointer means "not needed" and is skipped.
// - outputs never alias inputs unless the op says so.
// The ops do not allocate per call except through the context's scratch,
// which grows to the largest request and is then reused.
#ifndef DS_OPS_H
#define DS_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/pool.h"

typedef struct ds_ops ds_ops;

typedef enum { DS_BACKEND_CPU = 0, DS_BACKEND_CUDA = 1 } ds_backend;

// Backend context: which table, and the backend's own resources.
typedef struct ds_ctx {
    const ds_ops *ops;
    ds_backend backend;
    int device;           // CUDA: the GPU's number
    ds_pool *pool;        // CPU: the threads kernels split rows across
    void *scratch;        // backend memory reused across ops
    size_t scratch_bytes; // its size
    void *impl;           // backend-private state (CUDA stream, handles)
} ds_ctx;

// Attention mask: which keys j a query i may see.
//   causal = 0: all j (encoder);
//   causal = 1: j <= i, or both i and j inside the prefix (i, j < n_prefix);
//   window > 0 additionally requires |i - j| < window (sliding window).
typedef struct {
    int causal;
    int n_prefix;
    int window;
} ds_attn_mask;

// The largest head size of the fused attention ops: the CUDA kernels keep a row's head in
// registers, a lane per 32 dimensions.
#define DS_ATTN_FUSED_HD_MAX 128

// The paged key/value cache of decoding (vLLM's paged attention, Kwon et al. 2023;
// text/kv-cache.h keeps its bookkeeping): a pool of blocks of block_size positions, each
// holding every layer's keys and values, laid out (block, layer, kv head, ...). Values are
// (position, hd); keys are transposed, (hd, position), so the scores of a block are one
// multiply-add per dimension with its keys across vector lanes (CPU) or threads (GPU). A
// slot names a position's place in the pool: block * block_size + position in the block.
typedef struct {
    void *k, *v; // context memory: float, or IEEE half when f16 = 1
    int f16;
    int n_layers, nkv, hd, block_size;
} ds_kv_pool;

typedef enum { DS_ROUTER_SOFTMAX = 0, DS_ROUTER_SIGMOID = 1 } ds_router_score;

// Group-limited top-k routing (DeepSeek-V3, arXiv:2412.19437 section 2.1.2):
// scores s = sigmoid(logits) or softmax(logits); selection uses s + bias
// (the bias never enters the weights); experts are split into n_groups
// equal groups, a group scores the sum of its best two biased scores, the
// topk_groups best groups stay, and the topk best experts inside them are
// chosen; equal scores go to the lower index (groups and experts alike), so
// every backend picks the same experts. Weights are the unbiased scores of
// the chosen experts, optionally normalised to sum 1 (no epsilon: sigmoid
// scores are positive), times scale. The bias gets no gradient: it is
// nudged by the trainer from the expert load, not learned.
// (DeepSeek's reference code scores groups by their maximum when it has no
// bias; docseek always uses the top-2 sum, bias or not.)
typedef struct {
    int n_experts;
    int n_groups;    // divides n_experts
    int topk_groups; // 1..n_groups
    int topk;        // 1..topk_groups * (n_experts / n_groups)
    ds_router_score score;
    int normalize; // 1: weights of the chosen experts sum to 1 before scale
    float scale;   // routed scaling factor
} ds_router_cfg;

typedef struct {
    float lr;
    float beta1, beta2, eps;
    float weight_decay; // decoupled (Loshchilov & Hutter): p -= lr * wd * p
    float grad_scale;   // multiplies every gradient first (1, or the clipping factor)
    int step;           // 1-based step, for bias correction
} ds_adamw_cfg;

struct ds_ops {
    const char *name;

    // ---- memory (host memory for the CPU backend, device memory for CUDA)
    void *(*alloc)(ds_ctx *ctx, size_t bytes); // NULL on failure; 64-byte aligned
    void (*free)(ds_ctx *ctx, void *ptr);      // NULL is a no-op
    void (*upload)(ds_ctx *ctx, void *dst, const void *host_src, size_t bytes);
    void (*download)(ds_ctx *ctx, void *host_dst, const void *src, size_t bytes);
    void (*zero)(ds_ctx *ctx, void *ptr, size_t bytes);
    void (*sync)(ds_ctx *ctx); // waits for all queued work
    // dst (rows, cols) with row stride dst_ld = src (rows, cols) with row stride src_ld
    // (strides in floats, >= cols); the two must not overlap. The model's reshapes, such as
    // splitting a fused QKV projection into q, k and v, without a trip through the host.
    void (*copy_2d)(ds_ctx *ctx, float *dst, int64_t dst_ld, const float *src, int64_t src_ld,
                    int rows, int cols);

    // ---- row gathers and scatters: dst rows dst_row[i] (i < n, distinct) += the sum over
    // j in [src_off[i], src_off[i+1]) of (src_scale ? src_scale[j] : 1) * src row src_row[j],
    // in that order; rows of C floats; the index arrays in the context's memory. The host
    // groups the sources by destination (it knows every index: they come from the batch),
    // so no two threads write one row and sums are deterministic: fusion's prefix, box and
    // ROI rows, 2x2 merges and their gradients, the heads' row selections.
    void (*rows_add)(ds_ctx *ctx, float *dst, const int32_t *dst_row, const int32_t *src_off,
                     const int32_t *src_row, const float *src_scale, const float *src, int n,
                     int C);

    // ---- elementwise
    // out (n) = a + b; out may alias a or b.
    void (*add)(ds_ctx *ctx, float *out, const float *a, const float *b, int64_t n);
    // dst (n) += scale * src
    void (*axpy)(ds_ctx *ctx, float *dst, const float *src, float scale, int64_t n);
    // sum of squares of x (n), accumulated in double (gradient clipping)
    double (*sumsq)(ds_ctx *ctx, const float *x, int64_t n);

    // ---- matmul: out (M, N) = inp (M, K) @ weight (N, K)^T + bias (N), bias may be NULL
    void (*matmul_forward)(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                           const float *bias, int M, int K, int N);
    void (*matmul_backward)(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight, int M, int K,
                            int N);
    // Grouped matmul for experts: rows offsets[e] .. offsets[e+1] of inp (rows, K) are
    // multiplied by weight[e] (E, N, K)^T into the same rows of out (rows, N).
    void (*matmul_grouped_forward)(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                                   const int32_t *offsets, int E, int K, int N);
    void (*matmul_grouped_backward)(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                                    const float *inp, const float *weight, const int32_t *offsets,
                                    int E, int K, int N);

    // ---- bf16 weights, forward only (decoding; no backward: weights train in f32): the same
    // as matmul_forward and matmul_grouped_forward with weight read from bf16 (the top 16
    // bits of each f32, see ds_f32_to_bf16), inputs, products and sums in f32. Meant for a
    // few rows of input (one decode step), where reading the weight is the whole cost.
    void (*matmul_bf16_forward)(ds_ctx *ctx, float *out, const float *inp, const uint16_t *weight,
                                const float *bias, int M, int K, int N);
    void (*matmul_grouped_bf16_forward)(ds_ctx *ctx, float *out, const float *inp,
                                        const uint16_t *weight, const int32_t *offsets, int E,
                                        int K, int N);

    // ---- embedding: out (T, C) = table (V, C)[ids (T)]; ids outside 0..V-1 are invalid input
    // and must be rejected by the caller (tokenizer) before they get here.
    void (*embedding_forward)(ds_ctx *ctx, float *out, const int32_t *ids, const float *table,
                              int T, int V, int C);
    void (*embedding_backward)(ds_ctx *ctx, float *dtable, const float *dout, const int32_t *ids,
                               int T, int V, int C);

    // ---- RMSNorm: out (T, C) = inp / rms(inp) * weight (C); rstd (T) saved for backward
    void (*rmsnorm_forward)(ds_ctx *ctx, float *out, float *rstd, const float *inp,
                            const float *weight, int T, int C, float eps);
    void (*rmsnorm_backward)(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                             const float *inp, const float *weight, const float *rstd, int T,
                             int C);

    // ---- LayerNorm: out (T, C) = (inp - mean) * rstd * weight + bias; mean, rstd (T) saved
    void (*layernorm_forward)(ds_ctx *ctx, float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, int T, int C, float eps);
    void (*layernorm_backward)(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                               const float *dout, const float *inp, const float *weight,
                               const float *mean, const float *rstd, int T, int C);

    // ---- softmax over rows: out (T, V)
    void (*softmax_forward)(ds_ctx *ctx, float *out, const float *inp, int T, int V);
    void (*softmax_backward)(ds_ctx *ctx, float *dinp, const float *dout, const float *out, int T,
                             int V);

    // ---- cross-entropy: losses (T) = -log softmax(logits (T, V))[targets (T)], probs (T, V)
    // saved. A target < 0 is ignored: loss 0 and no gradient. dlosses (T) carries the
    // caller's weighting (e.g. 1 / number of counted targets).
    void (*crossentropy_forward)(ds_ctx *ctx, float *losses, float *probs, const float *logits,
                                 const int32_t *targets, int T, int V);
    void (*crossentropy_backward)(ds_ctx *ctx, float *dlogits, const float *dlosses,
                                  const float *probs, const int32_t *targets, int T, int V);

    // ---- out (T) = the index of each row's largest value of x (T, V); ties go to the lowest
    // index, NaN never wins (accuracy figures without copying rows back to the host)
    void (*argmax_rows)(ds_ctx *ctx, int32_t *out, const float *x, int T, int V);

    // ---- activations over n elements. GELU is the tanh approximation (Hendrycks & Gimpel).
    void (*gelu_forward)(ds_ctx *ctx, float *out, const float *inp, int64_t n);
    void (*gelu_backward)(ds_ctx *ctx, float *dinp, const float *dout, const float *inp, int64_t n);
    void (*silu_forward)(ds_ctx *ctx, float *out, const float *inp, int64_t n);
    void (*silu_backward)(ds_ctx *ctx, float *dinp, const float *dout, const float *inp, int64_t n);
    // SwiGLU (Shazeer 2020): inp (T, 2H) holds [gate | up] per row (one fused GEMM);
    // out (T, H) = silu(gate) * up.
    void (*swiglu_forward)(ds_ctx *ctx, float *out, const float *inp, int T, int H);
    void (*swiglu_backward)(ds_ctx *ctx, float *dinp, const float *dout, const float *inp, int T,
                            int H);

    // ---- RoPE (Su et al. 2021), interleaved pairs (2i, 2i+1) rotated by pos * theta^(-2i/hd),
    // the angle formed in double (a float angle is off by ~1e-3 rad near position 30000):
    // out (T, nh, hd) from inp (T, nh, hd), positions pos (T). out may alias inp in forward.
    void (*rope_forward)(ds_ctx *ctx, float *out, const float *inp, const int32_t *pos, int T,
                         int nh, int hd, float theta);
    void (*rope_backward)(ds_ctx *ctx, float *dinp, const float *dout, const int32_t *pos, int T,
                          int nh, int hd, float theta);

    // ---- attention with grouped-query heads (nh query heads share nkv key/value heads,
    // nh % nkv == 0), scale 1/sqrt(hd):
    // q (B, T, nh, hd), k, v (B, T, nkv, hd) -> out (B, T, nh, hd);
    // att (B, nh, T, T) keeps the probabilities for backward (masked entries are 0); it is
    // required (it is also the forward's working buffer). n_prefix is clamped to 0..T and
    // ignored when causal = 0. Backward must get the same mask as the forward that filled
    // att: it uses the mask to skip key blocks.
    void (*attention_forward)(ds_ctx *ctx, float *out, float *att, const float *q, const float *k,
                              const float *v, int B, int T, int nh, int nkv, int hd,
                              ds_attn_mask mask);
    void (*attention_backward)(ds_ctx *ctx, float *dq, float *dk, float *dv, const float *dout,
                               const float *att, const float *q, const float *k, const float *v,
                               int B, int T, int nh, int nkv, int hd, ds_attn_mask mask);

    // ---- fused attention (FlashAttention-2, Dao 2023): the attention above without the
    // (B, nh, T, T) probabilities, for sequences whose att would not fit. Same q, k, v, out,
    // masks, grouped-query heads and scale; hd <= DS_ATTN_FUSED_HD_MAX. lse (B, nh, T) gets
    // each query row's log-sum-exp of its scaled visible scores: with out, all that backward
    // needs to recompute the probabilities. Backward takes the out and lse of the forward on
    // the same q, k, v and mask; dq, dk, dv accumulate, a NULL one is skipped.
    void (*attention_fused_forward)(ds_ctx *ctx, float *out, float *lse, const float *q,
                                    const float *k, const float *v, int B, int T, int nh, int nkv,
                                    int hd, ds_attn_mask mask);
    void (*attention_fused_backward)(ds_ctx *ctx, float *dq, float *dk, float *dv,
                                     const float *dout, const float *out, const float *lse,
                                     const float *q, const float *k, const float *v, int B, int T,
                                     int nh, int nkv, int hd, ds_attn_mask mask);

    // ---- paged KV cache (ds_kv_pool): k, v (n, nkv * hd) of layer stored at slot (n).
    void (*kv_store)(ds_ctx *ctx, const ds_kv_pool *pool, int layer, const float *k, const float *v,
                     const int32_t *slot, int n);
    // Attention of n queries q (n, nh, hd) over the cache (keys stored before the call, the
    // queries' own included), scale 1/sqrt(hd), nh % nkv == 0: query i sits at position
    // info[3i] of its sequence, whose first info[3i+1] positions attend bidirectionally and
    // whose block numbers start at blocks[info[3i+2]]. It sees the keys j <= its position,
    // or all of the prefix from inside it, and with window > 0 only |position - j| < window.
    // out (n, nh, hd). info and blocks in the context's memory.
    void (*kv_attention)(ds_ctx *ctx, const ds_kv_pool *pool, int layer, float *out, const float *q,
                         const int32_t *info, const int32_t *blocks, int n, int nh, int window);

    // ---- MoE routing: logits (T, E), bias (E) or NULL -> expert_idx (T, topk) in order of
    // decreasing biased score, expert_w (T, topk); scores (T, E) saved for backward.
    void (*moe_route_forward)(ds_ctx *ctx, int32_t *expert_idx, float *expert_w, float *scores,
                              const float *logits, const float *bias, int T, ds_router_cfg cfg);
    void (*moe_route_backward)(ds_ctx *ctx, float *dlogits, const float *dexpert_w,
                               const int32_t *expert_idx, const float *scores, int T,
                               ds_router_cfg cfg);
    // Counting sort of the T*topk assignments by expert, stable in (token, slot) order:
    // offsets (E+1) start row of each expert; row_of (T, topk) the permuted row of each
    // assignment; token_of (T*topk) the token of each permuted row.
    void (*moe_permute)(ds_ctx *ctx, int32_t *offsets, int32_t *row_of, int32_t *token_of,
                        const int32_t *expert_idx, int T, int topk, int E);
    // xp (T*topk, C) = x (T, C)[token_of]
    void (*moe_dispatch_forward)(ds_ctx *ctx, float *xp, const float *x, const int32_t *token_of,
                                 int T, int topk, int C);
    // dx (T, C) += sum over slots of dxp[row_of[t, slot]]
    void (*moe_dispatch_backward)(ds_ctx *ctx, float *dx, const float *dxp, const int32_t *row_of,
                                  int T, int topk, int C);
    // out (T, C) = sum over slots of w (T, topk) * yp (T*topk, C)[row_of[t, slot]]
    void (*moe_combine_forward)(ds_ctx *ctx, float *out, const float *yp, const float *w,
                                const int32_t *row_of, int T, int topk, int C);
    // dyp (T*topk, C) and dw (T, topk) accumulate.
    void (*moe_combine_backward)(ds_ctx *ctx, float *dyp, float *dw, const float *dout,
                                 const float *yp, const float *w, const int32_t *row_of, int T,
                                 int topk, int C);

    // ---- AdamW (Loshchilov & Hutter 2019) over n parameters, in place on params, m, v:
    // p -= lr * (mhat / (sqrt(vhat) + eps) + weight_decay * p), p from before the step
    // (the same as PyTorch's AdamW).
    void (*adamw_update)(ds_ctx *ctx, float *params, const float *grads, float *m, float *v,
                         int64_t n, const ds_adamw_cfg *cfg);
};

// Creates a context for the backend with n_threads CPU threads (CPU backend;
// ignored otherwise). Returns NULL and sets the error detail when the
// backend is not available (DS_E_NODEVICE for CUDA without a GPU).
ds_ctx *ds_ctx_new(ds_backend backend, int n_threads);
// The same on GPU number device (CUDA; 0 for the CPU).
ds_ctx *ds_ctx_new_device(ds_backend backend, int n_threads, int device);
// *out = a context for the device spec names, as --device takes it: "cpu", "cuda" (GPU 0),
// "cuda:N", or "auto" / NULL (GPU 0 when one is present, else the CPU); n_threads is for
// the CPU. Returns 0, DS_E_INVAL for a malformed spec, DS_E_NODEVICE for a device that is
// not there (CUDA asked for and not available, or not built in; the detail says which).
int ds_ctx_open(const char *spec, int n_threads, ds_ctx **out);
// What ctx computes on, for log lines: "CPU, 2 threads", "cuda:0 NVIDIA H200 (sm_90, 140 GiB)".
const char *ds_ctx_describe(const ds_ctx *ctx, char *buf, size_t cap);
// Makes ctx's GPU the calling thread's current one (the CUDA runtime keeps one per
// thread): a thread other than the one that made ctx calls it before computing with
// ctx (the server's scheduler). A no-op on the CPU.
void ds_ctx_use(ds_ctx *ctx);
// Frees the context, its scratch and its thread pool. NULL is a no-op.
void ds_ctx_free(ds_ctx *ctx);
// Initialises arena (chunk_size, limit as ds_arena_init) over the context's memory: host
// memory on the CPU, where host stays unused; device memory on a GPU, with host (initialised
// here) as its companion for the arrays host code reads. Free arena, then host.
void ds_ctx_arena_init(ds_ctx *ctx, ds_arena *arena, ds_arena *host, size_t chunk_size,
                       size_t limit);
// Scratch of at least bytes, owned by the context, valid until the next call.
// Aborts on out-of-memory: activations are sized at start-up, so this is a broken invariant.
void *ds_ctx_scratch(ds_ctx *ctx, size_t bytes);

// The CPU reference table.
const ds_ops *ds_ops_cpu(void);

#ifdef DS_HAVE_CUDA
// The CUDA table (kernels/cuda), over device pointers; usable only through a CUDA context.
const ds_ops *ds_ops_cuda(void);
// 1: the context's GEMMs in full f32 (the parity tests' tight tolerance); 0, the
// default: bf16 tensor-core products with f32 sums (cuBLAS COMPUTE_32F_FAST_16BF).
void ds_cuda_set_gemm_f32(ds_ctx *ctx, int on);
#endif

// Gradient clipping factor: 1 when norm <= max_norm, else max_norm / norm.
static inline float ds_clip_scale(double norm, float max_norm) {
    return (max_norm > 0 && norm > max_norm) ? (float)(max_norm / norm) : 1.0f;
}

#endif
