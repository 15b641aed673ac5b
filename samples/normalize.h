// normalize.h: how `docseek eval` compares a predicted value with the true one:
// each field type (samples/schema.h) has a canonical form: text with white
// space collapsed, ISO dates, decimal amounts, ISO 4217 currency codes,
// true/false check boxes, lower-case enum values, "N units" durations. A value the type's parser
// does not understand is compared as text, so a bad value is a miss, never an
// error. It does not decide what counts as a match of several values (eval.c).
// Case mapping covers ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic.
#ifndef DS_NORMALIZE_H
#define DS_NORMALIZE_H

#include "samples/schema.h"

typedef struct {
    int uppercase;        // text and party_list values upper-cased (--uppercase, Kleister)
    int month_first;      // numeric dates read month/day/year (--month-first); default day first
    int underscore_space; // '_' and ':' read as spaces (Kleister writes both as '_')
    int strip_only;       // text only trimmed at both ends, inner space kept (Donut/CORD)
    int party_plain;      // party names without commas, '&' read as "and" (Kleister's form)
} ds_norm_opts;

// A normalised value. text is the canonical form ("2024-03-12", "1234.56",
// "EUR", "true", or the collapsed text); is_num marks an amount read as a number.
typedef struct {
    char *text;
    double num;
    int is_num;
    int parsed; // 1 when the type's parser understood the value, 0 when it fell back to text
} ds_norm_value;

// Copy of s with white space (ASCII, no-break and the Unicode spaces) trimmed and
// runs collapsed to one space; NULL when out of memory. The caller frees it.
char *ds_norm_collapse(const char *s);
// Upper- (upper = 1) or lower-cases UTF-8 text in place (byte lengths never change).
void ds_norm_case(char *s, int upper);

// Dates: iso gets "yyyy-mm-dd". Returns 0, or DS_E_FORMAT when s is not a date it knows.
int ds_norm_date(const char *s, int month_first, char iso[11]);
// Amounts: *out gets the value ("1.234,56 EUR" -> 1234.56, "(3.00)" -> -3). 0 or DS_E_FORMAT.
int ds_norm_amount(const char *s, double *out);
// Whether text holds an amount with two decimals: a digit, a point or comma, two digits
// and no third ("73.00", "RM1,204.50"; not "2", "70549", "3.960").
int ds_norm_cents(const char *text);
// Currencies: code gets the ISO 4217 code ("€" -> "EUR", "usd" -> "USD"). 0 or DS_E_FORMAT.
int ds_norm_currency(const char *s, char code[4]);
// Durations: out gets "N units" ("two (2) years" -> "2 years", "one year" -> "1 years",
// "12-month" -> "12 months"). Returns 0, or DS_E_FORMAT when s is not a duration.
int ds_norm_duration(const char *s, char out[32]);
// Places: out gets the canonical name of a country or a first-level region (a state,
// a province) named by s, case and surrounding punctuation aside ("the State of" is
// not part of it: "New York," -> "New York"); from iso-codes (samples/places.c).
// Returns 0, or DS_E_FORMAT when s names none.
int ds_norm_place(const char *s, char out[64]);
// Check boxes: *out gets 1 (x, yes, checked, true, 1, ☑, ☒) or 0 (no, unchecked, false,
// 0, ☐, empty, ""); case ignored. Returns 0 or DS_E_FORMAT.
int ds_norm_checkbox(const char *s, int *out);

// Normalises raw as a value of type t into *out (out->text is owned; free with
// ds_norm_value_free). Returns 0 or DS_E_NOMEM; never fails on odd input.
int ds_norm_value_make(ds_field_type t, const char *raw, const ds_norm_opts *o, ds_norm_value *out);
void ds_norm_value_free(ds_norm_value *v);
// 1 when a and b are the same value: numbers within 0.005, otherwise equal text.
int ds_norm_equal(const ds_norm_value *a, const ds_norm_value *b);

#endif
