// cuda_runtime.h (emulated): the part of the CUDA runtime and device language that
// kernels/cuda uses, for running those kernels on the CPU in ds_tests_cuda_emu. Found before
// any real CUDA include folder for that target only; tests/cuda-emu/emu.cpp implements it
// (threads are fibers, one block at a time). Device memory is host memory fenced off from host
// code (emu.cpp says how), launches and copies are synchronous, streams are tokens.
// Deliberately not here: textures, events, graphs, cooperative groups, dynamic parallelism,
// half types: add what a kernel starts to use.
#ifndef DS_CUDA_EMU_RUNTIME_H
#define DS_CUDA_EMU_RUNTIME_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// ---- declaration specifiers: one address space, one compiler
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
// Block-shared variables become function statics: one block runs at a time, so a block never
// sees another live block's copy (a later block sees leftovers, as stale shared memory would).
// `extern __shared__ T x[];` (dynamic) is rewritten by convert.py into a pointer to the
// launch's buffer.
#define __shared__ static

// ---- vector and index types
struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct __attribute__((aligned(16))) uint4 {
    unsigned x, y, z, w;
};

// The running thread's coordinates; the scheduler rewrites them at every switch. Read them
// through the kernel's own code only: every emu function that may switch is out of line, so
// the compiler reloads these after it.
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;
static const int warpSize = 32;

// ---- runtime API (extern "C" as in the real header)
typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidPitchValue = 12,
    cudaErrorInvalidDevice = 101,
    cudaErrorLaunchFailure = 719,
} cudaError_t;

typedef enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
} cudaMemcpyKind;

typedef struct emu_stream *cudaStream_t;
#define cudaStreamDefault     0x00
#define cudaStreamNonBlocking 0x01

typedef struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    size_t sharedMemPerBlock;
    int warpSize;
    int maxThreadsPerBlock;
    int multiProcessorCount;
    int major, minor;
} cudaDeviceProp;

extern "C" {
const char *cudaGetErrorName(cudaError_t err);
const char *cudaGetErrorString(cudaError_t err);
cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaMalloc(void **ptr, size_t bytes);
cudaError_t cudaFree(void *ptr);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream);
cudaError_t cudaMemcpy2D(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
                         size_t height, cudaMemcpyKind kind);
cudaError_t cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind,
                              cudaStream_t stream);
cudaError_t cudaMemset(void *ptr, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void *ptr, int value, size_t bytes, cudaStream_t stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned flags);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
}

// ---- barriers and warp operations (emu.cpp): each may switch to another thread
void __syncthreads(void);
int __syncthreads_or(int pred);
int __syncthreads_and(int pred);
int __syncthreads_count(int pred);
void __syncwarp(unsigned mask = 0xffffffffu);
unsigned __ballot_sync(unsigned mask, int pred);
unsigned __activemask(void);
// The warp's lanes of mask exchange 8-byte values; returns the 32 slots (valid until the
// warp's next exchange but one). Every lane of mask must call it, with the same mask.
const uint64_t *emu_warp_exchange(unsigned mask, uint64_t value);

template <typename T> static inline uint64_t emu_bits(T v) {
    static_assert(sizeof(T) <= 8, "warp values of at most 8 bytes");
    uint64_t u = 0;
    memcpy(&u, &v, sizeof v);
    return u;
}
template <typename T> static inline T emu_from_bits(uint64_t u) {
    T v;
    memcpy(&v, &u, sizeof v);
    return v;
}
// The caller's lane: its linear index in the block, modulo 32.
static inline int emu_lane(void) {
    return (int)(((threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x) & 31);
}
// Lane src's value, or the caller's own when src falls outside its width-lane segment (the
// documented result for up / down / xor past the segment).
template <typename T> static inline T emu_shfl(unsigned mask, T v, int src, int ok) {
    const uint64_t *slot = emu_warp_exchange(mask, emu_bits(v));
    return ok ? emu_from_bits<T>(slot[src & 31]) : v;
}
template <typename T> static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    int lane = emu_lane(), base = lane & ~(width - 1);
    return emu_shfl(mask, v, base + (src & (width - 1)), 1);
}
template <typename T> static inline T __shfl_xor_sync(unsigned mask, T v, int o, int width = 32) {
    int lane = emu_lane(), src = lane ^ o;
    return emu_shfl(mask, v, src, (src & ~(width - 1)) == (lane & ~(width - 1)));
}
template <typename T>
static inline T __shfl_up_sync(unsigned mask, T v, unsigned d, int width = 32) {
    int lane = emu_lane(), src = lane - (int)d;
    return emu_shfl(mask, v, src, src >= (lane & ~(width - 1)));
}
template <typename T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned d, int width = 32) {
    int lane = emu_lane(), src = lane + (int)d;
    return emu_shfl(mask, v, src, src < (lane & ~(width - 1)) + width);
}
// The lanes of mask holding the caller's value.
template <typename T> static inline unsigned __match_any_sync(unsigned mask, T v) {
    uint64_t mine = emu_bits(v);
    const uint64_t *slot = emu_warp_exchange(mask, mine);
    unsigned peers = 0;
    for (int l = 0; l < 32; l++)
        if ((mask >> l & 1u) && slot[l] == mine) peers |= 1u << l;
    return peers;
}

// ---- atomics: fibers switch only inside the functions above, so a plain read-modify-write
// cannot be interleaved with another thread's.
template <typename T> static inline T atomicAdd(T *p, T v) {
    T old = *p;
    *p = old + v;
    return old;
}
template <typename T> static inline T atomicSub(T *p, T v) {
    T old = *p;
    *p = old - v;
    return old;
}
template <typename T> static inline T atomicMax(T *p, T v) {
    T old = *p;
    *p = old > v ? old : v;
    return old;
}
template <typename T> static inline T atomicMin(T *p, T v) {
    T old = *p;
    *p = old < v ? old : v;
    return old;
}
template <typename T> static inline T atomicExch(T *p, T v) {
    T old = *p;
    *p = v;
    return old;
}
template <typename T> static inline T atomicCAS(T *p, T cmp, T v) {
    T old = *p;
    if (old == cmp) *p = v;
    return old;
}

// ---- bit and type-punning intrinsics
static inline int __popc(unsigned x) {
    return __builtin_popcount(x);
}
static inline int __ffs(int x) {
    return __builtin_ffs(x);
}
static inline int __clz(int x) {
    return x ? __builtin_clz((unsigned)x) : 32;
}
static inline float __uint_as_float(unsigned u) {
    return emu_from_bits<float>(u);
}
static inline unsigned __float_as_uint(float f) {
    return (unsigned)emu_bits(f);
}
static inline float __int_as_float(int i) {
    return emu_from_bits<float>((uint32_t)i);
}
static inline int __float_as_int(float f) {
    return (int)(uint32_t)emu_bits(f);
}

// ---- launches: convert.py rewrites kernel<<<grid, block, shm, stream>>>(args) into
// emu_launch(kernel, emu_config(grid, block, shm, stream), args).
struct emu_cfg {
    dim3 grid, block;
    size_t shm;
    cudaStream_t stream;
};
static inline emu_cfg emu_config(dim3 grid, dim3 block, size_t shm = 0, cudaStream_t stream = 0) {
    return emu_cfg{grid, block, shm, stream};
}
// Runs body(env) once per thread of every block of the grid, block after block; a bad
// configuration sets the error cudaGetLastError reports and runs nothing.
void emu_run(const emu_cfg &cfg, void (*body)(void *), void *env);
// This launch's dynamic shared memory (fresh per block, filled with 0xff bytes: NaN floats).
void *emu_dynamic_shared(void);

template <typename T> struct emu_same { typedef T type; };
// Arguments convert to the kernel's parameter types at the call, as with <<<>>>; each thread
// gets its own copies.
template <typename... P>
void emu_launch(void (*kernel)(P...), emu_cfg cfg, typename emu_same<P>::type... args) {
    auto call = [&]() { kernel(args...); };
    emu_run(
        cfg, [](void *env) { (*(decltype(call) *)env)(); }, &call);
}

#endif
