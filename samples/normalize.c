// normalize.c: the canonical form of each field type for `docseek eval`
// (rules in normalize.h and README "docseek eval"). Parsers are strict about
// shape (a date must be the whole value, an amount may carry only a currency
// beside its number) and fall back to text, so "Total 9.00" is not 9.00.
// It does no locale lookups: the C locale and these tables only, so a score
// never depends on the machine it is computed on.
#include "samples/normalize.h"
#include "core/error.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// ---- white space and case

// Byte length of the white-space character at p (0 when none): ASCII space and
// controls, U+00A0, U+2000..U+200A, U+202F, U+205F, U+3000.
static int space_len(const unsigned char *p) {
    if (*p == ' ' || (*p >= '\t' && *p <= '\r')) return 1;
    if (p[0] == 0xC2 && p[1] == 0xA0) return 2;
    if (p[0] == 0xE2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xAF)) return 3;
    if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) return 3;
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) return 3;
    return 0;
}

// inner = 1: runs inside become one space; inner = 0: kept as written (strip only).
static char *squeeze(const char *s, int inner) {
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s, *run = NULL;
    while (*p) {
        int k = space_len(p);
        if (k) {
            if (!run) run = p;
            p += k;
            continue;
        }
        if (run && o > 0) {
            if (inner) {
                out[o++] = ' ';
            } else {
                memcpy(out + o, run, (size_t)(p - run));
                o += (size_t)(p - run);
            }
        }
        run = NULL;
        out[o++] = (char)*p++;
    }
    out[o] = 0;
    return out;
}

char *ds_norm_collapse(const char *s) {
    return squeeze(s, 1);
}

// Simple one-to-one case pairs; every pair is 2 bytes of UTF-8 on both sides.
static unsigned to_upper_cp(unsigned c) {
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 0x20;
    if (c == 0xFF) return 0x178;
    if (c >= 0x100 && c <= 0x137 && c != 0x131 && (c & 1)) return c - 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c : c - 1;
    if (c >= 0x14A && c <= 0x177 && (c & 1)) return c - 1;
    if (c == 0x3C2) return 0x3A3; // final sigma
    if (c >= 0x3B1 && c <= 0x3CB) return c - 0x20;
    if (c >= 0x430 && c <= 0x44F) return c - 0x20;
    if (c >= 0x450 && c <= 0x45F) return c - 0x50;
    return c;
}

static unsigned to_lower_cp(unsigned c) {
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
    if (c == 0x178) return 0xFF;
    if (c >= 0x100 && c <= 0x137 && c != 0x130 && !(c & 1)) return c + 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177 && !(c & 1)) return c + 1;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 0x20;
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c;
}

void ds_norm_case(char *s, int upper) {
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        if (*p < 0x80) {
            if (upper && *p >= 'a' && *p <= 'z') *p = (unsigned char)(*p - 32);
            if (!upper && *p >= 'A' && *p <= 'Z') *p = (unsigned char)(*p + 32);
            p++;
        } else if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            unsigned c = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
            unsigned m = upper ? to_upper_cp(c) : to_lower_cp(c);
            p[0] = (unsigned char)(0xC0 | (m >> 6));
            p[1] = (unsigned char)(0x80 | (m & 0x3F));
            p += 2;
        } else {
            p++; // other scripts and continuation bytes stay as they are
        }
    }
}

// ---- dates

static int days_in_month(int y, int m) {
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

static int valid_ymd(int y, int m, int d) {
    return y >= 1000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

// Two-digit years: 00-69 are 2000-2069, 70-99 are 1970-1999.
static int full_year(int y, int n_digits) {
    return n_digits == 2 ? (y < 70 ? 2000 + y : 1900 + y) : y;
}

// y, m, d are valid here (valid_ymd): 4, 2 and 2 digits.
static int put_iso(int y, int m, int d, char iso[11]) {
    char buf[40];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
    memcpy(iso, buf, 11);
    return 0;
}

// "12/03/2024", "12.03.24", "2024-03-12": three digit groups, one separator.
static int parse_numeric_date(const char *s, int month_first, char iso[11]) {
    int v[3] = {0}, len[3] = {0}, part = 0;
    char sep = 0;
    for (const char *p = s;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++len[part] > 4) return DS_E_FORMAT;
            v[part] = v[part] * 10 + (*p - '0');
        } else if (*p == 0 && part == 2 && len[2]) {
            break;
        } else if ((*p == '/' || *p == '.' || *p == '-') && part < 2 && len[part] &&
                   (!sep || *p == sep)) {
            sep = *p;
            part++;
        } else {
            return DS_E_FORMAT;
        }
    }
    if (len[0] == 4 && len[1] <= 2 && len[2] <= 2)
        return valid_ymd(v[0], v[1], v[2]) ? put_iso(v[0], v[1], v[2], iso) : DS_E_FORMAT;
    if (len[0] > 2 || len[1] > 2 || (len[2] != 4 && len[2] != 2)) return DS_E_FORMAT;
    int y = full_year(v[2], len[2]);
    int d = month_first ? v[1] : v[0], m = month_first ? v[0] : v[1];
    if (valid_ymd(y, m, d)) return put_iso(y, m, d, iso);
    if (valid_ymd(y, d, m)) return put_iso(y, d, m, iso); // 25/12/2018 read month first
    return DS_E_FORMAT;
}

// A month name or its abbreviation (at least 3 letters) in English, German or
// French, lower-cased; 0 when none, or when the prefix names two months
// ("jui": juin or juillet).
static int month_of(const char *w) {
    static const char *names[3][12] = {
        {"january", "february", "march", "april", "may", "june", "july", "august", "september",
         "october", "november", "december"},
        {"januar", "februar", "m\xc3\xa4rz", "april", "mai", "juni", "juli", "august", "september",
         "oktober", "november", "dezember"},
        {"janvier", "f\xc3\xa9vrier", "mars", "avril", "mai", "juin", "juillet", "ao\xc3\xbbt",
         "septembre", "octobre", "novembre",
         "d\xc3\xa9"
         "cembre"}};
    size_t n = strlen(w);
    if (strcmp(w, "sept") == 0) return 9;
    if (strcmp(w, "maerz") == 0) return 3;
    int found = 0;
    for (int l = 0; l < 3 && n >= 3; l++)
        for (int i = 0; i < 12; i++)
            if (strncmp(names[l][i], w, n) == 0) {
                if (found && found != i + 1) return 0;
                found = i + 1;
            }
    return found;
}

static int is_weekday(const char *w) {
    static const char *names[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                   "friday", "saturday", "sunday"};
    size_t n = strlen(w);
    for (int i = 0; i < 7 && n >= 3; i++)
        if (strncmp(names[i], w, n) == 0) return 1;
    return 0;
}

// "12 Mar 2024", "12-Mar-24", "March 12, 2024", "Tue, 12th March 2024", "17. Mai 2026",
// "1er août 2024", "5th day of November, 2004": a month name (English, German, French),
// a day (optionally 1st/2nd/3rd/Nth) and a year, in the order day-month or month-day.
static int parse_text_date(const char *s, char iso[11]) {
    char buf[64];
    if (strlen(s) >= sizeof buf) return DS_E_FORMAT;
    snprintf(buf, sizeof buf, "%s", s);
    ds_norm_case(buf, 0);
    char *tok[5];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, " ,/-.", &save); t;
         t = strtok_r(NULL, " ,/-.", &save)) {
        // "the 5th day of November, 2004", as contracts write it: "day of" after a day
        size_t k = n ? strlen(tok[n - 1]) : 0;
        if (strcmp(t, "day") == 0 && k > 2 && isdigit((unsigned char)tok[n - 1][0]) &&
            isalpha((unsigned char)tok[n - 1][k - 1])) {
            if (!(t = strtok_r(NULL, " ,/-.", &save)) || strcmp(t, "of") != 0) return DS_E_FORMAT;
            continue;
        }
        if (n == 5) return DS_E_FORMAT;
        tok[n++] = t;
    }
    int first = n == 4 && is_weekday(tok[0]) ? 1 : 0;
    if (n - first != 3) return DS_E_FORMAT;
    int month = 0, num[2] = {0}, digits[2] = {0}, n_num = 0;
    for (int i = first; i < n; i++) {
        char *t = tok[i];
        int m = month_of(t);
        if (m) {
            if (month) return DS_E_FORMAT;
            month = m;
            continue;
        }
        int v = 0, k = 0;
        while (t[k] >= '0' && t[k] <= '9' && k < 5) v = v * 10 + (t[k++] - '0');
        const char *rest = t + k;
        int ordinal = strcmp(rest, "st") == 0 || strcmp(rest, "nd") == 0 ||
                      strcmp(rest, "rd") == 0 || strcmp(rest, "th") == 0 ||
                      strcmp(rest, "er") == 0; // French "1er"
        if (k == 0 || (*rest && !(ordinal && k <= 2)) || n_num == 2) return DS_E_FORMAT;
        num[n_num] = v;
        digits[n_num++] = ordinal ? -k : k; // a negative count marks the day
    }
    if (!month || n_num != 2) return DS_E_FORMAT;
    // The year is the 4-digit number, else the last one; the other is the day.
    int yi = digits[0] == 4 ? 0 : 1, di = 1 - yi;
    if (digits[yi] != 4 && digits[yi] != 2) return DS_E_FORMAT;
    if (digits[di] != 1 && digits[di] != 2 && digits[di] != -1 && digits[di] != -2)
        return DS_E_FORMAT;
    int y = full_year(num[yi], digits[yi]);
    return valid_ymd(y, month, num[di]) ? put_iso(y, month, num[di], iso) : DS_E_FORMAT;
}

int ds_norm_date(const char *s, int month_first, char iso[11]) {
    char *c = ds_norm_collapse(s);
    if (!c) return DS_E_NOMEM;
    int rc = parse_numeric_date(c, month_first, iso);
    if (rc) rc = parse_text_date(c, iso);
    free(c);
    return rc;
}

// ---- durations

// "two", "twelve", "thirty-six": 1..99 written out; 0 when w is not such a number.
static int number_word(const char *w) {
    static const char *ones[] = {"zero",    "one",     "two",       "three",    "four",
                                 "five",    "six",     "seven",     "eight",    "nine",
                                 "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                 "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
    static const char *tens[] = {"twenty", "thirty",  "forty",  "fifty",
                                 "sixty",  "seventy", "eighty", "ninety"};
    for (int i = 1; i < 20; i++)
        if (strcmp(w, ones[i]) == 0) return i;
    for (int i = 0; i < 8; i++) {
        size_t n = strlen(tens[i]);
        if (strncmp(w, tens[i], n) != 0) continue;
        if (!w[n]) return 20 + 10 * i;
        for (int k = 1; k < 10 && w[n] == '-'; k++)
            if (strcmp(w + n + 1, ones[k]) == 0) return 20 + 10 * i + k;
    }
    return 0;
}

// "2 years", "two (2) years", "twelve months", "one year.", "3-year": a count, then
// day, week, month or year; out gets "N units" (always plural, as Kleister writes
// "1_years"). A count in words and one in digits must agree.
int ds_norm_duration(const char *s, char out[32]) {
    static const char *units[] = {"day", "week", "month", "year"};
    char *c = ds_norm_collapse(s);
    if (!c) return DS_E_NOMEM;
    ds_norm_case(c, 0);
    for (char *p = c; *p; p++) // "two (2)" and "3-year" split into words
        if (*p == '(' || *p == ')' || (*p == '-' && p > c && isdigit((unsigned char)p[-1])))
            *p = ' ';
    int words = 0, digits = 0, unit = -1, bad = 0;
    for (char *save = NULL, *w = strtok_r(c, " ", &save); w && !bad;
         w = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(w);
        while (n && (w[n - 1] == '.' || w[n - 1] == ',')) w[--n] = 0;
        if (unit >= 0 || !n) {
            bad = n > 0;
        } else if (isdigit((unsigned char)w[0])) {
            char *end;
            long v = strtol(w, &end, 10);
            bad = *end || digits || v <= 0 || v > 9999;
            digits = (int)v;
        } else if (number_word(w)) {
            bad = words || digits;
            words = number_word(w);
        } else {
            for (int u = 0; u < 4 && unit < 0; u++) {
                size_t k = strlen(units[u]);
                if (strncmp(w, units[u], k) == 0 && (!w[k] || strcmp(w + k, "s") == 0)) unit = u;
            }
            bad = unit < 0;
        }
    }
    free(c);
    int count = digits ? digits : words;
    if (bad || unit < 0 || !count || (words && digits && words != digits)) return DS_E_FORMAT;
    snprintf(out, 32, "%d %ss", count, units[unit]);
    return 0;
}

// ---- currencies and amounts

// Whether three upper-case letters are an ISO 4217 code in use: any three letters
// were taken before, so OCR's "Rit" (of "RM") made "Rit 86.00" an amount, and "Qty",
// "Amt", "Tax" and "Due" read as currencies.
static int iso_4217(const char *c) {
    static const char codes[] =
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD "
        "BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB "
        "EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK "
        "JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA "
        "MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK "
        "PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP "
        "STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV "
        "WST XAF XCD XOF XPF YER ZAR ZMW ZWL";
    for (const char *p = codes; *p; p += p[3] ? 4 : 3)
        if (!strncmp(p, c, 3)) return 1;
    return 0;
}

int ds_norm_currency(const char *s, char code[4]) {
    static const struct {
        const char *sym, *code;
    } syms[] = {{"€", "EUR"}, {"$", "USD"},   {"US$", "USD"}, {"£", "GBP"},   {"RM", "MYR"},
                {"¥", "JPY"}, {"Fr.", "CHF"}, {"Fr", "CHF"},  {"SFr.", "CHF"}};
    char *c = ds_norm_collapse(s);
    if (!c) return DS_E_NOMEM;
    int rc = DS_E_FORMAT;
    for (size_t i = 0; i < sizeof syms / sizeof *syms && rc; i++)
        if (strcasecmp(c, syms[i].sym) == 0) {
            memcpy(code, syms[i].code, 4);
            rc = 0;
        }
    int letters = 0;
    while (c[letters] && ((c[letters] | 32) >= 'a' && (c[letters] | 32) <= 'z')) letters++;
    if (rc && letters == 3 && c[3] == 0) {
        ds_norm_case(c, 1);
        if (iso_4217(c)) memcpy(code, c, 4), rc = 0;
    }
    free(c);
    return rc;
}

// Grouping marks inside a number: space, apostrophe, U+00A0, U+2009, U+202F.
static int group_mark_len(const unsigned char *p) {
    if (*p == ' ' || *p == '\'') return 1;
    if (p[0] == 0xC2 && p[1] == 0xA0) return 2;
    if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0x89 || p[2] == 0xAF)) return 3;
    return 0;
}

// The digits of core ("1.234,56") as "1234.56" in out; DS_E_FORMAT when the
// separators do not make one number. Decimal mark: the last of '.' and ',' when
// both occur; a lone one is a thousands mark only before exactly 3 digits and
// after a non-zero integer part ("1,234" = 1234, "0,500" = 0.5, "12,50" = 12.5).
static int number_text(const char *core, char *out, size_t cap) {
    const unsigned char *p = (const unsigned char *)core;
    int n_dot = 0, n_comma = 0;
    char last = 0;
    for (const unsigned char *q = p; *q; q++)
        if (*q == '.' || *q == ',') {
            n_dot += *q == '.';
            n_comma += *q == ',';
            last = (char)*q;
        }
    char dec = 0;
    if (n_dot && n_comma) {
        dec = last;
        if ((dec == '.' ? n_dot : n_comma) != 1) return DS_E_FORMAT;
    } else if (n_dot + n_comma == 1) {
        const char *at = strchr(core, last);
        size_t after = strspn(at + 1, "0123456789");
        int int_zero = strspn(core, "0") == (size_t)(at - core);
        dec = after == 3 && at[1 + after] == 0 && !int_zero ? 0 : last;
    }
    size_t o = 0;
    int group = -1; // digits since the last grouping mark (-1: none seen yet)
    int in_frac = 0;
    while (*p) {
        int k = group_mark_len(p);
        if (*p >= '0' && *p <= '9') {
            if (o + 2 >= cap) return DS_E_FORMAT;
            out[o++] = (char)*p++;
            if (group >= 0 && !in_frac) group++;
            continue;
        }
        if (in_frac) return DS_E_FORMAT; // nothing but digits after the decimal mark
        if (group > 0 && group != 3) return DS_E_FORMAT;
        if (*p == dec && dec) {
            out[o++] = '.';
            in_frac = 1;
            p++;
            continue;
        }
        if (!k && *p != '.' && *p != ',') return DS_E_FORMAT;
        if (o == 0) return DS_E_FORMAT; // a number does not start with a grouping mark
        group = 0;
        p += k ? k : 1;
    }
    if (group >= 0 && group != 3 && !in_frac) return DS_E_FORMAT;
    if (in_frac && out[o - 1] == '.') return DS_E_FORMAT;
    out[o] = 0;
    return 0;
}

int ds_norm_cents(const char *text) {
    for (const char *p = text; *p; p++)
        if (p > text && isdigit((unsigned char)p[-1]) && (*p == '.' || *p == ',') &&
            isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
            !isdigit((unsigned char)p[3]))
            return 1;
    return 0;
}

int ds_norm_amount(const char *s, double *out) {
    size_t n = strlen(s);
    size_t fd = n, ld = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9') {
            if (fd == n) fd = i;
            ld = i;
        }
    if (fd == n || n > 200) return DS_E_FORMAT;
    size_t cs = fd > 0 && (s[fd - 1] == '.' || s[fd - 1] == ',') ? fd - 1 : fd;
    // Around the number: white space, one sign ('-', '+' or parentheses) and a currency.
    char cur[64], core[256];
    size_t nc = 0;
    int minus = 0, plus = 0, open = 0, close = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == cs) i = ld + 1;
        if (i >= n) break;
        const unsigned char *p = (const unsigned char *)s + i;
        int k = space_len(p);
        if (k) {
            i += (size_t)k - 1;
            continue;
        }
        if (*p == '-')
            minus++;
        else if (*p == '+' && i < cs)
            plus++;
        else if (*p == '(' && i < cs)
            open++;
        else if (*p == ')' && i > ld)
            close++;
        else if (nc + 1 < sizeof cur)
            cur[nc++] = (char)*p;
        else
            return DS_E_FORMAT;
    }
    cur[nc] = 0;
    if (minus + plus + open > 1 || open != close) return DS_E_FORMAT;
    char code[4];
    if (nc && ds_norm_currency(cur, code) != 0) return DS_E_FORMAT;
    if (ld + 1 - cs >= sizeof core) return DS_E_FORMAT;
    memcpy(core, s + cs, ld + 1 - cs);
    core[ld + 1 - cs] = 0;
    char digits[sizeof core + 2];
    if (core[0] == '.' || core[0] == ',') { // ".50": the mark is decimal
        snprintf(digits, sizeof digits, "0.%s", core + 1);
        if (strspn(core + 1, "0123456789") != strlen(core + 1)) return DS_E_FORMAT;
    } else if (number_text(core, digits, sizeof digits) != 0) {
        return DS_E_FORMAT;
    }
    double v = strtod(digits, NULL);
    *out = minus || open ? -v : v;
    return 0;
}

// ---- check boxes

int ds_norm_checkbox(const char *s, int *out) {
    static const char *yes[] = {"x", "yes", "y", "checked", "true", "1", "☑", "☒"};
    static const char *no[] = {"no", "n", "unchecked", "false", "0", "☐", "empty", ""};
    char *c = ds_norm_collapse(s);
    if (!c) return DS_E_NOMEM;
    ds_norm_case(c, 0);
    int rc = DS_E_FORMAT;
    for (size_t i = 0; i < sizeof yes / sizeof *yes && rc; i++)
        if (strcmp(c, yes[i]) == 0) *out = 1, rc = 0;
    for (size_t i = 0; i < sizeof no / sizeof *no && rc; i++)
        if (strcmp(c, no[i]) == 0) *out = 0, rc = 0;
    free(c);
    return rc;
}

// ---- one value of a field type

static char *as_text(const char *raw, const ds_norm_opts *o, int upper) {
    char *t = o->strip_only ? squeeze(raw, 0) : ds_norm_collapse(raw);
    if (t && upper) ds_norm_case(t, 1);
    return t;
}

// Kleister's party form: "Sears, Roebuck & Co." -> "Sears Roebuck and Co.". A new
// string (s is freed), or NULL when out of memory.
static char *plain_party(char *s) {
    char *out = malloc(strlen(s) * 5 + 1), *q = out;
    for (const char *p = s; out && *p; p++)
        if (*p == '&')
            memcpy(q, " and ", 5), q += 5;
        else if (*p != ',')
            *q++ = *p;
    if (out) *q = 0;
    free(s);
    return out;
}

int ds_norm_value_make(ds_field_type t, const char *raw, const ds_norm_opts *o,
                       ds_norm_value *out) {
    memset(out, 0, sizeof *out);
    char *src = strdup(raw);
    if (!src) return ds_error(DS_E_NOMEM, "out of memory");
    if (o->underscore_space)
        for (char *p = src; *p; p++)
            if (*p == '_' || *p == ':') *p = ' ';
    if (t == DS_FIELD_PARTY_LIST && o->party_plain && !(src = plain_party(src)))
        return ds_error(DS_E_NOMEM, "out of memory");
    char buf[32];
    int v;
    double num;
    switch (t) {
    case DS_FIELD_DATE:
        if ((out->parsed = ds_norm_date(src, o->month_first, buf) == 0)) out->text = strdup(buf);
        break;
    case DS_FIELD_AMOUNT:
        if ((out->parsed = ds_norm_amount(src, &num) == 0)) {
            out->num = num;
            out->is_num = 1;
            // two decimals unless the value has more (a unit price of 0.125)
            double cents = num * 100;
            snprintf(buf, sizeof buf, fabs(cents - round(cents)) < 1e-6 ? "%.2f" : "%.6g", num);
            out->text = strdup(buf);
        }
        break;
    case DS_FIELD_CURRENCY:
        if ((out->parsed = ds_norm_currency(src, buf) == 0)) out->text = strdup(buf);
        break;
    case DS_FIELD_CHECKBOX:
        if ((out->parsed = ds_norm_checkbox(src, &v) == 0))
            out->text = strdup(v ? "true" : "false");
        break;
    case DS_FIELD_DURATION:
        if ((out->parsed = ds_norm_duration(src, buf) == 0)) out->text = strdup(buf);
        break;
    case DS_FIELD_PLACE: { // its name, without the punctuation a word carried ("New York.")
        char place[64];
        if ((out->parsed = ds_norm_place(src, place) == 0))
            out->text = as_text(place, o, o->uppercase);
        break;
    }
    case DS_FIELD_ENUM:
        out->parsed = 1;
        if ((out->text = ds_norm_collapse(src))) ds_norm_case(out->text, 0);
        break;
    default: // text, party_list, name
        out->parsed = 1;
        out->text = as_text(src, o, o->uppercase);
        break;
    }
    if (!out->parsed) out->text = as_text(src, o, o->uppercase);
    free(src);
    return out->text ? 0 : ds_error(DS_E_NOMEM, "out of memory");
}

void ds_norm_value_free(ds_norm_value *v) {
    if (!v) return;
    free(v->text);
    v->text = NULL;
}

int ds_norm_equal(const ds_norm_value *a, const ds_norm_value *b) {
    if (a->is_num && b->is_num) return fabs(a->num - b->num) <= 0.005 + 1e-9;
    if (a->is_num || b->is_num) return 0;
    return strcmp(a->text, b->text) == 0;
}
