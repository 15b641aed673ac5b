// rules-values.c: the value patterns of the rules baseline: case folding for
// label matching, dates, amounts and currencies as they are printed on
// invoices and receipts in English, German and French. A match only says where
// the value is and what it reads as; the printed text is kept as it is, since
// normalising (to ISO dates, to decimals) is the evaluator's job. No locale
// calls: the patterns are fixed so results do not depend on the machine.
#include "samples/rules-impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- characters

static int is_digit(int c) {
    return c >= '0' && c <= '9';
}

static int is_alpha_ascii(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int ds_rules_fold(const char *s, char *out) {
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z') {
            out[n++] = (char)(c + 32);
        } else if (c == 0xC3 && p[1] >= 0x80 && p[1] <= 0x9E && p[1] != 0x97) {
            // U+00C0..U+00DE (A grave .. thorn, not the multiplication sign): the lower
            // case letter is 0x20 further in the same two-byte block (Unicode Latin-1).
            out[n++] = (char)c;
            out[n++] = (char)(p[1] + 0x20);
            p++;
        } else if (c == 0xE2 && p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99)) {
            out[n++] = '\''; // typographic apostrophes: "d’échéance" reads as "d'échéance"
            p += 2;
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return n;
}

int ds_rules_is_punct(const char *raw) {
    for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
        if (is_digit(*p) || is_alpha_ascii(*p) || *p >= 0xC0) return 0;
    return 1;
}

void ds_rules_count_chars(const char *s, int *digits, int *letters) {
    int d = 0, l = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_digit(*p))
            d++;
        else if (is_alpha_ascii(*p) || *p >= 0xC0)
            l++; // a UTF-8 lead byte: one letter
    }
    *digits = d;
    *letters = l;
}

// Copies raw without the punctuation that sentences and tables put around a
// value: leading '(' '[' and trailing , ; : ) ] (and a final '.' if drop_dot).
static void core_of(const char *raw, char *out, size_t cap, int drop_dot) {
    while (*raw == '(' || *raw == '[') raw++;
    size_t n = strlen(raw);
    while (n > 0 && strchr(",;:)]", raw[n - 1])) n--;
    if (drop_dot && n > 0 && raw[n - 1] == '.') n--;
    if (n >= cap) n = cap - 1;
    memcpy(out, raw, n);
    out[n] = '\0';
}

// Parses a run of digits at *p; returns its value (or -1 when none) and its length.
static long digits_at(const char **p, int *len) {
    long v = 0;
    int n = 0;
    while (is_digit(**p) && n < 9) v = v * 10 + (*(*p)++ - '0'), n++;
    *len = n;
    return n ? v : -1;
}

// ---- dates

// English, German and French month names and their usual abbreviations, folded.
static const struct {
    const char *name;
    int month;
} ds_months[] = {
    {"january", 1},   {"jan", 1},       {"januar", 1},    {"janvier", 1},   {"janv", 1},
    {"february", 2},  {"feb", 2},       {"februar", 2},   {"février", 2},   {"fevrier", 2},
    {"févr", 2},      {"fevr", 2},      {"march", 3},     {"mar", 3},       {"märz", 3},
    {"maerz", 3},     {"mär", 3},       {"mars", 3},      {"april", 4},     {"apr", 4},
    {"avril", 4},     {"avr", 4},       {"may", 5},       {"mai", 5},       {"june", 6},
    {"jun", 6},       {"juni", 6},      {"juin", 6},      {"july", 7},      {"jul", 7},
    {"juli", 7},      {"juillet", 7},   {"juil", 7},      {"august", 8},    {"aug", 8},
    {"août", 8},      {"aout", 8},      {"september", 9}, {"sep", 9},       {"sept", 9},
    {"septembre", 9}, {"october", 10},  {"oct", 10},      {"oktober", 10},  {"okt", 10},
    {"octobre", 10},  {"november", 11}, {"nov", 11},      {"novembre", 11}, {"december", 12},
    {"dec", 12},      {"dezember", 12}, {"dez", 12},      {"décembre", 12}, {"déc", 12},
};

static int month_of(const char *s, size_t n) {
    char buf[64], f[160];
    while (n > 0 && strchr(".,", s[n - 1])) n--;
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    ds_rules_fold(buf, f);
    for (size_t i = 0; i < sizeof ds_months / sizeof *ds_months; i++)
        if (strcmp(f, ds_months[i].name) == 0) return ds_months[i].month;
    return 0;
}

static int year_ok(long y, int len) {
    return len == 2 || (len == 4 && y >= 1900 && y <= 2099);
}

// One token holding a whole date: 2024-03-12, 12/03/2024, 12.03.24, 12-Mar-2024.
static int date_one(const char *raw) {
    char s[64];
    core_of(raw, s, sizeof s, 1);
    const char *p = s;
    int la, lb, lc;
    long a = digits_at(&p, &la);
    if (a < 0 || !*p || !strchr("/.-", *p)) return 0;
    char sep = *p++;
    const char *m0 = p;
    long b = digits_at(&p, &lb);
    int mon = 0;
    if (b < 0) { // a month name between the separators
        while (*p && *p != sep) p++;
        mon = month_of(m0, (size_t)(p - m0));
        if (!mon) return 0;
    }
    if (*p != sep) return 0;
    p++;
    long c = digits_at(&p, &lc);
    if (c < 0 || *p) return 0;
    if (mon) return la <= 2 && a >= 1 && a <= 31 && year_ok(c, lc);
    if (la == 4)
        return year_ok(a, 4) && lb <= 2 && b >= 1 && b <= 12 && lc <= 2 && c >= 1 && c <= 31;
    if (la > 2 || lb > 2 || !year_ok(c, lc)) return 0;
    // Day first (Europe, Malaysia) or month first (US): either reading will do.
    return a >= 1 && b >= 1 && ((a <= 31 && b <= 12) || (a <= 12 && b <= 31));
}

// A day number: 12, 12., 1st, 2nd, 3rd, 4th, 1er.
static int day_tok(const char *raw) {
    char s[32];
    core_of(raw, s, sizeof s, 1);
    const char *p = s;
    int len;
    long d = digits_at(&p, &len);
    if (d < 1 || d > 31 || len > 2) return 0;
    return !*p || !strcmp(p, "st") || !strcmp(p, "nd") || !strcmp(p, "rd") || !strcmp(p, "th") ||
           !strcmp(p, "er");
}

static int year_tok(const char *raw) {
    char s[32];
    core_of(raw, s, sizeof s, 1);
    const char *p = s;
    int len;
    long y = digits_at(&p, &len);
    return y >= 0 && !*p && len == 4 && year_ok(y, 4);
}

static int month_tok(const char *raw) {
    return month_of(raw, strlen(raw));
}

int ds_rules_date_at(const ds_rview *v, int i, int end) {
    if (i >= end) return 0;
    const ds_rtok *t = v->toks;
    if (date_one(t[i].raw)) return 1;
    // Several words: they must stay on one page (a date does not cross a page break).
    int left = end - i;
    for (int k = 1; k < left && k < 5; k++)
        if (t[i + k].page != t[i].page) left = k;
    if (left >= 3 && day_tok(t[i].raw) && month_tok(t[i + 1].raw) && year_tok(t[i + 2].raw))
        return 3; // 12 Mar 2024, 12. März 2024, 12 mars 2024
    if (left >= 3 && month_tok(t[i].raw) && day_tok(t[i + 1].raw) && year_tok(t[i + 2].raw))
        return 3; // March 12, 2024
    if (left >= 5 && day_tok(t[i].raw) && !strcmp(t[i + 1].norm, "day") &&
        !strcmp(t[i + 2].norm, "of") && month_tok(t[i + 3].raw) && year_tok(t[i + 4].raw))
        return 5; // 1st day of March, 2019 (contracts)
    return 0;
}

// ---- currencies

static const struct {
    const char *sign, *code;
} ds_currency_signs[] = {
    {"€", "EUR"},   {"£", "GBP"},   {"US$", "USD"}, {"$", "USD"},   {"EUR", "EUR"},
    {"USD", "USD"}, {"GBP", "GBP"}, {"CHF", "CHF"}, {"MYR", "MYR"}, {"RM", "MYR"},
};

// The currency sign or code at the start of s, its length in *len; NULL if none.
static const char *currency_prefix(const char *s, size_t *len) {
    for (size_t i = 0; i < sizeof ds_currency_signs / sizeof *ds_currency_signs; i++) {
        size_t n = strlen(ds_currency_signs[i].sign);
        if (strncmp(s, ds_currency_signs[i].sign, n) == 0) {
            // A code must not run on into a word: "RMB", "EURO", "CHFS" are not codes.
            if (is_alpha_ascii((unsigned char)s[0]) && is_alpha_ascii((unsigned char)s[n]))
                continue;
            *len = n;
            return ds_currency_signs[i].code;
        }
    }
    return NULL;
}

// The currency sign or code at the end of s (n bytes).
static const char *currency_suffix(const char *s, size_t n, size_t *len) {
    for (size_t i = 0; i < sizeof ds_currency_signs / sizeof *ds_currency_signs; i++) {
        size_t k = strlen(ds_currency_signs[i].sign);
        if (k <= n && strncmp(s + n - k, ds_currency_signs[i].sign, k) == 0) {
            if (is_alpha_ascii((unsigned char)s[n - k]) && n > k &&
                is_alpha_ascii((unsigned char)s[n - k - 1]))
                continue;
            *len = k;
            return ds_currency_signs[i].code;
        }
    }
    return NULL;
}

const char *ds_rules_currency_of(const char *raw) {
    char s[64];
    core_of(raw, s, sizeof s, 1);
    size_t n = strlen(s), k;
    const char *code = currency_prefix(s, &k);
    if (code && (k == n || is_digit((unsigned char)s[k]) || s[k] == '-' || s[k] == ' '))
        return code;
    code = currency_suffix(s, n, &k);
    if (code && (k == n || is_digit((unsigned char)s[n - k - 1]))) return code;
    return NULL;
}

// ---- amounts

// Parses a printed number that ends in a two-digit decimal part, with optional
// thousands grouping by the other separator ('.' ',' or the Swiss '\'').
// Returns 1 and the value; int_digits receives the digits before the decimal sign.
static int number_parse(const char *s, size_t n, double *value, int *int_digits) {
    int neg = 0;
    if (n > 0 && s[0] == '-') neg = 1, s++, n--;
    if (n < 4 || !is_digit((unsigned char)s[n - 1]) || !is_digit((unsigned char)s[n - 2]) ||
        (s[n - 3] != '.' && s[n - 3] != ','))
        return 0;
    char dec = s[n - 3];
    size_t ni = n - 3;
    double v = 0;
    int digits = 0, group = 0, seen_sep = 0;
    char gsep = 0;
    for (size_t i = 0; i < ni; i++) {
        char c = s[i];
        if (is_digit((unsigned char)c)) {
            v = v * 10 + (c - '0');
            digits++;
            group++;
            continue;
        }
        if (c == dec || (c != '.' && c != ',' && c != '\'')) return 0;
        if (gsep && c != gsep) return 0;
        // Every group is three digits; the first one has one to three.
        if (group == 0 || group > 3 || (seen_sep && group != 3)) return 0;
        gsep = c;
        seen_sep = 1;
        group = 0;
    }
    if (digits == 0 || (seen_sep && group != 3)) return 0;
    v += (s[n - 2] - '0') / 10.0 + (s[n - 1] - '0') / 100.0;
    *value = neg ? -v : v;
    *int_digits = digits;
    return 1;
}

// The number inside one token, without currency signs: sets [*b, *e) to the
// number's bytes in raw and returns 1 when raw holds an amount.
static int amount_one(const char *raw, double *value, int *int_digits, size_t *b, size_t *e) {
    size_t n = strlen(raw), s = 0, k;
    // Brackets, quotes and stars that OCR and tables leave around a number.
    for (;;) {
        if (s < n && strchr("(\"'", raw[s]))
            s++;
        else if (n - s >= 3 && !strncmp(raw + s, "\u201c", 3))
            s += 3;
        else
            break;
    }
    for (;;) {
        if (n > s && strchr(",;:)*\"'", raw[n - 1]))
            n--;
        else if (n - s >= 3 && !strncmp(raw + n - 3, "\u201d", 3))
            n -= 3;
        else
            break;
    }
    int neg = 0; // "-RM0.02": the sign before the currency
    if (s < n && raw[s] == '-' && currency_prefix(raw + s + 1, &k))
        neg = 1, s += 1 + k;
    else if (currency_prefix(raw + s, &k))
        s += k;
    if (n > s && currency_suffix(raw + s, n - s, &k)) n -= k;
    for (int pass = 0; pass < 2; pass++) {
        if (number_parse(raw + s, n - s, value, int_digits)) {
            if (neg) *value = -*value;
            *b = s;
            *e = n;
            return 1;
        }
        if (n > s && raw[n - 1] == '.')
            n--; // "9.00." at the end of a sentence
        else
            break;
    }
    return 0;
}

static int currency_only(const char *raw) {
    const char *code = ds_rules_currency_of(raw);
    int d, l;
    ds_rules_count_chars(raw, &d, &l);
    return code && d == 0;
}

static int small_int_tok(const char *raw) {
    size_t n = strlen(raw), i = raw[0] == '-';
    if (n - i < 1 || n - i > 3) return 0;
    for (; i < n; i++)
        if (!is_digit((unsigned char)raw[i])) return 0;
    return 1;
}

int ds_rules_amount_at(const ds_rview *v, int i, int end, double *value, int *num0, int *num1) {
    const ds_rtok *t = v->toks;
    int j = i;
    if (j < end && currency_only(t[j].raw) && j + 1 < end && t[j + 1].line == t[j].line) j++;
    double val;
    int idig;
    size_t b, e;
    int n0 = j, n1;
    // "1 234,56": a French thousands group split by a space, joined when the gap is narrow.
    if (j + 1 < end && small_int_tok(t[j].raw) && t[j + 1].line == t[j].line &&
        t[j + 1].box.x0 - t[j].box.x1 < 0.6f * (t[j].box.y1 - t[j].box.y0) &&
        amount_one(t[j + 1].raw, &val, &idig, &b, &e) && idig == 3 && b == 0 &&
        t[j + 1].raw[0] != '-') {
        double head = atof(t[j].raw);
        val = head < 0 ? head * 1000 - val : head * 1000 + val;
        n1 = j + 2;
    } else if (j < end && amount_one(t[j].raw, &val, &idig, &b, &e)) {
        n1 = j + 1;
    } else {
        return 0;
    }
    int stop = n1;
    if (stop < end && t[stop].line == t[n1 - 1].line && currency_only(t[stop].raw)) stop++;
    *value = val;
    *num0 = n0;
    *num1 = n1;
    return stop - i;
}

void ds_rules_amount_text(const ds_rview *v, int num0, int num1, char *out, size_t cap) {
    size_t o = 0;
    out[0] = '\0';
    for (int k = num0; k < num1; k++) {
        const char *raw = v->toks[k].raw;
        double val;
        int idig;
        size_t b = 0, e = strlen(raw);
        if (k == num1 - 1 && !amount_one(raw, &val, &idig, &b, &e)) b = 0, e = strlen(raw);
        int w = snprintf(out + o, cap - o, "%s%.*s", k > num0 ? " " : "", (int)(e - b), raw + b);
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
}
