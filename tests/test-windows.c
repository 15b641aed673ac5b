// test-windows.c: a document longer than one sequence is read in windows of
// pages and their answers merged (fusion/windows.h): by hand, the surest value
// of a field wins, a list comes from the first window naming items (each once),
// pages shift by the window's first page; end to end, random tiny models (2 pages per sequence)
// read a 5-page document in 3 windows and return values from its later pages, which a single window
// never sees.
#include "core/error.h"
#include "fusion/extract.h"
#include "fusion/sequence.h"
#include "fusion/windows.h"
#include "tests/ingest-fixtures.h"
#include "tests/model-fixtures.h"
#include "tests/test.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

DS_TEST(windows_merge_by_hand) {
    json_t *into =
        json_loads("{\"doc_type\": \"contract\", \"fields\": {"
                   "\"date\": {\"value\": \"1 May 2020\", \"page\": 1, \"confidence\": 0.5},"
                   "\"law\": null, \"kept\": {\"value\": \"x\", \"page\": 2, \"confidence\": 0.9},"
                   "\"parties\": [{\"value\": \"Acme Inc.\", \"page\": 1, \"confidence\": 0.8}],"
                   "\"signers\": []}}",
                   0, NULL);
    json_t *more =
        json_loads("{\"doc_type\": \"contract\", \"fields\": {"
                   "\"date\": {\"value\": \"2 May 2020\", \"page\": 1, \"confidence\": 0.7},"
                   "\"law\": {\"value\": \"Ohio\", \"page\": 2, \"confidence\": 0.2},"
                   "\"kept\": {\"value\": \"y\", \"page\": 1, \"confidence\": 0.4},"
                   "\"parties\": [{\"value\": \"Beta LLC\", \"page\": 2, \"confidence\": 0.9}],"
                   "\"signers\": [{\"value\": \"Ann Lee\", \"page\": 1, \"confidence\": 0.9},"
                   "              {\"value\": \"ann  LEE\", \"page\": 2, \"confidence\": 0.9},"
                   "              {\"value\": \"Bo Kim\", \"page\": 2, \"confidence\": 0.6}]}}",
                   0, NULL);
    DS_CHECK(into && more);
    DS_CHECK_INT_EQ(ds_windows_merge(into, more, 3), 0);
    json_t *f = json_object_get(into, "fields");
    char *shown = json_dumps(f, JSON_SORT_KEYS | JSON_COMPACT);
    printf("  merged: %s\n", shown);
    free(shown);
    json_t *date = json_object_get(f, "date"), *law = json_object_get(f, "law");
    json_t *kept = json_object_get(f, "kept"), *parties = json_object_get(f, "parties");
    json_t *signers = json_object_get(f, "signers");
    int bad = 0;
    bad += strcmp(json_string_value(json_object_get(date, "value")), "2 May 2020") != 0;
    bad += json_integer_value(json_object_get(date, "page")) != 4; // page 1 of a window at 4
    bad += strcmp(json_string_value(json_object_get(law, "value")), "Ohio") != 0;
    bad += json_integer_value(json_object_get(law, "page")) != 5;
    bad += strcmp(json_string_value(json_object_get(kept, "value")), "x") != 0; // surer
    bad += json_integer_value(json_object_get(kept, "page")) != 2;
    bad += json_array_size(parties) != 1; // the first window named the parties
    bad += json_array_size(signers) != 2; // "ann  LEE" is Ann Lee again
    bad += strcmp(json_string_value(json_object_get(json_array_get(signers, 1), "value")),
                  "Bo Kim") != 0;
    bad += json_integer_value(json_object_get(json_array_get(signers, 1), "page")) != 5;
    json_decref(into);
    json_decref(more);
    return bad;
}

DS_TEST(windows_read_every_page) {
    ds_fx_init();
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    DS_CHECK(cfg.max_pages == 2);
    // five pages, each the same page (the extractor only reads them)
    enum { PAGES = 5 };
    ds_page pages[PAGES];
    ds_doc *one, doc;
    DS_CHECK_INT_EQ(ds_fx_contract_docs(cfg.img_size, PAGES, pages, &one, &doc), 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    int decoded = 0, windowed = 0, late = 0, out_of_range = 0, single_late = 0, off_grid = 0;
    for (int seed = 1; seed <= 8; seed++) {
        ds_model *m;
        DS_CHECK(ds_fixture_text_model(&cfg,
                                       "Agreement made between governed laws State years Signed",
                                       320, (uint64_t)seed, &m) == 0);
        ds_extractor *x;
        DS_CHECK(ds_extractor_new(m, ctx, &schemas, &x) == 0);
        for (int w = 0; w < 2; w++) {
            ds_extractor_set_opts(x, &(ds_decode_opts){.spans_only = 1, .windows = w});
            json_t *out = NULL;
            if (ds_extractor_doc(x, &doc, "contract", &out) != 0) {
                printf("  seed %d: %s\n", seed, ds_errmsg());
                continue;
            }
            decoded++;
            if (w) windowed += json_integer_value(json_object_get(out, "windows")) == 3;
            const char *name;
            json_t *v;
            json_object_foreach(json_object_get(out, "fields"), name, v) {
                json_t *items = json_is_array(v) ? v : NULL;
                size_t n = items ? json_array_size(items) : 1;
                for (size_t i = 0; i < n; i++) {
                    json_t *it = items ? json_array_get(items, i) : v;
                    if (!json_is_object(it)) continue;
                    json_int_t page = json_integer_value(json_object_get(it, "page"));
                    // merged at full precision, then rounded for the answer
                    double c = json_number_value(json_object_get(it, "confidence")) * 1000;
                    off_grid += fabs(c - round(c)) > 1e-6;
                    out_of_range += page < 1 || page > PAGES;
                    if (page > cfg.max_pages) w ? late++ : single_late++;
                }
            }
            json_decref(out);
        }
        ds_extractor_free(x);
        ds_model_free(m);
    }
    printf("  8 random models, a 5-page document, 2 pages a sequence: %d of 16 decoded, %d of 8 "
           "in 3 windows; values beyond page 2: %d with windows, %d without; %d off the document\n",
           decoded, windowed, late, single_late, out_of_range);
    printf("  confidences finer than 0.001 in the answers: %d\n", off_grid);
    ds_ctx_free(ctx);
    ds_doc_free(one);
    ds_schema_set_free(&schemas);
    return decoded != 16 || windowed != 8 || late == 0 || single_late != 0 || out_of_range != 0 ||
           off_grid != 0;
}

// Training on a later window: a value the window's words do not hold is written as
// absent ([null]; a list keeps only the items it shows) instead of generated; skipped
// (truth the page does not print), it is absent with no loss on it.
DS_TEST(windows_training_absent_values) {
    ds_fx_init();
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    const char *lines[2] = {"It is governed by the laws of the State of Ohio",
                            "Signed by Beta LLC"};
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(lines, 2, cfg.img_size, &doc), 0);
    ds_model *m;
    DS_CHECK(ds_fixture_text_model(&cfg,
                                   "governed laws State Ohio Signed Beta LLC Acme Inc. 2 May 2020",
                                   320, 1, &m) == 0);
    json_t *truth = json_loads("{\"doc_type\": \"contract\", \"fields\": {"
                               "\"parties\": [\"Acme Inc.\", \"Beta LLC\"],"
                               "\"effective_date\": \"2 May 2020\", \"jurisdiction\": \"Ohio\"}}",
                               0, NULL);
    DS_CHECK(truth != NULL);
    int bad = 0;
    for (int unseen = DS_UNSEEN_GENERATE; unseen <= DS_UNSEEN_SKIPPED; unseen++) {
        ds_seq s;
        ds_seq_info info;
        DS_CHECK_INT_EQ(ds_seq_build_window(m, &schemas, doc, truth, unseen, &s, &info), 0);
        int nulls = 0, learned_nulls = 0, copies = 0;
        for (int t = s.n_prefix; t < s.n; t++) {
            nulls += s.ids[t] == DS_TOK_NULLV;
            learned_nulls += s.ids[t] == DS_TOK_NULLV && s.target_w[t - 1] > 0;
            copies += s.ids[t] == DS_TOK_COPY;
        }
        printf("  unseen_null %d: %d values, %d at runs, %d generated, %d absent, %d skipped; "
               "answer has %d [null] (%d learned) and %d [copy]\n",
               unseen, info.n_values, info.n_values_span, info.n_values_gen, info.n_values_unseen,
               info.n_values_skipped, nulls, learned_nulls, copies);
        // Ohio and Beta LLC are on the page; Acme Inc. and the date are not
        bad += info.n_values_span != 2 || copies != 2;
        if (unseen == DS_UNSEEN_ABSENT) // the date [null] and term [null] (absent from the
            // truth), Acme left out
            bad += info.n_values_unseen != 2 || info.n_values_gen != 0 || nulls != 2 ||
                   learned_nulls != 2 || info.n_values_skipped != 0;
        else if (unseen == DS_UNSEEN_SKIPPED) // the same, but only the term's [null] learned
            bad += info.n_values_skipped != 2 || info.n_values_unseen != 0 ||
                   info.n_values_gen != 0 || nulls != 2 || learned_nulls != 1;
        else
            bad += info.n_values_unseen != 0 || info.n_values_gen != 2 || nulls != 1 ||
                   info.n_values_skipped != 0;
        ds_seq_free(&s);
    }
    json_decref(truth);
    ds_model_free(m);
    ds_doc_free(doc);
    ds_schema_set_free(&schemas);
    return bad;
}
