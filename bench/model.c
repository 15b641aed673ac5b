// model.c (bench_model): speed and memory of the whole model, printed beside
// the same-run OpenBLAS sgemm ceiling: training tokens/s (forward + backward +
// AdamW) and the GEMM GFLOP/s it achieves, prefill tokens/s, decode tokens/s
// at batch 1 and 16, peak memory; then the fixed reference shape (width 256,
// 6 MoE layers, 8 heads, 16 experts x 256 top-2 + 1 shared, vocab 4096) with 1
// and 2 threads, decoding with f32 or bf16 weights and an fp32 or fp16 KV
// cache, so the engine can be compared with others on identical work. Figures
// only; nothing here is a test.
//   bench_model [--quick] [--threads N] [--reference]
#include "core/pool.h"
#include "core/rng.h"
#include "core/timer.h"
#include "fusion/infer.h"
#include "fusion/model.h"
#include "train/trainer.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int quick;

// ---- GEMM FLOP counting: a copy of the CPU table whose GEMMs count their work
static ds_ops counting;
static const ds_ops *base_ops;
static double gemm_flops;

static void c_mm_fwd(ds_ctx *ctx, float *out, const float *inp, const float *w, const float *b,
                     int M, int K, int N) {
    gemm_flops += 2.0 * M * K * N;
    base_ops->matmul_forward(ctx, out, inp, w, b, M, K, N);
}
static void c_mm_bwd(ds_ctx *ctx, float *dinp, float *dw, float *db, const float *dout,
                     const float *inp, const float *w, int M, int K, int N) {
    gemm_flops += 2.0 * M * K * N * ((dinp != NULL) + (dw != NULL));
    base_ops->matmul_backward(ctx, dinp, dw, db, dout, inp, w, M, K, N);
}
static void c_mg_fwd(ds_ctx *ctx, float *out, const float *inp, const float *w, const int32_t *off,
                     int E, int K, int N) {
    gemm_flops += 2.0 * off[E] * K * N;
    base_ops->matmul_grouped_forward(ctx, out, inp, w, off, E, K, N);
}
static void c_mg_bwd(ds_ctx *ctx, float *dinp, float *dw, const float *dout, const float *inp,
                     const float *w, const int32_t *off, int E, int K, int N) {
    gemm_flops += 2.0 * off[E] * K * N * ((dinp != NULL) + (dw != NULL));
    base_ops->matmul_grouped_backward(ctx, dinp, dw, dout, inp, w, off, E, K, N);
}

static double sgemm_ceiling(int threads) {
    int n = 1024;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    ds_rng r;
    ds_rng_seed(&r, 1);
    ds_rng_fill_normal(&r, a, (int64_t)n * n, 0, 1);
    ds_rng_fill_normal(&r, b, (int64_t)n * n, 0, 1);
    openblas_set_num_threads(threads);
    double best = 1e30;
    for (int i = 0; i < (quick ? 3 : 8); i++) {
        double t0 = ds_time_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = ds_time_s() - t0;
        best = dt < best ? dt : best;
    }
    openblas_set_num_threads(1);
    free(a);
    free(b);
    free(c);
    return 2.0 * n * n * n / best * 1e-9;
}

// ---- memory read bandwidth: decoding one token streams every weight it uses once,
// so at batch 1 this, not the GEMM peak, is the ceiling.
typedef struct {
    const float *x;
    int64_t n;
    double sum[64];
} bw_args;

static void bw_task(void *p, int ith, int nth) {
    bw_args *a = p;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    float acc[16] = {0};
    for (int64_t i = lo; i + 16 <= hi; i += 16)
        for (int u = 0; u < 16; u++) acc[u] += a->x[i + u];
    double s = 0;
    for (int u = 0; u < 16; u++) s += acc[u];
    a->sum[ith] = s;
}

static double read_bandwidth(int threads) {
    int64_t n = (int64_t)64 << 20; // 256 MiB: far past the caches
    float *x = malloc(sizeof(float) * n);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(i & 7);
    ds_pool *pool = ds_pool_new(threads);
    bw_args a = {x, n, {0}};
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = ds_time_s();
        ds_pool_run(pool, bw_task, &a);
        best = fmin(best, ds_time_s() - t0);
    }
    ds_pool_free(pool);
    free(x);
    return n * sizeof(float) / best * 1e-9;
}

static double peak_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

// ---- the default configuration

static void bench_default(int threads, double ceiling) {
    ds_model_cfg cfg;
    ds_model_cfg_default(&cfg);
    ds_model *m;
    if (ds_model_init(&cfg, NULL, 1, &m)) {
        fprintf(stderr, "bench_model: cannot make the default model\n");
        exit(1);
    }
    int64_t total, active;
    ds_model_count(m, &total, &active);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
    base_ops = ctx->ops;
    counting = *ctx->ops;
    counting.matmul_forward = c_mm_fwd;
    counting.matmul_backward = c_mm_bwd;
    counting.matmul_grouped_forward = c_mg_fwd;
    counting.matmul_grouped_backward = c_mg_bwd;
    ctx->ops = &counting;
    ds_rng r;
    ds_rng_seed(&r, 2);
    // two documents of one page, ~280 words (~600 tokens with the 64 image tokens)
    enum { NB = 2 };
    ds_seq seqs[NB];
    ds_seq *ptrs[NB];
    for (int i = 0; i < NB; i++) {
        ds_seq_random(&cfg, &r, 1, 280, &seqs[i]);
        ptrs[i] = &seqs[i];
    }
    ds_batch b;
    ds_batch_pack(&cfg, ptrs, NB, &b);
    printf("default config: %.2f M parameters (%.2f M active per token); batch of %d documents, "
           "%d tokens\n",
           total / 1e6, active / 1e6, NB, b.N);
    // as docseek train runs, then with activation recomputation (train --recompute)
    for (int recompute = 0; recompute <= 1; recompute++) {
        ds_trainer_opts o;
        ds_trainer_opts_default(&o);
        o.recompute = recompute;
        ds_trainer *t;
        ds_trainer_new(m, ctx, &o, &t);
        ds_step_stats st;
        double gn;
        ds_trainer_step(t, &b, 1e-4f, &st, &gn); // warm-up
        int steps = quick ? 2 : 4;
        gemm_flops = 0;
        double t0 = ds_time_s();
        for (int i = 0; i < steps; i++) ds_trainer_step(t, &b, 1e-4f, &st, &gn);
        double dt = (ds_time_s() - t0) / steps;
        double gf = gemm_flops / steps / dt * 1e-9;
        printf("  %d thread%s  training%s  %7.0f tokens/s  %6.1f ms/step  GEMMs %.1f GFLOP/step "
               "at %.1f GFLOP/s = %.0f%% of sgemm %.1f; activations %.1f MiB at most\n",
               threads, threads > 1 ? "s" : " ", recompute ? " (--recompute)" : "", b.N / dt,
               dt * 1e3, gemm_flops / steps * 1e-9, gf, 100 * gf / ceiling, ceiling,
               ds_trainer_arena_peak(t) / 1048576.0);
        ds_trainer_free(t);
    }
    // prefill and decode
    ds_kv_cache *cache;
    ds_kv_cache_new(&cfg, 16 * (cfg.max_seq / 16), 16, &cache);
    ds_arena arena;
    ds_arena_init(&arena, 0, 0);
    ds_gen_state gs[16], *gp[16];
    memset(gs, 0, sizeof gs);
    for (int i = 0; i < 16; i++) gp[i] = &gs[i];
    ds_seq pre[NB], *one[16]; // the prefixes (documents); answers are decoded
    for (int i = 0; i < NB; i++) {
        pre[i] = seqs[i];
        pre[i].n = seqs[i].n_prefix;
    }
    for (int i = 0; i < 16; i++) one[i] = &pre[i % NB];
    int reps = quick ? 1 : 3;
    double best = 1e30;
    for (int i = 0; i < reps; i++) {
        double t0 = ds_time_s();
        ds_infer_prefill(m, ctx, cache, gp, one, 1, NULL, &arena);
        best = fmin(best, ds_time_s() - t0);
        ds_gen_state_release(cache, &gs[0]);
        ds_arena_reset(&arena);
    }
    printf("  %d thread%s  prefill   %7.0f tokens/s  (%d tokens: 1 page through the encoder, "
           "then the LM)\n",
           threads, threads > 1 ? "s" : " ", seqs[0].n_prefix / best, seqs[0].n_prefix);
    int batches[2] = {1, 16};
    for (int k = 0; k < 2; k++) {
        int B = batches[k];
        for (int i = 0; i < B; i += 8)
            ds_infer_prefill(m, ctx, cache, gp + i, one + i, B - i < 8 ? B - i : 8, NULL, &arena);
        int32_t ids[16];
        float *hid = malloc(sizeof(float) * 16 * cfg.dim);
        float *lg = malloc(sizeof(float) * 16 * cfg.vocab);
        int n_steps = quick ? 8 : 32;
        double t0 = ds_time_s();
        for (int s = 0; s < n_steps; s++) {
            for (int i = 0; i < B; i++) ids[i] = DS_TOK_BYTE0 + (int)ds_rng_below(&r, 200);
            ds_infer_step(m, ctx, cache, gp, B, ids, NULL, NULL, hid, &arena);
            ds_infer_logits(m, ctx, hid, B, lg);
            ds_arena_reset(&arena);
        }
        double dt = ds_time_s() - t0;
        printf("  %d thread%s  decode    %7.0f tokens/s  at batch %2d (%.2f ms per step)\n",
               threads, threads > 1 ? "s" : " ", B * n_steps / dt, B, dt / n_steps * 1e3);
        for (int i = 0; i < B; i++) ds_gen_state_release(cache, &gs[i]);
        free(hid);
        free(lg);
    }
    ds_arena_free(&arena);
    ds_kv_cache_free(cache);
    ds_batch_free(&b);
    for (int i = 0; i < NB; i++) ds_seq_free(&seqs[i]);
    ctx->ops = base_ops;
    ds_ctx_free(ctx);
    ds_model_free(m);
}

// ---- the reference shape

static void bench_reference(int threads, int f16, int bf16) {
    ds_model_cfg cfg;
    ds_model_cfg_default(&cfg);
    cfg.use_prefix = cfg.use_box = cfg.use_roi = 0;
    cfg.vocab = 4096;
    cfg.dim = 256;
    cfg.n_layers = 6;
    cfg.n_dense_layers = 0;
    cfg.n_heads = cfg.n_kv_heads = 8;
    cfg.head_dim = 32;
    cfg.window = getenv("DS_BENCH_WINDOW") ? atoi(getenv("DS_BENCH_WINDOW")) : 0;
    cfg.max_seq = 1024;
    cfg.n_experts = 16;
    cfg.n_groups = cfg.topk_groups = 1;
    cfg.topk = 2;
    cfg.expert_hidden = 256;
    cfg.n_shared = 1;
    cfg.router_sigmoid = 0;
    cfg.router_normalize = 0;
    cfg.copy_pointer = cfg.copy_pointer_gen = 0;
    cfg.balance_weight = 0;
    ds_model *m;
    ds_model_init(&cfg, NULL, 3, &m);
    if (bf16) ds_infer_set_bf16(m, 1); // decode steps and logits read bf16 copies
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
    ds_rng r;
    ds_rng_seed(&r, 4);
    int T = 512, n_dec = 128;
    ds_seq s;
    ds_seq_alloc(&s, T, 0, 0, 0);
    for (int i = 0; i < T; i++)
        s.ids[i] = DS_TOK_BYTE0 + (int)ds_rng_below(&r, 4096 - DS_TOK_BYTE0);
    s.n_prefix = 0; // causal throughout, like a plain LM prompt
    ds_seq *sp = &s;
    ds_kv_cache *cache;
    ds_kv_cache_new_f16(&cfg, (T + n_dec) / 16 + 2, 16, f16, &cache);
    ds_arena arena;
    ds_arena_init(&arena, 0, 0);
    ds_gen_state g, *gp = &g;
    memset(&g, 0, sizeof g);
    float *hid = malloc(sizeof(float) * T * cfg.dim), *lg = malloc(sizeof(float) * cfg.vocab);
    double best_pre = 1e30, best_dec = 1e30;
    for (int rep = 0; rep < (quick ? 1 : 3); rep++) {
        double t0 = ds_time_s();
        ds_infer_prefill(m, ctx, cache, &gp, &sp, 1, hid, &arena);
        ds_infer_logits(m, ctx, hid + (size_t)(T - 1) * cfg.dim, 1, lg);
        best_pre = fmin(best_pre, ds_time_s() - t0);
        ds_arena_reset(&arena);
        t0 = ds_time_s();
        for (int i = 0; i < n_dec; i++) {
            int32_t id = DS_TOK_BYTE0 + (int)ds_rng_below(&r, 1000);
            ds_infer_step(m, ctx, cache, &gp, 1, &id, NULL, NULL, hid, &arena);
            ds_infer_logits(m, ctx, hid, 1, lg);
            ds_arena_reset(&arena);
        }
        best_dec = fmin(best_dec, ds_time_s() - t0);
        ds_gen_state_release(cache, &g);
    }
    // bytes one decoded token reads: the weights it uses (attention, router, shared and
    // topk routed experts of every layer, the output head; one embedding row) and the
    // cached keys and values of every layer at the mean decode position. With bf16
    // weights the router and the norms stay f32 (text/lm.h), the rest is 2 bytes (every
    // layer of this shape is MoE).
    int64_t total, active;
    ds_model_count(m, &total, &active);
    int64_t n_w = active - (int64_t)cfg.vocab * cfg.dim;
    int64_t n_f32 = (int64_t)cfg.n_layers * (cfg.n_experts + 2) * cfg.dim + cfg.dim;
    double mb_w = (bf16 ? (n_w - n_f32) * 2.0 + n_f32 * 4.0 : n_w * 4.0) / 1e6;
    double mb_kv = 2.0 * cfg.n_layers * cfg.n_kv_heads * cfg.head_dim * (f16 ? 2.0 : 4.0) *
                   (T + n_dec / 2) / 1e6;
    double bw = read_bandwidth(threads);
    printf("  %d thread%s  weights %s  KV %s  prefill %4d tokens %7.0f tokens/s   decode %d tokens "
           "at batch 1 %6.0f tokens/s\n",
           threads, threads > 1 ? "s" : " ", bf16 ? "bf16" : "f32 ", f16 ? "fp16" : "fp32", T,
           T / best_pre, n_dec, n_dec / best_dec);
    // Not a hard bound: the L3 (32 MB on the development machine) keeps part of what a
    // token reads, so a run can beat the DRAM-only figure.
    printf("             (a decoded token reads %.1f MB of weights + %.1f MB of KV cache; at "
           "this run's memory read rate, %.1f GB/s, all from DRAM: %.0f tokens/s)\n",
           mb_w, mb_kv, bw, bw * 1e3 / (mb_w + mb_kv));
    free(hid);
    free(lg);
    ds_arena_free(&arena);
    ds_kv_cache_free(cache);
    ds_seq_free(&s);
    ds_ctx_free(ctx);
    ds_model_free(m);
}

int main(int argc, char **argv) {
    int max_threads = 2, only_reference = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--reference") == 0)
            only_reference = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            max_threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_model [--quick] [--threads N] [--reference]\n");
            return 2;
        }
    }
    if (max_threads < 1) max_threads = 1;
    double ceil1 = sgemm_ceiling(1), ceiln = sgemm_ceiling(max_threads);
    printf("OpenBLAS sgemm 1024^3 ceiling: %.1f GFLOP/s (1 thread), %.1f GFLOP/s (%d threads)\n",
           ceil1, ceiln, max_threads);
    if (!only_reference) {
        bench_default(1, ceil1);
        if (max_threads > 1) bench_default(max_threads, ceiln);
    }
    printf("reference shape (width 256, 6 MoE layers, 8 heads, 16 x 256 experts top-2 + 1 "
           "shared, vocab 4096; weights trained in f32, decoded from f32 or bf16):\n");
    for (int bf16 = 0; bf16 <= 1; bf16++)    // decode weights: f32, then bf16 copies
        for (int f16 = 0; f16 <= 1; f16++) { // KV cache storage: fp32, then fp16
            bench_reference(1, f16, bf16);
            if (max_threads > 1) bench_reference(max_threads, f16, bf16);
        }
    printf("peak memory (max RSS): %.0f MiB\n", peak_mib());
    return 0;
}
