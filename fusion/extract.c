// extract.c: see extract.h.
#include "fusion/extract.h"

#include "core/error.h"
#include "fusion/infer.h"
#include "fusion/lora.h"
#include "fusion/sequence.h"
#include "fusion/windows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ds_extractor {
    ds_model *m;
    ds_ctx *ctx;
    const ds_schema_set *schemas;
    ds_kv_cache *cache;
    ds_arena arena;
    ds_decode_opts opts;         // all zero: the defaults
    int max_batch;               // documents the cache has room for
    const ds_calibration *calib; // NULL: raw confidences
    // what ds_extractor_open loaded, freed with the extractor (NULL: borrowed)
    ds_schema_set *own_schemas;
    ds_model *own_model;
    ds_lora *own_lora;
    ds_ctx *own_ctx;
    ds_calibration *own_calib;
};

// A cache with room for batch sequences of max_seq tokens.
static int make_cache(const ds_model *m, int batch, ds_kv_cache **out) {
    int bs = 16;
    return ds_kv_cache_new(&m->cfg, batch * (m->cfg.max_seq / bs + 2), bs, out);
}

int ds_extractor_new(ds_model *m, ds_ctx *ctx, const ds_schema_set *schemas, ds_extractor **out) {
    ds_extractor *x = calloc(1, sizeof *x);
    if (!x) return ds_error(DS_E_NOMEM, "extractor: out of memory");
    x->m = m;
    x->ctx = ctx;
    x->schemas = schemas;
    x->max_batch = 1;
    int rc = make_cache(m, 1, &x->cache);
    if (rc) {
        free(x);
        return rc;
    }
    ds_arena_init(&x->arena, 0, 0);
    *out = x;
    return 0;
}

int ds_extractor_set_batch(ds_extractor *x, int max_batch) {
    if (max_batch < 1 || max_batch > DS_EXTRACT_MAX_BATCH)
        return ds_error(DS_E_INVAL, "extractor: batch %d outside 1..%d", max_batch,
                        DS_EXTRACT_MAX_BATCH);
    ds_kv_cache *c;
    int rc = make_cache(x->m, max_batch, &c);
    if (rc) return rc;
    ds_kv_cache_free(x->cache);
    x->cache = c;
    x->max_batch = max_batch;
    return 0;
}

void ds_extractor_set_calibration(ds_extractor *x, const ds_calibration *c) {
    x->calib = c;
}

// Calibrates the confidences of a finished answer (after windows merged: they compare
// raw confidences).
static void calibrate(const ds_extractor *x, json_t *out) {
    if (out && x->calib) ds_calib_apply_fields(x->calib, json_object_get(out, "fields"));
}

void ds_extractor_set_opts(ds_extractor *x, const ds_decode_opts *o) {
    x->opts = o ? *o : (ds_decode_opts){0};
}

void ds_extractor_free(ds_extractor *x) {
    if (!x) return;
    ds_kv_cache_free(x->cache);
    ds_arena_free(&x->arena);
    ds_ctx_free(x->own_ctx);
    ds_model_free(x->own_model);
    ds_lora_free(x->own_lora);
    ds_calib_free(x->own_calib);
    free(x->own_calib);
    if (x->own_schemas) ds_schema_set_free(x->own_schemas);
    free(x->own_schemas);
    free(x);
}

int ds_extractor_open(const ds_extractor_cfg *c, ds_extractor **out) {
    *out = NULL;
    ds_schema_set *schemas = NULL;
    ds_model *m = NULL;
    ds_lora *l = NULL;
    ds_ctx *ctx = NULL;
    ds_calibration *calib = NULL;
    ds_extractor *x = NULL;
    int rc = 0;
    if (!c->schemas) {
        if (!(schemas = calloc(1, sizeof *schemas)))
            rc = ds_error(DS_E_NOMEM, "extractor: out of memory");
        else if ((rc = ds_schema_set_load(c->schemas_dir, schemas))) {
            free(schemas);
            schemas = NULL;
        }
    }
    if (!rc) rc = ds_model_load(c->model, &m);
    if (!rc && c->adapter && !(rc = ds_lora_load(c->adapter, m, &l))) ds_lora_attach(m, l);
    if (!rc && !c->decode_f32) rc = ds_infer_set_bf16(m, 1);
    if (!rc && !(ctx = ds_ctx_new(DS_BACKEND_CPU, c->threads > 0 ? c->threads : 1)))
        rc = ds_error(DS_E_NOMEM, "cannot start the compute threads");
    if (!rc) rc = ds_extractor_new(m, ctx, c->schemas ? c->schemas : schemas, &x);
    if (!rc && c->max_batch > 1) rc = ds_extractor_set_batch(x, c->max_batch);
    if (!rc) rc = ds_calib_for_model(c->model, c->calibration, &calib);
    if (x) {
        x->own_schemas = schemas;
        x->own_model = m;
        x->own_lora = l;
        x->own_ctx = ctx;
        x->own_calib = calib;
        x->calib = calib;
        x->opts = c->opts;
    }
    if (rc) {
        if (x) {
            ds_extractor_free(x);
        } else {
            ds_ctx_free(ctx);
            ds_model_free(m);
            ds_lora_free(l);
            if (schemas) ds_schema_set_free(schemas);
            free(schemas);
        }
        return rc;
    }
    *out = x;
    return 0;
}

const ds_schema_set *ds_extractor_schemas(const ds_extractor *x) {
    return x->schemas;
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

// Reads the pages after the first window of a long document (info: how the first
// window's sequence ended) in further windows with the type the first window named,
// starting again at a page the previous window cut short; their answers merge into
// *out (fusion/windows.c).
static int more_windows(ds_extractor *x, const ds_doc *doc, const char *doc_type, json_t *out,
                        ds_seq_info info) {
    const char *type = json_string_value(json_object_get(out, "doc_type"));
    char *fixed = strdup(doc_type ? doc_type : type ? type : "");
    if (!fixed) return ds_error(DS_E_NOMEM, "extractor: out of memory");
    int rc = 0, n_windows = 1, p0 = 0, kept = info.n_pages_kept;
    int cut = info.last_page_cut;
    while (!rc) {
        p0 = ds_window_next(p0, kept, cut);
        if (p0 >= doc->n_pages) break;
        ds_doc sub = *doc;
        sub.pages = doc->pages + p0;
        sub.n_pages = doc->n_pages - p0;
        json_t *more = NULL;
        rc = decode_one(x, &sub, fixed, &more, &info);
        if (!rc) rc = ds_windows_merge(out, more, p0);
        json_decref(more);
        kept = info.n_pages_kept;
        cut = info.last_page_cut;
        n_windows++;
    }
    free(fixed);
    if (!rc) json_object_set_new(out, "windows", json_integer(n_windows));
    return rc;
}

int ds_extractor_doc(ds_extractor *x, const ds_doc *doc, const char *doc_type, json_t **out) {
    ds_seq_info info;
    *out = NULL;
    int rc = decode_one(x, doc, doc_type, out, &info);
    if (!rc && !ds_seq_read_whole(&info, doc) && x->opts.windows)
        rc = more_windows(x, doc, doc_type, *out, info);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    calibrate(x, *out);
    return rc;
}

// Keeps document i's error message (the thread's detail, set by the call that just
// failed) before another document's error replaces it.
static void keep_error(char (*errs)[DS_EXTRACT_ERR_LEN], int i, int rc) {
    if (errs && rc)
        snprintf(errs[i], DS_EXTRACT_ERR_LEN, "%s", ds_errmsg()[0] ? ds_errmsg() : ds_strerror(rc));
}

int ds_extractor_docs(ds_extractor *x, const ds_doc *const *docs, const char *const *doc_types,
                      int n, json_t **out, int *rcs, char (*errs)[DS_EXTRACT_ERR_LEN]) {
    int first = 0;
    for (int i0 = 0; i0 < n; i0 += x->max_batch) {
        int k = n - i0 < x->max_batch ? n - i0 : x->max_batch;
        ds_seq seqs[DS_EXTRACT_MAX_BATCH];
        ds_seq *sp[DS_EXTRACT_MAX_BATCH];
        ds_seq_info info[DS_EXTRACT_MAX_BATCH];
        const ds_doc *bd[DS_EXTRACT_MAX_BATCH];
        const char *bt[DS_EXTRACT_MAX_BATCH];
        int at[DS_EXTRACT_MAX_BATCH], nb = 0;
        json_t *bo[DS_EXTRACT_MAX_BATCH] = {0};
        for (int j = 0; j < k; j++) {
            int i = i0 + j;
            out[i] = NULL;
            if (errs) errs[i][0] = 0;
            rcs[i] = ds_seq_build(x->m, x->schemas, docs[i], NULL, &seqs[nb], &info[nb]);
            keep_error(errs, i, rcs[i]);
            if (rcs[i]) continue;
            sp[nb] = &seqs[nb];
            bd[nb] = docs[i];
            bt[nb] = doc_types ? doc_types[i] : NULL;
            at[nb++] = i;
        }
        // its return value is the first error; a document without an answer is
        // decoded again alone below, which gives its own error
        if (nb)
            (void)ds_decode_batch(x->m, x->ctx, x->cache, x->schemas, bd, sp, bt, nb, &x->opts, bo,
                                  &x->arena);
        ds_arena_reset(&x->arena);
        for (int j = 0; j < nb; j++) {
            int i = at[j];
            ds_seq_free(&seqs[j]);
            if (!bo[j]) {
                // the batch failed (a cache too small, say): this document alone
                rcs[i] = ds_extractor_doc(x, docs[i], bt[j], &out[i]);
                keep_error(errs, i, rcs[i]);
                continue;
            }
            out[i] = bo[j];
            if (x->opts.windows && !ds_seq_read_whole(&info[j], docs[i]) &&
                (rcs[i] = more_windows(x, docs[i], bt[j], out[i], info[j]))) {
                keep_error(errs, i, rcs[i]);
                json_decref(out[i]);
                out[i] = NULL;
            }
            calibrate(x, out[i]);
        }
    }
    for (int i = 0; i < n && !first; i++) first = rcs[i];
    return first;
}

void ds_extractor_ingest_model(const ds_extractor *x, ds_ingest_opts *io) {
    io->enc_size = x->m->cfg.img_size;
    io->no_pixels = !ds_cfg_use_vision(&x->m->cfg);
    io->blank_pixels = x->opts.no_vision;
}

void ds_extractor_ingest_opts(const ds_extractor *x, ds_ingest_opts *io) {
    ds_ingest_opts_default(io);
    ds_extractor_ingest_model(x, io);
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
