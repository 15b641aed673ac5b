// test-paid.c: a receipt's own arithmetic (samples/paid.c) read from PDFs of known
// lines: what was due is the cash handed over less the change, only when both
// labels stand on their lines with amounts, the change a few lines below, and the
// difference printed elsewhere; or the subtotal and the tax below it, when a later line
// prints their sum. A total decoded by random tiny models (their pointers are noise,
// and some decide it is null) is that amount whenever the page says so, never one of
// the other amounts.
#include "core/error.h"
#include "samples/normalize.h"
#include "samples/paid.h"
#include "tests/decode-fixtures.h"
#include "tests/ingest-fixtures.h"
#include "tests/test.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define MAX_LINES 10

typedef struct {
    const char *what;
    const char *lines[MAX_LINES];
    double due; // 0: none
} due_case;

// ds_paid_due's: the payment lines
static const due_case receipts[] = {
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

// ds_sum_due's: the subtotal and the tax below it
static const due_case sums[] = {
    {"subtotal and tax, TOTAL misread",
     {"Sub Total RM 68.87", "Service Charge RM 0.00", "GST/TAX 6% RM 4.13", "TORe RM 73.00",
      "GST Summary Amount (RM) Tax (RM)", "SR @ 6% 68.87 4.13"},
     73.00},
    {"an invoice's subtotal and VAT",
     {"Subtotal 1,204.50", "VAT 20% 240.90", "Total 1,445.40 EUR"},
     1445.40},
    {"tax included: the sum printed nowhere",
     {"SUB-TOTAL (GST) 15.00", "GST 6% 0.85", "TOTAL 15.00"},
     0},
    {"tax far below the subtotal",
     {"Subtotal 10.00", "Item A 4.00", "Item B 6.00", "Discount 0.00", "GST 0.60", "Total 10.60"},
     0},
    {"the sum printed above only", {"Total 10.60", "Subtotal 10.00", "GST 0.60"}, 0},
    {"no subtotal", {"GST 0.60", "TOTAL 10.60", "CASH 20.00"}, 0},
    {"a total's line names the tax",
     {"SUBTOTAL 13.30", "Total Excl. GST 13.30", "GST 6% 0.80", "Total Incl. GST 14.10"},
     14.10},
    {"a service tax of nothing first",
     {"Sub Total 20.00", "Service Tax 0.00", "GST 6% 1.20", "Total 21.20"},
     21.20},
};

static int n_lines(const due_case *c) {
    int n = 0;
    while (n < MAX_LINES && c->lines[n]) n++;
    return n;
}

// Reads each of the n cases' pages with due_of: 0, or 1 when one reads otherwise than said.
static int dues_read(const due_case *cases, int n, int (*due_of)(const ds_doc *, double *)) {
    ds_fx_init();
    int fails = 0;
    for (int r = 0; r < n; r++) {
        ds_doc *doc;
        DS_CHECK_INT_EQ(ds_fx_text_doc(cases[r].lines, n_lines(&cases[r]), 64, &doc), 0);
        double due = 0;
        int found = due_of(doc, &due);
        int ok = cases[r].due > 0 ? found && fabs(due - cases[r].due) < 0.005 : !found;
        printf("  %-40s -> %s %.2f (want %.2f)\n", cases[r].what, found ? "due" : "none",
               found ? due : 0, cases[r].due);
        fails += !ok;
        ds_doc_free(doc);
    }
    return fails != 0;
}

DS_TEST(paid_due_lines) {
    return dues_read(receipts, (int)(sizeof receipts / sizeof *receipts), ds_paid_due);
}

DS_TEST(sum_due_lines) {
    return dues_read(sums, (int)(sizeof sums / sizeof *sums), ds_sum_due);
}

DS_TEST(paid_due_constrains_total) {
    ds_fx_decode f;
    DS_CHECK(ds_fx_decode_open(&f) == 0);
    // the rounded till: five amounts, the total the third; one without; a subtotal and tax
    ds_doc *doc, *plain, *summed;
    DS_CHECK_INT_EQ(ds_fx_text_doc(receipts[0].lines, n_lines(&receipts[0]), f.cfg.img_size, &doc),
                    0);
    DS_CHECK_INT_EQ(
        ds_fx_text_doc(receipts[5].lines, n_lines(&receipts[5]), f.cfg.img_size, &plain), 0);
    DS_CHECK_INT_EQ(ds_fx_text_doc(sums[0].lines, n_lines(&sums[0]), f.cfg.img_size, &summed), 0);
    int decoded = 0, pointed = 0, right = 0, flagged = 0, flagged_plain = 0, summed_totals = 0,
        sums_right = 0;
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
        out = NULL; // the subtotal and the tax: their sum, flagged so
        if (ds_extractor_doc(f.x, summed, "receipt", &out) == 0) {
            const json_t *total = json_object_get(json_object_get(out, "fields"), "total");
            const char *v = json_string_value(json_object_get(total, "value"));
            const char *check = json_string_value(json_object_get(total, "check"));
            summed_totals += v != NULL;
            double a = 0; // "73.00" or "RM 73.00": a run that reads as the amount
            int is_due = v && ds_norm_amount(v, &a) == 0 && fabs(a - 73.00) < 0.005;
            sums_right += is_due && check && !strcmp(check, "sum");
            if (v && !is_due) printf("  seed %d: summed total %s\n", seed, v);
        }
        json_decref(out);
    }
    printf("  12 random models: %d decoded, %d with a total, 80.90 in %d, %d of them flagged "
           "\"check\": \"payment\"; %d flagged on a receipt without change; on the summed "
           "receipt %d totals, %d of them 73.00 flagged \"sum\"\n",
           decoded, pointed, right, flagged, flagged_plain, summed_totals, sums_right);
    ds_doc_free(doc);
    ds_doc_free(plain);
    ds_doc_free(summed);
    ds_fx_decode_close(&f);
    return decoded != 12 || pointed < 3 || right != pointed || flagged != pointed ||
           flagged_plain != 0 || summed_totals < 3 || sums_right != summed_totals;
}
