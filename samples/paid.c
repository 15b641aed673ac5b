// paid.c: see paid.h.
#include "samples/paid.h"
#include "samples/normalize.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define LINES_TO_CHANGE 4 // the change line's distance below the tendered one, at most
#define LINES_TO_TAX    3 // the tax line's distance below the subtotal, at most

static int cents_value(const char *text, double *v) {
    return ds_norm_cents(text) && ds_norm_amount(text, v) == 0;
}

enum { NO_LABEL, TENDERED, CARD, CHANGE, TOTAL, SUB, SUBTOTAL, TAX };

// The word's letters, upper-cased, against the labels: "Cash:" is CASH, "CASHIER" none.
static int label_of(const char *text) {
    static const char *const tendered[] = {"CASH",     "TENDER", "TENDERED",
                                           "RECEIVED", "PAID",   "PAYMENT"};
    // a card is charged the amount due: no change follows it
    static const char *const cards[] = {"VISA", "MASTER", "MASTERCARD", "AMEX", "DEBIT", "CARD"};
    char up[16];
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (!isalpha((unsigned char)*p)) continue;
        if (n + 1 == sizeof up) return NO_LABEL;
        up[n++] = (char)toupper((unsigned char)*p);
    }
    up[n] = 0;
    static const char *const taxes[] = {"GST", "TAX", "VAT", "SST", "GSTTAX"};
    if (!strcmp(up, "CHANGE")) return CHANGE;
    if (!strcmp(up, "TOTAL")) return TOTAL; // "TOTAL PAID 80.90" is no cash handed over
    if (!strcmp(up, "SUB")) return SUB;
    if (!strcmp(up, "SUBTOTAL")) return SUBTOTAL;
    for (size_t i = 0; i < sizeof taxes / sizeof *taxes; i++)
        if (!strcmp(up, taxes[i])) return TAX;
    for (size_t i = 0; i < sizeof tendered / sizeof *tendered; i++)
        if (!strcmp(up, tendered[i])) return TENDERED;
    for (size_t i = 0; i < sizeof cards / sizeof *cards; i++)
        if (!strcmp(up, cards[i])) return CARD;
    return NO_LABEL;
}

typedef struct {
    int label;    // the line's label (CHANGE or TOTAL win over a tendered one)
    int amount;   // index of its last amount with cents after the label, or -1
    double value; // that amount
} line_info;

// The line of page words [from, to): its label and the amount after it.
static line_info read_line(const ds_page *pg, int from, int to) {
    line_info li = {NO_LABEL, -1, 0};
    for (int k = from; k < to; k++) {
        const char *t = pg->words[k].text;
        int l = label_of(t);
        if (l == CHANGE || l == TOTAL || ((l == TENDERED || l == CARD) && li.label == NO_LABEL))
            li.label = l;
        double v;
        if (li.label != NO_LABEL && cents_value(t, &v)) li.amount = k, li.value = v;
    }
    return li;
}

// The end of the line of page words that starts at word k (the first word of the next).
static int line_end(const ds_page *pg, int k) {
    int end = k;
    while (end < pg->n_words && pg->words[end].line == pg->words[k].line) end++;
    return end;
}

// Whether a word of the document other than the two on page p prints due.
static int printed_elsewhere(const ds_doc *doc, int p, int a, int b, double due) {
    for (int q = 0; q < doc->n_pages; q++)
        for (int k = 0; k < doc->pages[q].n_words; k++) {
            double v;
            if (q == p && (k == a || k == b)) continue;
            if (cents_value(doc->pages[q].words[k].text, &v) && fabs(v - due) < 0.005) return 1;
        }
    return 0;
}

// The line of page words [from, to) for the sum: SUBTOTAL ("SUB TOTAL" too) or TAX, or
// NO_LABEL, and its last amount with cents after the label. A total's line that names
// the tax ("Total Excl. GST 13.30", "Total Incl. GST 14.10") is no tax line.
static line_info read_sum_line(const ds_page *pg, int from, int to) {
    line_info li = {NO_LABEL, -1, 0};
    for (int k = from; k < to; k++) {
        const char *t = pg->words[k].text;
        int l = label_of(t);
        if (l == SUB && k + 1 < to && label_of(pg->words[k + 1].text) == TOTAL) {
            l = SUBTOTAL;
            k++; // its TOTAL
        }
        if (l == TOTAL) return (line_info){NO_LABEL, -1, 0};
        if ((l == SUBTOTAL || l == TAX) && li.label == NO_LABEL) li.label = l;
        double v;
        if (li.label != NO_LABEL && cents_value(pg->words[k].text, &v)) li.amount = k, li.value = v;
    }
    return li;
}

int ds_sum_due(const ds_doc *doc, double *due) {
    for (int p = 0; p < doc->n_pages; p++) {
        const ds_page *pg = &doc->pages[p];
        line_info sub = {NO_LABEL, -1, 0};
        int sub_line = -1;
        for (int k = 0; k < pg->n_words;) {
            int end = line_end(pg, k);
            line_info li = read_sum_line(pg, k, end);
            int line = pg->words[k].line;
            k = end;
            if (li.amount < 0) continue;
            if (li.label == SUBTOTAL && sub_line < 0) {
                sub = li, sub_line = line;
                continue;
            }
            if (li.label != TAX || sub_line < 0) continue;
            if (line - sub_line > LINES_TO_TAX) return 0; // not the subtotal's
            double d = sub.value + li.value;
            // printed on a later line of the page: the total under them
            for (int q = end; q < pg->n_words; q++) {
                double v;
                if (pg->words[q].line != line && cents_value(pg->words[q].text, &v) &&
                    fabs(v - d) < 0.005) {
                    *due = d;
                    return 1;
                }
            }
        }
    }
    return 0;
}

int ds_paid_due(const ds_doc *doc, double *due) {
    for (int p = 0; p < doc->n_pages; p++) {
        const ds_page *pg = &doc->pages[p];
        line_info tendered = {NO_LABEL, -1, 0};
        int tendered_line = -1;
        for (int k = 0; k < pg->n_words;) {
            int end = line_end(pg, k);
            line_info li = read_line(pg, k, end);
            int line = pg->words[k].line;
            k = end;
            if (li.amount < 0 || li.label == TOTAL) continue;
            if ((li.label == TENDERED || li.label == CARD) && tendered_line < 0) {
                tendered = li, tendered_line = line;
                continue;
            }
            if (li.label != CHANGE || tendered_line < 0) continue;
            if (line - tendered_line > LINES_TO_CHANGE) return 0; // not the tendered one's
            double d = tendered.value - li.value;
            if (!(li.value >= 0 && d > 0.005)) return 0;
            if (!printed_elsewhere(doc, p, tendered.amount, li.amount, d)) return 0;
            *due = d;
            return 1;
        }
        // a card charged, no change given: the charge was what was due
        if (tendered.label == CARD &&
            printed_elsewhere(doc, p, tendered.amount, tendered.amount, tendered.value)) {
            *due = tendered.value;
            return 1;
        }
    }
    return 0;
}
