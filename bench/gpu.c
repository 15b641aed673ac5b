// gpu.c: bench_gpu prints what docseek's CUDA ops achieve beside the device's
// own ceilings measured in the same run: a device-to-device copy (bandwidth)
// and a large cuBLAS bf16 GEMM with f32 sums (FLOP/s). Each op is timed as the
// best of repeated calls lasting at least --seconds, synchronised through the
// ops table, so a figure includes launch overhead as a caller would see it.
// FLOPs count multiply-adds as 2; attention counts only the (query, key) pairs
// its mask lets through. The inference figures (prefill, decode steps, pages/s at
// batch 64) time the model's side of extraction on random one-page documents: the
// decoder's constraints, which run on the host, and ingest are not in them. Without a
// GPU it says so and exits 0. Not a test.
#include "core/error.h"
#include "core/rng.h"
#include "core/timer.h"
#include "kernels/ops.h"
#include "fusion/infer.h"
#include "fusion/model.h"
#include "text/lm.h"
#include "train/trainer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DS_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_profiler_api.h>
#include <cuda_runtime.h>

int ds_cuda_device_name(int index, char *buf, size_t size);

static double min_seconds = 0.5;
// --profile: time one call between cudaProfilerStart and Stop (after a warm-up call), for
// `ncu --profile-from-start off` to see exactly one step's kernels.
static int profile_one;

typedef void (*bench_fn)(void *env);

// Best seconds per call (the stream drained after each) over at least min_seconds.
static double best_time(ds_ctx *g, bench_fn fn, void *env) {
    fn(env);
    g->ops->sync(g);
    if (profile_one) {
        double t0 = ds_time_s();
        cudaProfilerStart();
        fn(env);
        g->ops->sync(g);
        cudaProfilerStop();
        return ds_time_s() - t0;
    }
    double best = 1e30, start = ds_time_s();
    for (int reps = 0; reps < 3 || ds_time_s() - start < min_seconds; reps++) {
        double t0 = ds_time_s();
        fn(env);
        g->ops->sync(g);
        double dt = ds_time_s() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

static float *dev_randn(ds_ctx *g, int64_t n, uint64_t seed, float std) {
    float *h = malloc(sizeof(float) * (size_t)n), *d = g->ops->alloc(g, sizeof(float) * (size_t)n);
    if (!h || !d) {
        fprintf(stderr, "bench_gpu: out of memory for %lld floats\n", (long long)n);
        exit(1);
    }
    ds_rng r;
    ds_rng_seed(&r, seed);
    ds_rng_fill_normal(&r, h, n, 0, std);
    g->ops->upload(g, d, h, sizeof(float) * (size_t)n);
    free(h);
    return d;
}

// ---- the ceilings, straight through the CUDA runtime and cuBLAS

static double copy_gbs(void) {
    size_t bytes = (size_t)1 << 30;
    void *a = NULL, *b = NULL;
    if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) return 0;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice); // warm-up
    float best = 1e30f;
    for (int i = 0; i < 10; i++) {
        float ms = 0;
        cudaEventRecord(e0, 0);
        cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice);
        cudaEventRecord(e1, 0);
        cudaEventSynchronize(e1);
        cudaEventElapsedTime(&ms, e0, e1);
        if (ms < best) best = ms;
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFree(a);
    cudaFree(b);
    return 2.0 * (double)bytes / (best * 1e-3) / 1e9; // read and written
}

static double gemm_bf16_tflops(int n) {
    cublasHandle_t h;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) return 0;
    void *A = NULL, *B = NULL, *C = NULL;
    size_t nn = (size_t)n * n;
    if (cudaMalloc(&A, nn * 2) != cudaSuccess || cudaMalloc(&B, nn * 2) != cudaSuccess ||
        cudaMalloc(&C, nn * 4) != cudaSuccess)
        return 0;
    cudaMemset(A, 0, nn * 2);
    cudaMemset(B, 0, nn * 2);
    const float one = 1, zero = 0;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    float best = 1e30f;
    for (int i = 0; i < 11; i++) {
        float ms = 0;
        cudaEventRecord(e0, 0);
        cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &one, A, CUDA_R_16BF, n, B, CUDA_R_16BF,
                     n, &zero, C, CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        cudaEventRecord(e1, 0);
        cudaEventSynchronize(e1);
        cudaEventElapsedTime(&ms, e0, e1);
        if (i > 0 && ms < best) best = ms; // the first call picks the algorithm
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFree(A);
    cudaFree(B);
    cudaFree(C);
    cublasDestroy(h);
    return 2.0 * n * (double)n * n / (best * 1e-3) / 1e12;
}

// ---- docseek's ops

typedef struct {
    ds_ctx *g;
    float *out, *inp, *w, *dout, *dinp, *dw;
    int M, K, N;
} mm_env;

static void run_mm_fwd(void *p) {
    mm_env *e = p;
    e->g->ops->matmul_forward(e->g, e->out, e->inp, e->w, NULL, e->M, e->K, e->N);
}

static void run_mm_bwd(void *p) {
    mm_env *e = p;
    e->g->ops->matmul_backward(e->g, e->dinp, e->dw, NULL, e->dout, e->inp, e->w, e->M, e->K, e->N);
}

static void bench_matmul(ds_ctx *g, int M, int K, int N, double ceiling) {
    mm_env e = {g,
                dev_randn(g, (int64_t)M * N, 1, 1),
                dev_randn(g, (int64_t)M * K, 2, 1),
                dev_randn(g, (int64_t)N * K, 3, 0.05f),
                dev_randn(g, (int64_t)M * N, 4, 1),
                dev_randn(g, (int64_t)M * K, 5, 1),
                dev_randn(g, (int64_t)N * K, 6, 1),
                M,
                K,
                N};
    double f = best_time(g, run_mm_fwd, &e), b = best_time(g, run_mm_bwd, &e);
    double flop = 2.0 * M * (double)K * N;
    printf("matmul %5d x %5d x %5d   fwd %8.1f TFLOP/s (%4.0f%%)   bwd %8.1f TFLOP/s (%4.0f%%)\n",
           M, K, N, flop / f / 1e12, 100 * flop / f / 1e12 / ceiling, 2 * flop / b / 1e12,
           100 * 2 * flop / b / 1e12 / ceiling);
    float *bufs[] = {e.out, e.inp, e.w, e.dout, e.dinp, e.dw};
    for (int i = 0; i < 6; i++) g->ops->free(g, bufs[i]);
}

typedef struct {
    ds_ctx *g;
    float *out, *att, *q, *k, *v, *dout, *dq, *dk, *dv;
    int B, T, nh, nkv, hd;
    ds_attn_mask mask;
} attn_env;

static void run_attn_fwd(void *p) {
    attn_env *e = p;
    e->g->ops->attention_forward(e->g, e->out, e->att, e->q, e->k, e->v, e->B, e->T, e->nh, e->nkv,
                                 e->hd, e->mask);
}

static void run_attn_bwd(void *p) {
    attn_env *e = p;
    e->g->ops->attention_backward(e->g, e->dq, e->dk, e->dv, e->dout, e->att, e->q, e->k, e->v,
                                  e->B, e->T, e->nh, e->nkv, e->hd, e->mask);
}

static void bench_attention(ds_ctx *g, int B, int T, int nh, int nkv, int hd, double ceiling) {
    int64_t nq = (int64_t)B * T * nh * hd, nk = (int64_t)B * T * nkv * hd;
    attn_env e = {g,
                  dev_randn(g, nq, 1, 1),
                  dev_randn(g, (int64_t)B * nh * T * T, 2, 0),
                  dev_randn(g, nq, 3, 1),
                  dev_randn(g, nk, 4, 1),
                  dev_randn(g, nk, 5, 1),
                  dev_randn(g, nq, 6, 1),
                  dev_randn(g, nq, 7, 0),
                  dev_randn(g, nk, 8, 0),
                  dev_randn(g, nk, 9, 0),
                  B,
                  T,
                  nh,
                  nkv,
                  hd,
                  {1, 0, 0}};
    double f = best_time(g, run_attn_fwd, &e), b = best_time(g, run_attn_bwd, &e);
    double pairs = (double)B * nh * T * (T + 1) / 2; // causal
    double flop = 4.0 * pairs * hd;                  // q.k and att.v
    printf("attention B%d T%d heads %d/%d hd %d causal   fwd %6.1f TFLOP/s (%4.1f%%)   bwd %6.1f "
           "TFLOP/s\n",
           B, T, nh, nkv, hd, flop / f / 1e12, 100 * flop / f / 1e12 / ceiling,
           2 * flop / b / 1e12);
    float *bufs[] = {e.out, e.att, e.q, e.k, e.v, e.dout, e.dq, e.dk, e.dv};
    for (int i = 0; i < 9; i++) g->ops->free(g, bufs[i]);
}

typedef struct {
    ds_ctx *g;
    float *out, *rstd, *inp, *w, *m, *v, *grad;
    int T, C;
    int64_t n;
    ds_adamw_cfg cfg;
} bw_env;

static void run_rmsnorm(void *p) {
    bw_env *e = p;
    e->g->ops->rmsnorm_forward(e->g, e->out, e->rstd, e->inp, e->w, e->T, e->C, 1e-6f);
}

static void run_adamw(void *p) {
    bw_env *e = p;
    e->cfg.step++;
    e->g->ops->adamw_update(e->g, e->inp, e->grad, e->m, e->v, e->n, &e->cfg);
}

static void bench_bandwidth(ds_ctx *g, double copy) {
    int T = 16384, C = 1024;
    int64_t n = (int64_t)T * C;
    bw_env e = {g,
                dev_randn(g, n, 1, 0),
                dev_randn(g, T, 2, 0),
                dev_randn(g, n, 3, 1),
                dev_randn(g, C, 4, 1),
                dev_randn(g, n, 5, 0),
                dev_randn(g, n, 6, 0),
                dev_randn(g, n, 7, 1),
                T,
                C,
                n,
                {1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f, 0}};
    double r = best_time(g, run_rmsnorm, &e), a = best_time(g, run_adamw, &e);
    double rb = 2.0 * n * 4, ab = 7.0 * n * 4; // rmsnorm reads x, writes y; adamw 4 in, 3 out
    printf("rmsnorm %d x %d   %8.0f GB/s (%4.0f%% of the copy)\n", T, C, rb / r / 1e9,
           100 * rb / r / 1e9 / copy);
    printf("adamw %lld params  %8.0f GB/s (%4.0f%% of the copy)\n", (long long)n, ab / a / 1e9,
           100 * ab / a / 1e9 / copy);
    float *bufs[] = {e.out, e.rstd, e.inp, e.w, e.m, e.v, e.grad};
    for (int i = 0; i < 7; i++) g->ops->free(g, bufs[i]);
}

// ---- a training step of the language model's layer stack (text/lm.c, moe.c): forward,
// backward and AdamW over its parameters, everything on the device: the default
// configuration (configs/default.json) four times as wide and twice as deep, 8
// sequences of 1,024 tokens, each a 768-token bidirectional prefix and a causal answer.

typedef struct {
    ds_ctx *g;
    ds_model_cfg cfg;
    ds_lm_weights w, gw;
    float *params, *grads, *m, *v, *x0, *dout, *dx0, *bias;
    int64_t n_params;
    ds_seq_layout lay;
    ds_arena arena, host;
    ds_adamw_cfg opt;
    int failed;
} stack_env;

static void run_stack_step(void *p) {
    stack_env *e = p;
    ds_ctx *g = e->g;
    int N = e->lay.seq_off[e->lay.n_seq], C = e->cfg.dim;
    g->ops->zero(g, e->grads, sizeof(float) * (size_t)e->n_params);
    g->ops->zero(g, e->dx0, sizeof(float) * (size_t)N * C);
    ds_arena_reset(&e->arena);
    ds_lm_acts a;
    e->failed |= ds_lm_forward(g, &e->cfg, &e->w, e->bias, e->x0, &e->lay, &a, &e->arena) != 0;
    e->failed |=
        ds_lm_backward(g, &e->cfg, &e->w, &e->gw, &e->lay, &a, e->dout, e->dx0, &e->arena) != 0;
    e->opt.step++;
    g->ops->adamw_update(g, e->params, e->grads, e->m, e->v, e->n_params, &e->opt);
}

// Model FLOPs of one training step (3x the forward: the backward is two GEMMs per
// forward GEMM): 2 per weight a token uses (routed experts: topk of them), and 4 hd per
// head for each (query, key) pair the mask lets through (scores and weighted values).
static double stack_flops(const ds_model_cfg *c, const int32_t *seq_off, const int32_t *n_prefix,
                          int n_seq) {
    double C = c->dim, qkv = (double)(c->n_heads + 2 * c->n_kv_heads) * c->head_dim;
    double per_tok = 0, pairs = 0;
    for (int l = 0; l < c->n_layers; l++) {
        per_tok += C * qkv + (double)c->n_heads * c->head_dim * C;
        if (l < c->n_dense_layers)
            per_tok += 3.0 * C * c->dense_hidden;
        else
            per_tok += C * c->n_experts + 3.0 * C * c->expert_hidden * (c->topk + c->n_shared);
    }
    for (int b = 0; b < n_seq; b++) {
        int T = seq_off[b + 1] - seq_off[b], P = n_prefix[b];
        for (int i = 0; i < T; i++) { // keys j visible from query i
            int lo = i - c->window + 1 > 0 ? i - c->window + 1 : 0;
            int hi = i < P ? (P - 1 < i + c->window - 1 ? P - 1 : i + c->window - 1) : i;
            pairs += hi - lo + 1;
        }
    }
    double fwd =
        2.0 * per_tok * seq_off[n_seq] + 4.0 * c->head_dim * c->n_heads * pairs * c->n_layers;
    return 3.0 * fwd;
}

// The default configuration (configs/default.json) four times as wide and twice as deep in
// the language model, twice as wide in the encoder: a model a GPU is worth using for.
static void gpu_sized(ds_model_cfg *c) {
    ds_model_cfg_default(c);
    c->dim = 1024, c->n_layers = 8, c->n_dense_layers = 1;
    c->n_heads = 16, c->n_kv_heads = 4, c->head_dim = 64, c->window = 1024, c->max_seq = 2048;
    c->dense_hidden = 2048, c->n_experts = 16, c->n_groups = 4, c->topk_groups = 2, c->topk = 2;
    c->expert_hidden = 512, c->n_shared = 1, c->router_sigmoid = 1, c->router_normalize = 1;
    c->balance_weight = 1e-4f, c->vocab = 8192;
    c->img_size = 512, c->patch = 32, c->vit_dim = 384, c->vit_layers = 4, c->vit_heads = 6;
    c->vit_mlp = 1536, c->max_pages = 4, c->copy_mask = 0, c->copy_pointer_gen = 0;
}

static void bench_stack(ds_ctx *g, double ceiling) {
    stack_env e = {.g = g};
    ds_model_cfg *c = &e.cfg;
    gpu_sized(c);
    enum { B = 8, T = 1024, PREFIX = 768 };
    static int32_t seq_off[B + 1], n_prefix[B], pos[B * T];
    for (int b = 0; b <= B; b++) seq_off[b] = b * T;
    for (int b = 0; b < B; b++) n_prefix[b] = PREFIX;
    for (int t = 0; t < B * T; t++) pos[t] = t % T;
    int N = B * T, C = c->dim;
    ds_carver walk = {NULL, 0, NULL, 0};
    ds_lm_layout(c, &e.w, &walk);
    e.n_params = walk.offset;
    e.params = dev_randn(g, e.n_params, 11, 0.02f);
    e.grads = dev_randn(g, e.n_params, 12, 0);
    e.m = dev_randn(g, e.n_params, 13, 0);
    e.v = dev_randn(g, e.n_params, 14, 0);
    ds_carver cw = {e.params, 0, NULL, 0}, cg = {e.grads, 0, NULL, 0};
    ds_lm_layout(c, &e.w, &cw);
    ds_lm_layout(c, &e.gw, &cg);
    e.x0 = dev_randn(g, (int64_t)N * C, 15, 1);
    e.dout = dev_randn(g, (int64_t)N * C, 16, 1e-3f);
    e.dx0 = dev_randn(g, (int64_t)N * C, 17, 0);
    e.bias = dev_randn(g, (int64_t)c->n_layers * c->n_experts, 18, 0);
    int32_t *pos_d = g->ops->alloc(g, sizeof pos);
    g->ops->upload(g, pos_d, pos, sizeof pos);
    e.lay = (ds_seq_layout){B, seq_off, n_prefix, pos_d};
    ds_ctx_arena_init(g, &e.arena, &e.host, 0, 0);
    e.opt = (ds_adamw_cfg){1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f, 0};
    double t = best_time(g, run_stack_step, &e), flops = stack_flops(c, seq_off, n_prefix, B);
    if (e.failed) {
        printf("lm stack step: FAILED (%s)\n", ds_errmsg());
    } else {
        printf("lm stack training step (dim %d, %d layers, %d experts top-%d, %.0f M params; %d "
               "tokens): %.1f ms, %.0f tokens/s, %.1f TFLOP/s of model FLOPs, MFU %.1f%% of the "
               "bf16 GEMM ceiling; activation arena %.2f GiB\n",
               C, c->n_layers, c->n_experts, c->topk, e.n_params / 1e6, N, t * 1e3, N / t,
               flops / t / 1e12, 100 * flops / t / 1e12 / ceiling,
               e.arena.bytes_reserved / (double)(1u << 30));
    }
    ds_arena_free(&e.arena);
    ds_arena_free(&e.host);
    float *bufs[] = {e.params, e.grads, e.m, e.v, e.x0, e.dout, e.dx0, e.bias};
    for (int i = 0; i < 8; i++) g->ops->free(g, bufs[i]);
    g->ops->free(g, pos_d);
}

// ---- a whole training step as docseek train takes it (train/trainer.c: the encoder,
// fusion, the language model, the vocabulary and pointer heads, clipping, AdamW) on 8
// random one-page documents of about 1,000 tokens each.

typedef struct {
    ds_trainer *t;
    const ds_batch *b;
    int failed;
} train_env;

static void run_train_step(void *p) {
    train_env *e = p;
    ds_step_stats st;
    e->failed |= ds_trainer_step(e->t, e->b, 1e-4f, &st, NULL) != 0;
}

// Model FLOPs of a training step of the whole model (3x the forward): the LM stack as
// stack_flops counts it, the vocabulary head over the rows with a target, and the encoder
// (2 per weight per patch, 4 D per (query, key) pair of patches of a page).
static double train_flops(const ds_model_cfg *c, const ds_batch *b) {
    double f = stack_flops(c, b->seq_off, b->n_prefix, b->n_seq);
    int rows = 0;
    for (int t = 0; t < b->N; t++) rows += b->target[t] >= 0;
    double D = c->vit_dim, T = (double)(c->img_size / c->patch) * (c->img_size / c->patch);
    double per_patch =
        3.0 * c->patch * c->patch * D + c->vit_layers * (4.0 * D * D + 2.0 * D * c->vit_mlp);
    double vit = 2.0 * per_patch * T * b->P + 4.0 * D * T * T * b->P * c->vit_layers;
    return f + 3.0 * (2.0 * c->dim * c->vocab * rows + vit);
}

static void bench_train(ds_ctx *g, double ceiling) {
    ds_model_cfg c;
    gpu_sized(&c);
    enum { B = 8 };
    ds_model *m = NULL;
    ds_trainer *t = NULL;
    ds_seq seqs[B], *ptrs[B];
    ds_batch b;
    memset(seqs, 0, sizeof seqs);
    memset(&b, 0, sizeof b);
    ds_rng r;
    ds_rng_seed(&r, 7);
    int rc = ds_model_init(&c, NULL, 1, &m);
    for (int i = 0; i < B && !rc; i++) {
        rc = ds_seq_random(&c, &r, 1, 600, &seqs[i]);
        ptrs[i] = &seqs[i];
    }
    if (!rc) rc = ds_batch_pack(&c, ptrs, B, &b);
    if (!rc) rc = ds_trainer_new(m, g, NULL, &t);
    train_env e = {t, &b, rc != 0};
    double dt = rc ? 0 : best_time(g, run_train_step, &e), flops = rc ? 0 : train_flops(&c, &b);
    if (e.failed) {
        printf("whole training step: FAILED (%s)\n", ds_errmsg());
    } else {
        printf("whole training step (the LM stack's config, encoder %d x %d, %.0f M params; %d "
               "tokens, %d pages): %.1f ms, %.0f tokens/s, %.1f TFLOP/s of model FLOPs, MFU "
               "%.1f%% of the bf16 GEMM ceiling\n",
               c.vit_dim, c.vit_layers, m->table.total / 1e6, b.N, b.P, dt * 1e3, b.N / dt,
               flops / dt / 1e12, 100 * flops / dt / 1e12 / ceiling);
    }
    ds_trainer_free(t);
    ds_batch_free(&b);
    for (int i = 0; i < B; i++) ds_seq_free(&seqs[i]);
    ds_model_free(m);
}

// The inference path at the GPU-sized config: B random one-page documents prefilled (16
// per call, as the decoder's continuous batch admits them) into a KV cache in device
// memory, then ANS decode steps for all of them together, each step's logits downloaded
// as the decoder reads them; and the same decode steps at batch 1. Pages/s counts a page
// as its prefill plus ANS answer tokens at batch B.
static void bench_infer(ds_ctx *g) {
    ds_model_cfg c;
    gpu_sized(&c);
    enum { B = 64, ANS = 48 };
    ds_model *m = NULL, *view = NULL;
    ds_kv_cache *cache = NULL;
    ds_seq seqs[B];
    ds_gen_state st[B], *sp[B];
    memset(seqs, 0, sizeof seqs);
    memset(st, 0, sizeof st);
    ds_arena arena, host;
    ds_ctx_arena_init(g, &arena, &host, 0, 0);
    float *hid = malloc(sizeof(float) * 16 * (size_t)c.max_seq * c.dim);
    float *logits = malloc(sizeof(float) * B * (size_t)c.vocab);
    int32_t ids[B];
    ds_rng r;
    ds_rng_seed(&r, 11);
    int rc = !hid || !logits ? DS_E_NOMEM : ds_model_init(&c, NULL, 1, &m);
    if (!rc) rc = ds_model_view_new(m, g, &view);
    if (!rc) rc = ds_kv_cache_new_on(g, &c, B * (c.max_seq / 16 + 2), 16, 0, &cache);
    int n_tok = 0;
    for (int i = 0; i < B && !rc; i++) {
        rc = ds_seq_random(&c, &r, 1, 600, &seqs[i]);
        seqs[i].n = seqs[i].n_prefix; // the prefix: what extraction prefills
        n_tok += seqs[i].n;
        sp[i] = &st[i];
        ids[i] = DS_TOK_BYTE0 + i;
    }
    double t_pre = 0, t_dec = 0, t_one = 0;
    for (int rep = 0; rep < 2 && !rc; rep++) { // the second, warm, run counts
        for (int i = 0; i < B; i++) ds_gen_state_release(cache, &st[i]);
        g->ops->sync(g);
        double t0 = ds_time_s();
        for (int i = 0; i < B && !rc; i += 16) {
            ds_seq *ptrs[16];
            for (int k = 0; k < 16; k++) ptrs[k] = &seqs[i + k];
            rc = ds_infer_prefill(view, g, cache, sp + i, ptrs, 16, hid, &arena);
            ds_arena_reset(&arena);
        }
        double t1 = ds_time_s();
        for (int s = 0; s < ANS && !rc; s++) {
            rc = ds_infer_step(view, g, cache, sp, B, ids, NULL, NULL, hid, &arena);
            if (!rc) ds_infer_logits(view, g, hid, B, logits);
            ds_arena_reset(&arena);
        }
        double t2 = ds_time_s();
        for (int s = 0; s < ANS && !rc; s++) {
            rc = ds_infer_step(view, g, cache, sp, 1, ids, NULL, NULL, hid, &arena);
            if (!rc) ds_infer_logits(view, g, hid, 1, logits);
            ds_arena_reset(&arena);
        }
        t_pre = t1 - t0, t_dec = t2 - t1, t_one = ds_time_s() - t2;
    }
    if (rc) {
        printf("inference: FAILED (%s)\n", ds_errmsg());
    } else {
        printf("inference (the LM stack's config, f32 KV cache on the GPU; %d one-page documents, "
               "%d prefix tokens):\n",
               B, n_tok);
        printf("  prefill %.0f tokens/s (16 documents per call)\n", n_tok / t_pre);
        printf("  decode  %.0f tokens/s at batch %d (%.2f ms per step, logits downloaded), "
               "%.0f tokens/s at batch 1 (%.2f ms per step)\n",
               B * ANS / t_dec, B, t_dec / ANS * 1e3, ANS / t_one, t_one / ANS * 1e3);
        printf("  extraction's model side: %.1f pages/s at batch %d (prefill + %d answer tokens; "
               "constraints and ingest not included)\n",
               B / (t_pre + t_dec), B, ANS);
    }
    for (int i = 0; i < B; i++) {
        ds_gen_state_release(cache, &st[i]);
        ds_seq_free(&seqs[i]);
    }
    ds_kv_cache_free(cache);
    ds_model_view_free(view, g);
    ds_model_free(m);
    ds_arena_free(&arena);
    ds_arena_free(&host);
    free(hid);
    free(logits);
}

// --only a,b,...: the named sections alone (ceilings are always measured).
static const char *only;

static int wanted(const char *section) {
    if (!only) return 1;
    size_t n = strlen(section);
    for (const char *p = only; (p = strstr(p, section)) != NULL; p += n)
        if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    return 0;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            min_seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--profile") == 0) {
            profile_one = 1;
        } else {
            fprintf(stderr, "usage: bench_gpu [--seconds S] [--only matmul,attention,bandwidth,"
                            "stack,train,infer] [--profile]\n");
            return 2;
        }
    }
    ds_ctx *g = ds_ctx_new(DS_BACKEND_CUDA, 1);
    if (!g) {
        printf("bench_gpu: no GPU here (%s)\n", ds_errmsg());
        return 0;
    }
    char name[256];
    if (ds_cuda_device_name(0, name, sizeof name) != 0) snprintf(name, sizeof name, "?");
    double copy = copy_gbs(), gemm = gemm_bf16_tflops(8192);
    printf("device: %s\n", name);
    printf("ceilings: device-to-device copy %.0f GB/s; cuBLAS bf16 GEMM 8192^3 %.1f TFLOP/s\n",
           copy, gemm);
    printf("docseek's GEMMs: bf16 tensor cores, f32 buffers and sums (COMPUTE_32F_FAST_16BF)\n");
    if (wanted("matmul")) {
        bench_matmul(g, 8192, 8192, 8192, gemm);
        bench_matmul(g, 16384, 1024, 4096, gemm);
        bench_matmul(g, 16384, 4096, 1024, gemm);
    }
    if (wanted("attention")) bench_attention(g, 8, 1024, 8, 2, 64, gemm);
    if (wanted("bandwidth")) bench_bandwidth(g, copy);
    if (wanted("stack")) bench_stack(g, gemm);
    if (wanted("train")) bench_train(g, gemm);
    if (wanted("infer")) bench_infer(g);
    ds_ctx_free(g);
    return 0;
}

#else

int main(void) {
    printf("bench_gpu: built without CUDA (nvcc was not found at configure time)\n");
    return 0;
}

#endif
