// rules.h: the rules baseline extractor: label-proximity rules over a
// document's words and boxes (the value right of or below a known label, the
// largest amount near "total", dates by pattern, the shop name at the top of
// a receipt). It is the floor every model must beat, and lets `docseek eval`
// run end to end before a model exists. No learning, no network.
#ifndef DS_RULES_H
#define DS_RULES_H

#include <jansson.h>

#include "ingest/ingest.h"
#include "samples/schema.h"

// Extracts one document. doc_type names the schema to fill, or is NULL to let the
// rules guess the type from keywords. On success *out is a new JSON object in the
// prediction format of `docseek eval`:
//   {"doc_type": T, "fields": {name: {"value": str, "page": 1-based, "box": [x0, y0, x1, y1],
//                                     "confidence": 0..1}, ...}}
// (a party_list field holds an array of such objects; a field not found is omitted).
// Returns 0, or DS_E_NOT_FOUND when doc_type is not in the set.
int ds_rules_extract(const ds_doc *doc, const ds_schema_set *schemas, const char *doc_type,
                     json_t **out);

// FUNSD-style form understanding from the first page's lines: *out becomes
// {"entities": [{"text", "label": question|answer|header}], "links": [[question, answer]]},
// the prediction format `docseek eval --format funsd` reads. Returns 0 or DS_E_NOMEM.
int ds_rules_form_entities(const ds_doc *doc, json_t **out);

#endif
