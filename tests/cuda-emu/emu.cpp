// emu.cpp: runs the CUDA kernels of kernels/cuda on the CPU for ds_tests_cuda_emu. Each
// block's threads are fibers on one OS thread, switched only at __syncthreads and the warp
// operations (shuffles, ballots, match, __syncwarp), which are real barriers: a thread waits
// until every thread they name has arrived. Blocks run one after another. Misuse a GPU would
// hang on or make undefined (a barrier some threads skip, a warp operation naming an exited
// lane, mismatched masks, a deadlock) aborts with the block and thread. Also the runtime and
// cuBLAS subset of cuda_runtime.h / cublas_v2.h. Not here: real concurrency (races between
// warps without a barrier go unseen), memory spaces (a host pointer works as a device one),
// timing. Incompatible with AddressSanitizer (it does not know the fiber stacks).
#include "cublas_v2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <vector>

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

// Prints the broken rule with the current block and thread, then aborts (a GPU would hang or
// compute garbage: there is nothing sensible to continue with).
[[noreturn]] static void emu_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// ---- fibers: a minimal x86-64 switch (callee-saved registers, MXCSR and the x87 control
// word, as the SysV ABI requires preserved); swapcontext elsewhere, which also saves the
// signal mask with a system call per switch (several times slower).
#if defined(__x86_64__)
extern "C" void emu_switch(void **save_sp, void *new_sp);
asm(R"(
    .text
    .globl emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch
    .section .note.GNU-stack,"",@progbits
    .text
)");
struct emu_context {
    void *sp;
};
static void fiber_prepare(emu_context *c, char *stack, size_t size, void (*entry)(void)) {
    uint64_t *top = (uint64_t *)(((uintptr_t)(stack + size)) & ~(uintptr_t)15);
    uint64_t *sp = top - 2; // 16-aligned slot for entry: rsp % 16 == 8 once it runs, as a call
    sp[0] = (uint64_t)entry;
    sp[1] = 0;
    for (int r = 1; r <= 6; r++) sp[-r] = 0; // rbp rbx r12 r13 r14 r15
    uint32_t csr[2];
    asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(csr[0]), "=m"(csr[1]));
    memcpy(&sp[-7], csr, 8);
    c->sp = &sp[-7];
}
static void fiber_switch(emu_context *from, emu_context *to) {
    emu_switch(&from->sp, to->sp);
}
#else
#include <ucontext.h>
struct emu_context {
    ucontext_t uc;
};
static void fiber_prepare(emu_context *c, char *stack, size_t size, void (*entry)(void)) {
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = stack;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, entry, 0);
}
static void fiber_switch(emu_context *from, emu_context *to) {
    swapcontext(&from->uc, &to->uc);
}
#endif

// ---- scheduler state

enum { EMU_MAX_THREADS = 1024, EMU_STACK = 128 * 1024, EMU_PAGE = 4096 };
enum { RUNNABLE, WAIT_BLOCK, WAIT_WARP, DONE };

struct emu_fiber {
    emu_context ctx;
    int state;
};

struct emu_warp {
    unsigned mask;    // the lanes of the exchange under way
    unsigned arrived; // those of them that have called
    unsigned gen;     // completed exchanges; the slots alternate with it
    uint64_t slot[2][32];
};

static struct {
    emu_context sched;
    std::vector<emu_fiber> fiber;
    char *stacks; // EMU_MAX_THREADS stacks, each above a guard page
    unsigned n, cur, n_done;
    int in_kernel;
    void (*body)(void *);
    void *env;
    std::vector<unsigned char> dyn; // dynamic shared memory
    // __syncthreads: arrivals, completed barriers, the reductions of the _or/_and/_count forms
    unsigned bar_arrived, bar_gen;
    int bar_count, bar_result[2];
    emu_warp warp[EMU_MAX_THREADS / 32];
} S;

static cudaError_t last_error = cudaSuccess;

static void emu_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cuda-emu: block (%u,%u,%u) of (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z,
            gridDim.x, gridDim.y, gridDim.z);
    if (S.cur < S.n) fprintf(stderr, ", thread %u of %u", S.cur, S.n);
    fputs(": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

static void set_coordinates(unsigned t) {
    threadIdx.x = t % blockDim.x;
    threadIdx.y = t / blockDim.x % blockDim.y;
    threadIdx.z = t / (blockDim.x * blockDim.y);
}

// Back to the scheduler; returns when a barrier made this thread runnable again.
static void block_here(int state) {
    S.fiber[S.cur].state = state;
    fiber_switch(&S.fiber[S.cur].ctx, &S.sched);
}

static void fiber_entry(void) {
    S.body(S.env);
    const unsigned t = S.cur, w = t / 32;
    // A thread that leaves while others wait for it at a barrier: they would wait forever
    // (undefined behaviour in CUDA; a hang or garbage on a GPU).
    if (S.bar_arrived) emu_fail("exits while %u thread(s) wait at __syncthreads", S.bar_arrived);
    if (S.warp[w].arrived && (S.warp[w].mask >> (t % 32) & 1u))
        emu_fail("exits while lanes 0x%08x of its warp wait for it in a warp operation (mask "
                 "0x%08x)",
                 S.warp[w].arrived, S.warp[w].mask);
    S.n_done++;
    block_here(DONE);
    abort(); // never resumed
}

// ---- barriers

static void syncthreads_impl(int pred) {
    const unsigned gen = S.bar_gen;
    S.bar_count += pred != 0;
    if (++S.bar_arrived + S.n_done < S.n) {
        block_here(WAIT_BLOCK);
        return;
    }
    // Every live thread arrived; those that exited before (fiber_entry checks the other
    // order) would be waited for on a GPU.
    if (S.n_done)
        emu_fail("__syncthreads after %u thread(s) of the block exited (a barrier not every "
                 "thread reaches: undefined in CUDA)",
                 S.n_done);
    S.bar_result[gen & 1] = S.bar_count;
    S.bar_arrived = 0;
    S.bar_count = 0;
    S.bar_gen++;
    for (unsigned i = 0; i < S.n; i++)
        if (S.fiber[i].state == WAIT_BLOCK) S.fiber[i].state = RUNNABLE;
}

void __syncthreads(void) {
    syncthreads_impl(0);
}
int __syncthreads_count(int pred) {
    const unsigned gen = S.bar_gen;
    syncthreads_impl(pred);
    return S.bar_result[gen & 1];
}
int __syncthreads_or(int pred) {
    return __syncthreads_count(pred) != 0;
}
int __syncthreads_and(int pred) {
    return __syncthreads_count(pred) == (int)S.n;
}

const uint64_t *emu_warp_exchange(unsigned mask, uint64_t value) {
    const unsigned t = S.cur, lane = t % 32, base = t - lane;
    emu_warp *w = &S.warp[t / 32];
    if (!(mask >> lane & 1u))
        emu_fail("warp operation with mask 0x%08x leaves out its own lane %u", mask, lane);
    // The lanes named are checked once per exchange, by its first caller; a lane that exits
    // later while named is caught in fiber_entry.
    if (!w->arrived) {
        for (unsigned l = 0; l < 32; l++) {
            if (!(mask >> l & 1u)) continue;
            if (base + l >= S.n)
                emu_fail("warp mask 0x%08x names lane %u, past the block's %u threads", mask, l,
                         S.n);
            if (S.fiber[base + l].state == DONE)
                emu_fail("warp mask 0x%08x names lane %u, which has exited", mask, l);
        }
    } else if (w->mask != mask) {
        emu_fail("warp operation with mask 0x%08x while lanes 0x%08x wait with mask 0x%08x", mask,
                 w->arrived, w->mask);
    }
    const unsigned gen = w->gen;
    w->mask = mask;
    w->slot[gen & 1][lane] = value;
    w->arrived |= 1u << lane;
    if (w->arrived != mask) {
        block_here(WAIT_WARP);
    } else {
        w->arrived = 0;
        w->gen++;
        for (unsigned l = 0; l < 32; l++)
            if ((mask >> l & 1u) && S.fiber[base + l].state == WAIT_WARP)
                S.fiber[base + l].state = RUNNABLE;
    }
    // The next exchange writes the other slots; the one after needs this lane again first.
    return w->slot[gen & 1];
}

void __syncwarp(unsigned mask) {
    emu_warp_exchange(mask, 0);
}

unsigned __ballot_sync(unsigned mask, int pred) {
    const uint64_t *slot = emu_warp_exchange(mask, pred != 0);
    unsigned bits = 0;
    for (int l = 0; l < 32; l++)
        if ((mask >> l & 1u) && slot[l]) bits |= 1u << l;
    return bits;
}

// The lanes of the caller's warp that have not exited: the emulator never splits a warp.
unsigned __activemask(void) {
    const unsigned base = S.cur - S.cur % 32;
    unsigned m = 0;
    for (unsigned l = 0; l < 32 && base + l < S.n; l++)
        if (S.fiber[base + l].state != DONE) m |= 1u << l;
    return m;
}

// ---- launches

void *emu_dynamic_shared(void) {
    return S.dyn.data();
}

static void run_block(void) {
    for (unsigned i = 0; i < S.n; i++) {
        fiber_prepare(&S.fiber[i].ctx, S.stacks + (size_t)i * EMU_STACK + EMU_PAGE,
                      EMU_STACK - EMU_PAGE, fiber_entry);
        S.fiber[i].state = RUNNABLE;
    }
    S.n_done = 0;
    S.bar_arrived = 0;
    S.bar_count = 0;
    memset(S.warp, 0, sizeof S.warp);
    if (!S.dyn.empty()) memset(S.dyn.data(), 0xff, S.dyn.size());
    // Warp by warp, each as far as it can go (to a block barrier, or its end) before the
    // next: a legal schedule that lets one warp run ahead of the others, so a barrier missing
    // between warps shows as a wrong result. Odd blocks take the warps in reverse order, so
    // neither direction of such a race hides. A round that runs nothing while threads are
    // alive is a deadlock.
    const unsigned n_warps = (S.n + 31) / 32;
    const int reverse = (blockIdx.x + blockIdx.y + blockIdx.z) & 1;
    while (S.n_done < S.n) {
        unsigned ran = 0;
        for (unsigned k = 0; k < n_warps; k++) {
            const unsigned w = reverse ? n_warps - 1 - k : k, end = w * 32 + 32;
            for (unsigned ran_w = 1; ran_w;) {
                ran_w = 0;
                for (unsigned i = w * 32; i < end && i < S.n; i++) {
                    if (S.fiber[i].state != RUNNABLE) continue;
                    S.cur = i;
                    set_coordinates(i);
                    fiber_switch(&S.sched, &S.fiber[i].ctx);
                    ran_w++;
                }
                ran += ran_w;
            }
        }
        if (ran) continue;
        unsigned at_block = 0, at_warp = 0;
        for (unsigned i = 0; i < S.n; i++) {
            at_block += S.fiber[i].state == WAIT_BLOCK;
            at_warp += S.fiber[i].state == WAIT_WARP;
        }
        S.cur = S.n;
        emu_fail("deadlock: %u thread(s) wait at __syncthreads, %u in warp operations, %u exited",
                 at_block, at_warp, S.n_done);
    }
}

void emu_run(const emu_cfg &cfg, void (*body)(void *), void *env) {
    if (S.in_kernel) emu_fail("a kernel launch inside a kernel (not emulated)");
    const dim3 g = cfg.grid, b = cfg.block;
    const unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
    // The limits of every GPU since compute capability 3.0.
    if (threads == 0 || threads > EMU_MAX_THREADS || b.x > 1024 || b.y > 1024 || b.z > 64 ||
        g.x == 0 || g.y == 0 || g.z == 0 || g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535) {
        last_error = cudaErrorInvalidConfiguration;
        return;
    }
    // 48 KiB of dynamic shared memory without cudaFuncSetAttribute (which nothing here calls).
    if (cfg.shm > 48 * 1024) {
        last_error = cudaErrorInvalidValue;
        return;
    }
    if (!S.stacks) {
        size_t bytes = (size_t)EMU_MAX_THREADS * EMU_STACK;
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) emu_fail("cannot map %zu bytes of fiber stacks", bytes);
        S.stacks = (char *)p;
        for (int i = 0; i < EMU_MAX_THREADS; i++) // a stack overflow faults instead of corrupting
            mprotect(S.stacks + (size_t)i * EMU_STACK, EMU_PAGE, PROT_NONE);
        S.fiber.resize(EMU_MAX_THREADS);
    }
    S.n = (unsigned)threads;
    S.body = body;
    S.env = env;
    S.dyn.assign(cfg.shm, 0xff);
    S.in_kernel = 1;
    gridDim = g;
    blockDim = b;
    for (unsigned z = 0; z < g.z; z++)
        for (unsigned y = 0; y < g.y; y++)
            for (unsigned x = 0; x < g.x; x++) {
                blockIdx = uint3{x, y, z};
                run_block();
            }
    S.in_kernel = 0;
}

// ---- runtime API

extern "C" const char *cudaGetErrorName(cudaError_t err) {
    switch (err) {
    case cudaSuccess:
        return "cudaSuccess";
    case cudaErrorInvalidValue:
        return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
        return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
        return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice:
        return "cudaErrorInvalidDevice";
    case cudaErrorLaunchFailure:
        return "cudaErrorLaunchFailure";
    }
    return "cudaErrorUnknown";
}

extern "C" const char *cudaGetErrorString(cudaError_t err) {
    switch (err) {
    case cudaSuccess:
        return "no error";
    case cudaErrorInvalidValue:
        return "invalid argument (emulator: e.g. more than 48 KiB of dynamic shared memory)";
    case cudaErrorMemoryAllocation:
        return "out of memory";
    case cudaErrorInvalidConfiguration:
        return "invalid configuration argument (emulator: block of 1..1024 threads, grid "
               "within 2^31-1 x 65535 x 65535)";
    case cudaErrorInvalidDevice:
        return "invalid device ordinal (the emulator has device 0 only)";
    case cudaErrorLaunchFailure:
        return "unspecified launch failure";
    }
    return "unknown error";
}

extern "C" cudaError_t cudaGetLastError(void) {
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

extern "C" cudaError_t cudaPeekAtLastError(void) {
    return last_error;
}

extern "C" cudaError_t cudaGetDeviceCount(int *count) {
    *count = 1;
    return cudaSuccess;
}

extern "C" cudaError_t cudaSetDevice(int device) {
    return device == 0 ? cudaSuccess : cudaErrorInvalidDevice;
}

extern "C" cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device) {
    if (device != 0) return cudaErrorInvalidDevice;
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "docseek CUDA emulator");
    prop->totalGlobalMem = (size_t)16 << 30;
    prop->sharedMemPerBlock = 48 * 1024;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = EMU_MAX_THREADS;
    prop->multiProcessorCount = 1;
    prop->major = 9;
    prop->minor = 0;
    return cudaSuccess;
}

extern "C" cudaError_t cudaDeviceSynchronize(void) {
    return cudaSuccess;
}

// 256-byte aligned like cudaMalloc; filled with 0xff bytes (NaN floats, -1 ints) so a kernel
// that reads what nobody wrote shows it.
extern "C" cudaError_t cudaMalloc(void **ptr, size_t bytes) {
    void *p = aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!p) return cudaErrorMemoryAllocation;
    memset(p, 0xff, bytes);
    *ptr = p;
    return cudaSuccess;
}

extern "C" cudaError_t cudaFree(void *ptr) {
    free(ptr);
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    if (bytes && (!dst || !src)) return cudaErrorInvalidValue;
    if (bytes) memmove(dst, src, bytes);
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes,
                                       cudaMemcpyKind kind, cudaStream_t stream) {
    return cudaMemcpy(dst, src, bytes, kind);
}

extern "C" cudaError_t cudaMemset(void *ptr, int value, size_t bytes) {
    if (bytes && !ptr) return cudaErrorInvalidValue;
    if (bytes) memset(ptr, value, bytes);
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemsetAsync(void *ptr, int value, size_t bytes, cudaStream_t stream) {
    return cudaMemset(ptr, value, bytes);
}

struct emu_stream {
    unsigned flags;
};

extern "C" cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned flags) {
    *stream = (cudaStream_t)calloc(1, sizeof(emu_stream));
    if (!*stream) return cudaErrorMemoryAllocation;
    (*stream)->flags = flags;
    return cudaSuccess;
}

// Launches and copies have finished when they return: nothing to wait for.
extern "C" cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    return cudaSuccess;
}

extern "C" cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    free(stream);
    return cudaSuccess;
}

// ---- cuBLAS

struct emu_blas {
    cudaStream_t stream;
};

extern "C" cublasStatus_t cublasCreate(cublasHandle_t *handle) {
    *handle = (cublasHandle_t)calloc(1, sizeof(emu_blas));
    return *handle ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

extern "C" cublasStatus_t cublasDestroy(cublasHandle_t handle) {
    free(handle);
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" const char *cublasGetStatusString(cublasStatus_t status) {
    switch (status) {
    case CUBLAS_STATUS_SUCCESS:
        return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
        return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
        return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
        return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_NOT_SUPPORTED:
        return "CUBLAS_STATUS_NOT_SUPPORTED";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}

// f32 rounded to the nearest bf16 (ties to even), kept as f32: what the bf16 tensor-core
// path multiplies. NaN stays NaN.
static float round_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return x;
    u = (u + 0x7fffu + (u >> 16 & 1u)) & 0xffff0000u;
    memcpy(&x, &u, 4);
    return x;
}

// op(X) (rows, cols) of column-major X with leading dimension ld, copied row by row (one
// contiguous row per output element's dot product), rounded to bf16 when asked.
static std::vector<float> op_rows(const float *X, int ld, cublasOperation_t op, int rows, int cols,
                                  int bf16) {
    std::vector<float> out((size_t)rows * cols);
    for (int i = 0; i < rows; i++)
        for (int l = 0; l < cols; l++) {
            float v = op == CUBLAS_OP_N ? X[i + (size_t)l * ld] : X[l + (size_t)i * ld];
            out[(size_t)i * cols + l] = bf16 ? round_bf16(v) : v;
        }
    return out;
}

extern "C" cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t ta,
                                       cublasOperation_t tb, int m, int n, int k, const void *alpha,
                                       const void *A, cudaDataType Atype, int lda, const void *B,
                                       cudaDataType Btype, int ldb, const void *beta, void *C,
                                       cudaDataType Ctype, int ldc, cublasComputeType_t compute,
                                       cublasGemmAlgo_t algo) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (Atype != CUDA_R_32F || Btype != CUDA_R_32F || Ctype != CUDA_R_32F ||
        (compute != CUBLAS_COMPUTE_32F && compute != CUBLAS_COMPUTE_32F_FAST_16BF) ||
        ta == CUBLAS_OP_C || tb == CUBLAS_OP_C)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    // cuBLAS's own argument checks: a wrong leading dimension is the usual row-major slip.
    const int a_rows = ta == CUBLAS_OP_N ? m : k, b_rows = tb == CUBLAS_OP_N ? k : n;
    if (m < 0 || n < 0 || k < 0 || lda < (a_rows > 1 ? a_rows : 1) ||
        ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    const float al = *(const float *)alpha, be = *(const float *)beta;
    const int bf16 = compute == CUBLAS_COMPUTE_32F_FAST_16BF;
    // op(A) (m, k) row by row; op(B)^T (n, k) row by row: C[i, j] = a_i . b_j.
    std::vector<float> a = op_rows((const float *)A, lda, ta, m, k, bf16);
    std::vector<float> b =
        op_rows((const float *)B, ldb, tb == CUBLAS_OP_N ? CUBLAS_OP_T : CUBLAS_OP_N, n, k, bf16);
    float *c = (float *)C;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            const float *ai = &a[(size_t)i * k], *bj = &b[(size_t)j * k];
            double s = 0;
            for (int l = 0; l < k; l++) s += (double)ai[l] * bj[l];
            float *cij = &c[i + (size_t)j * ldc];
            *cij = be == 0.0f ? (float)(al * s) : (float)(al * s + (double)be * *cij);
        }
    return CUBLAS_STATUS_SUCCESS;
}
