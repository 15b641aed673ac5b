// rules-layout.c: rules that follow a document's layout or prose rather than
// labels. Receipts: the shop's name is the first real text line at the top and
// its address the lines after it, up to the phone number, the date or the
// receipt's title. Contracts: the parties after "by and between", the governing
// law after "laws of the State of", the term after "for a period of", the
// effective date after "effective as of". English phrases only; it does not
// parse clauses, resolve defined terms or read party blocks laid out in tables.
#include "core/error.h"
#include "samples/address.h"
#include "samples/rules-impl.h"

#include <stdio.h>
#include <string.h>

// ---- text statistics of a line

typedef struct {
    int digits, letters, upper;
    int has_date;
    float conf; // mean word confidence
} ds_line_stats;

static ds_line_stats line_stats(const ds_rview *v, int l) {
    ds_line_stats s = {0};
    int f = v->line_first[l], e = v->line_first[l + 1];
    for (int k = f; k < e; k++) {
        int d, a;
        ds_rules_count_chars(v->toks[k].raw, &d, &a);
        s.digits += d, s.letters += a;
        for (const char *p = v->toks[k].raw; *p; p++) s.upper += *p >= 'A' && *p <= 'Z';
        if (!s.has_date && ds_rules_date_at(v, k, e)) s.has_date = 1;
        s.conf += v->toks[k].conf / (float)(e - f);
    }
    return s;
}

static int line_has_word(const ds_rview *v, int l, const char *const *words) {
    for (int k = v->line_first[l]; k < v->line_first[l + 1]; k++)
        for (const char *const *w = words; *w; w++) {
            size_t n = strlen(*w);
            const char *t = v->toks[k].norm;
            while (*t && !((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9'))) t++;
            // the word itself, or the word glued to a number or sign ("tel.07-...", "fax/")
            if (strncmp(t, *w, n) == 0 && !(t[n] >= 'a' && t[n] <= 'z')) return 1;
        }
    return 0;
}

// ---- receipts

// Company registration numbers printed under the name: "(CO.REG : 933109-X)",
// "(JM0517726)", "789417-W", "GST REG NO ...". Only skipped before the address.
static int registration_line(const ds_rview *v, int l) {
    static const char *const reg[] = {"reg", "(co", "co.reg", "company", "gst", "roc", NULL};
    if (line_has_word(v, l, reg)) return 1;
    int f = v->line_first[l], e = v->line_first[l + 1];
    ds_line_stats s = line_stats(v, l);
    const char *first = v->toks[f].raw, *last = v->toks[e - 1].raw;
    size_t nl = strlen(last);
    if (first[0] == '(' && strchr(")}]", last[nl - 1]) && s.digits >= 4) return 1;
    // "789417-W", and OCR's reading of it in one or two words
    return e - f <= 2 && s.digits >= 2 && nl >= 2 && last[nl - 2] == '-';
}

int ds_rules_receipt_header(const ds_rview *v, const ds_schema *s, json_t *fields) {
    if (v->n_toks == 0) return 0;
    float h = v->doc->pages[0].height_pt;
    int n0 = 0; // lines on the first page
    while (n0 < v->n_lines && v->toks[v->line_first[n0]].page == 0) n0++;
    int company = -1;
    for (int l = 0; l < n0 && l < 10; l++) {
        if (v->toks[v->line_first[l]].box.y0 > 0.4f * h) break;
        ds_line_stats st = line_stats(v, l);
        // Shop names are printed in capitals or title case; a line without any
        // capital is a handwritten note or a stamp, one with more digits than
        // letters a number, a phone or a date, one OCR doubts a smudge or a logo.
        if (st.letters < 3 || st.upper == 0 || 2 * st.digits > st.letters || st.has_date ||
            st.conf < 0.5f)
            continue;
        company = l;
        break;
    }
    if (company < 0) return 0;
    // A name broken over two lines ends its first with '&' or '-'.
    int company_end = company + 1;
    const char *last = v->toks[v->line_first[company_end] - 1].raw;
    if (company_end < n0 && (!strcmp(last, "&") || !strcmp(last, "-"))) company_end++;
    ds_rval r = {0};
    int rc = 0;
    if (ds_schema_field(s, "company") &&
        ds_rval_text(v, &r, v->line_first[company], v->line_first[company_end], 0.6f) == 0)
        rc = ds_rules_put(fields, "company", 0, v, &r);
    // Before the address: registration numbers, a date and time, noise; after it
    // starts, the first phone, date or title line ends it.
    int a = -1, b = -1, taken = 0;
    for (int l = company_end; l < n0 && taken < 6 && !rc; l++) {
        ds_line_stats st = line_stats(v, l);
        if (taken == 0 &&
            (registration_line(v, l) || st.has_date || st.letters == 0 || st.conf < 0.5f))
            continue;
        if (line_has_word(v, l, ds_address_stops) || st.has_date ||
            (st.letters == 0 && st.digits >= 6))
            break;
        if (a < 0) a = v->line_first[l];
        b = v->line_first[l + 1];
        taken++;
    }
    if (!rc && a >= 0 && ds_schema_field(s, "address") && ds_rval_text(v, &r, a, b, 0.5f) == 0)
        rc = ds_rules_put(fields, "address", 0, v, &r);
    return rc;
}

// ---- contracts

// The first token in [from, to) where phrase starts, or -1.
static int find_phrase(const ds_rview *v, int from, int to, const char *phrase, int *n) {
    for (int i = from; i < to; i++)
        if ((*n = ds_rules_phrase_at(v, i, to, phrase, 0)) > 0) return i;
    return -1;
}

static int first_upper(const char *raw) {
    unsigned char c = (unsigned char)raw[0];
    return (c >= 'A' && c <= 'Z') || (c == 0xC3 && (unsigned char)raw[1] < 0xA0);
}

static int ends_with_any(const char *raw, const char *chars) {
    size_t n = strlen(raw);
    return n > 0 && strchr(chars, raw[n - 1]);
}

static int is_digit_c(char c) {
    return c >= '0' && c <= '9';
}

// A word ending in a full stop that ends a sentence rather than an abbreviation
// ("Enterprises." but not "Inc.", "Corp.", "L.P." or the initial "J.").
static int ends_sentence(const ds_rtok *t) {
    static const char *const abbrev[] = {"inc", "ltd", "corp", "co",  "llc", "l.l.c", "l.p", "n.a",
                                         "s.a", "n.v", "b.v",  "plc", "jr",  "sr",    "m.d", "ph.d",
                                         "u.s", "mr",  "mrs",  "ms",  "dr",  "st",    NULL};
    size_t n = strlen(t->raw);
    if (n < 3 || t->raw[n - 1] != '.') return 0;
    for (const char *const *a = abbrev; *a; a++)
        if (!strcmp(t->norm, *a)) return 0;
    return 1;
}

// A party's name starting at token i: capitalised words (with "of", "&" and
// the like between them) up to a parenthesis, a quote, "and" or a lower-case
// word; "Acme Robotics, Inc., a Delaware corporation" gives "Acme Robotics, Inc.".
static int party_at(const ds_rview *v, int i, int to, ds_rval *r) {
    static const char *const joiners[] = {"of",  "de", "du",  "des", "la",     "le",
                                          "the", "&",  "van", "von", "and/or", NULL};
    while (i < to && ds_rules_is_punct(v->toks[i].raw)) i++;
    // A name starts with a capital or a digit: "the Company" is a defined term.
    if (i >= to || !(first_upper(v->toks[i].raw) || is_digit_c(v->toks[i].raw[0]))) return -1;
    int j = i, sentence_end = 0;
    while (j < to && j - i < 12) {
        const ds_rtok *t = &v->toks[j];
        if (t->raw[0] == '(' || t->raw[0] == '"' || !strncmp(t->raw, "\u201c", 3) ||
            !strcmp(t->norm, "and"))
            break;
        int joiner = 0;
        for (const char *const *w = joiners; *w; w++) joiner |= !strcmp(t->norm, *w);
        if (!first_upper(t->raw) && !joiner && !is_digit_c(t->raw[0])) break;
        j++;
        if (ends_with_any(t->raw, ";)")) break;
        if (ends_with_any(t->raw, ",") && j < to && !first_upper(v->toks[j].raw)) break;
        if ((sentence_end = ends_sentence(t))) break;
    }
    // A name does not end on a joiner ("Acme of").
    while (j > i && (!strcmp(v->toks[j - 1].norm, "of") || !strcmp(v->toks[j - 1].norm, "the")))
        j--, sentence_end = 0;
    if (j <= i || ds_rval_text(v, r, i, j, 0.6f) != 0) return -1;
    size_t n = strlen(r->text);
    if (sentence_end && n > 1 && r->text[n - 1] == '.') r->text[n - 1] = '\0';
    return j;
}

// After the first party, the next "and" outside parentheses starts the second.
static int next_and(const ds_rview *v, int i, int to) {
    int depth = 0;
    for (int k = i; k < to && k < i + 60; k++) {
        const char *raw = v->toks[k].raw;
        for (const char *p = raw; *p; p++) depth += (*p == '(') - (*p == ')');
        if (depth < 0) depth = 0;
        if (depth == 0 && !strcmp(v->toks[k].norm, "and")) return k + 1;
        if (depth == 0 && ends_with_any(raw, ".;") && strlen(raw) > 3 &&
            strcmp(v->toks[k].norm, "inc") && strcmp(v->toks[k].norm, "ltd") &&
            strcmp(v->toks[k].norm, "corp") && strcmp(v->toks[k].norm, "co"))
            return -1; // the sentence ended
    }
    return -1;
}

static int contract_parties(const ds_rview *v, int head, json_t *fields) {
    static const char *const between[] = {"by and between", "between", NULL};
    for (const char *const *p = between; *p; p++) {
        int n, at = find_phrase(v, 0, head, *p, &n);
        if (at < 0) continue;
        ds_rval r1, r2;
        int end1 = party_at(v, at + n, v->n_toks, &r1);
        if (end1 < 0) continue;
        int rc = ds_rules_put(fields, "parties", 1, v, &r1);
        int second = rc ? -1 : next_and(v, end1, v->n_toks);
        if (second >= 0 && party_at(v, second, v->n_toks, &r2) >= 0)
            rc = ds_rules_put(fields, "parties", 1, v, &r2);
        return rc;
    }
    return 0;
}

static int contract_date(const ds_rview *v, int head, json_t *fields) {
    // Most specific first: "effective as of" names the date; "dated" may date a signature.
    static const char *const phrases[] = {"effective as of",
                                          "effective date",
                                          "entered into as of",
                                          "made as of",
                                          "dated as of",
                                          "entered into on",
                                          "made on",
                                          "dated",
                                          "as of",
                                          "effective",
                                          NULL};
    for (int p = 0; phrases[p]; p++) {
        for (int from = 0;;) {
            int n, at = find_phrase(v, from, head, phrases[p], &n);
            if (at < 0) break;
            // The date follows within a few words ("as of this 1st day of March, 2019").
            for (int k = at + n; k < at + n + 6 && k < v->n_toks; k++) {
                int m = ds_rules_date_at(v, k, v->n_toks);
                ds_rval r;
                if (m && ds_rval_text(v, &r, k, k + m, p < 5 ? 0.8f : 0.6f) == 0)
                    return ds_rules_put(fields, "effective_date", 0, v, &r);
            }
            from = at + 1;
        }
    }
    for (int k = 0; k < head; k++) { // fallback: the first date of the opening
        int m = ds_rules_date_at(v, k, v->n_toks);
        ds_rval r;
        if (m && ds_rval_text(v, &r, k, k + m, 0.3f) == 0)
            return ds_rules_put(fields, "effective_date", 0, v, &r);
    }
    return 0;
}

static int contract_jurisdiction(const ds_rview *v, json_t *fields) {
    static const char *const phrases[] = {"laws of the state of",
                                          "laws of the commonwealth of",
                                          "laws of the province of",
                                          "laws of the republic of",
                                          "laws of the kingdom of",
                                          "laws of the",
                                          "laws of",
                                          NULL};
    for (const char *const *p = phrases; *p; p++) {
        for (int from = 0;;) {
            int n, at = find_phrase(v, from, v->n_toks, *p, &n);
            if (at < 0) break;
            int i = at + n, j = i;
            // Capitalised words, "of" between them: "New York", "District of Columbia".
            while (j < v->n_toks && j - i < 4) {
                const ds_rtok *t = &v->toks[j];
                int of = !strcmp(t->norm, "of") && j > i && j + 1 < v->n_toks &&
                         first_upper(v->toks[j + 1].raw);
                if (!first_upper(t->raw) && !of) break;
                j++;
                if (ends_with_any(t->raw, ",.;)")) break;
            }
            ds_rval r;
            if (j > i && ds_rval_text(v, &r, i, j, 0.7f) == 0) {
                size_t len = strlen(r.text);
                while (len > 0 && strchr(".)", r.text[len - 1])) r.text[--len] = '\0';
                return ds_rules_put(fields, "jurisdiction", 0, v, &r);
            }
            from = at + 1;
        }
    }
    return 0;
}

static int contract_term(const ds_rview *v, json_t *fields) {
    static const char *const phrases[] = {"for a period of", "for a term of", "term of",
                                          "period of", NULL};
    static const char *const units[] = {"year", "years", "month",   "months",   "day", "days",
                                        "week", "weeks", "year(s)", "month(s)", NULL};
    for (const char *const *p = phrases; *p; p++) {
        for (int from = 0;;) {
            int n, at = find_phrase(v, from, v->n_toks, *p, &n);
            if (at < 0) break;
            int i = at + n;
            // "two (2) years": a number, in words or digits, then the unit.
            for (int j = i; j < i + 5 && j < v->n_toks; j++) {
                char w[32];
                snprintf(w, sizeof w, "%s", v->toks[j].norm);
                size_t len = strlen(w);
                while (len > 0 && strchr(".,;)", w[len - 1])) w[--len] = '\0';
                int unit = 0;
                for (const char *const *u = units; *u; u++) unit |= !strcmp(w, *u);
                ds_rval r;
                if (unit && j > i && ds_rval_text(v, &r, i, j + 1, 0.7f) == 0) {
                    size_t tl = strlen(r.text);
                    if (tl > 0 && r.text[tl - 1] == '.') r.text[tl - 1] = '\0';
                    return ds_rules_put(fields, "term", 0, v, &r);
                }
            }
            from = at + 1;
        }
    }
    return 0;
}

int ds_rules_contract(const ds_rview *v, const ds_schema *s, json_t *fields) {
    // The parties and the date are named in the opening; the rest may be anywhere.
    int head = v->n_toks < 800 ? v->n_toks : 800, rc = 0;
    if (ds_schema_field(s, "parties")) rc = contract_parties(v, head, fields);
    if (!rc && ds_schema_field(s, "effective_date")) rc = contract_date(v, head, fields);
    if (!rc && ds_schema_field(s, "jurisdiction")) rc = contract_jurisdiction(v, fields);
    if (!rc && ds_schema_field(s, "term")) rc = contract_term(v, fields);
    return rc;
}
