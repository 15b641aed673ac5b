// eval.h: `docseek eval`: scores predictions against ground truth. Every field
// of a document is a multiset of values (a single value is a multiset of one):
// TP = matched normalised values, FP = predicted values left over, FN = true
// values left over; micro P/R/F1 overall, per document type and per field;
// grounding (IoU >= 0.5); documents ranked worst first with their wrong fields.
// It reads no public format (samples/gt-formats.h does) and trains nothing.
// Plain structs: callers read the fields; each *_free releases what it owns.
#ifndef DS_EVAL_H
#define DS_EVAL_H

#include <jansson.h>
#include <stdio.h>

#include "samples/normalize.h"
#include "samples/schema.h"

typedef enum {
    DS_EVAL_DOCSEEK = 0, // DIR/NAME.json beside NAME.pdf/.png/...
    DS_EVAL_SROIE,       // DIR/key/*.json, DIR/img/*.jpg
    DS_EVAL_FUNSD,       // DIR/annotations/*.json, DIR/images/*.png
    DS_EVAL_KLEISTER,    // DIR/labels.tsv, DIR/documents/*.pdf
    DS_EVAL_CORD,        // DIR/*.json with gt_parse (Donut style)
} ds_eval_format;

typedef struct {
    int page;     // 1-based
    float box[4]; // x0, y0, x1, y1, y down: page points, or image pixels when in_pixels
    int in_pixels;
} ds_eval_box;

typedef struct {
    char *raw;          // as written (JSON numbers and booleans as their text)
    ds_eval_box *boxes; // truth: any of them may be hit; prediction: at most one
    int n_boxes;
    float conf;    // prediction: its "confidence" in [0, 1], or -1 when it gave none
    char kind[12]; // prediction: its "source" (how docseek found it: span, generated, ...)
} ds_eval_value;

// A predicted value with a confidence, and whether it was right: what calibration fits.
typedef struct {
    float conf;
    char kind[12];
    int right;
    // "doc_type.field" as the extractor names the field ("contract.parties"), or "" for a
    // field scored outside "overall" (FUNSD's links): what withholding is fitted per
    char field[64];
} ds_eval_scored;

typedef struct {
    char *name;
    ds_field_type type;
    ds_eval_value *values; // the multiset; 0 values = absent
    int n_values;
} ds_eval_field;

typedef struct {
    char *id;       // file base name without extension: what predictions are matched by
    char *doc_type; // NULL in a prediction that names none
    char *doc_path; // the document itself (truth only), NULL when none was found
    char *source;   // truth file or "predictions:LINE", for messages
    ds_eval_field *fields;
    int n_fields;
} ds_eval_doc;

// A ground-truth set as a reader built it (ds_gt_load).
typedef struct {
    ds_eval_format format;
    char *dir;
    ds_eval_doc *docs;
    int n_docs;
    ds_schema_set spec; // doc types and typed fields predictions may name (n = 0: any, as text)
    ds_norm_opts norm;  // what the format's metric requires (Kleister upper-cases, CORD strips)
    const char *aux;    // a field scored on its own, outside "overall" (FUNSD "links"), or NULL
    json_t *as_pred;    // the truth in the format's prediction format, one object per document
} ds_eval_set;

typedef struct {
    ds_eval_doc *docs;
    int n_docs;
    int n_extract_failed; // documents the extractor could not read (they count as unpredicted)
    int n_foreign_type;   // predictions naming a type outside the set (fields not read)
} ds_eval_preds;

typedef struct {
    long tp, fp, fn;
} ds_eval_counts;

#define DS_EVAL_REL_BINS 10

typedef struct {
    char *doc_type, *field; // field NULL: the whole doc type
    ds_eval_counts c;
} ds_eval_bucket;

// One wrong value: predicted (NULL when missing) beside the true one (NULL when extra).
typedef struct {
    char *field, *pred, *truth;
    ds_eval_box pred_box;    // page 0 when none
    ds_eval_box *true_boxes; // the true value's boxes
    int n_true_boxes;
} ds_eval_miss;

typedef struct {
    const ds_eval_doc *truth; // into the ds_eval_set scored
    int predicted;            // a prediction line was found
    int doc_type_ok;          // the prediction named the true doc type (or named none)
    ds_eval_counts c;         // without the aux field
    double f1;
    ds_eval_miss *misses;
    int n_misses;
} ds_eval_doc_result;

typedef struct {
    ds_eval_format format;
    const char *aux;
    ds_eval_counts overall, aux_counts;
    ds_eval_bucket *types, *fields; // in order of first appearance
    int n_types, n_fields;
    long n_grounded, n_grounded_ok; // correct values with both boxes; of them IoU >= 0.5
    // Reliability: predicted values with a confidence, by tenths of it ([0.9, 1] the
    // last), and how many of them were right.
    long rel_n[DS_EVAL_REL_BINS], rel_ok[DS_EVAL_REL_BINS];
    double rel_conf[DS_EVAL_REL_BINS]; // their confidences summed (for the ECE)
    double rel_sq;          // (confidence - right)^2 summed over them (for the Brier score)
    ds_eval_scored *scored; // every one of them
    long n_scored, cap_scored;
    int n_docs, n_predicted, n_doc_type_ok, n_pred_unmatched;
    ds_eval_doc_result *docs; // worst first: document F1, then errors, then id
} ds_eval_report;

typedef struct {
    int uppercase;   // --uppercase: text fields compared upper-cased
    int month_first; // --month-first: numeric dates read month/day/year
} ds_eval_opts;

// "docseek", "sroie", "funsd", "kleister", "cord"; returns 0 or DS_E_INVAL (the names listed).
int ds_eval_format_parse(const char *name, ds_eval_format *out);
const char *ds_eval_format_name(ds_eval_format f);
// 1 when numeric dates in f's documents read month/day/year: Kleister-NDA's agreements
// are US filings ("5/12/09" is May 12); the others day first.
int ds_eval_format_month_first(ds_eval_format f);

// P, R, F1 of counts: 1 when nothing was to be found and nothing was predicted, 0/0 -> 0.
void ds_eval_prf(ds_eval_counts c, double *p, double *r, double *f1);
// Two extractors' F1 on the same n documents (a[i], b[i]: document i's counts): *gain =
// F1(b) - F1(a), micro-averaged, and returned the standard error of that gain with the
// documents as the sample, paired: F1 = 2T / D (T the true positives, D = 2T + FP + FN)
// is linearised, document i weighing z_i = (2 tp_i - F1 d_i) / D in its extractor's F1,
// and the error is sqrt(n / (n - 1) * sum (zb_i - za_i)^2) (the delta method; the z_i are
// the derivatives of F1 by the documents' weights). Documents both read alike add
// nothing, so a gain on a few of them that no document loses stands out, where the spread
// of one F1 alone would hide it. INFINITY for n < 2: one document shows no spread.
// finetune --keep-best's bar.
double ds_eval_f1_gain_se(const ds_eval_counts *a, const ds_eval_counts *b, int n, double *gain);
// Student's t quantile with df degrees of freedom at the probability of the normal
// quantile z (z = 2: the one-sided 97.7% point): exact for 1 and 2 degrees, the
// Cornish-Fisher expansion after (Abramowitz & Stegun 26.7.5; within 0.2% from 3 on).
// An error estimated from a few documents is itself uncertain: a gain must then clear
// more of them (finetune --keep-best). INFINITY for df < 1.
double ds_eval_t_from_z(double z, int df);
// Intersection over union of two boxes (0 when either is empty).
double ds_eval_iou(const float a[4], const float b[4]);

// Reads JSON lines of predictions (blank lines skipped) for truth's format. Errors
// (DS_E_FORMAT, DS_E_NOENT) name the file, the line and the field: malformed JSON, no
// "id"/"file", a second line for one id, an unknown doc type or field, a bad box.
// An error line of docseek extract / ingest ({"file", "error": {...}}) for a true
// document counts it as failed (n_extract_failed); one for any other file is ignored.
int ds_eval_preds_load(const char *path, const ds_eval_set *truth, ds_eval_preds *out);
// Adds one prediction object; where names it in errors ("preds.jsonl:3").
int ds_eval_preds_add(ds_eval_preds *p, const ds_eval_set *truth, const json_t *obj,
                      const char *where);
void ds_eval_preds_free(ds_eval_preds *p);

// The extractor `docseek eval --extractor NAME` runs on each document: on success
// *prediction is a new object in the prediction format (id optional). Returns 0 or DS_E*.
typedef int (*ds_eval_extract_fn)(const char *doc_path, const char *doc_type, json_t **prediction,
                                  void *user);
// Runs fn on every truth document and collects its predictions into *out. A document
// the extractor fails on is logged and counted (n_extract_failed), not fatal; a
// missing document file (DS_E_NOENT), a malformed prediction or DS_E_NOMEM stops the run.
int ds_eval_run_extractor(const ds_eval_set *truth, ds_eval_extract_fn fn, void *user,
                          ds_eval_preds *out);

// Scores preds against truth into *out (which points into truth: free it first).
int ds_eval_score(const ds_eval_set *truth, const ds_eval_preds *preds, const ds_eval_opts *opts,
                  ds_eval_report *out);
void ds_eval_report_free(ds_eval_report *r);

// Reports (eval-report.c). The table goes to f, worst lists the n_worst documents.
void ds_eval_print_table(FILE *f, const ds_eval_report *r, int n_worst);
// The reliability table (part of the table above): per tenth of confidence, the predicted
// values and the share of them that were right. Nothing when no value had a confidence.
void ds_eval_print_reliability(FILE *f, const ds_eval_report *r);
// Adds one value of confidence conf (0..1), right or not, to r's reliability counts.
void ds_eval_add_reliability(ds_eval_report *r, double conf, int right);
// How far the confidences are from how often the values were right: *ece the expected
// calibration error over the table's tenths (per tenth |share right - mean confidence|,
// weighted by its values), *brier the mean of (confidence - right)^2. Returns the number
// of values (0: both are 0).
long ds_eval_calibration_error(const ds_eval_report *r, double *ece, double *brier);
// qsort order of ds_eval_scored values: by confidence, lowest first.
int ds_eval_scored_by_conf(const void *a, const void *b);
// How well the confidences of r's scored values rank the right ones above the wrong ones:
// the area under the ROC curve (the chance that a right value drawn at random has a
// higher confidence than a wrong one, ties counting half; 0.5 is no better than chance).
// -1 when there are no right or no wrong values.
double ds_eval_auroc(const ds_eval_report *r);
// The same numbers as JSON (new reference): overall, per doc type, per field, grounding, documents.
json_t *ds_eval_report_json(const ds_eval_report *r);
int ds_eval_write_json(const ds_eval_report *r, const char *path);
// Self-contained HTML: every wrong field beside its page, predicted box red, true box green.
// Pages are rendered (no OCR) into PATH-without-.html + "-pages/"; returns 0, DS_E_IO, ...
int ds_eval_write_html(const ds_eval_report *r, const char *path);

#endif
