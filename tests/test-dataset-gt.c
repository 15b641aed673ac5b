// test-dataset-gt.c: training from a public format's folder (`--format kleister`):
// its truth becomes docseek ground truth the sequence builder can point with:
// Kleister's "party" is the contract schema's "parties", a single value written
// as key=value is a value (not a one-item list), '_' for spaces is a space, and
// the prepared sequence points at the parties and the date (they were all
// absent once: parties under another name, the rest as one-item lists).
#include "core/error.h"
#include "fusion/sequence.h"
#include "tests/ingest-fixtures.h"
#include "tests/model-fixtures.h"
#include "tests/test.h"
#include "train/dataset.h"

#include <jansson.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

// A Kleister folder of one NDA (a PDF with a text layer) in DIR/documents and its labels.
// Returns 0, or 1 when a step failed.
static int kleister_set(const char *dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/documents", dir);
    mkdir(dir, 0755);
    mkdir(path, 0755);
    ds_fx_pdf p;
    DS_CHECK(ds_fx_pdf_begin(&p, 612, 792) == 0);
    ds_fx_pdf_text(&p, 72, 80, 11, 1, "CONFIDENTIALITY AGREEMENT");
    ds_fx_pdf_text(&p, 72, 100, 11, 0, "This Agreement is made on August 3, 2009 between");
    ds_fx_pdf_text(&p, 72, 120, 11, 0,
                   "Aspect Medical Systems, Inc. and Tyco Healthcare Group LP.");
    ds_fx_pdf_text(&p, 72, 140, 11, 0, "It is governed by the laws of the State of New York.");
    ds_fx_buf pdf;
    DS_CHECK(ds_fx_pdf_end(&p, &pdf) == 0);
    snprintf(path, sizeof path, "%s/documents/nda1.pdf", dir);
    DS_CHECK(ds_fx_write_file(path, pdf.data, pdf.n) == 0);
    ds_fx_buf_free(&pdf);
    snprintf(path, sizeof path, "%s/labels.tsv", dir);
    FILE *f = fopen(path, "w");
    DS_CHECK(f != NULL);
    fprintf(f, "nda1.pdf\teffective_date=2009-08-03 jurisdiction=New_York "
               "party=Aspect_Medical_Systems_Inc. party=Tyco_Healthcare_Group_LP\n");
    fclose(f);
    return 0;
}

DS_TEST(dataset_kleister_truth) {
    ds_fx_init();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/kleister-set", ds_test_tmpdir());
    DS_CHECK_INT_EQ(kleister_set(dir), 0);

    const char *dirs[1] = {dir};
    ds_dataset d;
    DS_CHECK_INT_EQ(ds_dataset_open("kleister", dirs, 1, DS_SOURCE_DIR "/samples/schemas", &d), 0);
    DS_CHECK_INT_EQ(d.n, 1);
    json_t *fields = json_object_get(d.truths[0], "fields");
    char *shown = json_dumps(fields, JSON_SORT_KEYS | JSON_COMPACT);
    printf("  truth: %s\n", shown);
    free(shown);
    int bad = 0;
    bad += json_array_size(json_object_get(fields, "parties")) != 2;
    bad += json_object_get(fields, "party") != NULL;
    bad += !json_is_string(json_object_get(fields, "effective_date"));
    const char *law = json_string_value(json_object_get(fields, "jurisdiction"));
    bad += !law || strcmp(law, "New York") != 0;

    // the sequence points at both parties (near runs: "Aspect Medical Systems, Inc."),
    // the date (a run reading as the same date) and the state
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    ds_model *m;
    DS_CHECK(ds_fixture_text_model(&cfg,
                                   "Agreement made between Aspect Medical Systems Tyco State York",
                                   320, 1, &m) == 0);
    DS_CHECK_INT_EQ(ds_dataset_prepare(&d, m, &schemas, 1, NULL), 0);
    int copies = 0;
    const ds_seq *s = &d.seqs[0];
    for (int t = s->n_prefix; t < s->n; t++) copies += s->ids[t] == DS_TOK_COPY;
    printf("  answer points %d times (2 parties, the date, the state)\n", copies);
    bad += copies != 4;
    ds_dataset_free(&d);
    ds_model_free(m);
    ds_schema_set_free(&schemas);
    return bad;
}

// finetune --repeat: each document listed N times an epoch, prepared and held once (its
// copies used to be prepared and held each); documents appended after it are listed
// once (every window as often as its document: tests/train-windows.sh). Fewer than one
// time, or a count past INT_MAX, is refused.
DS_TEST(dataset_repeat) {
    ds_fx_init();
    char dir[1024], cache[1100];
    snprintf(dir, sizeof dir, "%s/kleister-repeat", ds_test_tmpdir());
    snprintf(cache, sizeof cache, "%s/cache", dir);
    DS_CHECK_INT_EQ(kleister_set(dir), 0);
    const char *dirs[1] = {dir};
    ds_dataset d, more;
    DS_CHECK_INT_EQ(ds_dataset_open("kleister", dirs, 1, DS_SOURCE_DIR "/samples/schemas", &d), 0);
    DS_CHECK_INT_EQ(ds_dataset_open("kleister", dirs, 1, DS_SOURCE_DIR "/samples/schemas", &more),
                    0);
    int docs = d.n;
    DS_CHECK(docs >= 1);
    DS_CHECK_INT_EQ(ds_dataset_repeat(&d, 0), DS_E_INVAL);
    DS_CHECK_INT_EQ(ds_dataset_repeat(&d, 3), 0);
    DS_CHECK_INT_EQ(ds_dataset_repeat(&d, INT_MAX), DS_E_INVAL);
    DS_CHECK_INT_EQ(d.n, docs); // listed, not copied
    DS_CHECK_INT_EQ(ds_dataset_append(&d, &more), 0);
    DS_CHECK_INT_EQ(d.n, 2 * docs);
    int bad = 0;
    for (int i = 0; i < d.n; i++) bad += ds_dataset_times(&d, i) != (i < docs ? 3 : 1);
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    ds_model *m;
    DS_CHECK(ds_fixture_text_model(&cfg, "Agreement made between Aspect Medical Tyco York", 320, 1,
                                   &m) == 0);
    DS_CHECK_INT_EQ(ds_dataset_prepare(&d, m, &schemas, 2, cache), 0);
    DS_CHECK_INT_EQ(d.n, 2 * docs); // one sequence each: the repeated one prepared once
    for (int i = 0; i < d.n; i++) bad += !d.ok[i] || ds_dataset_times(&d, i) != (i < docs ? 3 : 1);
    printf("  %d document(s) listed 3 times beside the same listed once: %d sequences, "
           "listed %d and %d times; %d wrong\n",
           docs, d.n, ds_dataset_times(&d, 0), ds_dataset_times(&d, d.n - 1), bad);
    ds_dataset_free(&d);
    ds_model_free(m);
    ds_schema_set_free(&schemas);
    return bad;
}
