// experts.c (bench_experts): how evenly a trained model spreads its
// tokens over the routed experts, measured on documents rather than taken from
// the training log: every labelled document of the folders goes through the
// training forward (answer teacher-forced, routing bias applied as in
// training), and per MoE layer the tokens each expert received are summed.
// Prints, per layer, max / mean (the figure `docseek train` calls imbalance),
// min / mean and the coefficient of variation; then the worst layer. Figures
// only; nothing here is a test.
//   bench_experts [--model M] [--threads N] [DIR ...]
//   (defaults: models/default.safetensors, samples/sets/{invoice,receipt,form,contract})
#include "core/arena.h"
#include "core/error.h"
#include "core/pool.h"
#include "fusion/model.h"
#include "samples/schema.h"
#include "train/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 4

int main(int argc, char **argv) {
    const char *model_path = "models/default.safetensors";
    const char *dirs[64];
    int n_dirs = 0, threads = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model_path = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (argv[i][0] == '-' || n_dirs == 64) {
            fprintf(stderr, "usage: bench_experts [--model M] [--threads N] [DIR ...]\n");
            return 2;
        } else
            dirs[n_dirs++] = argv[i];
    }
    if (n_dirs == 0) {
        static const char *def[] = {"samples/sets/invoice", "samples/sets/receipt",
                                    "samples/sets/form", "samples/sets/contract"};
        for (int i = 0; i < 4; i++) dirs[n_dirs++] = def[i];
    }
    ds_model *m = NULL;
    ds_schema_set schemas;
    ds_dataset d = {0};
    int rc = ds_model_load(model_path, &m);
    if (!rc) rc = ds_schema_set_load("samples/schemas", &schemas);
    if (!rc) rc = ds_dataset_scan(dirs, n_dirs, &d);
    if (!rc) rc = ds_dataset_prepare(&d, m, &schemas, threads, NULL);
    if (rc) {
        fprintf(stderr, "bench_experts: %s: %s\n", ds_err_name(rc), ds_errmsg());
        return 1;
    }
    const ds_model_cfg *c = &m->cfg;
    int L = c->n_layers, E = c->n_experts, S = c->img_size;
    double *tokens = calloc((size_t)L * E, sizeof(double));
    float *bufs[BATCH];
    for (int j = 0; j < BATCH; j++)
        bufs[j] = malloc(sizeof(float) * (size_t)c->max_pages * 3 * S * S + 1);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
    ds_arena arena;
    ds_arena_init(&arena, 0, 0);
    long n_docs = 0, n_tok = 0;
    for (int i = 0; i < d.n && rc == 0;) {
        ds_seq seqs[BATCH], *ptrs[BATCH];
        int nb = 0;
        for (; i < d.n && nb < BATCH; i++)
            if (d.ok[i]) {
                seqs[nb] = ds_dataset_seq(&d, i, bufs[nb], ds_cfg_use_vision(c) ? S : 0);
                ptrs[nb] = &seqs[nb];
                nb++;
            }
        if (nb == 0) break;
        ds_batch b;
        rc = ds_batch_pack(c, ptrs, nb, &b);
        if (rc) break;
        ds_fwd *f;
        ds_step_stats st;
        rc = ds_model_forward(m, ctx, &b, &arena, &f, &st);
        if (!rc) {
            // st.load: fraction of this batch's N * topk assignments per expert
            for (int l = c->n_dense_layers; l < L; l++)
                for (int e = 0; e < E; e++)
                    tokens[(size_t)l * E + e] += st.load[(size_t)l * E + e] * b.N * c->topk;
            n_docs += nb;
            n_tok += b.N;
        }
        ds_batch_free(&b);
        ds_arena_reset(&arena);
    }
    if (rc) {
        fprintf(stderr, "bench_experts: %s: %s\n", ds_err_name(rc), ds_errmsg());
        return 1;
    }
    printf("expert load of %s: %ld documents, %ld tokens, %d routed experts, top-%d\n", model_path,
           n_docs, n_tok, E, c->topk);
    double worst = 0;
    for (int l = c->n_dense_layers; l < L; l++) {
        double sum = 0, sq = 0, mx = 0, mn = INFINITY;
        for (int e = 0; e < E; e++) {
            double t = tokens[(size_t)l * E + e];
            sum += t, sq += t * t, mx = fmax(mx, t), mn = fmin(mn, t);
        }
        double mean = sum / E, sd = sqrt(fmax(sq / E - mean * mean, 0));
        printf("  layer %d  tokens per expert: mean %8.0f  max/mean %.2f  min/mean %.2f  CV %.3f\n",
               l, mean, mx / mean, mn / mean, sd / mean);
        worst = fmax(worst, mx / mean);
    }
    printf("  imbalance (max over layers of max/mean): %.2f  (1.00: perfectly even)\n", worst);
    for (int j = 0; j < BATCH; j++) free(bufs[j]);
    free(tokens);
    ds_arena_free(&arena);
    ds_ctx_free(ctx);
    ds_dataset_free(&d);
    ds_schema_set_free(&schemas);
    ds_model_free(m);
    return 0;
}
