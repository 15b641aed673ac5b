// test-form-signs.c: a form's entities (questions, answers, headers) decoded by random
// tiny models (their pointers are noise) from a page full of OCR's stray signs hold a
// letter or a digit every one; with the type constraints lifted some are signs alone.
#include "core/error.h"
#include "tests/decode-fixtures.h"
#include "tests/ingest-fixtures.h"
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
    static const char *form[] = {"| ; . :",
                                 "Name : John Smith |",
                                 ". . . — —",
                                 "“ Date : 12/03/2024 ”",
                                 "| | Remarks : none ;",
                                 "— : . |"};
    ds_fx_decode f;
    DS_CHECK(ds_fx_decode_open(&f) == 0);
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(form, 6, f.cfg.img_size, &doc), 0);
    int decoded = 0, items[2] = {0}, alone[2] = {0};
    for (int seed = 1; seed <= 8; seed++) {
        DS_CHECK(ds_fx_decode_model(&f, "Name Date Remarks John Smith", 320, (uint64_t)seed) == 0);
        for (int lifted = 0; lifted < 2; lifted++) {
            ds_extractor_set_opts(f.x,
                                  &(ds_decode_opts){.spans_only = 1, .no_type_constraint = lifted});
            json_t *out = NULL;
            if (ds_extractor_doc(f.x, doc, "form_entities", &out) == 0) {
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
    }
    printf("  8 random models: %d decoded, %d items, %d of them signs alone; with the type "
           "constraints lifted %d items, %d signs alone\n",
           decoded, items[0], alone[0], items[1], alone[1]);
    ds_doc_free(doc);
    ds_fx_decode_close(&f);
    return decoded != 8 || items[0] < 3 || alone[0] != 0 || alone[1] == 0;
}
