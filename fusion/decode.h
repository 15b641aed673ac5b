// decode.h: constrained decoding of the answer, batched over documents. The
// decoder walks the grammar of fusion/sequence.h: it chooses the document
// type among the schemas', forces each field's name, then chooses [copy] or
// [null] (span fields), points at the start and end words, or chooses among
// an enum's values / true and false. So the output is always valid JSON of
// the schema, and a span value is always text of the document with its box.
// Greedy (argmax) by default; temperature / top-p sampling on request.
#ifndef DS_DECODE_H
#define DS_DECODE_H

#include <jansson.h>

#include "core/rng.h"
#include "fusion/infer.h"
#include "ingest/ingest.h"
#include "samples/schema.h"

typedef struct {
    float temperature; // 0: greedy
    float top_p;       // nucleus sampling threshold (with temperature > 0), 1 = off
    ds_rng *rng;       // for sampling
    int max_steps;     // safety cap on decode steps (default 1024)
    int spans_only;    // 1: a span field is a run of words or null, never generated text
    int windows;       // 1: a document longer than one sequence is read in windows of
                       // pages and the answers merged (ds_extractor_doc)
    // The constraints can be loosened, only to measure what each is worth:
    int copy_constraint;    // a generated value is: DS_COPY_RUN a run of the document's tokens
                            // (default), DS_COPY_BIGRAM each token one that follows the one
                            // before somewhere in the document, DS_COPY_NONE any text token
    int no_type_constraint; // 1: dates, amounts, currencies need not read as such
    int no_vision;          // 1: the model sees a blank page, not the page image (the extractor's
                            // ingest options, ds_extractor_ingest_opts)
    // 1: a generated value that spells a run of the document's words stands (by default
    // it is taken back, and the pointers choose the run: fusion/decode.c)
    int keep_generated_runs;
    // Types whose answer ends once the model has named the type (fields empty): the
    // extractor reads a document of such a type again with the type's own adapter.
    const char *const *named_only;
    int n_named_only;
} ds_decode_opts;

enum { DS_COPY_RUN = 0, DS_COPY_BIGRAM = 1, DS_COPY_NONE = 2 };

// The longest value a pointer pair may span, in words. FUNSD's 1,084 entities: 99% have
// 20 words or fewer, 4 more than 40; the generated sets' longest value (an address) has
// 15. Twice FUNSD's 99th percentile, so the cap cuts only runaway spans.
#define DS_MAX_SPAN_WORDS 40

// Extracts n documents together: docs[i] read into seqs[i] (ds_seq_build without truth);
// doc_types[i] forces the type when not NULL. out[i] receives
// {"doc_type", "fields": {name: {value, page, box, confidence} | [..] | null},
//  "confidence"}; on error out[i] is NULL and the return value is the first error. The
// values' confidences are at full precision (the windows of a document compare them);
// the extractor rounds them to three decimals once the windows have merged.
int ds_decode_batch(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, const ds_schema_set *schemas,
                    const ds_doc *const *docs, ds_seq *const *seqs, const char *const *doc_types,
                    int n, const ds_decode_opts *opts, json_t **out, ds_arena *arena);

// The continuous batch behind ds_decode_batch, for a server: documents join it
// whenever there is room and leave as soon as their answer is complete. Each
// ds_decoder_step runs one piece of the oldest waiting document's prefill (its
// embedding, or one layer: fusion/infer.h's chunked prefill) and then one decode step
// for every document past its prefill, so a long prefill never stalls the others for
// more than a layer. Each document runs with its own adapter (NULL: none), its own
// type and options; documents with different adapters take separate steps. Not
// thread-safe: the thread that owns the model drives it.
typedef struct ds_decoder ds_decoder;
struct ds_lora;
// Room for cap documents at once (the cache must hold cap sequences).
int ds_decoder_new(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, const ds_schema_set *schemas,
                   int cap, ds_decoder **out);
// Frees the decoder and every document still in it.
void ds_decoder_free(ds_decoder *dc);
// Adds a document: doc and seq (ds_seq_build without truth) are borrowed until it is
// taken; doc_type NULL: the model names it; opts (copied) NULL: the defaults; tag comes
// back with its answer. DS_E_BUSY when all places are taken (ds_decoder_room). A
// document that cannot start (an unknown type) still comes back, with its error.
int ds_decoder_add(ds_decoder *dc, const ds_doc *doc, ds_seq *seq, const char *doc_type,
                   const ds_decode_opts *opts, const struct ds_lora *adapter, void *tag);
// Documents waiting, prefilling or decoding (not yet finished).
int ds_decoder_active(const ds_decoder *dc);
// Free places.
int ds_decoder_room(const ds_decoder *dc);
// What the decoder has done so far (all documents): where a server's model time goes.
typedef struct {
    long tokens;       // answer tokens decoded
    long decode_steps; // decode steps run (a step per adapter group)
    long prefills;     // prefills finished
    double prefill_s;  // seconds in prefill pieces (the vision encoder included)
    double decode_s;   // seconds in decode steps and the decisions they feed
} ds_decode_stats;
ds_decode_stats ds_decoder_stats(const ds_decoder *dc);
// One prefill piece and one decode step (see above); the arena is reset after each.
// Errors end only the documents they concern (ds_decoder_take gives them).
void ds_decoder_step(ds_decoder *dc, ds_arena *arena);
// A finished document, the first to have arrived among them: 1 and its tag, and either
// its answer (*out, owned by the caller; *rc 0) or its error (*rc, the message in err);
// 0 when none has finished. Its place is free again.
#define DS_DECODE_ERR_LEN 512
int ds_decoder_take(ds_decoder *dc, void **tag, json_t **out, int *rc, char *err, size_t cap);

// Picks one of allowed[0..n) by logits[allowed[i]]: the argmax, or with opts->temperature
// > 0 and an rng a sample from the top-p nucleus. *p gets the chosen token's probability
// over the allowed set (at that temperature).
int32_t ds_sample_pick(const float *logits, const int32_t *allowed, int n,
                       const ds_decode_opts *opts, double *p);

#endif
