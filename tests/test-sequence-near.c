// test-sequence-near.c: values that are no exact run of the document's words
// still get pointer targets when a near run exists: a date printed in another
// format ("April 18, 2001" for 2001-04-18), an amount in another notation
// ("1.234,50" for 1234.50), a name as a normaliser writes it ("Nike_Inc." for
// "NIKE, Inc.") or as OCR misspells it ("Northwlnd" for "Northwind"). A value
// printed as it is keeps its exact run; a value with nothing near is generated.
#include "core/error.h"
#include "fusion/sequence.h"
#include "tests/ingest-fixtures.h"
#include "tests/model-fixtures.h"
#include "tests/test.h"

#include <jansson.h>
#include <string.h>

static int make_doc(const ds_model_cfg *cfg, ds_doc **doc) {
    static const char *lines[4] = {"Seller: NIKE, Inc. Beaverton",
                                   "Invoice INV-77 dated April 18, 2001",
                                   "Ship to Northwlnd Traders Ltd", "Total due 1.234,50 EUR"};
    return ds_fx_text_doc(lines, 4, cfg->img_size, doc);
}

// The words [start, end] of the value-th pointer pair, joined ("" when there is none).
static void pointed(const ds_seq *s, const ds_page *pg, int value, char *out, size_t cap) {
    out[0] = 0;
    for (int t = 0, k = 0; t + 1 < s->n; t++) {
        if (s->ptr_kind[t] != 1) continue;
        if (k++ != value) continue;
        for (int w = s->ptr_target[t]; w <= s->ptr_target[t + 1]; w++)
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", w > s->ptr_target[t] ? " " : "",
                     pg->words[w].text);
        return;
    }
}

DS_TEST(sequence_near_runs) {
    ds_fx_init();
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    ds_doc *doc = NULL;
    DS_CHECK_INT_EQ(make_doc(&cfg, &doc), 0);
    ds_model *m;
    DS_CHECK(ds_fixture_text_model(&cfg,
                                   "Seller NIKE Inc Invoice April Total due EUR Northwind Traders",
                                   300, 1, &m) == 0);
    // schema order: seller_name, buyer_name, invoice_number, invoice_date, ..., total
    json_t *truth =
        json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "doc_type", "invoice", "fields",
                  "seller_name", "Nike_Inc.", "buyer_name", "Northwind Traders Ltd",
                  "invoice_number", "INV-77", "invoice_date", "2001-04-18", "total", "1234.50");
    json_t *absent = json_pack("{s:s, s:{s:s}}", "doc_type", "invoice", "fields", "seller_name",
                               "Quixotic Zebra Holdings");
    ds_seq s, s2;
    ds_seq_info info, info2;
    DS_CHECK_INT_EQ(ds_seq_build(m, &schemas, doc, truth, &s, &info), 0);
    DS_CHECK_INT_EQ(ds_seq_build(m, &schemas, doc, absent, &s2, &info2), 0);
    static const char *want[5] = {"NIKE, Inc.", "Northwlnd Traders Ltd", "INV-77", "April 18, 2001",
                                  "1.234,50"};
    int bad = 0;
    char got[5][256];
    for (int v = 0; v < 5; v++) pointed(&s, &doc->pages[0], v, got[v], sizeof got[v]);
    for (int k = 0; k < 5; k++) {
        int found = 0;
        for (int v = 0; v < 5; v++) found |= strcmp(got[v], want[k]) == 0;
        printf("  \"%s\": %s\n", want[k], found ? "a pointer target" : "NOT pointed at");
        bad |= !found;
    }
    printf("  %d values: %d pointers (%d at near runs), %d generated; a name found nowhere: %d "
           "generated\n",
           info.n_values, info.n_values_span, info.n_values_near, info.n_values_gen,
           info2.n_values_gen);
    bad |= info.n_values_span != 5 || info.n_values_near != 4 || info.n_values_gen != 0;
    bad |= info2.n_values_gen != 1 || info2.n_values_span != 0;
    ds_seq_free(&s);
    ds_seq_free(&s2);
    json_decref(truth);
    json_decref(absent);
    ds_model_free(m);
    ds_doc_free(doc);
    ds_schema_set_free(&schemas);
    return bad;
}
