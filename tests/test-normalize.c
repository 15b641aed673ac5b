// test-normalize.c: each field type's canonical form (samples/normalize.h):
// the date, amount, currency and check-box spellings the README lists, white
// space and case, and values that must fall back to text. Every expected value
// is written out by hand beside its input.
#include "tests/test.h"
#include "core/error.h"
#include "samples/normalize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Normalises raw as type t and compares the canonical text; prints each case.
static int expect(ds_field_type t, const char *raw, const ds_norm_opts *o, const char *want,
                  int want_parsed) {
    ds_norm_value v;
    if (ds_norm_value_make(t, raw, o, &v) != 0) return 1;
    int ok = strcmp(v.text, want) == 0 && v.parsed == want_parsed;
    char shown[64];
    size_t n = 0;
    for (const char *c = raw; *c && n + 3 < sizeof shown; c++) // \t and \n made visible
        if (*c == '\t' || *c == '\n')
            shown[n++] = '\\', shown[n++] = *c == '\t' ? 't' : 'n';
        else
            shown[n++] = *c;
    shown[n] = 0;
    printf("  %-9s %-22s -> %-22s %s%s\n", ds_field_type_name(t), shown, v.text,
           v.parsed ? "" : "(as text) ", ok ? "ok" : "MISMATCH");
    if (!ok) fprintf(stderr, "  want '%s' parsed=%d\n", want, want_parsed);
    ds_norm_value_free(&v);
    return !ok;
}

DS_TEST(normalize_text) {
    ds_norm_opts o = {0}, up = {.uppercase = 1}, strip = {.strip_only = 1},
                 kl = {.uppercase = 1, .underscore_space = 1};
    int bad = 0;
    bad += expect(DS_FIELD_TEXT, "  ACME \t Corp\n", &o, "ACME Corp", 1);
    bad += expect(DS_FIELD_TEXT,
                  "a\xc2\xa0\xc2\xa0"
                  "b",
                  &o, "a b", 1);                                   // no-break spaces
    bad += expect(DS_FIELD_TEXT, "Acme Corp", &o, "Acme Corp", 1); // case kept
    bad += expect(DS_FIELD_TEXT, "Acme Corp", &up, "ACME CORP", 1);
    bad += expect(DS_FIELD_TEXT, "  Soup  du jour ", &strip, "Soup  du jour", 1);
    bad += expect(DS_FIELD_PARTY_LIST, "Nike_Inc.", &kl, "NIKE INC.", 1);
    bad += expect(DS_FIELD_TEXT, "Term:_2_years", &kl, "TERM 2 YEARS", 1);
    // Latin-1, Latin Extended-A, Greek, Cyrillic: é->É, ł->Ł, σ->Σ, ж->Ж; ß has no single upper
    bad += expect(DS_FIELD_TEXT, "café łódź σ ж ß", &up, "CAFÉ ŁÓDŹ Σ Ж ß", 1);
    bad += expect(DS_FIELD_ENUM, "  Premium ", &o, "premium", 1);
    bad += expect(DS_FIELD_ENUM, "ÉTÉ", &o, "été", 1);
    char *c = ds_norm_collapse("\xe2\x80\x83x\xe3\x80\x80 y "); // em space, ideographic space
    DS_CHECK(c && strcmp(c, "x y") == 0);
    free(c);
    return bad;
}

// Kleister's term values ("2_years") against the ways a contract prints a term,
// and its party names against printed ones.
DS_TEST(normalize_durations_parties) {
    ds_norm_opts o = {0}, kl = {.uppercase = 1, .underscore_space = 1, .party_plain = 1};
    int bad = 0;
    bad += expect(DS_FIELD_DURATION, "2_years", &kl, "2 years", 1);
    bad += expect(DS_FIELD_DURATION, "two (2) years", &o, "2 years", 1);
    bad += expect(DS_FIELD_DURATION, "Twelve Months.", &o, "12 months", 1);
    bad += expect(DS_FIELD_DURATION, "one year", &o, "1 years", 1);
    bad += expect(DS_FIELD_DURATION, "thirty-six (36) months", &o, "36 months", 1);
    bad += expect(DS_FIELD_DURATION, "3-year", &o, "3 years", 1);
    bad += expect(DS_FIELD_DURATION, "16 days", &o, "16 days", 1);
    bad += expect(DS_FIELD_DURATION, "two (3) years", &o, "two (3) years", 0); // disagree
    bad += expect(DS_FIELD_DURATION, "2 years and 6 months", &o, "2 years and 6 months", 0);
    bad += expect(DS_FIELD_DURATION, "years", &o, "years", 0);
    bad += expect(DS_FIELD_DURATION, "seven days' notice", &o, "seven days' notice", 0);
    bad += expect(DS_FIELD_PARTY_LIST, "Sears, Roebuck & Co.", &kl, "SEARS ROEBUCK AND CO.", 1);
    bad += expect(DS_FIELD_PARTY_LIST, "W&L_Enterprises_Ltd.", &kl, "W AND L ENTERPRISES LTD.", 1);
    bad += expect(DS_FIELD_PARTY_LIST, "Sears, Roebuck & Co.", &o, "Sears, Roebuck & Co.", 1);
    return bad;
}

// Places (the contract's jurisdiction): a country or a state / province by its name,
// from iso-codes, whatever its case and surrounding punctuation; nothing else.
DS_TEST(normalize_places) {
    static const struct {
        const char *in, *want; // want NULL: not a place
    } cases[] = {{"New York,", "New York"},
                 {"Massachusetts", "Massachusetts"},
                 {"DELAWARE.", "Delaware"},
                 {"the Netherlands", "Netherlands"},
                 {"Ontario", "Ontario"},
                 {"(California)", "California"},
                 {"Germany", "Germany"},
                 {"Employee", NULL},
                 {"Delaware corporation", NULL},
                 {"State of Ohio", NULL},
                 {"shall", NULL},
                 {"", NULL}};
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[64] = "";
        int rc = ds_norm_place(cases[i].in, out);
        int ok = cases[i].want ? rc == 0 && !strcmp(out, cases[i].want) : rc == DS_E_FORMAT;
        if (!ok) printf("  \"%s\" -> %s \"%s\"\n", cases[i].in, ds_err_name(rc), out);
        bad += !ok;
    }
    // compared by the name ("New York." as "New York"), in Kleister's upper case too
    ds_norm_opts o = {0}, kl = {.uppercase = 1, .underscore_space = 1};
    bad += expect(DS_FIELD_PLACE, "New York.", &o, "New York", 1);
    bad += expect(DS_FIELD_PLACE, "New_York", &kl, "NEW YORK", 1); // the label's form
    bad += expect(DS_FIELD_PLACE, "new york,", &kl, "NEW YORK", 1);
    bad += expect(DS_FIELD_PLACE, "the laws of Ohio", &o, "the laws of Ohio", 0);
    printf("  %zu names, %d wrong\n", sizeof cases / sizeof *cases, bad);
    return bad;
}

DS_TEST(normalize_dates) {
    ds_norm_opts o = {0}, mf = {.month_first = 1};
    int bad = 0;
    // day first by default: 12/03/2024 is 12 March 2024
    static const char *march12[] = {
        "2024-03-12",    "12/03/2024",  "12.03.2024",           "12-03-2024",
        "12/03/24",      "12 Mar 2024", "12 March 2024",        "Mar 12, 2024",
        "March 12 2024", "12-Mar-2024", "Tue, 12th March 2024", "2024/03/12"};
    for (size_t i = 0; i < sizeof march12 / sizeof *march12; i++)
        bad += expect(DS_FIELD_DATE, march12[i], &o, "2024-03-12", 1);
    bad += expect(DS_FIELD_DATE, "5th day of November, 2004", &o, "2004-11-05", 1);
    bad += expect(DS_FIELD_DATE, "22nd day of May 2009", &o, "2009-05-22", 1);
    bad += expect(DS_FIELD_DATE, "5 day of November 2004", &o, "5 day of November 2004", 0);
    bad += expect(DS_FIELD_DATE, "25/12/2018", &o, "2018-12-25", 1);
    // German and French month names, French "1er"; "jui" is juin or juillet: no date
    bad += expect(DS_FIELD_DATE, "17. Mai 2026", &o, "2026-05-17", 1);
    bad += expect(DS_FIELD_DATE, "3. M\xc3\xa4rz 2024", &o, "2024-03-03", 1);
    bad += expect(DS_FIELD_DATE, "1er ao\xc3\xbbt 2024", &o, "2024-08-01", 1);
    bad += expect(DS_FIELD_DATE,
                  "12 d\xc3\xa9"
                  "c. 2023",
                  &o, "2023-12-12", 1);
    bad += expect(DS_FIELD_DATE, "5 juil. 2021", &o, "2021-07-05", 1);
    bad += expect(DS_FIELD_DATE, "5 jui 2021", &o, "5 jui 2021", 0);
    // --month-first: 12/03/2024 is 3 December; 25/12/2018 has no month 25, so day first
    bad += expect(DS_FIELD_DATE, "12/03/2024", &mf, "2024-12-03", 1);
    bad += expect(DS_FIELD_DATE, "25/12/2018", &mf, "2018-12-25", 1);
    bad += expect(DS_FIELD_DATE, "2024-03-12", &mf, "2024-03-12", 1); // ISO is never swapped
    // two-digit years: 00-69 -> 20xx, 70-99 -> 19xx
    bad += expect(DS_FIELD_DATE, "01/02/99", &o, "1999-02-01", 1);
    bad += expect(DS_FIELD_DATE, "29/02/2024", &o, "2024-02-29", 1); // leap year
    // not dates: compared as (collapsed) text
    bad += expect(DS_FIELD_DATE, "29/02/2023", &o, "29/02/2023", 0);
    bad += expect(DS_FIELD_DATE, "2024-13-01", &o, "2024-13-01", 0);
    bad += expect(DS_FIELD_DATE, "12/03/2024  10:30", &o, "12/03/2024 10:30", 0);
    bad += expect(DS_FIELD_DATE, "soon", &o, "soon", 0);
    char iso[11];
    DS_CHECK_INT_EQ(ds_norm_date("32 Jan 2024", 0, iso), DS_E_FORMAT);
    DS_CHECK_INT_EQ(ds_norm_date("12 Foo 2024", 0, iso), DS_E_FORMAT);
    return bad;
}

DS_TEST(normalize_amounts) {
    static const struct {
        const char *raw;
        double want;
    } cases[] = {
        {"1,234.56", 1234.56},
        {"1.234,56", 1234.56},
        {"1 234,56", 1234.56},
        {"9.00", 9},
        {"RM9.00", 9},
        {"$ 12.50", 12.5},
        {"12,50 EUR", 12.5},
        {"-3.00", -3},
        {"(3.00)", -3},
        {"1,234", 1234},
        {"0,500", 0.5},
        {".50", 0.5},
        {"1.234.567", 1234567},
        {"€1\xc2\xa0"
         "000",
         1000},
        {"USD -3.00", -3},
        {"12", 12},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double v = NAN;
        int rc = ds_norm_amount(cases[i].raw, &v);
        int ok = rc == 0 && fabs(v - cases[i].want) < 1e-9;
        printf("  amount %-14s -> %.4f %s\n", cases[i].raw, v, ok ? "ok" : "MISMATCH");
        bad += !ok;
    }
    // not amounts: a word that is no currency, broken grouping, two numbers, two signs
    static const char *text[] = {"Total 9.00", "1,23,456", "12/03",     "3.00 - 4.00",
                                 "--3",        "(3.00",    "Rit 86.00", "Amt 13.30"};
    for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
        double v;
        int rc = ds_norm_amount(text[i], &v);
        printf("  amount %-14s -> %s\n", text[i], rc ? "not an amount (text)" : "PARSED");
        bad += rc != DS_E_FORMAT;
    }
    // compared numerically within 0.005: 9.00 = 9.0049 (a lone mark before 3 digits groups
    // thousands: 9.004 is 9004), 9.00 != 9.01; text vs number never equal
    ds_norm_opts o = {0};
    ds_norm_value a, b, c, d;
    DS_CHECK(ds_norm_value_make(DS_FIELD_AMOUNT, "9.00", &o, &a) == 0);
    DS_CHECK(ds_norm_value_make(DS_FIELD_AMOUNT, "RM 9.0049", &o, &b) == 0);
    DS_CHECK(ds_norm_value_make(DS_FIELD_AMOUNT, "9.01", &o, &c) == 0);
    DS_CHECK(ds_norm_value_make(DS_FIELD_AMOUNT, "nine", &o, &d) == 0);
    printf("  9.00 vs RM 9.0049: %d, 9.00 vs 9.01: %d, canonical %s %s %s\n", ds_norm_equal(&a, &b),
           ds_norm_equal(&a, &c), a.text, b.text, d.text);
    int ok = ds_norm_equal(&a, &b) && !ds_norm_equal(&a, &c) && !ds_norm_equal(&a, &d) &&
             strcmp(a.text, "9.00") == 0 && !d.parsed;
    ds_norm_value_free(&a);
    ds_norm_value_free(&b);
    ds_norm_value_free(&c);
    ds_norm_value_free(&d);
    return bad + !ok;
}

DS_TEST(normalize_currency_checkbox) {
    ds_norm_opts o = {0};
    int bad = 0;
    static const char *cur[][2] = {{"€", "EUR"},   {"$", "USD"},   {"£", "GBP"},
                                   {"RM", "MYR"},  {"¥", "JPY"},   {"CHF", "CHF"},
                                   {"Fr.", "CHF"}, {"usd", "USD"}, {" eur ", "EUR"}};
    for (size_t i = 0; i < sizeof cur / sizeof *cur; i++)
        bad += expect(DS_FIELD_CURRENCY, cur[i][0], &o, cur[i][1], 1);
    bad += expect(DS_FIELD_CURRENCY, "dollars", &o, "dollars", 0);
    // three letters are a currency only when ISO 4217 lists them
    bad += expect(DS_FIELD_CURRENCY, "zwl", &o, "ZWL", 1);
    bad += expect(DS_FIELD_CURRENCY, "AED", &o, "AED", 1);
    bad += expect(DS_FIELD_CURRENCY, "Qty", &o, "Qty", 0);
    bad += expect(DS_FIELD_CURRENCY, "Rit", &o, "Rit", 0);
    static const char *yes[] = {"x", "X", "yes", "Y", "checked", "TRUE", "1", "☑", "☒"};
    static const char *no[] = {"no", "N", "unchecked", "false", "0", "☐", "empty", ""};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        bad += expect(DS_FIELD_CHECKBOX, yes[i], &o, "true", 1);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        bad += expect(DS_FIELD_CHECKBOX, no[i], &o, "false", 1);
    bad += expect(DS_FIELD_CHECKBOX, "maybe", &o, "maybe", 0);
    return bad;
}
