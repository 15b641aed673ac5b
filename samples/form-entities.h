// form-entities.h: a form read as a list of entities (schema form_entities:
// headers, questions, answers), between docseek's truth and predictions and
// FUNSD's format. The model writes each list as runs of words; FUNSD scores
// labelled entities and question->answer links.
#ifndef DS_FORM_ENTITIES_H
#define DS_FORM_ENTITIES_H

#include <jansson.h>

#include "ingest/ingest.h"

// The three lists of schema form_entities and the FUNSD label of their entities:
// {"headers", "header"}, {"questions", "question"}, {"answers", "answer"}.
extern const char *const ds_form_entity_kinds[3][2];

// Sorts every list of fields (with its boxes, {name: [{"page", "box"}]}, when they
// are one per item) into reading order: page, then line (boxes that share most of
// their height), then left to right. The model learns to write the lists so.
void ds_form_entities_sort(json_t *fields, json_t *boxes);

// A docseek prediction of type form_entities ({"fields": {"headers": [{"value", "page",
// "box"}], ...}}) as a FUNSD prediction: {"entities": [{"text", "label", "box"}],
// "links": [[question, answer], ...]}. Each answer is linked to one question by layout:
// the nearest question ending left of it on its line, else the nearest above it
// whose columns overlap it. *out NULL on DS_E_NOMEM.
int ds_form_entities_to_funsd(const json_t *pred, json_t **out);

// A FUNSD prediction's entity boxes, read from doc, from page points (docseek's unit)
// to the image's pixels (FUNSD's, in which the evaluator compares them with the
// truth's): each multiplied by the pixels per point of doc's first page (a FUNSD form
// is one page).
void ds_funsd_boxes_to_pixels(json_t *funsd, const ds_doc *doc);

// FUNSD entities ([{"text", "label", "box"}], boxes in the image's pixels, taken as
// page points) as docseek truth of type form_entities, lists in reading order;
// "other" and empty entities are left out. NULL when out of memory.
json_t *ds_form_entities_from_funsd(const json_t *entities);

#endif
