// decode-fixtures.h: what the decoding tests share: the shipped schemas, the tiny
// model configuration, a CPU context, and random tiny models (their logits and
// pointers are noise) with an extractor each, to decode pages of ds_fx_text_doc.
#ifndef DS_DECODE_FIXTURES_H
#define DS_DECODE_FIXTURES_H

#include "fusion/extract.h"

#include <stdint.h>

typedef struct {
    ds_schema_set schemas;
    ds_model_cfg cfg; // configs/tiny.json (its vocab the current model's)
    ds_ctx *ctx;
    ds_model *m;     // the current model (ds_fx_decode_model), NULL before the first
    ds_extractor *x; // its extractor
} ds_fx_decode;

// Loads samples/schemas and configs/tiny.json and makes the context (ds_fx_init
// included). 0 or an error code (printed).
int ds_fx_decode_open(ds_fx_decode *f);
// A random tiny model whose tokenizer learnt vocab entries from corpus, initialised from
// seed (ds_fixture_text_model), and its extractor, in place of the previous ones. 0 or an
// error code (printed).
int ds_fx_decode_model(ds_fx_decode *f, const char *corpus, int vocab, uint64_t seed);
void ds_fx_decode_close(ds_fx_decode *f);

#endif
