// gt-formats.h: ground truth for `docseek eval` in docseek's own format and in
// the formats of the public sets (SROIE, FUNSD, Kleister, Donut-style CORD), so
// users can measure on sets they know, scored the way each set is scored. Each
// reader yields a ds_eval_set (truth documents as typed fields, plus the truth
// written as a perfect prediction) and converts that format's prediction lines
// into docseek's. It computes no scores (eval.c).
#ifndef DS_GT_FORMATS_H
#define DS_GT_FORMATS_H

#include "samples/eval.h"

// Reads the truth of dir in format fmt into *out. schema_dir (docseek format only)
// holds the doc types and field types. Errors name the file, the line and the field:
// DS_E_NOENT (no such folder or files, with what the format expects), DS_E_FORMAT.
int ds_gt_load(ds_eval_format fmt, const char *dir, const char *schema_dir, ds_eval_set *out);
void ds_eval_set_free(ds_eval_set *s);

// Converts one prediction line of truth's format into docseek's {"doc_type", "fields"}
// (*out a new reference). FUNSD: {"entities": [{"text", "label"}], "links": [[q, a]]};
// CORD: {"parse": {...}}; Kleister: "parties" is read as "party". DS_E_FORMAT names where.
// "doc_type.field" as the extractor names a field the format's truth calls doc_type's
// `name`: Kleister's "party" is the contract schema's "parties", FUNSD's form's
// "question" form_entities' "questions"; every other name is its own. What a
// calibration's withholding is keyed by.
void ds_eval_pred_field_key(ds_eval_format f, const char *doc_type, const char *name, char *out,
                            size_t n);
int ds_gt_pred_convert(const ds_eval_set *truth, const json_t *obj, const char *where,
                       json_t **out);

// Writes the truth as prediction lines of its format (a prediction that scores 1.0).
// Returns 0 or DS_E_IO.
int ds_gt_write_truth(const ds_eval_set *truth, const char *path);
// A truth line of the set (its prediction-line form, set->as_pred) as docseek ground
// truth for training: a single-valued field given as a one-item list (Kleister's
// key=value lines) becomes its item, '_' written for spaces becomes a space again,
// and Kleister's "party" is the contract schema's "parties". A new object, or NULL
// when out of memory.
json_t *ds_gt_truth_as_docseek(const ds_eval_set *set, const json_t *truth_line);

// dir/name.EXT for the first of pdf png jpg jpeg tif tiff webp gif bmp (then the same in
// upper case) that exists (new string), or NULL.
char *ds_gt_find_document(const char *dir, const char *name);

// Donut's field list of a parse tree (donut/util.py JSONParseEvaluator.normalize_dict and
// flatten): key paths joined with '.', arrays of objects flattened element by element,
// empty values dropped. Adds each (path, value) to fields as {path: [values]}.
int ds_gt_cord_flatten(const json_t *parse, json_t *fields);

#endif
