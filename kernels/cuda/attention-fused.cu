// attention-fused.cu: the fused attention ops (FlashAttention-2, Dao 2023), the CUDA side
// of kernels/cpu/attention-fused.c: no (T, T) buffer, f32 throughout (CUDA cores, not
// tensor cores: the parity tests hold it to the CPU's f32 tolerance), every mask of
// ds_attn_mask and grouped-query heads, hd <= DS_ATTN_FUSED_HD_MAX.
//   forward:  a block per (query tile, head, sequence) streams the key tiles its rows can
//             see through shared memory with an online softmax; out and lse per row.
//   backward: D = rowsum(dout * out); a block per (key tile, kv head, sequence) sums dk and
//             dv over the queries that see its keys (its query heads one after another);
//             a block per (query tile, head, sequence) sums dq over its keys.
// Every gradient element has one writer that adds its terms in a fixed order: no atomics,
// the same bits on every run. Tiles start at the first visible key (query) of the block, so
// fully masked tiles are never visited.
// Deliberately not here: tensor cores, bf16, dropout, score biases, KV caches.
#include "kernels/cuda/cuda-impl.h"
#include "kernels/attn-range.h"
#include "kernels/cuda/reduce.cuh"

extern "C" {
#include "core/error.h"
}

#include <math.h>

// Every kernel here runs 4 warps. A query-side block (forward, dq) gives each warp BR / 4
// rows; in its score phase a lane takes one key column c = lane % BC of 32 / BC rows, and
// in its accumulation phase one dimension in every 32 (NDC of them: hd <= 32 NDC) of all
// the warp's rows. A key-side block (dk, dv) is the same with queries and keys swapped.
// Tiles shrink for hd > 64 so shared memory stays within the 48 KiB every launch gets
// without opting in (the largest, dk/dv at hd 64, uses 40.5 KiB).
enum { ATTF_THREADS = 128, ATTF_WARPS = ATTF_THREADS / 32 };

static inline __device__ int attf_min(int a, int b) {
    return a < b ? a : b;
}

// ---- forward

// Shared memory (floats): Q (BR, hd), K (BC, hd + 1: lanes read different keys at one
// dimension, the padding puts them in different banks), V (BC, hd), P (BR, BC), and the
// rows' running maximum, sum and last rescaling factor (BR each).
static size_t attf_fwd_smem(int BR, int BC, int hd) {
    return sizeof(float) * ((size_t)BR * hd + (size_t)BC * (hd + 1) + (size_t)BC * hd +
                            (size_t)BR * BC + 3 * (size_t)BR);
}

template <int BR, int BC, int NDC>
static __global__ void __launch_bounds__(ATTF_THREADS)
    attf_forward_kernel(float *out, float *lse, const float *q, const float *k, const float *v,
                        int T, int nh, int nkv, int hd, float scale, ds_attn_mask mask) {
    constexpr int RPW = BR / ATTF_WARPS; // rows per warp
    constexpr int G = 32 / BC;           // row groups of a warp in the score phase
    constexpr int RPT = RPW / G;         // rows per thread in the score phase
    static_assert(RPW % G == 0 && BC <= 32, "tile shape");
    extern __shared__ float attf_smem[];
    const int kst = hd + 1;
    float *Qs = attf_smem, *Ks = Qs + BR * hd, *Vs = Ks + BC * kst, *Ps = Vs + BC * hd;
    float *m_s = Ps + BR * BC, *l_s = m_s + BR, *a_s = l_s + BR;

    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    // The last tiles of a causal mask see the most keys: they start first.
    const int r0 = (int)(gridDim.x - 1 - blockIdx.x) * BR, h = blockIdx.y, b = blockIdx.z;
    const int nr = attf_min(BR, T - r0), g = h / (nh / nkv);
    const long long ldq = (long long)nh * hd, ldk = (long long)nkv * hd;
    const float *Qg = q + ((long long)b * T + r0) * ldq + (long long)h * hd;
    const float *Kg = k + (long long)b * T * ldk + (long long)g * hd;
    const float *Vg = v + (long long)b * T * ldk + (long long)g * hd;

    for (int x = threadIdx.x; x < nr * hd; x += ATTF_THREADS)
        Qs[x] = Qg[(long long)(x / hd) * ldq + x % hd];
    if (threadIdx.x < BR) m_s[threadIdx.x] = -INFINITY, l_s[threadIdx.x] = 0.0f;

    // The keys any row of the tile sees, and the visible interval of each of the thread's
    // score rows (empty past T).
    int c_lo, c_hi, unused;
    ds_attn_row_range(r0, T, mask, &c_lo, &unused);
    ds_attn_row_range(r0 + nr - 1, T, mask, &unused, &c_hi);
    const int c = lane % BC, rbase = w * RPW + (lane / BC) * RPT;
    int jlo[RPT], jhi[RPT];
#pragma unroll
    for (int t = 0; t < RPT; t++) {
        jlo[t] = jhi[t] = 0;
        if (rbase + t < nr) ds_attn_row_range(r0 + rbase + t, T, mask, &jlo[t], &jhi[t]);
    }
    float acc[RPW][NDC];
#pragma unroll
    for (int rr = 0; rr < RPW; rr++)
#pragma unroll
        for (int e = 0; e < NDC; e++) acc[rr][e] = 0.0f;

    for (int j0 = c_lo; j0 < c_hi; j0 += BC) {
        const int nc = attf_min(BC, c_hi - j0);
        __syncthreads(); // the previous tile's K, V and P are no longer read
        for (int x = threadIdx.x; x < nc * hd; x += ATTF_THREADS) {
            const long long src = (long long)(j0 + x / hd) * ldk + x % hd;
            Ks[(x / hd) * kst + x % hd] = Kg[src];
            Vs[x] = Vg[src];
        }
        __syncthreads();

        // Scores of (row, key c); the row's new maximum and sum over the BC lanes sharing it.
        const int j = j0 + c;
#pragma unroll
        for (int t = 0; t < RPT; t++) {
            const int r = rbase + t;
            float s = -INFINITY;
            if (j >= jlo[t] && j < jhi[t]) {
                float dot = 0.0f;
                for (int d = 0; d < hd; d++) dot += Qs[r * hd + d] * Ks[c * kst + d];
                s = dot * scale;
            }
            float mx = s;
            for (int o = BC / 2; o > 0; o >>= 1)
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
            const float m_old = m_s[r], m_new = fmaxf(m_old, mx);
            // A row with nothing visible yet (or past T) keeps m = -inf; exp(-inf - 0) = 0
            // then gives it p = 0 and a factor 0 instead of exp(-inf + inf) = NaN.
            const float m_use = m_new == -INFINITY ? 0.0f : m_new;
            const float pv = expf(s - m_use);
            float sum = pv;
            for (int o = BC / 2; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
            Ps[r * BC + c] = pv;
            __syncwarp(); // every lane has read m_s[r] before it changes
            if (c == 0) {
                const float alpha = expf(m_old - m_use);
                a_s[r] = alpha;
                l_s[r] = l_s[r] * alpha + sum;
                m_s[r] = m_new;
            }
        }
        __syncwarp(); // the warp's rows of P and their factors are written

#pragma unroll
        // acc = alpha acc + P V over the warp's rows, a lane per dimension.
        for (int rr = 0; rr < RPW; rr++) {
            const int r = w * RPW + rr;
            const float alpha = a_s[r];
#pragma unroll
            for (int e = 0; e < NDC; e++) acc[rr][e] *= alpha;
            for (int cc = 0; cc < nc; cc++) {
                const float pv = Ps[r * BC + cc];
#pragma unroll
                for (int e = 0; e < NDC; e++) {
                    const int d = lane + 32 * e;
                    if (d < hd) acc[rr][e] += pv * Vs[cc * hd + d];
                }
            }
        }
    }
    __syncwarp();
#pragma unroll
    for (int rr = 0; rr < RPW; rr++) {
        const int r = w * RPW + rr;
        if (r >= nr) break;
        const float inv = 1.0f / l_s[r]; // l >= 1: the maximum contributes exp(0)
        float *O = out + ((long long)b * T + r0 + r) * ldq + (long long)h * hd;
#pragma unroll
        for (int e = 0; e < NDC; e++) {
            const int d = lane + 32 * e;
            if (d < hd) O[d] = acc[rr][e] * inv;
        }
        if (lane == 0) lse[((long long)b * nh + h) * T + r0 + r] = m_s[r] + logf(l_s[r]);
    }
}

template <int BR, int BC, int NDC>
static void attf_forward_launch(ds_ctx *ctx, float *out, float *lse, const float *q, const float *k,
                                const float *v, int B, int T, int nh, int nkv, int hd,
                                ds_attn_mask mask) {
    const dim3 grid((unsigned)((T + BR - 1) / BR), (unsigned)nh, (unsigned)B);
    const size_t shm = attf_fwd_smem(BR, BC, hd);
    attf_forward_kernel<BR, BC, NDC><<<grid, ATTF_THREADS, shm, ds_cuda_stream(ctx)>>>(
        out, lse, q, k, v, T, nh, nkv, hd, 1.0f / sqrtf((float)hd), mask);
    DS_CUDA_LAUNCHED();
}

static void attf_check(int B, int nh, int nkv, int hd) {
    DS_ASSERT(nkv > 0 && nh % nkv == 0 && hd > 0 && hd <= DS_ATTN_FUSED_HD_MAX);
    DS_ASSERT(nh <= 65535 && B <= 65535); // grid y and z
}

void ds_cuda_attention_fused_forward(ds_ctx *ctx, float *out, float *lse, const float *q,
                                     const float *k, const float *v, int B, int T, int nh, int nkv,
                                     int hd, ds_attn_mask mask) {
    attf_check(B, nh, nkv, hd);
    if (B <= 0 || T <= 0 || nh <= 0) return;
    if (hd <= 32)
        attf_forward_launch<32, 32, 1>(ctx, out, lse, q, k, v, B, T, nh, nkv, hd, mask);
    else if (hd <= 64)
        attf_forward_launch<32, 32, 2>(ctx, out, lse, q, k, v, B, T, nh, nkv, hd, mask);
    else
        attf_forward_launch<32, 16, 4>(ctx, out, lse, q, k, v, B, T, nh, nkv, hd, mask);
}

// ---- backward

// D (B, nh, T) = rowsum(dout * out): sum_j P dP of each row (Dao 2023, eq. 4), a warp per
// row, the warp's lanes summed in a fixed order.
static __global__ void attf_rowdot_kernel(float *D, const float *dout, const float *out, int rows,
                                          int T, int nh, int hd) {
    const int row = (int)(blockIdx.x * ATTF_WARPS + (threadIdx.x >> 5)), lane = threadIdx.x & 31;
    if (row >= rows) return; // whole warps leave: the shuffles below see full warps
    const long long off = (long long)row * hd; // row = (b T + i) nh + h of dout and out
    float s = 0.0f;
    for (int d = lane; d < hd; d += 32) s += dout[off + d] * out[off + d];
    s = ds_warp_sum(s);
    const int h = row % nh, bi = row / nh, i = bi % T, b = bi / T;
    if (lane == 0) D[((long long)b * nh + h) * T + i] = s;
}

// dq: a block per (query tile, head, sequence), the mapping of the forward. Shared memory:
// Q, dout (BR, hd), K, V (BC, hd + 1), dS (BR, BC), lse and D (BR).
static size_t attf_dq_smem(int BR, int BC, int hd) {
    return sizeof(float) *
           (2 * (size_t)BR * hd + 2 * (size_t)BC * (hd + 1) + (size_t)BR * BC + 2 * (size_t)BR);
}

template <int BR, int BC, int NDC>
static __global__ void __launch_bounds__(ATTF_THREADS)
    attf_dq_kernel(float *dq, const float *dout, const float *lse, const float *D, const float *q,
                   const float *k, const float *v, int T, int nh, int nkv, int hd, float scale,
                   ds_attn_mask mask) {
    constexpr int RPW = BR / ATTF_WARPS, G = 32 / BC, RPT = RPW / G;
    static_assert(RPW % G == 0 && BC <= 32, "tile shape");
    extern __shared__ float attf_smem[];
    const int kst = hd + 1;
    float *Qs = attf_smem, *dOs = Qs + BR * hd, *Ks = dOs + BR * hd, *Vs = Ks + BC * kst;
    float *dSs = Vs + BC * kst, *lse_s = dSs + BR * BC, *D_s = lse_s + BR;

    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const int r0 = (int)(gridDim.x - 1 - blockIdx.x) * BR, h = blockIdx.y, b = blockIdx.z;
    const int nr = attf_min(BR, T - r0), g = h / (nh / nkv);
    const long long ldq = (long long)nh * hd, ldk = (long long)nkv * hd;
    const long long qoff = ((long long)b * T + r0) * ldq + (long long)h * hd;
    const float *Kg = k + (long long)b * T * ldk + (long long)g * hd;
    const float *Vg = v + (long long)b * T * ldk + (long long)g * hd;

    for (int x = threadIdx.x; x < nr * hd; x += ATTF_THREADS) {
        const long long src = qoff + (long long)(x / hd) * ldq + x % hd;
        Qs[x] = q[src];
        dOs[x] = dout[src];
    }
    if ((int)threadIdx.x < nr) {
        const long long li = ((long long)b * nh + h) * T + r0 + threadIdx.x;
        lse_s[threadIdx.x] = lse[li];
        D_s[threadIdx.x] = D[li];
    }

    int c_lo, c_hi, unused;
    ds_attn_row_range(r0, T, mask, &c_lo, &unused);
    ds_attn_row_range(r0 + nr - 1, T, mask, &unused, &c_hi);
    const int c = lane % BC, rbase = w * RPW + (lane / BC) * RPT;
    int jlo[RPT], jhi[RPT];
#pragma unroll
    for (int t = 0; t < RPT; t++) {
        jlo[t] = jhi[t] = 0;
        if (rbase + t < nr) ds_attn_row_range(r0 + rbase + t, T, mask, &jlo[t], &jhi[t]);
    }
    float acc[RPW][NDC];
#pragma unroll
    for (int rr = 0; rr < RPW; rr++)
#pragma unroll
        for (int e = 0; e < NDC; e++) acc[rr][e] = 0.0f;

    for (int j0 = c_lo; j0 < c_hi; j0 += BC) {
        const int nc = attf_min(BC, c_hi - j0);
        __syncthreads();
        for (int x = threadIdx.x; x < nc * hd; x += ATTF_THREADS) {
            const long long src = (long long)(j0 + x / hd) * ldk + x % hd;
            Ks[(x / hd) * kst + x % hd] = Kg[src];
            Vs[(x / hd) * kst + x % hd] = Vg[src];
        }
        __syncthreads();

        // dS = P (dout . v - D) of (row, key c), exactly 0 where masked.
        const int j = j0 + c;
#pragma unroll
        for (int t = 0; t < RPT; t++) {
            const int r = rbase + t;
            float ds = 0.0f;
            if (j >= jlo[t] && j < jhi[t]) {
                float s = 0.0f, dp = 0.0f;
                for (int d = 0; d < hd; d++) {
                    s += Qs[r * hd + d] * Ks[c * kst + d];
                    dp += dOs[r * hd + d] * Vs[c * kst + d];
                }
                ds = expf(s * scale - lse_s[r]) * (dp - D_s[r]);
            }
            dSs[r * BC + c] = ds;
        }
        __syncwarp();

#pragma unroll
        // acc += dS K over the warp's rows, a lane per dimension.
        for (int rr = 0; rr < RPW; rr++) {
            const int r = w * RPW + rr;
            for (int cc = 0; cc < nc; cc++) {
                const float ds = dSs[r * BC + cc];
#pragma unroll
                for (int e = 0; e < NDC; e++) {
                    const int d = lane + 32 * e;
                    if (d < hd) acc[rr][e] += ds * Ks[cc * kst + d];
                }
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < RPW; rr++) {
        const int r = w * RPW + rr;
        if (r >= nr) break;
        float *dQ = dq + qoff + (long long)r * ldq;
#pragma unroll
        for (int e = 0; e < NDC; e++) {
            const int d = lane + 32 * e;
            if (d < hd) dQ[d] += scale * acc[rr][e];
        }
    }
}

// dk, dv: a block per (key tile, kv head, sequence); each warp owns BC / 4 keys, in the
// score phase a lane takes query row lane % BR of 32 / BR key groups. Shared memory: K, V
// (BC, hd), Q, dout (BR, hd + 1), P and dS (BC, BR), lse and D (BR).
static size_t attf_dkv_smem(int BC, int BR, int hd) {
    return sizeof(float) *
           (2 * (size_t)BC * hd + 2 * (size_t)BR * (hd + 1) + 2 * (size_t)BC * BR + 2 * (size_t)BR);
}

template <int BC, int BR, int NDC>
static __global__ void __launch_bounds__(ATTF_THREADS)
    attf_dkv_kernel(float *dk, float *dv, const float *dout, const float *lse, const float *D,
                    const float *q, const float *k, const float *v, int T, int nh, int nkv, int hd,
                    float scale, ds_attn_mask mask) {
    constexpr int KPW = BC / ATTF_WARPS, G = 32 / BR, KPT = KPW / G;
    static_assert(KPW % G == 0 && BR <= 32, "tile shape");
    extern __shared__ float attf_smem[];
    const int qst = hd + 1;
    float *Ks = attf_smem, *Vs = Ks + BC * hd, *Qs = Vs + BC * hd, *dOs = Qs + BR * qst;
    float *Ps = dOs + BR * qst, *dSs = Ps + BC * BR, *lse_s = dSs + BC * BR, *D_s = lse_s + BR;

    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const int j0 = (int)blockIdx.x * BC, g = blockIdx.y, b = blockIdx.z, rep = nh / nkv;
    const int nc = attf_min(BC, T - j0);
    const long long ldq = (long long)nh * hd, ldk = (long long)nkv * hd;
    const long long koff = ((long long)b * T + j0) * ldk + (long long)g * hd;
    const int want_ds = dk != NULL;

    for (int x = threadIdx.x; x < nc * hd; x += ATTF_THREADS) {
        const long long src = koff + (long long)(x / hd) * ldk + x % hd;
        Ks[x] = k[src];
        Vs[x] = v[src];
    }
    // The queries that see any key of the tile; the thread's score row is r = lane % BR.
    int i_lo, i_hi;
    ds_attn_col_range(j0, j0 + nc, T, mask, &i_lo, &i_hi);
    const int r = lane % BR, cbase = w * KPW + (lane / BR) * KPT;
    float acc_k[KPW][NDC], acc_v[KPW][NDC];
#pragma unroll
    for (int kk = 0; kk < KPW; kk++)
#pragma unroll
        for (int e = 0; e < NDC; e++) acc_k[kk][e] = acc_v[kk][e] = 0.0f;

    for (int h = g * rep; h < (g + 1) * rep; h++) // the group's query heads in order
        for (int i0 = i_lo; i0 < i_hi; i0 += BR) {
            const int nr = attf_min(BR, i_hi - i0);
            const long long qoff = ((long long)b * T + i0) * ldq + (long long)h * hd;
            __syncthreads(); // the previous tile's Q, dout, P, dS are no longer read
            for (int x = threadIdx.x; x < nr * hd; x += ATTF_THREADS) {
                const long long src = qoff + (long long)(x / hd) * ldq + x % hd;
                Qs[(x / hd) * qst + x % hd] = q[src];
                dOs[(x / hd) * qst + x % hd] = dout[src];
            }
            if ((int)threadIdx.x < nr) {
                const long long li = ((long long)b * nh + h) * T + i0 + threadIdx.x;
                lse_s[threadIdx.x] = lse[li];
                D_s[threadIdx.x] = D[li];
            }
            __syncthreads();

            // P and dS of (query row r, key c), stored key-major: 0 where masked.
            int jlo = 0, jhi = 0;
            if (r < nr) ds_attn_row_range(i0 + r, T, mask, &jlo, &jhi);
#pragma unroll
            for (int t = 0; t < KPT; t++) {
                const int cc = cbase + t, j = j0 + cc;
                float pv = 0.0f, ds = 0.0f;
                if (cc < nc && j >= jlo && j < jhi) {
                    float s = 0.0f;
                    for (int d = 0; d < hd; d++) s += Qs[r * qst + d] * Ks[cc * hd + d];
                    pv = expf(s * scale - lse_s[r]);
                    if (want_ds) {
                        float dp = 0.0f;
                        for (int d = 0; d < hd; d++) dp += dOs[r * qst + d] * Vs[cc * hd + d];
                        ds = pv * (dp - D_s[r]);
                    }
                }
                Ps[cc * BR + r] = pv;
                dSs[cc * BR + r] = ds;
            }
            __syncwarp(); // the warp's keys' P and dS are written

#pragma unroll
            // dv += P^T dout, dk += dS^T Q over the warp's keys, a lane per dimension.
            for (int kk = 0; kk < KPW; kk++) {
                const int cc = w * KPW + kk;
                for (int rr = 0; rr < nr; rr++) {
                    const float pv = Ps[cc * BR + rr], ds = dSs[cc * BR + rr];
#pragma unroll
                    for (int e = 0; e < NDC; e++) {
                        const int d = lane + 32 * e;
                        if (d < hd) {
                            acc_v[kk][e] += pv * dOs[rr * qst + d];
                            acc_k[kk][e] += ds * Qs[rr * qst + d];
                        }
                    }
                }
            }
        }
#pragma unroll
    for (int kk = 0; kk < KPW; kk++) {
        const int cc = w * KPW + kk;
        if (cc >= nc) break;
#pragma unroll
        for (int e = 0; e < NDC; e++) {
            const int d = lane + 32 * e;
            if (d >= hd) continue;
            const long long o = koff + (long long)cc * ldk + d;
            if (dk) dk[o] += scale * acc_k[kk][e];
            if (dv) dv[o] += acc_v[kk][e];
        }
    }
}

template <int BT, int NDC>
static void attf_backward_launch(ds_ctx *ctx, float *dq, float *dk, float *dv, const float *dout,
                                 const float *lse, const float *D, const float *q, const float *k,
                                 const float *v, int B, int T, int nh, int nkv, int hd,
                                 ds_attn_mask mask) {
    const float scale = 1.0f / sqrtf((float)hd);
    const unsigned tiles = (unsigned)((T + BT - 1) / BT);
    cudaStream_t st = ds_cuda_stream(ctx);
    if (dk || dv) {
        attf_dkv_kernel<BT, BT, NDC>
            <<<dim3(tiles, (unsigned)nkv, (unsigned)B), ATTF_THREADS, attf_dkv_smem(BT, BT, hd),
               st>>>(dk, dv, dout, lse, D, q, k, v, T, nh, nkv, hd, scale, mask);
        DS_CUDA_LAUNCHED();
    }
    if (dq) {
        attf_dq_kernel<BT, BT, NDC>
            <<<dim3(tiles, (unsigned)nh, (unsigned)B), ATTF_THREADS, attf_dq_smem(BT, BT, hd),
               st>>>(dq, dout, lse, D, q, k, v, T, nh, nkv, hd, scale, mask);
        DS_CUDA_LAUNCHED();
    }
}

void ds_cuda_attention_fused_backward(ds_ctx *ctx, float *dq, float *dk, float *dv,
                                      const float *dout, const float *out, const float *lse,
                                      const float *q, const float *k, const float *v, int B, int T,
                                      int nh, int nkv, int hd, ds_attn_mask mask) {
    attf_check(B, nh, nkv, hd);
    if (B <= 0 || T <= 0 || nh <= 0 || (!dq && !dk && !dv)) return;
    const long long rows = (long long)B * T * nh;
    DS_ASSERT(rows <= 0x7fffffffLL);
    float *D = (float *)ds_ctx_scratch(ctx, sizeof(float) * (size_t)rows);
    attf_rowdot_kernel<<<ds_cuda_blocks(rows, ATTF_WARPS), ATTF_THREADS, 0, ds_cuda_stream(ctx)>>>(
        D, dout, out, (int)rows, T, nh, hd);
    DS_CUDA_LAUNCHED();
    if (hd <= 32)
        attf_backward_launch<32, 1>(ctx, dq, dk, dv, dout, lse, D, q, k, v, B, T, nh, nkv, hd,
                                    mask);
    else if (hd <= 64)
        attf_backward_launch<32, 2>(ctx, dq, dk, dv, dout, lse, D, q, k, v, B, T, nh, nkv, hd,
                                    mask);
    else
        attf_backward_launch<16, 4>(ctx, dq, dk, dv, dout, lse, D, q, k, v, B, T, nh, nkv, hd,
                                    mask);
}
