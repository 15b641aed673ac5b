// test-form-signs.c: a form's entities (questions, answers, headers) decoded by random
// tiny models (their pointers are noise) from a page full of OCR's stray signs hold a
// letter or a digit every one; with the type constraints lifted some are signs alone.
#include "core/error.h"
#include "fusion/extract.h"
#include "tests/ingest-fixtures.h"
#include "tests/model-fixtures.h"
#include "tests/test.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

// Whether s has no ASCII letter or digit (the page below has no other script).
static int signs_alone(const char *s) {
    for (; *s; s++)
        if (isalnum((unsigned char)*s)) return 0;
    return 1;
}

DS_TEST(form_entities_not_signs_alone) {
    ds_fx_init();
    static const char *form[] = {"| ; . :",
                                 "Name : John Smith |",
                                 ". . . — —",
                                 "“ Date : 12/03/2024 ”",
                                 "| | Remarks : none ;",
                                 "— : . |"};
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(form, 6, cfg.img_size, &doc), 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    int decoded = 0, items[2] = {0}, alone[2] = {0};
    for (int seed = 1; seed <= 8; seed++) {
        ds_model *m;
        DS_CHECK(ds_fixture_text_model(&cfg, "Name Date Remarks John Smith", 320, (uint64_t)seed,
                                       &m) == 0);
        ds_extractor *x;
        DS_CHECK(ds_extractor_new(m, ctx, &schemas, &x) == 0);
        for (int lifted = 0; lifted < 2; lifted++) {
            ds_extractor_set_opts(x,
                                  &(ds_decode_opts){.spans_only = 1, .no_type_constraint = lifted});
            json_t *out = NULL;
            if (ds_extractor_doc(x, doc, "form_entities", &out) == 0) {
                decoded += !lifted;
                const char *key;
                json_t *list;
                json_object_foreach(json_object_get(out, "fields"), key, list) {
                    size_t i;
                    json_t *it;
                    json_array_foreach(list, i, it) {
                        const char *v = json_string_value(json_object_get(it, "value"));
                        items[lifted]++;
                        alone[lifted] += v && signs_alone(v);
                        if (!lifted && v && signs_alone(v))
                            printf("  seed %d: %s \"%s\"\n", seed, key, v);
                    }
                }
            }
            json_decref(out);
        }
        ds_extractor_free(x);
        ds_model_free(m);
    }
    printf("  8 random models: %d decoded, %d items, %d of them signs alone; with the type "
           "constraints lifted %d items, %d signs alone\n",
           decoded, items[0], alone[0], items[1], alone[1]);
    ds_ctx_free(ctx);
    ds_doc_free(doc);
    ds_schema_set_free(&schemas);
    return decoded != 8 || items[0] < 3 || alone[0] != 0 || alone[1] == 0;
}
