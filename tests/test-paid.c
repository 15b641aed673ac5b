// test-paid.c: a receipt's payment lines (fusion/paid.c) read from PDFs of known
// lines: what was due is the cash handed over less the change, only when both
// labels stand on their lines with amounts, the change a few lines below, and the
// difference printed elsewhere; and a total decoded by random tiny models (their
// pointers are noise, and some decide it is null) is that amount whenever the page
// says so, never one of the four other amounts.
#include "core/error.h"
#include "samples/paid.h"
#include "tests/decode-fixtures.h"
#include "tests/ingest-fixtures.h"
#include "tests/test.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define MAX_LINES 10

static const struct {
    const char *what;
    const char *lines[MAX_LINES];
    double due; // 0: none
} receipts[] = {
    {"rounded till",
     {"TOTAL 80.91", "ROUNDING -0.01", "TOTAL SALES 80.90", "CASH : 100.00", "CHANGE : 19.10"},
     80.90},
    {"cash received, no change",
     {"Total Amount: 327.00", "Cash Received 327.00", "Change 0.00"},
     327.00},
    {"TOTAL PAID is no cash handed over",
     {"TOTAL PAID 80.90", "CASH 100.00", "CHANGE 19.10"},
     80.90},
    {"CASHIER is no cash", {"CASHIER ALI 12.00", "TOTAL 8.00", "CHANGE 4.00"}, 0},
    {"the difference printed nowhere",
     {"Total Amount: 34.00", "Cash Received 101.00", "Change : 70.00"},
     0},
    {"no change line", {"TOTAL 14.10", "CASH 20.00", "THANK YOU"}, 0},
    {"change far below the cash",
     {"TOTAL 15.90", "CASH 50.00", "GST SUMMARY", "SR 6% 15.00 0.90", "ZR 0.00 0.00", "ITEMS 3",
      "CHANGE 34.10"},
     0},
    {"change above what was handed over", {"TOTAL 9.00", "CASH 5.00", "CHANGE 6.00"}, 0},
    {"a card charged, no change", {"Total RM 86.00", "Visa RM 86.00", "Points Awarded 35"}, 86.00},
    {"a card charge printed nowhere else", {"TOTAL 68.87", "VISA 73.00"}, 0},
    {"a loyalty card's number is no charge",
     {"Shell Loyalty Card 6018840126306675", "TOTAL 20.00", "CASH 50.00", "CHANGE 30.00"},
     20.00},
};
#define N_RECEIPTS ((int)(sizeof receipts / sizeof *receipts))

static int n_lines(int r) {
    int n = 0;
    while (n < MAX_LINES && receipts[r].lines[n]) n++;
    return n;
}

DS_TEST(paid_due_lines) {
    ds_fx_init();
    int fails = 0;
    for (int r = 0; r < N_RECEIPTS; r++) {
        ds_doc *doc;
        DS_CHECK_INT_EQ(ds_fx_text_doc(receipts[r].lines, n_lines(r), 64, &doc), 0);
        double due = 0;
        int found = ds_paid_due(doc, &due);
        int ok = receipts[r].due > 0 ? found && fabs(due - receipts[r].due) < 0.005 : !found;
        printf("  %-36s -> %s %.2f (want %.2f)\n", receipts[r].what, found ? "due" : "none",
               found ? due : 0, receipts[r].due);
        fails += !ok;
        ds_doc_free(doc);
    }
    return fails;
}

DS_TEST(paid_due_constrains_total) {
    ds_fx_decode f;
    DS_CHECK(ds_fx_decode_open(&f) == 0);
    ds_doc *doc, *plain; // the rounded till: five amounts, the total the third; one without
    DS_CHECK_INT_EQ(ds_fx_text_doc(receipts[0].lines, n_lines(0), f.cfg.img_size, &doc), 0);
    DS_CHECK_INT_EQ(ds_fx_text_doc(receipts[5].lines, n_lines(5), f.cfg.img_size, &plain), 0);
    int decoded = 0, pointed = 0, right = 0, flagged = 0, flagged_plain = 0;
    for (int seed = 1; seed <= 12; seed++) {
        DS_CHECK(ds_fx_decode_model(&f, "TOTAL ROUNDING SALES CASH CHANGE", 320, (uint64_t)seed) ==
                 0);
        ds_extractor_set_opts(f.x, &(ds_decode_opts){.spans_only = 1});
        json_t *out = NULL;
        if (ds_extractor_doc(f.x, doc, "receipt", &out) == 0) {
            decoded++;
            const json_t *total = json_object_get(json_object_get(out, "fields"), "total");
            const char *v = json_string_value(json_object_get(total, "value"));
            // the value says it was held to the payment lines
            const char *check = json_string_value(json_object_get(total, "check"));
            flagged += v && check && !strcmp(check, "payment");
            pointed += v != NULL; // a random model may as well decide the total is null
            right += v && !strcmp(v, "80.90");
            if (v && strcmp(v, "80.90")) printf("  seed %d: total %s\n", seed, v);
        }
        json_decref(out);
        out = NULL; // a receipt whose lines give no amount due: no value says so
        if (ds_extractor_doc(f.x, plain, "receipt", &out) == 0)
            flagged_plain +=
                json_object_get(json_object_get(json_object_get(out, "fields"), "total"),
                                "check") != NULL;
        json_decref(out);
    }
    printf("  12 random models: %d decoded, %d with a total, 80.90 in %d, %d of them flagged "
           "\"check\": \"payment\"; %d flagged on a receipt without change\n",
           decoded, pointed, right, flagged, flagged_plain);
    ds_doc_free(doc);
    ds_doc_free(plain);
    ds_fx_decode_close(&f);
    return decoded != 12 || pointed < 3 || right != pointed || flagged != pointed ||
           flagged_plain != 0;
}
