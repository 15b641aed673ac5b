// emu.cpp: runs the CUDA kernels of kernels/cuda on the CPU for ds_tests_cuda_emu. Each
// block's threads are fibers on one OS thread, switched only at __syncthreads and the warp
// operations (shuffles, ballots, match, __syncwarp), which are real barriers: a thread waits
// until every thread they name has arrived. Blocks run one after another. Misuse a GPU would
// hang on or make undefined (a barrier some threads skip, a warp operation naming an exited
// lane, mismatched masks, a deadlock) aborts with the block and thread. Also the runtime and
// cuBLAS subset of cuda_runtime.h / cublas_v2.h.
// Device memory is fenced, so the slips a GPU punishes fail here too instead of passing on
// shared host memory: each cudaMalloc is its own mapping, ending at a PROT_NONE guard page (a
// read or write past its end, rounded to 256 bytes, faults), and all of it is PROT_NONE except
// while a kernel, copy, memset or GEMM runs (host code that dereferences a device pointer
// faults). Copies check their direction against the allocations. Not here: real concurrency
// (races between warps without a barrier go unseen), a kernel reading host memory (works),
// timing. Incompatible with AddressSanitizer (it does not know the fiber stacks).
#include "cublas_v2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <map>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
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
    fputs("cuda-emu", stderr);
    if (S.in_kernel) {
        fprintf(stderr, ": block (%u,%u,%u) of (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z,
                gridDim.x, gridDim.y, gridDim.z);
        if (S.cur < S.n) fprintf(stderr, ", thread %u of %u", S.cur, S.n);
    }
    fputs(": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

// ---- device memory: each cudaMalloc maps [padding | bytes rounded up to 256 | guard page],
// the pointer 256-aligned and its rounded end against the guard, which stays PROT_NONE. The
// rest is PROT_NONE too, but for the spans of device work (dev_scope): a kernel, a copy, a
// memset, a GEMM. A few mprotect calls per allocation per launch; the tests hold few buffers.

struct emu_alloc {
    char *map;    // the mapping: span bytes, then the guard page
    size_t span;  // page-rounded bytes before the guard page
    char *ptr;    // what cudaMalloc returned: map + span - bytes rounded up to 256
    size_t bytes; // as asked of cudaMalloc
};

static std::map<uintptr_t, emu_alloc> dev; // by mapping address
static int dev_depth;                      // nesting of dev_scope: open while > 0
static size_t page_bytes;

// The allocation whose mapping (guard page included) overlaps [p, p + n), n >= 1, or NULL.
static const emu_alloc *dev_overlap(const void *p, size_t n) {
    const uintptr_t a = (uintptr_t)p, last = n - 1 > UINTPTR_MAX - a ? UINTPTR_MAX : a + n - 1;
    auto it = dev.upper_bound(last);
    if (it == dev.begin()) return NULL;
    --it;
    return it->first >= a || a - it->first < it->second.span + page_bytes ? &it->second : NULL;
}

static void dev_protect(int prot) {
    for (auto &kv : dev)
        if (mprotect(kv.second.map, kv.second.span, prot) != 0)
            emu_fail("mprotect of device memory %p (%zu bytes) failed", (void *)kv.second.ptr,
                     kv.second.bytes);
}

// Device memory readable and writable for the scope's lifetime; scopes nest.
struct dev_scope {
    dev_scope() {
        if (dev_depth++ == 0) dev_protect(PROT_READ | PROT_WRITE);
    }
    ~dev_scope() {
        if (--dev_depth == 0) dev_protect(PROT_NONE);
    }
};

// SIGSEGV on device memory: says which allocation and who touched it, then lets the default
// action kill the process (SA_RESETHAND; the access runs again). snprintf in a handler is not
// async-signal-safe, but this path only ever ends in a crash.
static void dev_fault(int sig, siginfo_t *si, void *uc) {
    const emu_alloc *a = dev_overlap(si->si_addr, 1);
    if (!a) return; // not device memory: the ordinary crash
    const char *q = (const char *)si->si_addr, *end = a->ptr + (a->bytes + 255) / 256 * 256;
    char where[64], block[64] = "", msg[512];
    if (q >= end)
        snprintf(where, sizeof where, "%zu bytes past the end (guard page)",
                 (size_t)(q - (a->ptr + a->bytes)));
    else if (q < a->ptr)
        snprintf(where, sizeof where, "%zu bytes before the start", (size_t)(a->ptr - q));
    else
        snprintf(where, sizeof where, "byte %zu", (size_t)(q - a->ptr));
    if (S.in_kernel)
        snprintf(block, sizeof block, ", block (%u,%u,%u), thread %u", blockIdx.x, blockIdx.y,
                 blockIdx.z, S.cur);
    const char *who = S.in_kernel ? "a kernel" : dev_depth ? "device work" : "host code";
    int n =
        snprintf(msg, sizeof msg,
                 "cuda-emu: %s touched %p, %s of the cudaMalloc allocation %p of %zu bytes%s%s\n",
                 who, (void *)q, where, (void *)a->ptr, a->bytes, block,
                 dev_depth ? "" : " (host code cannot reach device memory: cudaMemcpy it)");
    n = n < 0 ? 0 : n < (int)sizeof msg ? n : (int)sizeof msg - 1;
    ssize_t w = write(2, msg, (size_t)n);
    (void)w;
}

static const char *const kind_name[] = {"HostToHost", "HostToDevice", "DeviceToHost",
                                        "DeviceToDevice", "Default"};

// Whether [p, p + n), n >= 1, lies inside one allocation (device) or outside every one (host);
// if not, says why on stderr (DS_CUDA_CHECK then names the call and its line). kind < 0: none.
static bool span_ok(const char *call, int kind, const char *what, const void *p, size_t n,
                    bool device) {
    const emu_alloc *a = dev_overlap(p, device ? 1 : n);
    const char *c = (const char *)p;
    if (device && a && c >= a->ptr && n <= a->bytes - (size_t)(c - a->ptr)) return true;
    if (!device && p && !a) return true;
    fprintf(stderr, "cuda-emu: %s", call);
    if (kind >= 0) fprintf(stderr, " (%s)", kind_name[kind]);
    fprintf(stderr, ": %s %p + %zu bytes ", what, p, n);
    if (!device && !p)
        fprintf(stderr, "is NULL\n");
    else if (!device)
        fprintf(stderr, "is device memory (allocation %p of %zu bytes), not host memory\n",
                (void *)a->ptr, a->bytes);
    else if (!a)
        fprintf(stderr, "is not device memory (no cudaMalloc allocation holds it)\n");
    else
        fprintf(stderr, "is not inside the cudaMalloc allocation %p of %zu bytes\n", (void *)a->ptr,
                a->bytes);
    return false;
}

// A copy's direction against the allocations: each side of the kind (inferred for Default
// from where the pointer lies) must be wholly host or wholly inside one allocation.
static cudaError_t copy_check(const char *call, void *dst, size_t dst_n, const void *src,
                              size_t src_n, cudaMemcpyKind kind) {
    if ((unsigned)kind > cudaMemcpyDefault) {
        fprintf(stderr, "cuda-emu: %s: no cudaMemcpyKind %d\n", call, (int)kind);
        return cudaErrorInvalidValue;
    }
    bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (kind == cudaMemcpyDefault) {
        dst_dev = dev_overlap(dst, 1) != NULL;
        src_dev = dev_overlap(src, 1) != NULL;
    }
    if (!span_ok(call, kind, "dst", dst, dst_n, dst_dev) ||
        !span_ok(call, kind, "src", src, src_n, src_dev))
        return cudaErrorInvalidValue;
    return cudaSuccess;
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
    dev_scope open;
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
    case cudaErrorInvalidPitchValue:
        return "cudaErrorInvalidPitchValue";
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
        return "invalid argument (emulator: e.g. more than 48 KiB of dynamic shared memory, or a "
               "copy or memset outside the cudaMalloc allocations or against its kind)";
    case cudaErrorMemoryAllocation:
        return "out of memory";
    case cudaErrorInvalidConfiguration:
        return "invalid configuration argument (emulator: block of 1..1024 threads, grid "
               "within 2^31-1 x 65535 x 65535)";
    case cudaErrorInvalidPitchValue:
        return "invalid pitch argument (a 2D copy's width exceeds a pitch)";
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
// that reads what nobody wrote shows it. Zero bytes gives NULL, as the runtime does.
extern "C" cudaError_t cudaMalloc(void **ptr, size_t bytes) {
    if (!ptr) return cudaErrorInvalidValue;
    *ptr = NULL;
    if (!bytes) return cudaSuccess;
    if (!page_bytes) {
        page_bytes = (size_t)sysconf(_SC_PAGESIZE);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = dev_fault;
        sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
        sigaction(SIGSEGV, &sa, NULL);
    }
    if (bytes > SIZE_MAX / 2) return cudaErrorMemoryAllocation;
    const size_t rounded = (bytes + 255) / 256 * 256;
    const size_t span = (rounded + page_bytes - 1) / page_bytes * page_bytes;
    void *m = mmap(NULL, span + page_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return cudaErrorMemoryAllocation;
    emu_alloc a = {(char *)m, span, (char *)m + span - rounded, bytes};
    if (mprotect(m, span, PROT_READ | PROT_WRITE) != 0) {
        munmap(m, span + page_bytes);
        return cudaErrorMemoryAllocation;
    }
    memset(a.ptr, 0xff, rounded);
    if (!dev_depth) mprotect(m, span, PROT_NONE);
    dev.emplace((uintptr_t)m, a);
    *ptr = a.ptr;
    return cudaSuccess;
}

extern "C" cudaError_t cudaFree(void *ptr) {
    if (!ptr) return cudaSuccess;
    const emu_alloc *a = dev_overlap(ptr, 1);
    if (!a || a->ptr != ptr) {
        fprintf(stderr, "cuda-emu: cudaFree(%p): not a pointer cudaMalloc returned\n", ptr);
        return cudaErrorInvalidValue;
    }
    munmap(a->map, a->span + page_bytes);
    dev.erase((uintptr_t)a->map);
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    if (!bytes) return cudaSuccess;
    cudaError_t e = copy_check("cudaMemcpy", dst, bytes, src, bytes, kind);
    if (e != cudaSuccess) return e;
    dev_scope open;
    memmove(dst, src, bytes);
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes,
                                       cudaMemcpyKind kind, cudaStream_t stream) {
    return cudaMemcpy(dst, src, bytes, kind);
}

// height rows of width bytes, dpitch and spitch bytes apart.
extern "C" cudaError_t cudaMemcpy2D(void *dst, size_t dpitch, const void *src, size_t spitch,
                                    size_t width, size_t height, cudaMemcpyKind kind) {
    if (width > dpitch || width > spitch) {
        fprintf(stderr,
                "cuda-emu: cudaMemcpy2D: width %zu bytes exceeds dpitch %zu or spitch %zu\n", width,
                dpitch, spitch);
        return cudaErrorInvalidPitchValue;
    }
    if (!width || !height) return cudaSuccess;
    // Each side spans (height - 1) pitches and one row.
    if (height - 1 > (SIZE_MAX - width) / dpitch || height - 1 > (SIZE_MAX - width) / spitch)
        return cudaErrorInvalidValue;
    cudaError_t e = copy_check("cudaMemcpy2D", dst, (height - 1) * dpitch + width, src,
                               (height - 1) * spitch + width, kind);
    if (e != cudaSuccess) return e;
    dev_scope open;
    for (size_t r = 0; r < height; r++)
        memmove((char *)dst + r * dpitch, (const char *)src + r * spitch, width);
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch,
                                         size_t width, size_t height, cudaMemcpyKind kind,
                                         cudaStream_t stream) {
    return cudaMemcpy2D(dst, dpitch, src, spitch, width, height, kind);
}

extern "C" cudaError_t cudaMemset(void *ptr, int value, size_t bytes) {
    if (!bytes) return cudaSuccess;
    if (!span_ok("cudaMemset", -1, "ptr", ptr, bytes, true)) return cudaErrorInvalidValue;
    dev_scope open;
    memset(ptr, value, bytes);
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
    dev_scope open;
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

extern "C" cublasStatus_t cublasGemmStridedBatchedEx(
    cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
    const void *alpha, const void *A, cudaDataType Atype, int lda, long long sA, const void *B,
    cudaDataType Btype, int ldb, long long sB, const void *beta, void *C, cudaDataType Ctype,
    int ldc, long long sC, int count, cublasComputeType_t compute, cublasGemmAlgo_t algo) {
    if (count < 0) return CUBLAS_STATUS_INVALID_VALUE;
    // f32 only (cublasGemmEx refuses the rest before any pointer is used)
    for (int i = 0; i < count; i++) {
        cublasStatus_t st = cublasGemmEx(handle, ta, tb, m, n, k, alpha, (const float *)A + i * sA,
                                         Atype, lda, (const float *)B + i * sB, Btype, ldb, beta,
                                         (float *)C + i * sC, Ctype, ldc, compute, algo);
        if (st != CUBLAS_STATUS_SUCCESS) return st;
    }
    return CUBLAS_STATUS_SUCCESS;
}
