// test-cuda-infer.c: the inference path on the GPU against the CPU: the tiny model's
// weights copied to the device (ds_model_view_new), its KV cache in device memory,
// a prefill of three documents' prefixes (pages, boxes, words; a sliding window
// shorter than them) and teacher-forced batched decode steps through the rest of
// each sequence, on both backends. Logits at every position, the pointer keys and
// the pointer-generator keys must agree (GEMMs in full f32; f32 and f16 cache
// storage; with a LoRA adapter on the attention and every expert, its copy attached to
// the GPU's view), and releasing the sequences must return every block. Under the CUDA
// emulator device memory is out of the host's reach, so a host read of a device
// buffer on this path fails here.
#include "tests/test.h"
#include "core/error.h"
#include "fusion/infer.h"
#include "fusion/lora.h"
#include "tests/cuda-parity.h"
#include "tests/model-fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NS = 3 };

static int infer_parity(int f16, int lora) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    ds_ctx *c = ds_par_cpu();
    ds_model_cfg cfg;
    ds_model *m, *view;
    ds_rng r;
    ds_rng_seed(&r, 9);
    DS_CHECK(ds_fixture_tiny_model(12, 5, &r, &cfg, &m) == 0);
    ds_seq seqs[NS];
    int32_t seq_off[NS + 1] = {0};
    for (int i = 0; i < NS; i++) {
        DS_CHECK(ds_fixture_seq(&cfg, &r, 1 + i % 2, 4 + 5 * i, &seqs[i]) == 0);
        seq_off[i + 1] = seq_off[i] + seqs[i].n;
    }
    int N = seq_off[NS], V = cfg.vocab, C = cfg.dim;
    printf("  %d sequences, %d tokens (prefixes %d, %d, %d), window %d, cache %s%s\n", NS, N,
           seqs[0].n_prefix, seqs[1].n_prefix, seqs[2].n_prefix, cfg.window, f16 ? "f16" : "f32",
           lora ? ", LoRA rank 4 on attention and experts" : "");

    ds_kv_cache *cc, *gc;
    DS_CHECK(ds_kv_cache_new_f16(&cfg, 64, 8, f16, &cc) == 0);
    DS_CHECK(ds_kv_cache_new_on(g, &cfg, 64, 8, f16, &gc) == 0);
    DS_CHECK(ds_model_view_new(m, g, &view) == 0);
    DS_CHECK(view->host == m && view->params != m->params);
    ds_lora *l = NULL, *lv = NULL;
    if (lora) { // B random too: a new adapter (B = 0) would change nothing
        DS_CHECK(ds_lora_new(m, 4, 8.0f, 1, 3, &l) == 0);
        ds_rng_fill_normal(&r, l->params, l->table.total, 0.0f, 0.05f);
        ds_lora_attach(m, l);
        DS_CHECK(ds_lora_view_new(l, g, &lv) == 0);
        ds_lora_attach(view, lv);
    }
    ds_arena ca, ga, gh;
    ds_arena_init(&ca, 0, 0);
    ds_ctx_arena_init(g, &ga, &gh, 0, 0);
    ds_gen_state cs[NS], gs[NS];
    float *ref = malloc(sizeof(float) * (size_t)N * V),
          *got = malloc(sizeof(float) * (size_t)N * V);
    DS_CHECK(ds_fixture_cached_logits(m, c, cc, seqs, NS, seq_off, cs, ref, &ca) == 0);
    DS_CHECK(ds_fixture_cached_logits(view, g, gc, seqs, NS, seq_off, gs, got, &ga) == 0);

    float mx = 0; // the tolerances are relative to the logits' scale
    for (int64_t i = 0; i < (int64_t)N * V; i++) mx = fmaxf(mx, fabsf(ref[i]));
    // f32: each op's rounding compounded over the layers, as the stacks' test; f16: a
    // stored key rounds to the other neighbour now and then (inputs an ulp apart)
    double atol = (f16 ? 1e-3 : 2e-5) * mx, rtol = f16 ? 5e-3 : 2e-4;
    int64_t bad = ds_test_close_f32("logits, GPU vs CPU", got, ref, (int64_t)N * V, atol, rtol);
    for (int i = 0; i < NS; i++) {
        DS_CHECK_INT_EQ(gs[i].n_words, cs[i].n_words);
        DS_CHECK_INT_EQ(gs[i].n_doc, cs[i].n_doc);
        DS_CHECK_INT_EQ(gs[i].kv.len, cs[i].kv.len);
        if (gs[i].n_words > 0)
            bad += ds_test_close_f32("pointer keys", gs[i].ptr_keys, cs[i].ptr_keys,
                                     (int64_t)gs[i].n_words * C, 1e-4, 1e-3);
        if (cs[i].pg_keys)
            bad += ds_test_close_f32("pointer-generator keys", gs[i].pg_keys, cs[i].pg_keys,
                                     (int64_t)gs[i].n_doc * C, 1e-4, 1e-3);
        for (int t = 0; t < cs[i].n_doc; t++) bad += gs[i].doc_word[t] != cs[i].doc_word[t];
    }
    int free0 = ds_kv_cache_free_blocks(gc) + 0;
    for (int i = 0; i < NS; i++) {
        ds_gen_state_release(cc, &cs[i]);
        ds_gen_state_release(gc, &gs[i]);
    }
    printf("  blocks free on the GPU: %d in use, %d after release (pool 64)\n", 64 - free0,
           ds_kv_cache_free_blocks(gc));
    DS_CHECK_INT_EQ(ds_kv_cache_free_blocks(gc), 64);
    free(ref);
    free(got);
    ds_arena_free(&ca);
    ds_arena_free(&ga);
    ds_arena_free(&gh);
    ds_kv_cache_free(cc);
    ds_kv_cache_free(gc);
    ds_model_view_free(view, g);
    ds_lora_view_free(lv, g);
    ds_lora_free(l);
    for (int i = 0; i < NS; i++) ds_seq_free(&seqs[i]);
    ds_model_free(m);
    return bad != 0;
}

DS_TEST(cuda_infer_decode) {
    return infer_parity(0, 0);
}

DS_TEST(cuda_infer_decode_f16) {
    return infer_parity(1, 0);
}

DS_TEST(cuda_infer_decode_lora) {
    return infer_parity(0, 1);
}
