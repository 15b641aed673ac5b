// schema.h: the document types docseek extracts and the fields of each
// (samples/schemas/<type>.json). One schema drives the generator, the model's
// constrained output and the evaluator alike, so field names and types are
// defined once. Plain structs: callers read the fields; ds_schema_set_free
// releases everything.
#ifndef DS_SCHEMA_H
#define DS_SCHEMA_H

typedef enum {
    DS_FIELD_TEXT = 0,   // free text, compared after white space is collapsed
    DS_FIELD_DATE,       // compared as ISO yyyy-mm-dd
    DS_FIELD_AMOUNT,     // compared as a decimal number
    DS_FIELD_CURRENCY,   // ISO 4217 code
    DS_FIELD_CHECKBOX,   // true / false
    DS_FIELD_ENUM,       // one of values[]
    DS_FIELD_PARTY_LIST, // several text values, compared as a multiset
    DS_FIELD_DURATION,   // a length of time, compared as "N units" ("two (2) years" = "2 years")
    DS_FIELD_PLACE,      // a country or a state / province (iso-codes), compared as text
    DS_FIELD_NAME,       // a company's or a person's name, compared as text
    DS_FIELD_TEXT_LIST,  // several text values (a form's questions), compared as a multiset
    DS_FIELD_ADDRESS,    // a postal address, whole lines (samples/address.h), compared as text
    DS_FIELD_TYPE_COUNT
} ds_field_type;

typedef struct {
    char *name;
    ds_field_type type;
    char *description; // "" when the schema gives none
    char **values;     // DS_FIELD_ENUM: the allowed values
    int n_values;
    int max_items; // a list: the most items the model writes ("max_items", default DS_LIST_MAX)
} ds_field;

// Items a list holds at most unless its schema says ("max_items"): the answer's room in
// a sequence counts on it, and the decoder ends a list there.
#define DS_LIST_MAX 6
// The most a schema may allow (a form's entities: FUNSD's busiest form has 109 answers).
#define DS_LIST_MAX_ITEMS 128

typedef struct {
    char *doc_type;
    char *description;
    ds_field *fields;
    int n_fields;
    // 0 ("routed": false): the model never picks this type by itself; a caller names it
    // (a form's entity list is a reading of any document, not a kind of document)
    int routed;
} ds_schema;

typedef struct {
    ds_schema *schemas;
    int n;
} ds_schema_set;

// "text", "date", "amount", "currency", "checkbox", "enum", "party_list", "duration", "place",
// "name", "text_list".
const char *ds_field_type_name(ds_field_type t);
// Parses a type name; returns 0 or DS_E_FORMAT.
int ds_field_type_parse(const char *name, ds_field_type *out);
// 1 when a field holds several values (party_list, text_list).
int ds_field_is_multi(ds_field_type t);

// Reads every *.json schema in dir (sorted by file name). Errors name the file and the field.
int ds_schema_set_load(const char *dir, ds_schema_set *out);
// Parses one schema from JSON text; what names the source in error messages.
int ds_schema_parse(const char *json_text, const char *what, ds_schema *out);
void ds_schema_free(ds_schema *s);
void ds_schema_set_free(ds_schema_set *set);
// doc_type when the caller must name it for a decoder or the rules to read it (a type
// of the set with "routed": false, form_entities), else NULL: what `eval` and the
// trainer's evaluation pass on when the truth's type is one the model never picks.
const char *ds_schema_named_only(const ds_schema_set *set, const char *doc_type);
// NULL when the set has no such type (doc_type NULL: none) / the schema no such field.
const ds_schema *ds_schema_find(const ds_schema_set *set, const char *doc_type);
const ds_field *ds_schema_field(const ds_schema *s, const char *name);

#endif
