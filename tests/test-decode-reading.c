// test-decode-reading.c: a value's raw confidence includes how sure OCR was of
// its words. The same page decoded twice by the same random tiny model, once
// with every word's OCR confidence 1 and once 0.5: the answers pick the same
// words (the model does not see OCR's confidence), and each value's confidence
// falls by 0.5 per word it spans (up to the extractor's rounding to 0.001).
#include "tests/decode-fixtures.h"
#include "tests/ingest-fixtures.h"
#include "tests/test.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static void set_conf(ds_doc *doc, float conf) {
    for (int p = 0; p < doc->n_pages; p++)
        for (int i = 0; i < doc->pages[p].n_words; i++) doc->pages[p].words[i].conf = conf;
}

static int words_in(const char *s) {
    int n = 0;
    for (const char *p = s; *p; p++) n += *p != ' ' && (p == s || p[-1] == ' ');
    return n;
}

DS_TEST(decode_confidence_includes_reading) {
    ds_fx_decode f;
    DS_CHECK(ds_fx_decode_open(&f) == 0);
    const char *lines[3] = {"Acme Tools Ltd Invoice 4471 dated 12 March 2024",
                            "Widgets 3 x 12 pieces due 2024-04-11",
                            "Subtotal 1,204.50 VAT 240.90 Total 1,445.40 EUR"};
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(lines, 3, f.cfg.img_size, &doc), 0);
    int values = 0, bad = 0, telling = 0;
    for (int seed = 1; seed <= 4; seed++) {
        DS_CHECK(ds_fx_decode_model(&f, "Acme Tools Invoice dated due Subtotal VAT Total", 320,
                                    (uint64_t)seed) == 0);
        ds_decode_opts o = {.spans_only = 1};
        ds_extractor_set_opts(f.x, &o);
        json_t *out[2] = {NULL, NULL};
        for (int k = 0; k < 2; k++) {
            set_conf(doc, k ? 0.5f : 1.0f);
            DS_CHECK_INT_EQ(ds_extractor_doc(f.x, doc, "invoice", &out[k]), 0);
        }
        const char *name;
        json_t *a;
        json_object_foreach(json_object_get(out[0], "fields"), name, a) {
            json_t *b = json_object_get(json_object_get(out[1], "fields"), name);
            if (!json_is_object(a)) continue;
            const char *va = json_string_value(json_object_get(a, "value"));
            const char *vb = json_string_value(json_object_get(b, "value"));
            double ca = json_number_value(json_object_get(a, "confidence"));
            double cb = json_number_value(json_object_get(b, "confidence"));
            double scale = pow(0.5, words_in(va ? va : "")), want = ca * scale;
            // the extractor rounds confidences to 0.001: both of them, so the bound is
            double tol = 0.0005 * (1 + scale) + 1e-9;
            values++;
            telling += ca - want > 2 * tol; // unscaled it would fail here
            if (!va || !vb || strcmp(va, vb) || fabs(cb - want) > tol) {
                bad++;
                printf("  seed %d %s: \"%s\" %.6g, at conf 0.5 \"%s\" %.6g (want %.6g)\n", seed,
                       name, va ? va : "", ca, vb ? vb : "", cb, want);
            }
        }
        json_decref(out[0]);
        json_decref(out[1]);
    }
    printf("  4 random models: %d span values (%d large enough to tell), %d not scaled by 0.5 "
           "per word\n",
           values, telling, bad);
    ds_doc_free(doc);
    ds_fx_decode_close(&f);
    DS_CHECK(telling >= 3 && bad == 0);
    return 0;
}
