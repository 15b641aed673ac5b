// extract.c: see extract.h.
#include "fusion/extract.h"

#include "core/error.h"
#include "fusion/sequence.h"

#include <stdlib.h>

struct ds_extractor {
    ds_model *m;
    ds_ctx *ctx;
    const ds_schema_set *schemas;
    ds_kv_cache *cache;
    ds_arena arena;
    ds_decode_opts opts; // all zero: the defaults
};

int ds_extractor_new(ds_model *m, ds_ctx *ctx, const ds_schema_set *schemas, ds_extractor **out) {
    ds_extractor *x = calloc(1, sizeof *x);
    if (!x) return ds_error(DS_E_NOMEM, "extractor: out of memory");
    x->m = m;
    x->ctx = ctx;
    x->schemas = schemas;
    // room for one sequence of max_seq tokens
    int bs = 16, rc = ds_kv_cache_new(&m->cfg, m->cfg.max_seq / bs + 2, bs, &x->cache);
    if (rc) {
        free(x);
        return rc;
    }
    ds_arena_init(&x->arena, 0, 0);
    *out = x;
    return 0;
}

void ds_extractor_set_opts(ds_extractor *x, const ds_decode_opts *o) {
    x->opts = o ? *o : (ds_decode_opts){0};
}

void ds_extractor_free(ds_extractor *x) {
    if (!x) return;
    ds_kv_cache_free(x->cache);
    ds_arena_free(&x->arena);
    free(x);
}

int ds_extractor_doc(ds_extractor *x, const ds_doc *doc, const char *doc_type, json_t **out) {
    ds_seq s;
    ds_seq_info info;
    *out = NULL;
    int rc = ds_seq_build(x->m, x->schemas, doc, NULL, &s, &info);
    if (rc) return rc;
    ds_seq *sp = &s;
    const ds_doc *dp = doc;
    const char *types[1] = {doc_type};
    rc = ds_decode_batch(x->m, x->ctx, x->cache, x->schemas, &dp, &sp, types, 1, &x->opts, out,
                         &x->arena);
    ds_arena_reset(&x->arena);
    ds_seq_free(&s);
    return rc;
}

int ds_extractor_file(ds_extractor *x, const char *path, const char *doc_type, json_t **out) {
    ds_ingest_opts io;
    ds_ingest_opts_default(&io);
    io.enc_size = x->m->cfg.img_size;
    io.no_pixels = !ds_cfg_use_vision(&x->m->cfg);
    ds_doc *doc;
    *out = NULL;
    int rc = ds_ingest_file(path, &io, &doc);
    if (rc) return rc;
    rc = ds_extractor_doc(x, doc, doc_type, out);
    ds_doc_free(doc);
    return rc;
}
