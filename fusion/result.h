// result.h: the JSON a user gets for one document, the same from `docseek
// extract` and `docseek ingest`: its type, every field with the value as
// printed, its normalised form, page, box and confidence, the page count, the
// time of each stage and the model; or, for a document that could not be
// read, its error's name and message.
#ifndef DS_RESULT_H
#define DS_RESULT_H

#include <jansson.h>

#include "ingest/ingest.h"
#include "samples/schema.h"

typedef struct {
    const char *file;   // the path as the user named it
    const char *sha256; // content hash (hex) or NULL: not written
    const char *model;  // the model file
    double ms_ingest;   // reading the file (render, text layer, OCR)
    double ms_model;    // the model's share of the work
    int batch;          // documents decoded together (0: not written)
} ds_result_info;

// Builds the result object from the extractor's prediction pred (decode.h) for doc.
json_t *ds_result_json(const ds_result_info *ri, const json_t *pred, const ds_doc *doc,
                       const ds_schema_set *schemas);
// The error object of a document that failed with code err (its detail from ds_errmsg()
// when set on this thread, else the code's message).
json_t *ds_result_error(const ds_result_info *ri, int err);
// One line of compact JSON with a newline (malloc'd), or NULL when out of memory.
char *ds_result_line(const json_t *o);

#endif
