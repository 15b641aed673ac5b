// test-cuda-train.c: training on the GPU against training on the CPU. The same
// tiny model (every part: image prefix, boxes, ROI and glyph inputs, dense and
// MoE layers, vocabulary and word-span pointer heads) takes the same 50 steps on
// one batch through the trainer (train/trainer.c): forward, backward, gradient
// clipping, AdamW, the routing bias nudged by the step's expert load. On the GPU the
// parameters, gradients and optimizer state are each one device allocation and
// the activations come from a device arena; the host keeps only the batch and
// the small arrays it reads. With f32 GEMMs the loss curves must agree to 1e-4
// (relative) at every step and the final parameters to 1e-3 (norm-wise); with the
// default bf16 tensor-core GEMMs to 2e-2 and 5e-2. Under the CUDA emulator
// (DS_PARITY_QUICK) the runs stop after 6 steps: 50 take it 100 s.
#include "tests/test.h"
#include "core/error.h"
#include "fusion/model-impl.h"
#include "tests/cuda-parity.h"
#include "tests/model-fixtures.h"
#include "fusion/lora.h"
#include "train/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The tiny model of these tests (host-only heads off: the default model has neither),
// with a random routing bias; the same for every seed-equal call.
static int tiny_model(ds_model_cfg *cfg, ds_model **m) {
    ds_fixture_tiny_cfg(cfg, 12);
    cfg->copy_mask = cfg->copy_pointer_gen = 0;
    if (ds_model_init(cfg, NULL, 5, m)) return 1;
    ds_rng rng;
    ds_rng_seed(&rng, 9);
    ds_rng_fill_normal(&rng, (*m)->router_bias, (int64_t)cfg->n_layers * cfg->n_experts, 0.0f,
                       0.05f);
    return 0;
}

// A trainer on ctx with the steps' settings (weight decay on; small arena chunks: the
// emulator re-protects device memory page by page per launch).
static int tiny_trainer(ds_model *m, ds_ctx *ctx, ds_trainer **t) {
    ds_trainer_opts o;
    ds_trainer_opts_default(&o);
    o.weight_decay = 0.1f;
    o.arena_chunk = 1 << 20;
    return ds_trainer_new(m, ctx, &o, t);
}

// 50 steps (6 under the emulator) on both backends through the trainer; the GPU's GEMMs
// in f32 or on bf16 tensor cores.
static int64_t train_both(ds_ctx *g, int gemm_f32, double loss_rtol, double param_rtol) {
    ds_ctx *c = ds_par_cpu();
#ifdef DS_HAVE_CUDA
    ds_cuda_set_gemm_f32(g, gemm_f32);
#endif
    ds_model_cfg cfg;
    ds_model *mc = NULL, *mg = NULL;
    ds_trainer *tc = NULL, *tg = NULL;
    if (tiny_model(&cfg, &mc) || tiny_model(&cfg, &mg)) return 1;
    ds_rng rng;
    ds_rng_seed(&rng, 10);
    ds_seq seqs[3], *ptrs[3];
    for (int i = 0; i < 3; i++) {
        if (ds_fixture_seq(&cfg, &rng, 1 + i % 2, 6 + 2 * i, &seqs[i])) return 1;
        ptrs[i] = &seqs[i];
    }
    ds_batch b;
    if (ds_batch_pack(&cfg, ptrs, 3, &b)) return 1;
    int64_t fails = tiny_trainer(mc, c, &tc) || tiny_trainer(mg, g, &tg);
    int steps = ds_par_quick() ? 6 : 50;
    double worst = 0, first = 0, last = 0;
    for (int s = 1; s <= steps && !fails; s++) {
        ds_step_stats sc, sg;
        if (ds_trainer_step(tc, &b, 2e-3f, &sc, NULL) ||
            ds_trainer_step(tg, &b, 2e-3f, &sg, NULL)) {
            printf("  step %d failed: %s\n", s, ds_errmsg());
            fails++;
            break;
        }
        worst = fmax(worst, fabs(sg.loss - sc.loss) / fabs(sc.loss));
        if (s == 1) first = sc.loss;
        last = sc.loss;
        if (s == 1 || s % 10 == 0 || s == steps)
            printf("  step %2d: loss cpu %.6f cuda %.6f\n", s, sc.loss, sg.loss);
    }
    double d = 0, r = 0;
    if (!fails) fails += ds_trainer_sync(tg) != 0;
    for (int64_t i = 0; i < mc->table.total; i++) {
        d += ((double)mg->params[i] - mc->params[i]) * ((double)mg->params[i] - mc->params[i]);
        r += (double)mc->params[i] * mc->params[i];
    }
    double prel = sqrt(d / r);
    printf("  %s GEMMs, %d steps: loss %.4f -> %.4f; worst step's loss difference %.2e (limit "
           "%.0e); final parameters %.2e apart, norm-wise (limit %.0e)\n",
           gemm_f32 ? "f32" : "bf16", steps, first, last, worst, loss_rtol, prel, param_rtol);
    // the run must learn: 50 steps more than halve the loss
    fails += !(worst <= loss_rtol) || !(prel <= param_rtol) ||
             !(last < (steps >= 50 ? 0.5 : 0.97) * first);
    ds_trainer_free(tc);
    ds_trainer_free(tg);
    ds_batch_free(&b);
    for (int i = 0; i < 3; i++) ds_seq_free(&seqs[i]);
    ds_model_free(mc);
    ds_model_free(mg);
#ifdef DS_HAVE_CUDA
    ds_cuda_set_gemm_f32(g, 1);
#endif
    return fails;
}

DS_TEST(cuda_train_steps) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    int64_t fails = train_both(g, 1, 1e-4, 1e-3);
    fails += train_both(g, 0, 2e-2, 5e-2);
#ifdef DS_HAVE_CUDA
    ds_cuda_set_gemm_f32(g, 1); // as the shared context was: the next test may compare at f32
#endif
    return (int)fails;
}

// The trainer on the GPU (train/trainer.c): 4 steps straight, and 2 steps, a checkpoint,
// a fresh trainer loading it and 2 more, must end on the same parameters bit for bit (the
// kernels are deterministic) and the same routing bias; the host parameters follow the
// device's through ds_trainer_sync; and the CPU trainer's 4 steps agree within f32.
static int trainer_steps(ds_ctx *ctx, const ds_batch *b, int from, int to, const char *load,
                         const char *save, float *params, float *bias) {
    ds_model_cfg c;
    ds_model *m;
    ds_trainer *t = NULL;
    if (tiny_model(&c, &m)) return 1;
    const ds_model_cfg *cfg = &m->cfg;
    int rc = tiny_trainer(m, ctx, &t);
    if (!rc && load) rc = ds_trainer_load(t, load, NULL);
    if (!rc && ds_trainer_steps_done(t) != from) rc = 1;
    for (int s = from + 1; s <= to && !rc; s++) {
        ds_step_stats st;
        rc = ds_trainer_step(t, b, 2e-3f, &st, NULL);
    }
    if (!rc && save) rc = ds_trainer_save(t, save, NULL);
    if (!rc) rc = ds_trainer_sync(t);
    if (!rc) memcpy(params, m->params, sizeof(float) * m->table.total);
    if (!rc) memcpy(bias, m->router_bias, sizeof(float) * cfg->n_layers * cfg->n_experts);
    ds_trainer_free(t);
    ds_model_free(m);
    return rc;
}

// The tests' batch: two random documents (one and two pages) of the tiny model's config
// (*cfg), drawn from seed, packed into *b; *n_params gets the model's parameter count.
static int two_docs(uint64_t seed, ds_model_cfg *cfg, ds_seq seqs[2], ds_batch *b,
                    int64_t *n_params) {
    ds_model *probe;
    if (tiny_model(cfg, &probe)) return 1;
    *n_params = probe->table.total;
    ds_model_free(probe);
    ds_rng rng;
    ds_rng_seed(&rng, seed);
    ds_seq *ptrs[2] = {&seqs[0], &seqs[1]};
    for (int i = 0; i < 2; i++)
        if (ds_fixture_seq(cfg, &rng, 1 + i, 6, &seqs[i])) return 1;
    return ds_batch_pack(cfg, ptrs, 2, b) != 0;
}

static void free_docs(ds_seq seqs[2], ds_batch *b) {
    ds_batch_free(b);
    for (int i = 0; i < 2; i++) ds_seq_free(&seqs[i]);
}

DS_TEST(cuda_trainer_resume) {
    ds_ctx *g = ds_par_gpu(), *c = ds_par_cpu();
    if (!g) return 0;
    ds_model_cfg cfg;
    ds_seq seqs[2];
    ds_batch b;
    int64_t n;
    DS_CHECK_INT_EQ(two_docs(4, &cfg, seqs, &b, &n), 0);
    int64_t nb = (int64_t)cfg.n_layers * cfg.n_experts;
    float *straight = malloc(sizeof(float) * n), *resumed = malloc(sizeof(float) * n);
    float *cpu = malloc(sizeof(float) * n), *half = malloc(sizeof(float) * n);
    float *bias[4] = {malloc(sizeof(float) * nb), malloc(sizeof(float) * nb),
                      malloc(sizeof(float) * nb), malloc(sizeof(float) * nb)};
    char ckpt[512];
    snprintf(ckpt, sizeof ckpt, "%s/cuda-trainer-resume.ckpt",
             getenv("DS_TEST_TMPDIR") ? getenv("DS_TEST_TMPDIR") : "/tmp");
    DS_CHECK_INT_EQ(trainer_steps(g, &b, 0, 4, NULL, NULL, straight, bias[0]), 0);
    DS_CHECK_INT_EQ(trainer_steps(g, &b, 0, 2, NULL, ckpt, half, bias[1]), 0);
    DS_CHECK_INT_EQ(trainer_steps(g, &b, 2, 4, ckpt, NULL, resumed, bias[2]), 0);
    DS_CHECK_INT_EQ(trainer_steps(c, &b, 0, 4, NULL, NULL, cpu, bias[3]), 0);
    int same = memcmp(straight, resumed, sizeof(float) * n) == 0 &&
               memcmp(bias[0], bias[2], sizeof(float) * nb) == 0;
    int moved = memcmp(straight, half, sizeof(float) * n) != 0;
    double d = 0, r = 0;
    for (int64_t i = 0; i < n; i++) {
        d += ((double)straight[i] - cpu[i]) * ((double)straight[i] - cpu[i]);
        r += (double)cpu[i] * cpu[i];
    }
    printf("  gpu trainer: 4 steps straight %s 2 + checkpoint + 2; the CPU trainer's 4 steps "
           "%.2e apart (norm-wise); routing bias %s\n",
           same ? "==" : "!=", sqrt(d / r),
           memcmp(bias[0], bias[3], sizeof(float) * nb) ? "differs" : "the same");
    DS_CHECK(same);
    DS_CHECK(moved);
    DS_CHECK(sqrt(d / r) < 1e-4);
    remove(ckpt);
    free(straight), free(resumed), free(cpu), free(half);
    for (int i = 0; i < 4; i++) free(bias[i]);
    free_docs(seqs, &b);
    return 0;
}

// LoRA on the GPU (docseek finetune --device cuda): steps from..to of an adapter on the
// attention and every expert (B random too, so every path carries a gradient), through
// the trainer on ctx, loading from load / saving to save; the adapter's host parameters
// after ds_trainer_sync into params (its table.total), the step losses into losses
// (to - from), and whether the base's host parameters stayed as they were into *frozen.
static int lora_steps(ds_ctx *ctx, const ds_batch *b, int from, int to, const char *load,
                      const char *save, float *params, double *losses, int *frozen) {
    ds_model_cfg c;
    ds_model *m;
    ds_lora *l = NULL;
    ds_trainer *t = NULL;
    if (tiny_model(&c, &m)) return 1;
    float *base = malloc(sizeof(float) * m->table.total);
    int rc = !base || ds_lora_new(m, 4, 8.0f, 1, 3, &l);
    if (!rc) {
        memcpy(base, m->params, sizeof(float) * m->table.total);
        ds_rng r;
        ds_rng_seed(&r, 21);
        ds_rng_fill_normal(&r, l->params, l->table.total, 0.0f, 0.05f);
        ds_trainer_opts o;
        ds_trainer_opts_default(&o);
        o.arena_chunk = 1 << 20;
        rc = ds_trainer_new_lora(m, ctx, &o, l, &t);
    }
    if (!rc && load) rc = ds_trainer_load(t, load, NULL);
    for (int s = from + 1; s <= to && !rc; s++) {
        ds_step_stats st;
        rc = ds_trainer_step(t, b, 5e-3f, &st, NULL);
        losses[s - from - 1] = st.loss;
    }
    if (!rc && save) rc = ds_trainer_save(t, save, NULL);
    if (!rc) rc = ds_trainer_sync(t);
    if (!rc) memcpy(params, l->params, sizeof(float) * l->table.total);
    if (!rc) *frozen = memcmp(base, m->params, sizeof(float) * m->table.total) == 0;
    ds_trainer_free(t);
    ds_lora_free(l);
    ds_model_free(m);
    free(base);
    return rc;
}

DS_TEST(cuda_trainer_lora) {
    ds_ctx *g = ds_par_gpu(), *c = ds_par_cpu();
    if (!g) return 0;
#ifdef DS_HAVE_CUDA
    ds_cuda_set_gemm_f32(g, 1);
#endif
    ds_model_cfg cfg;
    ds_seq seqs[2];
    ds_batch b;
    int64_t n_model;
    DS_CHECK_INT_EQ(two_docs(4, &cfg, seqs, &b, &n_model), 0);
    ds_model *probe; // the adapter's parameter count
    ds_lora *lp;
    DS_CHECK_INT_EQ(tiny_model(&cfg, &probe), 0);
    DS_CHECK_INT_EQ(ds_lora_new(probe, 4, 8.0f, 1, 3, &lp), 0);
    int64_t n = lp->table.total;
    ds_lora_free(lp);
    ds_model_free(probe);
    float *gpu = malloc(sizeof(float) * n), *resumed = malloc(sizeof(float) * n);
    float *cpu = malloc(sizeof(float) * n), *half = malloc(sizeof(float) * n);
    double lg[4], lc[4], lh[2], lr[2];
    int fg = 0, fc = 0, fh = 0, fr = 0;
    char ckpt[512];
    snprintf(ckpt, sizeof ckpt, "%s/cuda-trainer-lora.ckpt",
             getenv("DS_TEST_TMPDIR") ? getenv("DS_TEST_TMPDIR") : "/tmp");
    DS_CHECK_INT_EQ(lora_steps(g, &b, 0, 4, NULL, NULL, gpu, lg, &fg), 0);
    DS_CHECK_INT_EQ(lora_steps(c, &b, 0, 4, NULL, NULL, cpu, lc, &fc), 0);
    DS_CHECK_INT_EQ(lora_steps(g, &b, 0, 2, NULL, ckpt, half, lh, &fh), 0);
    DS_CHECK_INT_EQ(lora_steps(g, &b, 2, 4, ckpt, NULL, resumed, lr, &fr), 0);
    double worst = 0, d = 0, r = 0;
    for (int s = 0; s < 4; s++) {
        printf("  step %d: loss cpu %.7f gpu %.7f\n", s + 1, lc[s], lg[s]);
        worst = fmax(worst, fabs(lg[s] - lc[s]) / fabs(lc[s]));
    }
    for (int64_t i = 0; i < n; i++) {
        d += ((double)gpu[i] - cpu[i]) * ((double)gpu[i] - cpu[i]);
        r += (double)cpu[i] * cpu[i];
    }
    int same = memcmp(gpu, resumed, sizeof(float) * n) == 0;
    printf("  %lld adapter parameters: losses within %.2e (relative), adapters %.2e apart "
           "(norm-wise); on the GPU 4 steps %s 2 + checkpoint + 2; base frozen %d %d %d %d\n",
           (long long)n, worst, sqrt(d / r), same ? "==" : "!=", fg, fc, fh, fr);
    DS_CHECK(worst < 1e-4);
    DS_CHECK(sqrt(d / r) < 1e-4);
    DS_CHECK(same);
    DS_CHECK(memcmp(gpu, half, sizeof(float) * n) != 0); // the adapter moved
    DS_CHECK(fg && fc && fh && fr);
    remove(ckpt);
    free(gpu), free(resumed), free(cpu), free(half);
    free_docs(seqs, &b);
    return 0;
}

// Activation recomputation on the GPU (train --recompute): 3 steps with and without it
// end on the same parameters bit for bit, holding less activation memory.
static int recompute_steps(ds_ctx *g, const ds_batch *b, int recompute, float *params,
                           size_t *peak) {
    ds_model_cfg c;
    ds_model *m;
    ds_trainer *t = NULL;
    if (tiny_model(&c, &m)) return 1;
    ds_trainer_opts o;
    ds_trainer_opts_default(&o);
    o.arena_chunk = 1 << 20;
    o.recompute = recompute;
    int rc = ds_trainer_new(m, g, &o, &t);
    for (int s = 0; s < 3 && !rc; s++) {
        ds_step_stats st;
        rc = ds_trainer_step(t, b, 2e-3f, &st, NULL);
    }
    if (!rc) rc = ds_trainer_sync(t);
    if (!rc) memcpy(params, m->params, sizeof(float) * m->table.total);
    if (!rc) *peak = ds_trainer_arena_peak(t);
    ds_trainer_free(t);
    ds_model_free(m);
    return rc;
}

DS_TEST(cuda_trainer_recompute) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    ds_model_cfg cfg;
    ds_seq seqs[2];
    ds_batch b;
    int64_t n;
    DS_CHECK_INT_EQ(two_docs(5, &cfg, seqs, &b, &n), 0);
    float *kept = malloc(sizeof(float) * n), *again = malloc(sizeof(float) * n);
    size_t peak0 = 0, peak1 = 0;
    DS_CHECK_INT_EQ(recompute_steps(g, &b, 0, kept, &peak0), 0);
    DS_CHECK_INT_EQ(recompute_steps(g, &b, 1, again, &peak1), 0);
    int same = memcmp(kept, again, sizeof(float) * n) == 0;
    printf("  3 steps on the GPU: parameters %s with recomputation; activations at most %zu / %zu "
           "bytes\n",
           same ? "equal" : "DIFFER", peak0, peak1);
    DS_CHECK(same);
    DS_CHECK(peak1 < peak0);
    free(kept), free(again);
    free_docs(seqs, &b);
    return 0;
}
