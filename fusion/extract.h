// extract.h: one document in, its extraction out: ingest at the model's
// encoder size (OCR where the page has no text layer), build the prefix
// sequence, decode it through the KV cache. What `docseek eval --extractor
// model`, the trainer's periodic evaluation and the extraction commands share.
// Opaque handle; not thread-safe (one per thread: it owns a KV cache).
#ifndef DS_EXTRACT_H
#define DS_EXTRACT_H

#include <jansson.h>

#include "fusion/decode.h"
#include "fusion/model.h"
#include "samples/calibration.h"
#include "samples/eval.h"
#include "samples/schema.h"

typedef struct ds_extractor ds_extractor;

// The model and schemas are borrowed (they must outlive the extractor).
int ds_extractor_new(ds_model *m, ds_ctx *ctx, const ds_schema_set *schemas, ds_extractor **out);

// What ds_extractor_open loads: everything a command that extracts needs.
typedef struct {
    const char *model;            // the model file
    const char *adapter;          // a LoRA adapter for it, or NULL
    const char *schemas_dir;      // document types, read when schemas is NULL
    const ds_schema_set *schemas; // borrowed instead, when not NULL
    const char *calibration;      // NULL: MODEL.calibration.json when there is one; "none"; a file
    int threads;                  // compute threads
    const char *device;           // --device: NULL, "auto" or "cpu" (extraction runs on the CPU)
    int max_batch;                // documents decoded together (ds_extractor_set_batch); 0: 1
    int decode_f32;               // 1: decode with the f32 weights (default: bf16 copies)
    int no_type_adapters;         // 1: ignore MODEL.TYPE.lora.safetensors beside the model
    ds_decode_opts opts;          // decoding options
} ds_extractor_cfg;
// The adapter of doc_type beside model_path: MODEL.TYPE.lora.safetensors (models/
// default.safetensors, receipt: models/default.receipt.lora.safetensors), into buf.
void ds_type_adapter_path(const char *model_path, const char *doc_type, char *buf, size_t cap);
// Type adapters (MODEL.TYPE.lora.safetensors) that ds_extractor_open loads at most.
#define DS_EXTRACT_TYPE_ADAPTERS 8
// Loads the model (with its adapter, bf16 decode copies and calibration), the schemas
// and the compute threads, and makes an extractor that owns them all (freed with it).
// A document whose caller names its type is read with that type's adapter when one
// lies beside the model, MODEL.TYPE.lora.safetensors (form_entities, which the model
// never picks by itself; a receipt specialist), unless the document or the extractor
// names another adapter. A document the model routes itself is read by the base
// weights until they name its type, then by that type's adapter when it has one.
// Errors name the file or setting that failed.
int ds_extractor_open(const ds_extractor_cfg *c, ds_extractor **out);
// The document types the extractor decodes (owned by it, or borrowed through it).
const ds_schema_set *ds_extractor_schemas(const ds_extractor *x);
void ds_extractor_free(ds_extractor *x);
// Decoding options for the documents that follow (copied; NULL: the defaults).
void ds_extractor_set_opts(ds_extractor *x, const ds_decode_opts *o);
// Confidences of the values that follow are calibrated by c (borrowed; NULL: raw).
void ds_extractor_set_calibration(ds_extractor *x, const ds_calibration *c);
// Most documents ds_extractor_docs decodes together.
#define DS_EXTRACT_MAX_BATCH 64
// Makes room for max_batch documents decoded together (1..DS_EXTRACT_MAX_BATCH; the
// default is 1): a decode step then streams the weights once for all of them.
int ds_extractor_set_batch(ds_extractor *x, int max_batch);
// Extracts an ingested document (pixels at the model's img_size). doc_type NULL: the
// model names it. *out: the prediction object (decode.h), owned by the caller.
int ds_extractor_doc(ds_extractor *x, const ds_doc *doc, const char *doc_type, json_t **out);
// Room for one document's error message in ds_extractor_docs.
#define DS_EXTRACT_ERR_LEN 512
// Extracts n ingested documents, decoded together through the stream below, up to the
// extractor's batch size at once
// (doc_types NULL, or an entry NULL: the model names the type). out[i] and rcs[i] get
// each document's prediction or error code (out[i] NULL then), and errs[i], when errs
// is not NULL, its error's message (the thread's detail would only hold the last
// one's); one failing document does not stop the others. Returns the first error or 0.
int ds_extractor_docs(ds_extractor *x, const ds_doc *const *docs, const char *const *doc_types,
                      int n, json_t **out, int *rcs, char (*errs)[DS_EXTRACT_ERR_LEN]);
// The stream behind ds_extractor_docs, for a server (continuous batching): documents
// are submitted whenever there is room (up to the batch size) and come back as soon as
// their answer is complete; each ds_extractor_step runs one prefill piece and one decode
// step of fusion/decode.h's ds_decoder. A long document is read window after window
// (one at a time) when the options ask for windows. doc is borrowed until taken;
// doc_type NULL: the model names it; adapter NULL: the model as it is (the
// extractor's --adapter). DS_E_BUSY when no place is free.
// The note of a document no page of which has a word, when nobody named its type: its
// answer is {"doc_type": null, "fields": {}, "confidence": 0, "note": this}.
#define DS_EXTRACT_NO_WORDS                                                                        \
    "no words on any page (a blank page, or print OCR could not read): no type named"
struct ds_lora;
int ds_extractor_submit(ds_extractor *x, const ds_doc *doc, const char *doc_type,
                        const struct ds_lora *adapter, void *tag);
// Free places; documents not yet finished.
int ds_extractor_room(const ds_extractor *x);
int ds_extractor_active(const ds_extractor *x);
// One prefill piece and one decode step for the documents in the stream.
void ds_extractor_step(ds_extractor *x);
// A finished document (the first to have arrived among them): 1 with its tag and its
// answer (*out, calibrated, the caller's; *rc 0) or its error (*rc, message in err);
// 0 when none is finished.
int ds_extractor_take(ds_extractor *x, void **tag, json_t **out, int *rc,
                      char err[DS_EXTRACT_ERR_LEN]);
// What the stream's decoder has done so far (decode.h); zeros before the first document.
ds_decode_stats ds_extractor_stats(const ds_extractor *x);
// The model (to load adapters for it).
ds_model *ds_extractor_model(const ds_extractor *x);
// The context it computes on (ds_ctx_describe says which device).
ds_ctx *ds_extractor_ctx(const ds_extractor *x);
// The ingest options the model needs (its encoder size; pixels only with vision):
// for callers that read the document themselves (to time it, say).
void ds_extractor_ingest_opts(const ds_extractor *x, ds_ingest_opts *io);
// The same on the caller's options: only what the model decides (encoder size, pixels,
// --no-vision's blank page); the limits and OCR settings stay as they are.
void ds_extractor_ingest_model(const ds_extractor *x, ds_ingest_opts *io);
// Reads path (any format ingest knows) and extracts it.
int ds_extractor_file(ds_extractor *x, const char *path, const char *doc_type, json_t **out);
// Reads document path of a set in format f as the evaluator scores it (for `eval` and
// training's evaluation): with set_words, the set's own words stand in for OCR
// (samples/gt-words.h); a FUNSD form is read as form_entities and answered as FUNSD's
// entities and links (samples/form-entities.h), any other as doc_type (NULL: guessed).
int ds_extractor_gt_file(ds_extractor *x, ds_eval_format f, int set_words, const char *path,
                         const char *doc_type, json_t **out);

#endif
