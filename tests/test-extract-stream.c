// test-extract-stream.c: continuous batching (fusion/extract.h's stream over
// fusion/decode.h's ds_decoder). Documents that join a running stream at
// different steps, leave it as soon as they are done, are read in windows, or
// run with their own adapters, must get exactly the answer each gets when it
// is decoded alone; a place is refused when the stream is full, and a document
// that cannot start comes back with its own error without disturbing the others.
#include "core/error.h"
#include "core/rng.h"
#include "fusion/extract.h"
#include "fusion/lora.h"
#include "samples/synth.h"
#include "tests/ingest-fixtures.h"
#include "tests/model-fixtures.h"
#include "tests/test.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DOCS = 12 };

// What the stream did, for the checks.
typedef struct {
    int submitted_at[MAX_DOCS], taken_at[MAX_DOCS]; // step numbers
    int max_active, busy_refusals, steps;
} trace;

// Runs docs[0..n) through x's stream: document i is submitted once `step` reaches
// join[i] and there is room (documents are submitted in order), then steps until all
// are taken. types[i], adapters[i] may be NULL. out[i] / rcs[i] get each answer.
static int run_stream(ds_extractor *x, ds_doc **docs, const char **types,
                      const ds_lora *const *adapters, const int *join, int n, json_t **out,
                      int *rcs, char (*errs)[DS_EXTRACT_ERR_LEN], trace *t) {
    memset(t, 0, sizeof *t);
    int next = 0, left = n;
    while (left > 0) {
        while (next < n && join[next] <= t->steps) {
            int rc = ds_extractor_submit(x, docs[next], types ? types[next] : NULL,
                                         adapters ? adapters[next] : NULL, (void *)(intptr_t)next);
            if (rc == DS_E_BUSY) {
                t->busy_refusals++;
                break;
            }
            DS_CHECK_INT_EQ(rc, 0);
            t->submitted_at[next++] = t->steps;
        }
        int active = ds_extractor_active(x);
        t->max_active = active > t->max_active ? active : t->max_active;
        ds_extractor_step(x);
        t->steps++;
        DS_CHECK(t->steps < 100000);
        void *tag;
        json_t *o;
        int rc;
        char err[DS_EXTRACT_ERR_LEN];
        while (ds_extractor_take(x, &tag, &o, &rc, err)) {
            int i = (int)(intptr_t)tag;
            out[i] = o;
            rcs[i] = rc;
            snprintf(errs[i], DS_EXTRACT_ERR_LEN, "%s", err);
            t->taken_at[i] = t->steps;
            left--;
        }
    }
    return 0;
}

// Whether two answers are the same (every field's value, page, box and confidence).
static int same_answer(const json_t *a, const json_t *b, int i) {
    if (json_equal((json_t *)a, (json_t *)b)) return 1;
    char *sa = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
    char *sb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
    printf("  document %d differs:\n    alone:  %.600s\n    stream: %.600s\n", i, sa, sb);
    free(sa);
    free(sb);
    return 0;
}

// Generated documents of each type (born-digital), read at the model's input size.
static int make_docs(const ds_extractor *x, ds_doc **docs, int *n) {
    static const char *types[4] = {"invoice", "receipt", "form", "contract"};
    char dir[512];
    snprintf(dir, sizeof dir, "%s/stream-docs", ds_test_tmpdir());
    *n = 0;
    for (int k = 0; k < 4; k++) {
        int count = k < 2 ? 2 : 1;
        ds_synth_opts o = {.type = types[k], .count = count, .seed = 4200 + k, .out_dir = dir};
        DS_CHECK_INT_EQ(ds_synth_generate(&o), 0);
        for (int i = 0; i < count; i++) {
            char path[700];
            snprintf(path, sizeof path, "%s/%s-%lu-%05d.pdf", dir, types[k], o.seed, i);
            ds_ingest_opts io;
            ds_extractor_ingest_opts(x, &io);
            io.ocr = DS_OCR_NEVER;
            int rc = ds_ingest_file(path, &io, &docs[*n]);
            if (rc) printf("  %s: %s\n", path, ds_errmsg());
            DS_CHECK_INT_EQ(rc, 0);
            (*n)++;
        }
    }
    return 0;
}

// The default model: six generated documents (two invoices, two receipts, a form, a
// contract) and one asking for a type that does not exist. Alone, one at a time; then
// through a stream of three places that they join at steps 0, 0, 3, 9, 10, 11, 12: the
// later ones wait for room, which the first ones free as they finish.
DS_TEST(extract_stream_matches_alone) {
    ds_fx_init();
    ds_extractor_cfg c = {.model = DS_SOURCE_DIR "/models/default.safetensors",
                          .schemas_dir = DS_SOURCE_DIR "/samples/schemas",
                          .threads = 2,
                          .max_batch = 3,
                          .opts = {.windows = 1}};
    ds_extractor *x;
    DS_CHECK_INT_EQ(ds_extractor_open(&c, &x), 0);
    ds_doc *docs[MAX_DOCS];
    int n;
    DS_CHECK(make_docs(x, docs, &n) == 0);
    DS_CHECK_INT_EQ(n, 6);
    docs[n] = docs[0];
    const char *types[MAX_DOCS] = {0};
    types[n++] = "no-such-type";
    json_t *alone[MAX_DOCS], *got[MAX_DOCS] = {0};
    int rcs_alone[MAX_DOCS], rcs[MAX_DOCS];
    char errs_alone[MAX_DOCS][DS_EXTRACT_ERR_LEN], errs[MAX_DOCS][DS_EXTRACT_ERR_LEN];
    for (int i = 0; i < n; i++)
        ds_extractor_docs(x, (const ds_doc *const *)&docs[i], &types[i], 1, &alone[i],
                          &rcs_alone[i], &errs_alone[i]);
    int join[MAX_DOCS] = {0, 0, 3, 9, 10, 11, 12};
    trace t;
    DS_CHECK(run_stream(x, docs, types, NULL, join, n, got, rcs, errs, &t) == 0);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        printf("  document %d: joined at step %d, left at %d%s%s\n", i, t.submitted_at[i],
               t.taken_at[i], rcs[i] ? ": " : "", rcs[i] ? errs[i] : "");
        if (rcs_alone[i] || rcs[i]) {
            bad += rcs[i] != rcs_alone[i] || strcmp(errs[i], errs_alone[i]) != 0;
            continue;
        }
        bad += !same_answer(alone[i], got[i], i);
    }
    printf("  %d steps, up to %d documents in the stream, %d refusals for want of room\n", t.steps,
           t.max_active, t.busy_refusals);
    // the unknown type: its own error, the others all answered
    bad += rcs[n - 1] != DS_E_INVAL || !strstr(errs[n - 1], "no-such-type");
    for (int i = 0; i < n - 1; i++) bad += rcs[i] != 0;
    // continuous: document 2 joined while 0 and 1 were decoding and left before them; the
    // later ones waited for room and joined at the step an earlier one left
    bad += !(t.submitted_at[2] < t.taken_at[0] && t.taken_at[2] < t.taken_at[0]);
    for (int i = 3; i < n; i++) {
        int freed = 0;
        for (int j = 0; j < i; j++) freed |= t.taken_at[j] == t.submitted_at[i];
        bad += !freed || t.submitted_at[i] <= join[i];
    }
    bad += t.max_active != 3 || t.busy_refusals == 0;
    for (int i = 0; i < n; i++) {
        json_decref(alone[i]);
        json_decref(got[i]);
    }
    for (int i = 0; i < n - 1; i++) ds_doc_free(docs[i]);
    ds_extractor_free(x);
    return bad != 0;
}

// A random tiny model that reads 2 pages a sequence: a 5-page document read in 3
// windows while one-page documents pass through the stream, with and without an
// adapter of random weights (so it changes the answers). Each must equal its answer
// alone with the same adapter attached.
DS_TEST(extract_stream_windows_and_adapters) {
    ds_fx_init();
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    const char *lines2[2] = {"Invoice 4471 dated 12 March 2024 Acme Tools Ltd",
                             "Total 1,445.40 EUR due 2024-04-11"};
    enum { PAGES = 5 };
    ds_page pages[PAGES];
    ds_doc *one, *inv, longdoc;
    DS_CHECK_INT_EQ(ds_fx_contract_docs(cfg.img_size, PAGES, pages, &one, &longdoc), 0);
    DS_CHECK_INT_EQ(ds_fx_text_doc(lines2, 2, cfg.img_size, &inv), 0);
    ds_model *m;
    DS_CHECK(ds_fixture_text_model(&cfg, "Agreement made between governed laws State Invoice Total",
                                   320, 3, &m) == 0);
    ds_lora *l;
    DS_CHECK(ds_lora_new(m, 4, 8, 0, 17, &l) == 0);
    ds_rng r;
    ds_rng_seed(&r, 23);
    ds_rng_fill_normal(&r, l->params, l->table.total, 0.0f, 0.3f);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    ds_extractor *x;
    DS_CHECK(ds_extractor_new(m, ctx, &schemas, &x) == 0);
    DS_CHECK_INT_EQ(ds_extractor_set_batch(x, 4), 0);
    ds_extractor_set_opts(x, &(ds_decode_opts){.spans_only = 1, .windows = 1});
    enum { N = 6 };
    ds_doc *docs[N] = {&longdoc, inv, one, &longdoc, inv, one};
    const char *types[N] = {"contract", "invoice", NULL, "contract", NULL, "contract"};
    const ds_lora *ads[N] = {NULL, l, NULL, l, NULL, l};
    json_t *alone[N], *got[N] = {0};
    int rcs[N], rc_alone[N], bad = 0, changed = 0;
    char errs[N][DS_EXTRACT_ERR_LEN];
    for (int i = 0; i < N; i++) { // alone: the adapter attached to the model, or none
        if (ads[i])
            ds_lora_attach(m, l);
        else
            ds_lora_detach(m);
        rc_alone[i] = ds_extractor_doc(x, docs[i], types[i], &alone[i]);
        if (rc_alone[i]) printf("  document %d alone: %s\n", i, ds_errmsg());
    }
    ds_lora_detach(m); // the stream names each document's adapter (NULL: the model's, none)
    int join[N] = {0, 1, 2, 2, 7, 8};
    trace t;
    DS_CHECK(run_stream(x, docs, types, ads, join, N, got, rcs, errs, &t) == 0);
    DS_CHECK(m->lora == NULL); // the stream leaves the model as it found it
    for (int i = 0; i < N; i++) {
        printf("  document %d (%d pages, %s): joined at step %d, left at %d, %lld windows\n", i,
               docs[i]->n_pages, ads[i] ? "adapter" : "no adapter", t.submitted_at[i],
               t.taken_at[i], (long long)json_integer_value(json_object_get(got[i], "windows")));
        if (rcs[i] || rc_alone[i]) {
            printf("  document %d: %s\n", i, errs[i]);
            bad++;
            continue;
        }
        bad += !same_answer(alone[i], got[i], i);
    }
    // the adapter changes answers: document 3 (with it) against document 0 (without)
    changed = !json_equal(alone[0], alone[3]);
    printf("  the adapter changes the long document's answer: %s\n", changed ? "yes" : "no");
    bad += !changed;
    bad += json_integer_value(json_object_get(got[0], "windows")) != 3;
    bad += json_integer_value(json_object_get(got[3], "windows")) != 3;
    bad += !(t.submitted_at[1] < t.taken_at[0]); // joined while the long one was read
    for (int i = 0; i < N; i++) {
        json_decref(alone[i]);
        json_decref(got[i]);
    }
    ds_extractor_free(x);
    ds_lora_free(l);
    ds_model_free(m);
    ds_ctx_free(ctx);
    ds_doc_free(one);
    ds_doc_free(inv);
    ds_schema_set_free(&schemas);
    return bad != 0;
}

// The fields of answer a (borrowed).
static json_t *fields_of(json_t *a) {
    return json_object_get(a, "fields");
}

// How many windows answer a read ("windows" is only there when there were several).
static long windows_of(json_t *a) {
    long n = (long)json_integer_value(json_object_get(a, "windows"));
    return n ? n : 1;
}

// A document nobody typed is named by the base weights, then read again by the named
// type's adapter: a random tiny model saved with a random adapter beside it under every
// type's name (MODEL.TYPE.lora.safetensors), and once alone. A 5-page document (3
// windows) and a one-page one, routed, must answer what naming that type answers (the
// adapter read every window), keep the type confidence of the base's routing, and
// differ from what the base alone answers.
DS_TEST(extract_routed_read_by_type_adapter) {
    ds_fx_init();
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    enum { PAGES = 5 };
    ds_page pages[PAGES];
    ds_doc *one, longdoc;
    DS_CHECK_INT_EQ(ds_fx_contract_docs(cfg.img_size, PAGES, pages, &one, &longdoc), 0);
    ds_model *m;
    DS_CHECK(ds_fixture_text_model(&cfg, "Agreement made between governed laws State Signed", 320,
                                   5, &m) == 0);
    ds_lora *l;
    DS_CHECK(ds_lora_new(m, 4, 8, 0, 29, &l) == 0);
    ds_rng r;
    ds_rng_seed(&r, 31);
    ds_rng_fill_normal(&r, l->params, l->table.total, 0.0f, 0.3f);
    char typed_model[600], base_model[600], path[4096];
    snprintf(typed_model, sizeof typed_model, "%s/routed.safetensors", ds_test_tmpdir());
    snprintf(base_model, sizeof base_model, "%s/routed-base.safetensors", ds_test_tmpdir());
    DS_CHECK_INT_EQ(ds_model_save(m, typed_model), 0);
    DS_CHECK_INT_EQ(ds_model_save(m, base_model), 0);
    for (int s = 0; s < schemas.n; s++) {
        ds_type_adapter_path(typed_model, schemas.schemas[s].doc_type, path, sizeof path);
        DS_CHECK_INT_EQ(ds_lora_save(l, m, path), 0);
    }
    ds_extractor_cfg c = {.model = typed_model,
                          .schemas = &schemas,
                          .calibration = "none",
                          .threads = 1,
                          .opts = {.spans_only = 1, .windows = 1}};
    ds_extractor *x, *xb;
    DS_CHECK_INT_EQ(ds_extractor_open(&c, &x), 0);
    c.model = base_model;
    DS_CHECK_INT_EQ(ds_extractor_open(&c, &xb), 0);
    ds_doc *docs[2] = {&longdoc, one};
    int bad = 0;
    for (int i = 0; i < 2; i++) {
        json_t *routed = NULL, *base = NULL, *named = NULL;
        DS_CHECK_INT_EQ(ds_extractor_doc(x, docs[i], NULL, &routed), 0);
        DS_CHECK_INT_EQ(ds_extractor_doc(xb, docs[i], NULL, &base), 0);
        const char *type = json_string_value(json_object_get(base, "doc_type"));
        DS_CHECK(type != NULL);
        DS_CHECK_INT_EQ(ds_extractor_doc(x, docs[i], type, &named), 0);
        double conf = json_number_value(json_object_get(routed, "confidence"));
        double base_conf = json_number_value(json_object_get(base, "confidence"));
        long windows = windows_of(routed);
        printf("  %d pages: named %s (%.3f) by the base, %ld window(s) read by its adapter (first: "
               "named, then routed)\n",
               docs[i]->n_pages, type, base_conf, windows);
        bad += strcmp(json_string_value(json_object_get(routed, "doc_type")), type) != 0;
        bad += !same_answer(fields_of(named), fields_of(routed), i);
        bad += json_equal(fields_of(base), fields_of(routed)); // the adapter was read
        bad += fabs(conf - base_conf) > 1e-9;
        bad += windows != windows_of(named);
        bad += i == 0 && windows != 3;
        json_decref(routed);
        json_decref(base);
        json_decref(named);
    }
    ds_extractor_free(x);
    ds_extractor_free(xb);
    ds_lora_free(l);
    ds_model_free(m);
    ds_doc_free(one);
    ds_schema_set_free(&schemas);
    return bad != 0;
}
