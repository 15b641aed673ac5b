// test-generated-runs.c: training points at every value that is a run of the
// document's words and generates only the others (fusion/sequence.c), so a decoded
// value generated token by token that spells such a run is taken back and pointed
// at. Random tiny models sampled hot (their logits and pointers are noise) read a page
// of repeated fragments: no generated value of theirs spells a run of whole words;
// with the retraction off (keep_generated_runs) some do, so the check can fail.
#include "core/error.h"
#include "core/rng.h"
#include "tests/decode-fixtures.h"
#include "tests/ingest-fixtures.h"
#include "tests/test.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const page[] = {
    "Acme Tools Ltd Total 12.50 dated 2024-03-12 Acme Tools Total 12.50",
    "Invoice 4471 dated 12 March 2024 Total due 1,445.40 EUR",
    "Widgets 3 x 12 pieces Acme Trading 2024-03-12 Total 12.50",
};

// Counts the document's values by where they came from; *runs: the generated values
// that spell a run of whole words of hay (" the page's words ").
static void count(const json_t *out, const char *hay, int *generated, int *runs, int *spans) {
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(out, "fields"), key, v) {
        const char *s = json_string_value(json_object_get(v, "value"));
        const char *src = json_string_value(json_object_get(v, "source"));
        if (!s || !src) continue;
        *spans += !strcmp(src, "span");
        if (strcmp(src, "generated")) continue;
        char pad[1100];
        snprintf(pad, sizeof pad, " %s ", s);
        (*generated)++;
        *runs += strstr(hay, pad) != NULL;
    }
}

DS_TEST(generated_runs_pointed_at) {
    ds_fx_decode f;
    DS_CHECK(ds_fx_decode_open(&f) == 0);
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(page, 3, f.cfg.img_size, &doc), 0);
    char hay[2048] = " ";
    for (int i = 0; i < 3; i++) {
        strcat(hay, page[i]);
        strcat(hay, " ");
    }
    int answers[2] = {0}, generated[2] = {0}, runs[2] = {0}, spans[2] = {0};
    for (int seed = 1; seed <= 16; seed++) {
        // few merges: values are many tokens long, and fragments repeat
        DS_CHECK(ds_fx_decode_model(&f, "Acme Tools Total dated Widgets pieces", 300,
                                    (uint64_t)seed) == 0);
        for (int keep = 0; keep < 2; keep++) {
            ds_rng rng;
            ds_rng_seed(&rng, (uint64_t)seed * 131);
            for (int run = 0; run < 6; run++) {
                ds_decode_opts o = {.temperature = 1.0f + 0.5f * (float)run,
                                    .rng = &rng,
                                    .keep_generated_runs = keep};
                ds_extractor_set_opts(f.x, &o);
                json_t *out = NULL;
                int rc = ds_extractor_doc(f.x, doc, "receipt", &out);
                if (rc)
                    printf("  seed %d run %d: %s: %s\n", seed, run, ds_err_name(rc), ds_errmsg());
                if (!rc) {
                    answers[keep]++;
                    count(out, hay, &generated[keep], &runs[keep], &spans[keep]);
                }
                json_decref(out);
            }
        }
    }
    for (int keep = 0; keep < 2; keep++)
        printf("  %s: %d answers, %d values pointed at, %d generated, %d of these a run of "
               "whole words\n",
               keep ? "kept (keep_generated_runs)" : "taken back (default)", answers[keep],
               spans[keep], generated[keep], runs[keep]);
    ds_doc_free(doc);
    ds_fx_decode_close(&f);
    return answers[0] != 96 || answers[1] != 96 || runs[0] != 0 || runs[1] == 0 ||
           spans[0] <= spans[1];
}
