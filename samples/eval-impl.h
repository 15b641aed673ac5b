// eval-impl.h: private helpers shared by eval.c (predictions, scoring) and
// the truth readers (gt-formats.c, gt-funsd-cord.c): building documents and
// fields, reading values and boxes from JSON (eval-doc.c). Not public API.
#ifndef DS_EVAL_IMPL_H
#define DS_EVAL_IMPL_H

#include "samples/eval.h"

// Appends a zeroed document to *docs (grown by one); NULL when out of memory.
ds_eval_doc *ds_eval_doc_push(ds_eval_doc **docs, int *n);
void ds_eval_doc_free(ds_eval_doc *d);
// The field called name, added (empty, of type t) when the document has none; NULL on NOMEM.
ds_eval_field *ds_eval_doc_field(ds_eval_doc *d, const char *name, ds_field_type t);
// Appends a value (raw copied) with an optional box; returns it, or NULL on NOMEM.
ds_eval_value *ds_eval_field_add(ds_eval_field *f, const char *raw, const ds_eval_box *box);
int ds_eval_value_add_box(ds_eval_value *v, const ds_eval_box *box);
// "dir/x.pdf" -> "x" (new string; NULL on NOMEM).
char *ds_eval_id_of(const char *path);
// A scalar as text: strings as they are, numbers and booleans written out; *out is
// NULL for null and "" (no value). Returns 0, DS_E_FORMAT (objects, arrays), DS_E_NOMEM.
int ds_eval_scalar_text(const json_t *v, char **out);
#define DS_EVAL_MAX_COORD 1e7 // a box's coordinates (points or pixels) and its page, at most
// Reads [x0, y0, x1, y1] (numbers, x0 <= x1, y0 <= y1) and a 1-based page into *b.
int ds_eval_parse_box(const json_t *page, const json_t *box, const char *where, const char *field,
                      ds_eval_box *b);
// Reads "fields" ({name: value | [values] | {"value", "page", "box"} | null}) into d, with the
// field types of spec (NULL: any name, as text). Errors name where and the field.
int ds_eval_parse_fields(ds_eval_doc *d, const json_t *fields, const ds_schema *spec,
                         const char *where);

// ---- the truth readers (gt-formats.c, gt-funsd-cord.c)

// The files of dir ending in suffix, sorted; hint says what the format expects (in errors).
int ds_gt_list(const char *dir, const char *suffix, const char *hint, char ***names, int *n);
void ds_gt_list_free(char **names, int n);
// Sets s->spec to the one schema of a public format, given as schema JSON.
int ds_gt_spec(ds_eval_set *s, const char *json);
// Appends a truth document (the document file looked up in doc_dir); NULL on NOMEM.
ds_eval_doc *ds_gt_new_doc(ds_eval_set *s, const char *id, const char *source, const char *doc_type,
                           const char *doc_dir);
// Loads a JSON file; *rc is 0 or DS_E_FORMAT naming the file and line.
json_t *ds_gt_load_json(const char *path, int *rc);
int ds_gt_load_funsd(ds_eval_set *s, const char *dir);
int ds_gt_load_cord(ds_eval_set *s, const char *dir);
int ds_gt_funsd_pred(const json_t *obj, const char *where, json_t **out);
int ds_gt_cord_pred(const json_t *obj, const char *where, json_t **out);

#endif
