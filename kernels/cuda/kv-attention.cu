// kv-attention.cu: the paged KV cache's ops of kernels/cpu/kv-attention.c on the
// GPU. kv_store: a block per (row, kv head), a thread per dimension. kv_attention
// (decode attention): a block per (query, head) walks the sequence's keys in
// tiles of THREADS, a thread per key; keys are transposed within a block of the
// pool, so neighbouring threads read neighbouring addresses. An online softmax
// (Milakov & Gimelshein 2018) rescales the running sums per tile, so scores are
// never stored beyond one tile; then a thread per dimension adds the tile's
// weighted values. Sums in another order than the CPU's: f32 tolerance.
#include "kernels/cuda/cuda-impl.h"
#include "kernels/cuda/reduce.cuh"

extern "C" {
#include "core/error.h"
}

#include <cuda_fp16.h>

enum { THREADS = 128, KV_HD_MAX = 512, ACC = KV_HD_MAX / THREADS };

static __device__ __forceinline__ float kv_load(const float *p) {
    return *p;
}
static __device__ __forceinline__ float kv_load(const __half *p) {
    return __half2float(*p);
}
static __device__ __forceinline__ void kv_put(float *p, float x) {
    *p = x;
}
static __device__ __forceinline__ void kv_put(__half *p, float x) {
    *p = __float2half_rn(x);
}

// Where layer's kv head kvh of block b starts in the pool (in elements).
static __device__ __forceinline__ long long head_base(int b, int layer, int n_layers, int nkv,
                                                      int kvh, int bs, int hd) {
    return (((long long)b * n_layers + layer) * nkv + kvh) * bs * hd;
}

template <typename T>
static __global__ void kv_store_kernel(T *kp, T *vp, const float *k, const float *v,
                                       const int32_t *slot, int layer, int n_layers, int nkv,
                                       int hd, int bs) {
    const int i = blockIdx.x / nkv, h = blockIdx.x % nkv, b = slot[i] / bs, off = slot[i] % bs;
    const long long base = head_base(b, layer, n_layers, nkv, h, bs, hd);
    const float *kr = k + ((long long)i * nkv + h) * hd, *vr = v + ((long long)i * nkv + h) * hd;
    for (int d = threadIdx.x; d < hd; d += THREADS) {
        kv_put(kp + base + (long long)d * bs + off, kr[d]);
        kv_put(vp + base + (long long)off * hd + d, vr[d]);
    }
}

template <typename T>
static __global__ void kv_attention_kernel(float *out, const float *q, const T *kp, const T *vp,
                                           const int32_t *info, const int32_t *blocks, int layer,
                                           int n_layers, int nkv, int hd, int bs, int nh,
                                           int window) {
    extern __shared__ float qs[]; // (hd) the query, scaled
    __shared__ float ps[THREADS]; // the tile's unnormalised probabilities
    __shared__ float red[32];
    const int i = blockIdx.x / nh, h = blockIdx.x % nh, kvh = h / (nh / nkv);
    const int pos = info[3 * i], np = info[3 * i + 1];
    const int32_t *tbl = blocks + info[3 * i + 2];
    // keys j: j <= pos, or both inside the prefix; and within the window
    int jhi = pos < np ? np - 1 : pos, jlo = 0;
    if (window > 0) {
        jlo = pos - window + 1 > 0 ? pos - window + 1 : 0;
        jhi = jhi < pos + window - 1 ? jhi : pos + window - 1;
    }
    const float scale = 1.0f / sqrtf((float)hd);
    const float *qi = q + ((long long)i * nh + h) * hd;
    for (int d = threadIdx.x; d < hd; d += THREADS) qs[d] = qi[d] * scale;
    __syncthreads();
    float m = -INFINITY, l = 0.0f, acc[ACC];
    for (int c = 0; c < ACC; c++) acc[c] = 0.0f;
    for (int j0 = jlo; j0 <= jhi; j0 += THREADS) {
        const int j = j0 + threadIdx.x;
        float s = -INFINITY;
        if (j <= jhi) {
            const T *kt = kp + head_base(tbl[j / bs], layer, n_layers, nkv, kvh, bs, hd) + j % bs;
            s = 0.0f;
            for (int d = 0; d < hd; d++) s += qs[d] * kv_load(kt + (long long)d * bs);
        }
        const float mnew = fmaxf(m, ds_block_max(s, red)); // finite: the tile has a key
        const float pj = j <= jhi ? expf(s - mnew) : 0.0f;
        const float f = expf(m - mnew); // 0 on the first tile
        l = l * f + ds_block_sum(pj, red);
        ps[threadIdx.x] = pj;
        __syncthreads();
        const int nt = jhi - j0 + 1 < THREADS ? jhi - j0 + 1 : THREADS;
        for (int c = 0; c < ACC; c++) {
            const int d = threadIdx.x + c * THREADS;
            if (d >= hd) break;
            float a = acc[c] * f;
            for (int r = 0; r < nt; r++) {
                const int jj = j0 + r;
                const T *vr = vp + head_base(tbl[jj / bs], layer, n_layers, nkv, kvh, bs, hd) +
                              (long long)(jj % bs) * hd;
                a += ps[r] * kv_load(vr + d);
            }
            acc[c] = a;
        }
        m = mnew;
        __syncthreads(); // every thread has read ps before the next tile writes it
    }
    float *o = out + ((long long)i * nh + h) * hd;
    for (int c = 0; c < ACC; c++) {
        const int d = threadIdx.x + c * THREADS;
        if (d < hd) o[d] = acc[c] / l;
    }
}

void ds_cuda_kv_store(ds_ctx *ctx, const ds_kv_pool *p, int layer, const float *k, const float *v,
                      const int32_t *slot, int n) {
    if (n <= 0) return;
    const dim3 grid((unsigned)(n * p->nkv));
    if (p->f16)
        kv_store_kernel<__half><<<grid, THREADS, 0, ds_cuda_stream(ctx)>>>(
            (__half *)p->k, (__half *)p->v, k, v, slot, layer, p->n_layers, p->nkv, p->hd,
            p->block_size);
    else
        kv_store_kernel<float><<<grid, THREADS, 0, ds_cuda_stream(ctx)>>>(
            (float *)p->k, (float *)p->v, k, v, slot, layer, p->n_layers, p->nkv, p->hd,
            p->block_size);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_kv_attention(ds_ctx *ctx, const ds_kv_pool *p, int layer, float *out, const float *q,
                          const int32_t *info, const int32_t *blocks, int n, int nh, int window) {
    if (n <= 0) return;
    DS_ASSERT(p->nkv > 0 && nh % p->nkv == 0 && p->hd > 0 && p->hd <= KV_HD_MAX);
    const dim3 grid((unsigned)(n * nh));
    const size_t shm = sizeof(float) * (size_t)p->hd;
    if (p->f16)
        kv_attention_kernel<__half><<<grid, THREADS, shm, ds_cuda_stream(ctx)>>>(
            out, q, (const __half *)p->k, (const __half *)p->v, info, blocks, layer, p->n_layers,
            p->nkv, p->hd, p->block_size, nh, window);
    else
        kv_attention_kernel<float><<<grid, THREADS, shm, ds_cuda_stream(ctx)>>>(
            out, q, (const float *)p->k, (const float *)p->v, info, blocks, layer, p->n_layers,
            p->nkv, p->hd, p->block_size, nh, window);
    DS_CUDA_LAUNCHED();
}
