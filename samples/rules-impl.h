// rules-impl.h: private to the rules baseline (samples/rules*.c). A document is
// seen as one token stream in reading order (pages, then lines, then x), with
// each token's printed text, a folded form for matching and its box; the value
// patterns (dates, amounts, currencies) and the label lexicons work on it.
// Nothing here is API: it may change with the rules.
#ifndef DS_RULES_IMPL_H
#define DS_RULES_IMPL_H

#include "ingest/ingest.h"
#include "samples/schema.h"

#include <jansson.h>
#include <stddef.h>

// ---- the token view of a document

typedef struct {
    const char *raw; // as printed (a word, or one side of a "Label:value" word)
    const char
        *norm;  // folded for matching: lower case, ':' and a final '.' dropped, "" = punctuation
    ds_box box; // page points
    float conf; // the word's confidence (1 for a text layer)
    int page;   // 0-based
    int line;   // global line index over the whole document
    int glued;  // 1 when the token continues the previous token's word
} ds_rtok;

typedef struct {
    ds_rtok *toks; // (n_toks)
    int n_toks;
    int *line_first; // (n_lines + 1): first token of each line; the last entry is n_toks
    int n_lines;
    const ds_doc *doc;
    char *chars; // storage of raw and norm texts
} ds_rview;

// Builds the view; 0 or DS_E_NOMEM. ds_rview_free releases it (and a zeroed view).
int ds_rview_init(ds_rview *v, const ds_doc *doc);
void ds_rview_free(ds_rview *v);

// ---- value patterns (rules-values.c); each looks at tokens [i, end) of the view

// Case folding for matching: ASCII and the Latin-1 letters of German and French
// upper case to lower case, typographic apostrophes to '. Writes at most
// strlen(s) + 1 bytes (folding never lengthens); returns the length written.
int ds_rules_fold(const char *s, char *out);

// A date starting at token i: returns the number of tokens it spans (0 if none).
// Numeric (2024-03-12, 12/03/2024, 12.03.24), with a month name (12 Mar 2024,
// March 12, 2024, 12-Mar-2024, 1st day of March, 2019), English, German, French.
int ds_rules_date_at(const ds_rview *v, int i, int end);

// An amount starting at token i: returns the tokens it spans (0 if none), its
// value, and [*num0, *num1) the tokens holding the number (a currency sign or
// code before or after is part of the match, not of the number). The number
// needs a two-digit decimal part: 1,234.56 / 1.234,56 / 1 234,56 / RM9.00 / $12.50.
int ds_rules_amount_at(const ds_rview *v, int i, int end, double *value, int *num0, int *num1);

// The ISO 4217 code a token shows (a symbol or code alone or attached to a
// number: "€", "EUR", "$12.50", "RM9.00"), or NULL.
const char *ds_rules_currency_of(const char *raw);

// The printed text of an amount's number tokens without currency signs,
// written into out (size cap); "$1,234.56" -> "1,234.56".
void ds_rules_amount_text(const ds_rview *v, int num0, int num1, char *out, size_t cap);

// 1 when the token has no letter or digit (a colon, a dash, a bar...).
int ds_rules_is_punct(const char *raw);
// Counts of ASCII digits and of letters (any non-ASCII byte counts as a letter).
void ds_rules_count_chars(const char *s, int *digits, int *letters);

// ---- lexicons (rules-lexicon.c)

typedef enum {
    DS_RK_TEXT = 0, // the run of words after or below the label
    DS_RK_NAME,     // same, with a letter in it
    DS_RK_ID,       // same, with a digit in it (invoice numbers)
    DS_RK_DATE,     // a date pattern
    DS_RK_AMOUNT,   // an amount pattern
    DS_RK_EMAIL,    // a word with '@'
    DS_RK_PHONE,    // a run with at least 6 digits
} ds_rule_kind;

typedef struct {
    const char *doc_type;
    const char *field; // NULL: a stop label (ends a value, is never one)
    ds_rule_kind kind;
    int largest;               // amounts: the largest of the candidates wins (totals)
    const char *const *labels; // folded phrases, NULL-terminated
    const char *const *strong; // phrases that outrank the others (NULL-terminated) or NULL
} ds_rule;

extern const ds_rule ds_rules_table[];
extern const int ds_rules_table_n;

// ---- found values and their JSON (rules.c)

typedef struct {
    int t0, t1;     // the value's tokens [t0, t1) in the view; t0 < 0 when nothing was found
    double amount;  // amounts: the value read
    float conf;     // 0..1
    char text[768]; // the value as printed
} ds_rval;

// Sets r to tokens [t0, t1) with their printed text joined by spaces (punctuation-only
// tokens at either end and a trailing , ; : left out) and confidence base times the
// words' mean confidence (so OCR doubts lower it). Returns 0, or -1 when no text is left.
int ds_rval_text(const ds_rview *v, ds_rval *r, int t0, int t1, float base);
// The mean confidence of tokens [t0, t1) mapped to 0.5..1, the factor ds_rval_text applies.
float ds_rules_conf_factor(const ds_rview *v, int t0, int t1);
// Adds r as fields[name] (multi: appended to the array fields[name]) with its page,
// its box (the union of its tokens on its first page) and confidence. 0 or DS_E_NOMEM.
int ds_rules_put(json_t *fields, const char *name, int multi, const ds_rview *v, const ds_rval *r);
// Words phrase (folded, space separated) at token i, all on the line of i when
// same_line: returns the tokens matched (0 if none).
int ds_rules_phrase_at(const ds_rview *v, int i, int end, const char *phrase, int same_line);

// ---- the rules per document type

// Label-driven fields of a schema whose rules are in ds_rules_table (rules-labels.c):
// values right of or below their labels, fallbacks for dates and totals, the currency.
int ds_rules_labelled(const ds_rview *v, const ds_schema *s, json_t *fields);
// Receipts: the company and address from the top lines (rules-layout.c).
int ds_rules_receipt_header(const ds_rview *v, const ds_schema *s, json_t *fields);
// Contracts: parties, effective date, jurisdiction and term from phrases (rules-layout.c).
int ds_rules_contract(const ds_rview *v, const ds_schema *s, json_t *fields);

#endif
