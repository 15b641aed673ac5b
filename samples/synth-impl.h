// synth-impl.h: what the generator's parts share; private to samples/.
// A ds_synth_doc is one document under construction: the cairo context it
// draws into, the random stream that decides everything, and the ground truth
// (field values and the boxes where they were drawn) accumulated as it draws.
#ifndef DS_SYNTH_IMPL_H
#define DS_SYNTH_IMPL_H

#include <cairo.h>
#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "core/rng.h"

typedef struct {
    char *data;
    size_t n, cap;
} ds_synth_bytes;

typedef enum { DS_LANG_EN = 0, DS_LANG_DE = 1, DS_LANG_FR = 2 } ds_synth_lang;

typedef struct {
    ds_rng rng;
    cairo_surface_t *surface;
    cairo_t *cr;
    ds_synth_bytes pdf;
    double page_w, page_h;
    int page;            // 1-based page being drawn
    const char *font;    // family of the body text
    json_t *fields;      // {name: value or [values]}
    json_t *boxes;       // {name: [{"page", "box"}]}
    json_t *visual_only; // [names] of fields visible only in the pixels
    ds_synth_lang lang;
} ds_synth_doc;

// ---- vocabularies (samples/synth-vocab.c); loaded once, read-only afterwards

int ds_synth_vocab_load(void);
// A random element of a list.
const char *ds_synth_word(ds_rng *r); // an English word, lower case
const char *ds_synth_word_lang(ds_rng *r, ds_synth_lang lang);
const char *ds_synth_city(ds_rng *r);     // from tzdata, spaces for '_'
const char *ds_synth_country(ds_rng *r);  // from iso-codes 3166-1
const char *ds_synth_currency(ds_rng *r); // a common ISO 4217 code
// Fills buf with a company name ("Harbor Lumber GmbH"), a person, a street address line.
void ds_synth_company(ds_rng *r, ds_synth_lang lang, char *buf, size_t n);
void ds_synth_person(ds_rng *r, char *buf, size_t n);
// Capitalises the first letter (ASCII, or leaves a multi-byte letter as it is).
void ds_synth_capitalise(char *s);
void ds_synth_street(ds_rng *r, ds_synth_lang lang, char *buf, size_t n);
// A date as printed in one of four styles (ISO, numeric day first, day month-name
// year, dotted), in the language's month names.
void ds_synth_date_format(int y, int m, int d, ds_synth_lang lang, int style, char *out, size_t n);
// A random date (base NULL), or base + after_days (base is updated to the result);
// ISO into iso (16 bytes), printed in style into out.
void ds_synth_date(ds_rng *r, ds_synth_lang lang, int style, int after_days, struct tm *base,
                   char *iso, char *out, size_t n);
// An amount in cents, printed with the language's separators (1,234.56 / 1.234,56).
void ds_synth_amount(long cents, ds_synth_lang lang, char *out, size_t n);
// A string after a pattern: '#' a random digit, '@' a random capital, else itself.
void ds_synth_pattern(ds_rng *r, const char *pattern, char *out, size_t n);

// ---- drawing (samples/synth-draw.c)

// Starts a document of w x h points with the body font; lang picks the labels.
int ds_synth_begin(ds_synth_doc *d, unsigned long seed, double w, double h);
void ds_synth_next_page(ds_synth_doc *d);
// Draws text with the pen at (x, baseline); returns its box (page points, y down).
// align: 0 left at x, 1 right-aligned ending at x, 2 centred on x.
typedef struct {
    double x0, y0, x1, y1;
} ds_synth_box;
ds_synth_box ds_synth_text(ds_synth_doc *d, double x, double baseline, double size, int bold,
                           int align, const char *text);
// The same, as filled outlines: visible in the pixels, absent from the text layer.
ds_synth_box ds_synth_text_outline(ds_synth_doc *d, double x, double baseline, double size,
                                   int bold, int align, const char *text);
// How wide text would be set (points), drawing nothing.
double ds_synth_text_width(ds_synth_doc *d, double size, int bold, const char *text);
// Records a field's value (string, or appends to an array when multi) and where it was drawn.
void ds_synth_field(ds_synth_doc *d, const char *name, const char *value, ds_synth_box box,
                    int multi);
void ds_synth_field_bool(ds_synth_doc *d, const char *name, int value, ds_synth_box box);
void ds_synth_visual_only(ds_synth_doc *d, const char *name);
ds_synth_box ds_synth_union(ds_synth_box a, ds_synth_box b);
void ds_synth_line(ds_synth_doc *d, double x0, double y0, double x1, double y1, double width);
void ds_synth_rect(ds_synth_doc *d, double x, double y, double w, double h, double width);
// A check box at (x, y) of size s; checked draws an X of two strokes (pixels only).
ds_synth_box ds_synth_checkbox(ds_synth_doc *d, double x, double y, double s, int checked);
// A rotated stamp ("PAID", "COPY") as outlines in a coloured frame.
void ds_synth_stamp(ds_synth_doc *d, double cx, double cy, const char *word);
// Finishes: *pdf receives the bytes (free()), *truth the ground truth object (json_decref).
int ds_synth_end(ds_synth_doc *d, const char *doc_type, ds_synth_bytes *pdf, json_t **truth);

// ---- running text (samples/synth-flow.c): words wrap at right; a value is kept on
// one line. bottom > 0 starts a new page (at top) when the text passes it.
typedef struct {
    ds_synth_doc *d;
    double x, y, size, left, right, lead;
    double top, bottom;
} ds_synth_flow;
// Sets text word by word; returns the union box of what it set.
ds_synth_box ds_synth_put(ds_synth_flow *f, const char *text, int bold);
// A field value: the same, moved to the next line whole when it does not fit.
ds_synth_box ds_synth_value(ds_synth_flow *f, const char *text, int bold);
void ds_synth_paragraph_end(ds_synth_flow *f);

// ---- document types (samples/synth-<type>.c): draw document `family` into d.
void ds_synth_invoice(ds_synth_doc *d, int family);
void ds_synth_receipt(ds_synth_doc *d, int family);
// Families 12-23 of receipts: long till receipts as SROIE's Malaysian shops print
// them (registration and GST numbers, item codes, sub-totals, tax, rounding, a
// GST summary: many amounts besides the total); 24-35 the same with their sums,
// labels and payment varied at random.
void ds_synth_receipt_till(ds_synth_doc *d, int family);
void ds_synth_form(ds_synth_doc *d, int family);
void ds_synth_contract(ds_synth_doc *d, int family);
// Forms with FUNSD-style truth (schema form_entities): headers, questions, answers.
void ds_synth_form_entities(ds_synth_doc *d, int family);
// Families 12-35 of contracts: agreements as filed with the SEC (exhibit headers,
// people and companies as parties, legal prose over several pages; 24-35 long).
void ds_synth_contract_filed(ds_synth_doc *d, int family);

// ---- scans (samples/synth-scan.c): rasterise page 1..n of a PDF at dpi and degrade it.
// Writes a JPEG to path (multi-page documents: one JPEG of the first page) and maps
// the truth's boxes through the same rotation. With on_sheet, a one-page document
// smaller than A4 is scanned lying at a random place on an A4 sheet, as receipts are
// (SROIE): the image is the sheet and the boxes move with the page. With thermal, each
// page is first printed as a worn thermal till prints it (binarised dots, faded patches,
// streaks, missing dots). Returns 0 or a DS_E* code.
int ds_synth_scan(const ds_synth_bytes *pdf, json_t *truth, ds_rng *r, int on_sheet, int thermal,
                  const char *path);

#endif
