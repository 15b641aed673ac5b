// synth-form-entities.c: forms read as FUNSD reads them (schema form_entities):
// the truth is every header, question (a printed label or prompt) and answer
// (what fills it in) on the page, each a run of words with its box. The layouts
// follow the office forms of FUNSD's collection: typewriter or proportional
// type, a company and a title in capitals on top, label/value rows (the value
// right of its label or below it, on a rule, sometimes left blank), a second
// column, a table whose column heads and row labels are questions and whose
// cells are answers, section headings, and text that is none of these (prose,
// codes, page numbers) which the truth leaves out. 12 families.
#include "samples/synth-impl.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

// A label and the kind of value it asks for: p person, c company, d date, n number,
// k code, w words, t phone, a amount, l place, y yes or no.
typedef struct {
    const char *label;
    char kind;
} ds_prompt;

static const ds_prompt prompts[] = {
    {"TO", 'p'},
    {"FROM", 'p'},
    {"DATE", 'd'},
    {"RE", 'w'},
    {"SUBJECT", 'w'},
    {"FAX NO.", 't'},
    {"PHONE", 't'},
    {"PAGES", 'n'},
    {"CC", 'p'},
    {"Brand", 'w'},
    {"Title", 'w'},
    {"Code #", 'k'},
    {"Size", 'w'},
    {"Magazine", 'w'},
    {"Field Date", 'd'},
    {"Location", 'l'},
    {"Project #", 'k'},
    {"Total Sample", 'n'},
    {"Date Sent", 'd'},
    {"Name", 'p'},
    {"Address", 'l'},
    {"City", 'l'},
    {"Telephone", 't'},
    {"Account No.", 'k'},
    {"Product", 'w'},
    {"Quantity", 'n'},
    {"Cost", 'a'},
    {"Budget", 'a'},
    {"Approved by", 'p'},
    {"Department", 'w'},
    {"Division", 'w'},
    {"Region", 'l'},
    {"Start Date", 'd'},
    {"End Date", 'd'},
    {"Market", 'l'},
    {"Objective", 'w'},
    {"Supplier", 'c'},
    {"Vendor", 'c'},
    {"Purchase Order", 'k'},
    {"Amount", 'a'},
    {"Requested by", 'p'},
    {"Prepared by", 'p'},
    {"Issue Date", 'd'},
    {"Test Number", 'k'},
    {"Sample Size", 'n'},
    {"Lot No.", 'k'},
    {"Media", 'w'},
    {"Agency", 'c'},
    {"Client", 'c'},
    {"Job No.", 'k'},
    {"Period", 'w'},
    {"Tar", 'n'},
    {"Nicotine", 'n'},
    {"Package", 'w'},
    {"Distribution", 'l'},
    {"Research No.", 'k'},
    {"Research Request Attached", 'y'},
    {"Was the sample approved?", 'y'},
    {"New product", 'y'},
    {"Confidential", 'y'},
    {"Samples enclosed", 'y'},
    {"Is a follow-up study planned?", 'y'},
};
#define N_PROMPTS (sizeof prompts / sizeof *prompts)

static const char *titles[] = {
    "FAX COVER SHEET",       "RESEARCH REQUEST", "MAGAZINE SCORES", "PRODUCTION ORDER",
    "MARKETING PLAN",        "PURCHASE REQUEST", "TEST REPORT",     "ROUTING SLIP",
    "PROJECT AUTHORIZATION", "MEMORANDUM",       "BUDGET SUMMARY",  "SHIPPING NOTICE",
};
static const char *sections[] = {
    "COMMENTS",  "DISTRIBUTION",       "RESULTS", "PRODUCT INFORMATION",
    "APPROVALS", "SAMPLE DESCRIPTION", "COSTS",   "SCHEDULE"};
static const char *columns[] = {"SCORE", "BASE", "Qty", "Units", "Cost",  "Total",
                                "Week",  "Pct",  "Tar", "Nic.",  "Brand", "Code"};

static void upper(char *s) {
    for (; *s; s++) *s = (char)toupper((unsigned char)*s);
}

// A value of the kind a prompt asks for.
static void value(ds_rng *r, char kind, char *out, size_t n) {
    char iso[16], a[96];
    switch (kind) {
    case 'p':
        ds_synth_person(r, out, n);
        break;
    case 'c':
        ds_synth_company(r, DS_LANG_EN, out, n);
        break;
    case 'd':
        ds_synth_date(r, DS_LANG_EN, (int)ds_rng_below(r, 4), 0, NULL, iso, out, n);
        break;
    case 'n':
        snprintf(out, n, "%d", (int)ds_rng_below(r, 2000));
        break;
    case 'k':
        ds_synth_pattern(r, ds_rng_below(r, 2) ? "##-##" : "@##-####", out, n);
        break;
    case 't':
        ds_synth_pattern(r, "(###) ###-####", out, n);
        break;
    case 'a':
        ds_synth_amount((long)ds_rng_below(r, 5000000), DS_LANG_EN, a, sizeof a);
        snprintf(out, n, "$%s", a);
        break;
    case 'y':
        snprintf(out, n, "%s", ds_rng_below(r, 2) ? "Yes" : "No");
        break;
    case 'l':
        snprintf(out, n, "%s", ds_synth_city(r));
        break;
    default: // one to three words
        snprintf(out, n, "%s", ds_synth_word(r));
        for (int k = (int)ds_rng_below(r, 3); k > 0; k--) {
            size_t l = strlen(out);
            snprintf(out + l, n - l, " %s", ds_synth_word(r));
        }
        ds_synth_capitalise(out);
    }
}

typedef struct {
    ds_synth_doc *d;
    int colon, below, caps, blank_pct;
    int inline_value; // the value follows its label closely, without a rule
    double label_w, size;
} ds_style;

// A question and (unless left blank) its answer on a rule; returns the next row's y.
static double row(const ds_style *st, double x, double y, double w) {
    ds_synth_doc *d = st->d;
    ds_rng *r = &d->rng;
    const ds_prompt *p = &prompts[ds_rng_below(r, N_PROMPTS)];
    char q[64], a[128];
    int ask = p->label[strlen(p->label) - 1] == '?';
    snprintf(q, sizeof q, "%s%s", p->label, st->colon && !ask ? ":" : "");
    ds_synth_box qb = ds_synth_text(d, x, y, st->size, 0, 0, q);
    ds_synth_field(d, "questions", q, qb, 1);
    double vx = st->below ? x : x + st->label_w, vy = st->below ? y + st->size + 5 : y;
    if (st->inline_value && !st->below)
        vx = qb.x1 + 2 + (double)ds_rng_below(r, 10);
    else if (!st->below && qb.x1 + 6 > vx)
        vx = qb.x1 + 6; // a long prompt pushes its answer right
    if (!st->inline_value) ds_synth_line(d, vx, vy + 3, x + w, vy + 3, 0.5);
    if (ds_rng_below(r, 100) >= (unsigned)st->blank_pct) {
        value(r, p->kind, a, sizeof a);
        if (st->caps) upper(a);
        ds_synth_field(d, "answers", a, ds_synth_text(d, vx + 4, vy, st->size, 0, 0, a), 1);
    }
    return vy + st->size * 2.2;
}

// A table: column heads and row labels are questions, the cells answers.
static double table(const ds_style *st, double x, double y, double w) {
    ds_synth_doc *d = st->d;
    ds_rng *r = &d->rng;
    int nc = 2 + (int)ds_rng_below(r, 3), nr = 2 + (int)ds_rng_below(r, 4);
    double lw = w * 0.35, cw = (w - lw) / nc;
    char buf[64];
    for (int c = 0; c < nc; c++) {
        const char *h = columns[ds_rng_below(r, sizeof columns / sizeof *columns)];
        ds_synth_box b = ds_synth_text(d, x + lw + c * cw, y, st->size, 0, 0, h);
        ds_synth_line(d, b.x0, y + 3, b.x1, y + 3, 0.5);
        ds_synth_field(d, "questions", h, b, 1);
    }
    y += st->size * 2.2;
    for (int k = 0; k < nr; k++) {
        value(r, 'w', buf, sizeof buf);
        ds_synth_field(d, "questions", buf, ds_synth_text(d, x, y, st->size, 0, 0, buf), 1);
        for (int c = 0; c < nc; c++) {
            if (ds_rng_below(r, 100) < 15) continue; // an empty cell
            if (ds_rng_below(r, 2))
                snprintf(buf, sizeof buf, "%d.%d", (int)ds_rng_below(r, 100),
                         (int)ds_rng_below(r, 10));
            else
                snprintf(buf, sizeof buf, "(%d)", 10 + (int)ds_rng_below(r, 300));
            ds_synth_field(d, "answers", buf,
                           ds_synth_text(d, x + lw + c * cw, y, st->size, 0, 0, buf), 1);
        }
        y += st->size * 1.6;
    }
    return y + st->size * 1.5;
}

// Words that are none of the three: a paragraph of prose.
static double prose(ds_synth_doc *d, double x, double y, double w, double size) {
    ds_synth_flow f = {d, x, y, size, x, x + w, size * 1.3, 0, 0};
    char buf[64];
    for (int k = 12 + (int)ds_rng_below(&d->rng, 30); k > 0; k--) {
        snprintf(buf, sizeof buf, "%s%s", ds_synth_word(&d->rng), k == 1 ? "." : "");
        ds_synth_put(&f, buf, 0);
    }
    return f.y + size * 2.5;
}

void ds_synth_form_entities(ds_synth_doc *d, int family) {
    ds_rng *r = &d->rng;
    family %= 12;
    static const char *mono[] = {"FreeMono", "Liberation Mono"};
    if (family % 3 < 2) d->font = mono[family % 3];
    d->lang = DS_LANG_EN;
    ds_style st = {d, family % 2 == 0, family % 4 == 3, (int)ds_rng_below(r, 2), 15, 0, 0, 0};
    st.inline_value = family % 4 != 3 && ds_rng_below(r, 3) == 0;
    st.size = 9 + (double)ds_rng_below(r, 3);
    st.label_w = st.size * (8 + (double)ds_rng_below(r, 5));
    double W = d->page_w, m = 40 + (double)ds_rng_below(r, 30), y = 36;
    char buf[160];
    ds_synth_pattern(r, "@@ @## (# ##)", buf, sizeof buf); // a filing code: none of the three
    ds_synth_text(d, m, y, 7, 0, 0, buf);
    y += 30;
    if (ds_rng_below(r, 3)) { // the company in capitals
        ds_synth_company(r, DS_LANG_EN, buf, sizeof buf);
        upper(buf);
        ds_synth_field(d, "headers", buf, ds_synth_text(d, W / 2, y, st.size + 2, 1, 2, buf), 1);
        y += 22;
    }
    snprintf(buf, sizeof buf, "%s", titles[(family + ds_rng_below(r, 12)) % 12]);
    ds_synth_box tb = ds_synth_text(d, W / 2, y, st.size + 3, 1, 2, buf);
    if (ds_rng_below(r, 2)) ds_synth_line(d, tb.x0, y + 3, tb.x1, y + 3, 0.6);
    ds_synth_field(d, "headers", buf, tb, 1);
    y += 40;
    int two_col = family % 3 == 1;
    double colw = two_col ? (W - 2 * m - 30) / 2 : W - 2 * m;
    int rows = 3 + (int)ds_rng_below(r, 6);
    for (int k = 0; k < rows && y < d->page_h - 200; k++) {
        double y1 = row(&st, m, y, colw);
        if (two_col) {
            double y2 = row(&st, m + colw + 30, y, colw);
            y1 = y2 > y1 ? y2 : y1;
        }
        y = y1;
    }
    y += 16;
    int parts = 1 + (int)ds_rng_below(r, 3);
    for (int k = 0; k < parts && y < d->page_h - 160; k++) {
        unsigned what = ds_rng_below(r, 3);
        if (ds_rng_below(r, 2)) { // a section heading
            snprintf(buf, sizeof buf, "%s%s", sections[ds_rng_below(r, 8)], st.colon ? ":" : "");
            ds_synth_field(d, "headers", buf, ds_synth_text(d, m, y, st.size, 1, 0, buf), 1);
            y += st.size * 2.2;
        }
        if (what == 0 && family % 2 == 0)
            y = table(&st, m, y, W - 2 * m);
        else if (what == 1 && family >= 6)
            y = prose(d, m, y, W - 2 * m, st.size);
        else
            for (int j = 2 + (int)ds_rng_below(r, 4); j > 0 && y < d->page_h - 120; j--)
                y = row(&st, m, y, W - 2 * m);
    }
    ds_synth_pattern(r, "#########", buf, sizeof buf); // a Bates number at the foot
    ds_synth_text(d, W - m - 120, d->page_h - 50, 12, 1, 0, buf);
}
