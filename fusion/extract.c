// extract.c: see extract.h.
#include "fusion/extract.h"

#include "core/error.h"
#include "fusion/sequence.h"
#include "fusion/windows.h"

#include <stdlib.h>
#include <string.h>

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

static int decode_one(ds_extractor *x, const ds_doc *doc, const char *doc_type, json_t **out,
                      ds_seq_info *info) {
    ds_seq s;
    int rc = ds_seq_build(x->m, x->schemas, doc, NULL, &s, info);
    if (rc) return rc;
    ds_seq *sp = &s;
    const char *types[1] = {doc_type};
    rc = ds_decode_batch(x->m, x->ctx, x->cache, x->schemas, &doc, &sp, types, 1, &x->opts, out,
                         &x->arena);
    ds_arena_reset(&x->arena);
    ds_seq_free(&s);
    return rc;
}

int ds_extractor_doc(ds_extractor *x, const ds_doc *doc, const char *doc_type, json_t **out) {
    ds_seq_info info;
    *out = NULL;
    int rc = decode_one(x, doc, doc_type, out, &info);
    if (rc || ds_seq_read_whole(&info, doc) || !x->opts.windows) return rc;
    // Longer than one sequence: the following pages are read in further windows
    // (the type the first window named), starting again at a page the previous
    // window cut short; their answers merge into the first (fusion/windows.c).
    const char *type = json_string_value(json_object_get(*out, "doc_type"));
    char *fixed = strdup(doc_type ? doc_type : type ? type : "");
    if (!fixed) return ds_error(DS_E_NOMEM, "extractor: out of memory");
    int n_windows = 1, p0 = 0, kept = info.n_pages_kept;
    int cut = info.last_page_cut;
    while (!rc) {
        p0 = ds_window_next(p0, kept, cut);
        if (p0 >= doc->n_pages) break;
        ds_doc sub = *doc;
        sub.pages = doc->pages + p0;
        sub.n_pages = doc->n_pages - p0;
        json_t *more = NULL;
        rc = decode_one(x, &sub, fixed, &more, &info);
        if (!rc) rc = ds_windows_merge(*out, more, p0);
        json_decref(more);
        kept = info.n_pages_kept;
        cut = info.last_page_cut;
        n_windows++;
    }
    free(fixed);
    if (!rc) json_object_set_new(*out, "windows", json_integer(n_windows));
    return rc;
}

void ds_extractor_ingest_opts(const ds_extractor *x, ds_ingest_opts *io) {
    ds_ingest_opts_default(io);
    io->enc_size = x->m->cfg.img_size;
    io->no_pixels = !ds_cfg_use_vision(&x->m->cfg);
}

int ds_extractor_file(ds_extractor *x, const char *path, const char *doc_type, json_t **out) {
    ds_ingest_opts io;
    ds_extractor_ingest_opts(x, &io);
    ds_doc *doc;
    *out = NULL;
    int rc = ds_ingest_file(path, &io, &doc);
    if (rc) return rc;
    rc = ds_extractor_doc(x, doc, doc_type, out);
    ds_doc_free(doc);
    return rc;
}
