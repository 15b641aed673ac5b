// test-overfit.c: the proof that forward, backward and decoding agree: a
// small model (configs/tiny.json) learns a handful of real generated
// documents (PDFs of samples/sets, read through ingest) to near-zero loss in a
// bounded number of steps, then decodes each one's ground truth exactly
// through the constrained decoder and the KV cache, with the f32 weights and
// again with their bf16 decode copies.
#include "core/error.h"
#include "fusion/decode.h"
#include "fusion/sequence.h"
#include "test.h"
#include "train/trainer.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *docs_used[5] = {
    "invoice/invoice-100-00000", "invoice/invoice-100-00001",   "receipt/receipt-100-00000",
    "form/form-100-00000",       "contract/contract-100-00001",
};

// Joins a document's words (for the tokenizer's corpus).
static char *doc_text(const ds_doc *d) {
    size_t n = 0;
    for (int p = 0; p < d->n_pages; p++)
        for (int i = 0; i < d->pages[p].n_words; i++) n += strlen(d->pages[p].words[i].text) + 1;
    char *s = malloc(n + 1), *o = s;
    for (int p = 0; p < d->n_pages; p++)
        for (int i = 0; i < d->pages[p].n_words; i++) {
            size_t l = strlen(d->pages[p].words[i].text);
            memcpy(o, d->pages[p].words[i].text, l);
            o += l;
            *o++ = ' ';
        }
    *o = '\0';
    return s;
}

// The predicted value text of a field (scalar: "value"; list: every item's "value").
// How many values of fields (and list items) have a confidence off the 0.001 grid.
static int confidences_off_grid(const json_t *fields) {
    int n = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)fields, key, v) {
        size_t k = json_is_array(v) ? json_array_size(v) : 1;
        for (size_t i = 0; i < k; i++) {
            json_t *c = json_object_get(json_is_array(v) ? json_array_get(v, i) : v, "confidence");
            double x = json_number_value(c) * 1000;
            n += c && fabs(x - round(x)) > 1e-6;
        }
    }
    return n;
}

static int same_value(const json_t *truth, const json_t *pred) {
    if (!truth || json_is_null(truth))
        return !pred || json_is_null(pred) || (json_is_array(pred) && !json_array_size(pred));
    if (json_is_array(truth)) {
        if (!json_is_array(pred) || json_array_size(pred) != json_array_size(truth)) return 0;
        for (size_t i = 0; i < json_array_size(truth); i++)
            if (!same_value(json_array_get(truth, i), json_array_get(pred, i))) return 0;
        return 1;
    }
    const json_t *v = json_object_get(pred, "value");
    if (json_is_boolean(truth))
        return json_is_boolean(v) && json_boolean_value(v) == json_boolean_value(truth);
    return json_is_string(v) && strcmp(json_string_value(v), json_string_value(truth)) == 0;
}

// Learns the first n_docs documents with cfg's copy path, then decodes them exactly.
static int overfit(int n_docs, int copy_pointer, int copy_pointer_gen, int copy_mask,
                   int max_steps) {
    enum { ND_MAX = 5 };
    int ND = n_docs;
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    cfg.copy_pointer = copy_pointer;
    cfg.copy_pointer_gen = copy_pointer_gen;
    cfg.copy_mask = copy_mask;
    printf("  copy path: pointers %d, pointer-generator %d, copy mask %d\n", copy_pointer,
           copy_pointer_gen, copy_mask);
    ds_ingest_opts io;
    ds_ingest_opts_default(&io);
    io.enc_size = cfg.img_size;
    io.ocr = DS_OCR_NEVER;
    io.dpi = 72;
    ds_doc *docs[ND_MAX];
    json_t *truth[ND_MAX];
    char *texts[ND_MAX];
    for (int i = 0; i < ND; i++) {
        char path[512];
        snprintf(path, sizeof path, DS_SOURCE_DIR "/samples/sets/%s.pdf", docs_used[i]);
        int rc = ds_ingest_file(path, &io, &docs[i]);
        if (rc) fprintf(stderr, "  %s: %s\n", path, ds_errmsg());
        DS_CHECK(rc == 0);
        snprintf(path, sizeof path, DS_SOURCE_DIR "/samples/sets/%s.json", docs_used[i]);
        truth[i] = json_load_file(path, 0, NULL);
        DS_CHECK(truth[i]);
        texts[i] = doc_text(docs[i]);
    }
    ds_tokenizer *tok;
    DS_CHECK(ds_tokenizer_train((const char *const *)texts, ND, 700, &tok) == 0);
    cfg.vocab = ds_tokenizer_vocab_size(tok);
    ds_model *m;
    DS_CHECK(ds_model_init(&cfg, tok, 1, &m) == 0);
    ds_seq seqs[ND_MAX];
    ds_seq *ptrs[ND_MAX];
    for (int i = 0; i < ND; i++) {
        ds_seq_info info;
        int rc = ds_seq_build(m, &schemas, docs[i], truth[i], &seqs[i], &info);
        if (rc) fprintf(stderr, "  %s: %s\n", docs_used[i], ds_errmsg());
        DS_CHECK(rc == 0);
        printf("  %-28s %4d tokens (prefix %d), %d words, values: %d as pointers, %d generated\n",
               docs_used[i], seqs[i].n, seqs[i].n_prefix, info.n_words_kept, info.n_values_span,
               info.n_values_gen);
        ptrs[i] = &seqs[i];
    }
    ds_batch b;
    DS_CHECK(ds_batch_pack(&cfg, ptrs, ND, &b) == 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    ds_trainer_opts to;
    ds_trainer_opts_default(&to);
    ds_trainer *t;
    DS_CHECK(ds_trainer_new(m, ctx, &to, &t) == 0);
    ds_step_stats st;
    double gn, first = 0;
    int step;
    for (step = 1; step <= max_steps; step++) {
        float lr = 3e-3f * (step < 20 ? step / 20.0f : 1.0f);
        DS_CHECK(ds_trainer_step(t, &b, lr, &st, &gn) == 0);
        if (step == 1) first = st.loss;
        if (step % 50 == 0 || step == 1)
            printf("  step %3d  loss %.4f (answer %.4f, pointers %.4f, document %.3f) |g| %.3f\n",
                   step, st.loss, st.loss_ans, st.loss_ptr, st.loss_doc, gn);
        // 0.01 left some greedy decodes one pointer off (the margin, not a mismatch between
        // training and decoding: 50 more steps make them exact); 0.002 leaves room.
        if (st.loss_ans < 0.002 && st.loss_ptr < 0.002) break;
    }
    printf("  teacher-forced: %d of %d answer tokens, %d of %d pointers right\n", st.ans_correct,
           st.n_ans, st.ptr_correct, st.n_ptr);
    printf("  answer and pointer losses under 0.002 after %d steps (loss %.4f -> %.4f)\n", step,
           first, st.loss);
    DS_CHECK(step <= max_steps);
    // decode every document's prefix, all in one batch
    ds_seq pre[ND_MAX];
    ds_seq *pre_ptrs[ND_MAX];
    const ds_doc *dps[ND_MAX];
    for (int i = 0; i < ND; i++) {
        ds_seq_info info;
        DS_CHECK(ds_seq_build(m, &schemas, docs[i], NULL, &pre[i], &info) == 0);
        DS_CHECK_INT_EQ(pre[i].n, seqs[i].n_prefix);
        pre_ptrs[i] = &pre[i];
        dps[i] = docs[i];
    }
    ds_kv_cache *cache;
    DS_CHECK(ds_kv_cache_new(&cfg, 512, 16, &cache) == 0);
    ds_arena arena;
    ds_arena_init(&arena, 0, 0);
    json_t *out[ND_MAX];
    int wrong = 0;
    for (int bf16 = 0; bf16 <= 1; bf16++) { // decode weights: f32, then bf16 copies (infer.h)
        DS_CHECK(ds_infer_set_bf16(m, bf16) == 0);
        int rc =
            ds_decode_batch(m, ctx, cache, &schemas, dps, pre_ptrs, NULL, ND, NULL, out, &arena);
        if (rc) fprintf(stderr, "  decode: %s\n", ds_errmsg());
        DS_CHECK(rc == 0);
        int total = 0, wrong0 = wrong, off_grid = 0;
        for (int i = 0; i < ND; i++) {
            const char *type = json_string_value(json_object_get(truth[i], "doc_type"));
            const char *got = json_string_value(json_object_get(out[i], "doc_type"));
            total++;
            if (!got || strcmp(type, got) != 0) {
                wrong++;
                printf("  %s: doc type %s, expected %s\n", docs_used[i], got ? got : "?", type);
            }
            const json_t *tf = json_object_get(truth[i], "fields");
            const json_t *pf = json_object_get(out[i], "fields");
            const char *key;
            json_t *tv;
            json_object_foreach((json_t *)tf, key, tv) {
                total++;
                if (!same_value(tv, json_object_get(pf, key))) {
                    wrong++;
                    char *a = json_dumps(tv, JSON_ENCODE_ANY),
                         *c = json_dumps(json_object_get(pf, key), JSON_ENCODE_ANY | JSON_COMPACT);
                    printf("  %s: %s = %s, expected %s\n", docs_used[i], key, c ? c : "(none)", a);
                    free(a);
                    free(c);
                }
            }
            off_grid += confidences_off_grid(pf);
            if (i == 0) {
                char *s = json_dumps(out[i], JSON_COMPACT);
                printf("  decoded %s: %.300s...\n", docs_used[i], s);
                free(s);
            }
        }
        printf(
            "  decoded %d documents with %s weights: %d of %d values (doc types included) exact\n",
            ND, bf16 ? "bf16" : "f32", total - (wrong - wrong0), total);
        // the decoder keeps full precision (windows compare it); the extractor rounds
        printf("  %d values with a confidence finer than 0.001\n", off_grid);
        wrong += off_grid == 0;
        DS_CHECK_INT_EQ(ds_kv_cache_free_blocks(cache), 512);
        for (int i = 0; i < ND; i++) json_decref(out[i]);
    }
    for (int i = 0; i < ND; i++) {
        json_decref(truth[i]);
        ds_seq_free(&seqs[i]);
        ds_seq_free(&pre[i]);
        ds_doc_free(docs[i]);
        free(texts[i]);
    }
    ds_arena_free(&arena);
    ds_kv_cache_free(cache);
    ds_batch_free(&b);
    ds_trainer_free(t);
    ds_ctx_free(ctx);
    ds_model_free(m);
    ds_schema_set_free(&schemas);
    ds_ingest_thread_cleanup();
    return wrong != 0;
}

DS_TEST(model_overfit_decodes_truth) {
    return overfit(5, 1, 0, 0, 400); // the default copy path: word-span pointers
}

DS_TEST(model_overfit_generated_values) {
    // no pointers: values generated under the copy mask, through the pointer-generator
    return overfit(2, 0, 1, 1, 600);
}
