// extract.c: see extract.h.
#include "fusion/extract.h"

#include "core/error.h"
#include "fusion/infer.h"
#include "fusion/lora.h"
#include "fusion/sequence.h"
#include "fusion/windows.h"
#include "samples/form-entities.h"
#include "samples/gt-words.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// A document in the stream: read in one window or several (one at a time), its
// answer merged over them.
typedef struct {
    int used, finished;
    long order; // arrival
    void *tag;
    const ds_doc *doc;
    ds_doc sub;        // the window being read: doc from page p0
    int p0, n_windows; // its first page; windows read so far
    char *type;        // the type asked for, then the one the first window named (owned)
    const ds_lora *adapter;
    json_t *routed_conf; // the type's confidence when the base named it and the type's
                         // adapter reads the document again (a number), else NULL
    ds_seq seq;          // the window's sequence (while it decodes)
    ds_seq_info info;    // how that sequence ended
    json_t *out;         // the answer so far
    int rc;
    char err[DS_EXTRACT_ERR_LEN];
} xdoc;

struct ds_extractor {
    ds_model *m;    // in host memory: tokenizer, configuration, adapters
    ds_model *view; // on a GPU: m's weights in its memory (owned), else NULL
    ds_ctx *ctx;
    const ds_schema_set *schemas;
    ds_kv_cache *cache;          // in ctx's memory
    ds_arena arena, host;        // decode steps' scratch in ctx's memory; host: its companion
    ds_decode_opts opts;         // all zero: the defaults
    int max_batch;               // documents the cache has room for
    const ds_calibration *calib; // NULL: raw confidences
    ds_decoder *dc;              // the continuous batch, made at the first document
    xdoc *docs;                  // (max_batch) the documents in the stream
    // what ds_extractor_open loaded, freed with the extractor (NULL: borrowed)
    ds_schema_set *own_schemas;
    ds_model *own_model;
    ds_lora *own_lora;
    ds_ctx *own_ctx;
    ds_calibration *own_calib;
    // adapters of types, used when the caller names the type (type_adapters)
    ds_lora *type_lora[DS_EXTRACT_TYPE_ADAPTERS];
    const char *type_name[DS_EXTRACT_TYPE_ADAPTERS]; // the schema's doc_type (borrowed)
    int n_type_lora;
    // on a GPU: copies in its memory of the adapters documents were read with, made at
    // the first such document and kept while the extractor lives
    struct gpu_lora {
        const ds_lora *host;
        ds_lora *dev;
    } * gpu_lora;
    int n_gpu_lora;
};

static void xdoc_clear(xdoc *d) {
    ds_seq_free(&d->seq);
    json_decref(d->out);
    json_decref(d->routed_conf);
    free(d->type);
    memset(d, 0, sizeof *d);
}

// 1 when x computes on a GPU (the model's weights and the cache in its memory).
static int on_gpu(const ds_extractor *x) {
    return x->ctx->backend != DS_BACKEND_CPU;
}

// A cache with room for batch sequences of max_seq tokens, in the memory x computes in.
static int make_cache(const ds_extractor *x, int batch, ds_kv_cache **out) {
    int bs = 16;
    return ds_kv_cache_new_on(on_gpu(x) ? x->ctx : NULL, &x->m->cfg,
                              batch * (x->m->cfg.max_seq / bs + 2), bs, 0, out);
}

int ds_extractor_new(ds_model *m, ds_ctx *ctx, const ds_schema_set *schemas, ds_extractor **out) {
    ds_extractor *x = calloc(1, sizeof *x);
    if (!x) return ds_error(DS_E_NOMEM, "extractor: out of memory");
    x->m = m;
    x->ctx = ctx;
    x->schemas = schemas;
    x->max_batch = 1;
    int rc = on_gpu(x) ? ds_model_view_new(m, ctx, &x->view) : 0;
    if (!rc) rc = make_cache(x, 1, &x->cache);
    if (!rc && !(x->docs = calloc(1, sizeof *x->docs)))
        rc = ds_error(DS_E_NOMEM, "extractor: out of memory");
    if (rc) {
        ds_kv_cache_free(x->cache);
        ds_model_view_free(x->view, ctx);
        free(x);
        return rc;
    }
    ds_ctx_arena_init(ctx, &x->arena, &x->host, 0, 0);
    *out = x;
    return 0;
}

int ds_extractor_set_batch(ds_extractor *x, int max_batch) {
    if (max_batch < 1 || max_batch > DS_EXTRACT_MAX_BATCH)
        return ds_error(DS_E_INVAL, "extractor: batch %d outside 1..%d", max_batch,
                        DS_EXTRACT_MAX_BATCH);
    for (int i = 0; i < x->max_batch; i++)
        if (x->docs[i].used)
            return ds_error(DS_E_BUSY, "extractor: the batch size changes only between documents");
    ds_kv_cache *c;
    xdoc *docs = calloc((size_t)max_batch, sizeof *docs);
    int rc = docs ? make_cache(x, max_batch, &c) : ds_error(DS_E_NOMEM, "extractor: out of memory");
    if (rc) {
        free(docs);
        return rc;
    }
    ds_decoder_free(x->dc); // made again for the new cache at the next document
    x->dc = NULL;
    ds_kv_cache_free(x->cache);
    free(x->docs);
    x->cache = c;
    x->docs = docs;
    x->max_batch = max_batch;
    return 0;
}

void ds_extractor_set_calibration(ds_extractor *x, const ds_calibration *c) {
    x->calib = c;
}

void ds_extractor_set_opts(ds_extractor *x, const ds_decode_opts *o) {
    x->opts = o ? *o : (ds_decode_opts){0};
}

void ds_extractor_free(ds_extractor *x) {
    if (!x) return;
    ds_decoder_free(x->dc);
    for (int i = 0; x->docs && i < x->max_batch; i++) xdoc_clear(&x->docs[i]);
    free(x->docs);
    ds_kv_cache_free(x->cache);
    ds_arena_free(&x->arena);
    ds_arena_free(&x->host);
    for (int i = 0; i < x->n_gpu_lora; i++) ds_lora_view_free(x->gpu_lora[i].dev, x->ctx);
    free(x->gpu_lora);
    ds_model_view_free(x->view, x->ctx);
    ds_ctx_free(x->own_ctx);
    ds_model_free(x->own_model);
    ds_lora_free(x->own_lora);
    for (int i = 0; i < x->n_type_lora; i++) ds_lora_free(x->type_lora[i]);
    ds_calib_free(x->own_calib);
    free(x->own_calib);
    if (x->own_schemas) ds_schema_set_free(x->own_schemas);
    free(x->own_schemas);
    free(x);
}

// A type may come with its own adapter beside the model, MODEL.TYPE.lora.safetensors
// (models/default.safetensors: models/default.receipt.lora.safetensors): a document
// of that type is read with it, and the base weights stay as they are for every other
// document. One the model routes itself is read twice: the base weights name its type,
// then the type's adapter reads it as if the caller had named the type (an adapter
// changes the prefill, so the answer cannot switch weights half-way). The second
// prefill is what the specialists cost (~80 ms a till receipt here); they earn it
// (README, "Real documents": Kleister's NDAs routed 0.532 by the base alone, 0.608 so).
void ds_type_adapter_path(const char *model_path, const char *doc_type, char *buf, size_t cap) {
    size_t n = strlen(model_path), ne = strlen(".safetensors");
    if (n >= ne && !strcmp(model_path + n - ne, ".safetensors")) n -= ne;
    snprintf(buf, cap, "%.*s.%s.lora.safetensors", (int)n, model_path, doc_type);
}

static int type_adapters(ds_extractor *x, const char *model_path) {
    for (int s = 0; s < x->schemas->n && x->n_type_lora < DS_EXTRACT_TYPE_ADAPTERS; s++) {
        const ds_schema *sc = &x->schemas->schemas[s];
        char path[4096];
        ds_type_adapter_path(model_path, sc->doc_type, path, sizeof path);
        if (access(path, F_OK) != 0) continue;
        int rc = ds_lora_load(path, x->m, &x->type_lora[x->n_type_lora]);
        if (rc) return rc;
        x->type_name[x->n_type_lora++] = sc->doc_type;
    }
    return 0;
}

// The adapter a document of type doc_type is read with when nobody named one: its
// type's (type_adapters), else none.
static const ds_lora *type_adapter(const ds_extractor *x, const char *doc_type) {
    for (int i = 0; doc_type && i < x->n_type_lora; i++)
        if (!strcmp(x->type_name[i], doc_type)) return x->type_lora[i];
    return NULL;
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
    // The device first: a wrong or missing one fails before anything is loaded. On a GPU
    // the model's forward and the KV cache are there; the decoder's constraints, the
    // pointer heads' choices and the JSON stay on the host.
    if ((rc = ds_ctx_open(c->device, c->threads > 0 ? c->threads : 1, &ctx))) return rc;
    int gpu = ctx->backend != DS_BACKEND_CPU;
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
    // bf16 weight copies serve the CPU's decode steps (a GPU's GEMMs round to bf16 anyway)
    if (!rc && !c->decode_f32 && !gpu) rc = ds_infer_set_bf16(m, 1);
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
    if (!rc && !c->no_type_adapters) rc = type_adapters(x, c->model);
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

ds_model *ds_extractor_model(const ds_extractor *x) {
    return x->m;
}

ds_ctx *ds_extractor_ctx(const ds_extractor *x) {
    return x->ctx;
}

const ds_schema_set *ds_extractor_schemas(const ds_extractor *x) {
    return x->schemas;
}

// ---- the stream: documents join and leave the decoder's continuous batch

// *out = the copy of adapter a in the GPU's memory that x's view runs with (made once).
static int gpu_adapter(ds_extractor *x, const ds_lora *a, const ds_lora **out) {
    for (int i = 0; i < x->n_gpu_lora; i++)
        if (x->gpu_lora[i].host == a) {
            *out = x->gpu_lora[i].dev;
            return 0;
        }
    struct gpu_lora *g = realloc(x->gpu_lora, sizeof *g * (size_t)(x->n_gpu_lora + 1));
    if (!g) return ds_error(DS_E_NOMEM, "extractor: out of memory");
    x->gpu_lora = g;
    ds_lora *dev;
    int rc = ds_lora_view_new(a, x->ctx, &dev);
    if (rc) return rc;
    g[x->n_gpu_lora++] = (struct gpu_lora){a, dev};
    *out = dev;
    return 0;
}

static int stream_ready(ds_extractor *x) {
    if (x->dc) return 0;
    return ds_decoder_new(x->view ? x->view : x->m, x->ctx, x->cache, x->schemas, x->max_batch,
                          &x->dc);
}

// Ends document d with error rc (its message: the thread's detail, or msg).
static void xdoc_fail(xdoc *d, int rc, const char *msg) {
    d->rc = rc;
    snprintf(d->err, sizeof d->err, "%s",
             msg && msg[0]    ? msg
             : ds_errmsg()[0] ? ds_errmsg()
                              : ds_strerror(rc));
    json_decref(d->out);
    d->out = NULL;
    d->finished = 1;
}

// Whether the model names d's type with its base weights: nobody named the type or an
// adapter (window_done then reads it again with the type's adapter, when it has one).
static int routed_by_base(const xdoc *d) {
    return !d->type && !d->adapter;
}

// Builds the sequence of d's next window (from page p0) and hands it to the decoder.
static void xdoc_window(ds_extractor *x, xdoc *d) {
    d->sub = *d->doc;
    d->sub.pages = d->doc->pages + d->p0;
    d->sub.n_pages = d->doc->n_pages - d->p0;
    ds_seq_free(&d->seq);
    int rc = ds_seq_build(x->m, x->schemas, &d->sub, NULL, &d->seq, &d->info);
    // a document the model routes is only named where its type has an adapter (window_done)
    ds_decode_opts o = x->opts;
    if (routed_by_base(d)) o.named_only = x->type_name, o.n_named_only = x->n_type_lora;
    if (!rc) rc = ds_decoder_add(x->dc, &d->sub, &d->seq, d->type, &o, d->adapter, d);
    if (rc) xdoc_fail(d, rc, NULL);
}

// Whether no page of doc has a word (a blank scan, print OCR read nothing of).
static int wordless(const ds_doc *doc) {
    for (int p = 0; p < doc->n_pages; p++)
        if (doc->pages[p].n_words) return 0;
    return 1;
}

int ds_extractor_submit(ds_extractor *x, const ds_doc *doc, const char *doc_type,
                        const ds_lora *adapter, void *tag) {
    // the adapter named, else the model as it is now, else the type's own
    const ds_lora *a = adapter ? adapter : x->m->lora ? x->m->lora : type_adapter(x, doc_type);
    ds_ctx_use(x->ctx); // an adapter's copy may be made here, on the caller's thread
    int rc = a && x->view ? gpu_adapter(x, a, &a) : 0;
    if (!rc) rc = stream_ready(x);
    if (rc) return rc;
    xdoc *d = NULL;
    long last = -1;
    for (int i = 0; i < x->max_batch; i++) {
        if (!x->docs[i].used && !d) d = &x->docs[i];
        if (x->docs[i].used && x->docs[i].order > last) last = x->docs[i].order;
    }
    if (!d) return ds_error(DS_E_BUSY, "extractor: all %d places taken", x->max_batch);
    *d = (xdoc){.used = 1, .order = last + 1, .tag = tag, .doc = doc};
    d->adapter = a;
    if (doc_type && !(d->type = strdup(doc_type))) {
        xdoc_fail(d, DS_E_NOMEM, "extractor: out of memory");
        return 0;
    }
    if (!doc_type && wordless(doc)) {
        // Nothing to name a type from: the model named every blank page a receipt at
        // 0.99. No type, no fields (a given type's fields all come back null).
        d->out = json_pack("{s:n, s:{}, s:f, s:s}", "doc_type", "fields", "confidence", 0.0, "note",
                           DS_EXTRACT_NO_WORDS);
        if (!d->out) xdoc_fail(d, DS_E_NOMEM, "extractor: out of memory");
        d->finished = 1;
        return 0;
    }
    xdoc_window(x, d);
    return 0;
}

int ds_extractor_room(const ds_extractor *x) {
    int n = 0;
    for (int i = 0; i < x->max_batch; i++) n += !x->docs[i].used;
    return n;
}

int ds_extractor_active(const ds_extractor *x) {
    int n = 0;
    for (int i = 0; i < x->max_batch; i++) n += x->docs[i].used && !x->docs[i].finished;
    return n;
}

ds_decode_stats ds_extractor_stats(const ds_extractor *x) {
    return x->dc ? ds_decoder_stats(x->dc) : (ds_decode_stats){0};
}

static void round_confidence(json_t *v) {
    json_t *c = json_is_object(v) ? json_object_get(v, "confidence") : NULL;
    if (json_is_real(c)) json_real_set(c, round(json_real_value(c) * 1000) / 1000);
}

// Each value's confidence to three decimals, as the decoder wrote them once.
static void round_confidences(json_t *fields) {
    const char *name;
    json_t *v;
    json_object_foreach(fields, name, v) {
        size_t i;
        json_t *item;
        if (json_is_array(v))
            json_array_foreach(v, i, item) round_confidence(item);
        else
            round_confidence(v);
    }
}

// A window's answer came back: the first one names the type the others read with; a
// later one merges into the first's (fusion/windows.c). A document longer than its
// window reads on from a page the window cut short, when windows are on.
static void window_done(ds_extractor *x, xdoc *d, json_t *out, int rc, const char *err) {
    if (rc) {
        json_decref(out);
        xdoc_fail(d, rc, err);
        return;
    }
    d->n_windows++;
    const char *named = json_string_value(json_object_get(out, "doc_type"));
    const ds_lora *a = !d->out && routed_by_base(d) ? type_adapter(x, named) : NULL;
    if (a) { // the model named the type of a document nobody typed: its adapter reads it again
        rc = !(d->type = strdup(named)) ? ds_error(DS_E_NOMEM, "extractor: out of memory")
             : x->view                  ? gpu_adapter(x, a, &a)
                                        : 0;
        if (rc) {
            json_decref(out);
            xdoc_fail(d, rc, NULL);
            return;
        }
        d->routed_conf = json_incref(json_object_get(out, "confidence"));
        json_decref(out);
        d->adapter = a;
        d->n_windows = 0;
        xdoc_window(x, d);
        return;
    }
    if (!d->out) {
        d->out = out;
        // the type's confidence is the routing's, not the second reading's (given: 1)
        if (d->routed_conf) json_object_set(out, "confidence", d->routed_conf);
        if (!d->type && !(d->type = strdup(named ? named : ""))) {
            xdoc_fail(d, DS_E_NOMEM, "extractor: out of memory");
            return;
        }
    } else {
        rc = ds_windows_merge(d->out, out, d->p0);
        json_decref(out);
        if (rc) {
            xdoc_fail(d, rc, NULL);
            return;
        }
    }
    int more = x->opts.windows && !ds_seq_read_whole(&d->info, &d->sub);
    if (more) {
        d->p0 = ds_window_next(d->p0, d->info.n_pages_kept, d->info.last_page_cut);
        more = d->p0 < d->doc->n_pages;
    }
    if (more) {
        xdoc_window(x, d);
        return;
    }
    if (d->n_windows > 1) json_object_set_new(d->out, "windows", json_integer(d->n_windows));
    // rounded and calibrated after the windows merged: they compare raw confidences at
    // full precision (a value the constraints chose over the model's first choice has a
    // raw confidence far below 0.0005, and at three decimals every window's was 0: the
    // first window's won)
    round_confidences(json_object_get(d->out, "fields"));
    if (x->calib && (rc = ds_calib_apply_result(x->calib, d->out))) {
        xdoc_fail(d, rc, NULL);
        return;
    }
    ds_seq_free(&d->seq);
    d->finished = 1;
}

void ds_extractor_step(ds_extractor *x) {
    if (!x->dc) return;
    ds_ctx_use(x->ctx); // the caller's thread may not be the one that made the context
    ds_decoder_step(x->dc, &x->arena);
    void *tag;
    json_t *out;
    int rc;
    char err[DS_EXTRACT_ERR_LEN];
    while (ds_decoder_take(x->dc, &tag, &out, &rc, err, sizeof err))
        window_done(x, tag, out, rc, err);
}

int ds_extractor_take(ds_extractor *x, void **tag, json_t **out, int *rc,
                      char err[DS_EXTRACT_ERR_LEN]) {
    xdoc *d = NULL;
    for (int i = 0; i < x->max_batch; i++)
        if (x->docs[i].used && x->docs[i].finished && (!d || x->docs[i].order < d->order))
            d = &x->docs[i];
    if (!d) return 0;
    *tag = d->tag;
    *rc = d->rc;
    *out = d->out;
    d->out = NULL;
    if (err) snprintf(err, DS_EXTRACT_ERR_LEN, "%s", d->rc ? d->err : "");
    xdoc_clear(d);
    return 1;
}

int ds_extractor_docs(ds_extractor *x, const ds_doc *const *docs, const char *const *doc_types,
                      int n, json_t **out, int *rcs, char (*errs)[DS_EXTRACT_ERR_LEN]) {
    int next = 0, first = 0;
    for (int i = 0; i < n; i++) out[i] = NULL;
    // until every document is submitted and the stream is empty again (all taken)
    while (next < n || ds_extractor_room(x) < x->max_batch) {
        while (next < n && ds_extractor_room(x) > 0) {
            int rc = ds_extractor_submit(x, docs[next], doc_types ? doc_types[next] : NULL, NULL,
                                         (void *)(intptr_t)next);
            if (rc) { // the decoder could not be made: every document left gets the error
                for (; next < n; next++) {
                    rcs[next] = rc;
                    if (errs) snprintf(errs[next], DS_EXTRACT_ERR_LEN, "%s", ds_errmsg());
                }
                break;
            }
            next++;
        }
        ds_extractor_step(x);
        void *tag;
        json_t *o;
        int rc;
        char err[DS_EXTRACT_ERR_LEN];
        while (ds_extractor_take(x, &tag, &o, &rc, err)) {
            int i = (int)(intptr_t)tag;
            out[i] = o;
            rcs[i] = rc;
            if (errs) snprintf(errs[i], DS_EXTRACT_ERR_LEN, "%s", err);
        }
    }
    for (int i = 0; i < n && !first; i++) first = rcs[i];
    return first;
}

int ds_extractor_doc(ds_extractor *x, const ds_doc *doc, const char *doc_type, json_t **out) {
    int rc = 0;
    char err[1][DS_EXTRACT_ERR_LEN];
    ds_extractor_docs(x, &doc, &doc_type, 1, out, &rc, err);
    return rc ? ds_error(rc, "%s", err[0]) : 0;
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

int ds_extractor_gt_file(ds_extractor *x, ds_eval_format f, int set_words, const char *path,
                         const char *doc_type, json_t **out) {
    ds_ingest_opts io;
    ds_extractor_ingest_opts(x, &io);
    ds_doc *doc;
    *out = NULL;
    int rc = ds_gt_ingest(f, set_words, path, &io, &doc);
    if (rc) return rc;
    if (f != DS_EVAL_FUNSD) {
        rc = ds_extractor_doc(x, doc, doc_type, out);
    } else {
        json_t *p = NULL;
        rc = ds_extractor_doc(x, doc, "form_entities", &p);
        if (!rc) rc = ds_form_entities_to_funsd(p, out);
        if (!rc) ds_funsd_boxes_to_pixels(*out, doc);
        json_decref(p);
    }
    ds_doc_free(doc);
    return rc;
}
