// embedding.cu: the token embedding of kernels/cpu/embedding.c on the GPU.
// Forward: a gather, one thread per output element. Backward: ids repeat, so
// instead of float atomics (whose order, hence rounding, varies run to run) the
// block of an id's first occurrence lists its occurrences in token order and
// adds their rows itself: dtable is deterministic, the CPU's sums bit for bit.
// Each block reads all T ids (T^2 reads in all, from cache): fine for batches of
// up to ~16k tokens; a sort by id would scale further. Not here: id range checks
// (the tokenizer's job; the CPU asserts them).
#include "kernels/cuda/cuda-impl.h"

enum { WARP = 32, THREADS = 256 };

static __global__ void embedding_forward_kernel(float *out, const int32_t *ids, const float *table,
                                                int T, int C) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)T * C) return;
    const long long t = i / C, c = i % C;
    out[i] = table[(long long)ids[t] * C + c];
}

// Block t (THREADS threads). Leaves unless t is the first occurrence of its id;
// otherwise walks the tokens t .. T-1 in chunks of THREADS, lists the chunk's
// occurrences in token order (warp ballots and per-warp counts) and adds their
// dout rows into dtable[id], thread per column.
static __global__ void embedding_backward_kernel(float *dtable, const float *dout,
                                                 const int32_t *ids, int T, int C) {
    __shared__ int list[THREADS];
    __shared__ int warp_count[THREADS / WARP];
    const int t = blockIdx.x, id = ids[t];
    const int lane = threadIdx.x % WARP, w = threadIdx.x / WARP;
    int earlier = 0;
    for (int u = threadIdx.x; u < t; u += THREADS) earlier |= ids[u] == id;
    if (__syncthreads_or(earlier)) return; // the same answer for every thread
    float *row = dtable + (long long)id * C;
    for (int base = t; base < T; base += THREADS) {
        const int u = base + threadIdx.x;
        const bool hit = u < T && ids[u] == id;
        const unsigned mask = __ballot_sync(0xffffffffu, hit);
        if (lane == 0) warp_count[w] = __popc(mask);
        __syncthreads();
        int off = 0, n = 0; // this thread's slot, and the chunk's count
        for (int k = 0; k < THREADS / WARP; k++) {
            if (k < w) off += warp_count[k];
            n += warp_count[k];
        }
        if (hit) list[off + __popc(mask & ((1u << lane) - 1u))] = u;
        __syncthreads();
        for (int c = threadIdx.x; c < C; c += THREADS) {
            float v = row[c];
            for (int k = 0; k < n; k++) v += dout[(long long)list[k] * C + c];
            row[c] = v;
        }
        __syncthreads(); // the next chunk rewrites list and warp_count
    }
}

void ds_cuda_embedding_forward(ds_ctx *ctx, float *out, const int32_t *ids, const float *table,
                               int T, int V, int C) {
    (void)V;
    if (T <= 0 || C <= 0) return;
    embedding_forward_kernel<<<ds_cuda_blocks((long long)T * C, THREADS), THREADS, 0,
                               ds_cuda_stream(ctx)>>>(out, ids, table, T, C);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_embedding_backward(ds_ctx *ctx, float *dtable, const float *dout, const int32_t *ids,
                                int T, int V, int C) {
    (void)V;
    if (!dtable || T <= 0 || C <= 0) return;
    embedding_backward_kernel<<<T, THREADS, 0, ds_cuda_stream(ctx)>>>(dtable, dout, ids, T, C);
    DS_CUDA_LAUNCHED();
}
