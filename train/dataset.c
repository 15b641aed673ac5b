// dataset.c: see dataset.h. The cache file of a document is
// CACHE/<key>.seq: a small header and the sequence's arrays, pixels as bytes.
#include "train/dataset.h"

#include "core/error.h"
#include "core/log.h"
#include "core/timer.h"
#include "fusion/sequence.h"
#include "fusion/windows.h"
#include "samples/form-entities.h"
#include "samples/gt-formats.h"
#include "samples/gt-words.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *ds_doc_exts[] = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"};

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ds_dataset_scan(const char *const *dirs, int n_dirs, ds_dataset *out) {
    memset(out, 0, sizeof *out);
    char **docs = NULL;
    int n = 0, cap = 0;
    for (int k = 0; k < n_dirs; k++) {
        DIR *d = opendir(dirs[k]);
        if (!d)
            return ds_error(DS_E_NOENT, "dataset: cannot open folder %s: %s", dirs[k],
                            strerror(errno));
        struct dirent *e;
        while ((e = readdir(d))) {
            const char *dot = strrchr(e->d_name, '.');
            int known = 0;
            for (size_t x = 0; dot && x < sizeof ds_doc_exts / sizeof *ds_doc_exts; x++)
                known |= strcasecmp(dot, ds_doc_exts[x]) == 0;
            if (!known) continue;
            char path[4096], truth[4096];
            snprintf(path, sizeof path, "%s/%s", dirs[k], e->d_name);
            snprintf(truth, sizeof truth, "%s/%.*s.json", dirs[k], (int)(dot - e->d_name),
                     e->d_name);
            struct stat st;
            if (stat(truth, &st) != 0) continue; // unlabelled: not training data
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                char **nd = realloc(docs, sizeof(char *) * cap);
                if (!nd) {
                    closedir(d);
                    return ds_error(DS_E_NOMEM, "dataset: out of memory");
                }
                docs = nd;
            }
            docs[n++] = strdup(path);
        }
        closedir(d);
    }
    if (n == 0) {
        free(docs);
        return ds_error(DS_E_INVAL, "dataset: no document with ground truth (NAME.json) in %s%s",
                        n_dirs ? dirs[0] : "(no folder)", n_dirs > 1 ? " and the others" : "");
    }
    qsort(docs, (size_t)n, sizeof *docs, cmp_str);
    out->n = n;
    out->doc_paths = docs;
    out->truth_paths = calloc((size_t)n, sizeof(char *));
    out->seqs = calloc((size_t)n, sizeof(ds_seq));
    out->px = calloc((size_t)n, sizeof(uint8_t *));
    out->ok = calloc((size_t)n, sizeof(int));
    if (!out->truth_paths || !out->seqs || !out->px || !out->ok) {
        ds_dataset_free(out);
        return ds_error(DS_E_NOMEM, "dataset: out of memory");
    }
    for (int i = 0; i < n; i++) {
        const char *dot = strrchr(docs[i], '.');
        size_t l = (size_t)(dot - docs[i]);
        out->truth_paths[i] = malloc(l + 6);
        if (!out->truth_paths[i]) {
            ds_dataset_free(out);
            return ds_error(DS_E_NOMEM, "dataset: out of memory");
        }
        memcpy(out->truth_paths[i], docs[i], l);
        memcpy(out->truth_paths[i] + l, ".json", 6);
    }
    return 0;
}

int ds_dataset_from_gt(ds_eval_format fmt, const char *dir, const char *schemas_dir,
                       ds_dataset *out) {
    memset(out, 0, sizeof *out);
    ds_eval_set set;
    int rc = ds_gt_load(fmt, dir, schemas_dir, &set);
    if (rc) return rc;
    out->doc_paths = calloc((size_t)set.n_docs + 1, sizeof(char *));
    out->truths = calloc((size_t)set.n_docs + 1, sizeof(json_t *));
    out->seqs = calloc((size_t)set.n_docs + 1, sizeof(ds_seq));
    out->px = calloc((size_t)set.n_docs + 1, sizeof(uint8_t *));
    out->ok = calloc((size_t)set.n_docs + 1, sizeof(int));
    if (!out->doc_paths || !out->truths || !out->seqs || !out->px || !out->ok)
        rc = ds_error(DS_E_NOMEM, "dataset: out of memory");
    for (int i = 0; !rc && i < set.n_docs; i++) {
        const ds_eval_doc *d = &set.docs[i];
        if (!d->doc_path) continue; // truth without its document
        size_t k;
        json_t *o;
        json_array_foreach(set.as_pred, k, o) {
            const char *id = json_string_value(json_object_get(o, "id"));
            if (!id || strcmp(id, d->id) != 0) continue;
            // FUNSD's entities are the form_entities schema's lists (samples/form-entities.h)
            const json_t *ents = json_object_get(o, "entities");
            json_t *t = json_object_get(o, "fields") ? ds_gt_truth_as_docseek(&set, o)
                        : ents                       ? ds_form_entities_from_funsd(ents)
                                                     : NULL;
            if (t) {
                out->doc_paths[out->n] = strdup(d->doc_path);
                out->truths[out->n] = t;
                out->n++;
            }
            break;
        }
    }
    ds_eval_set_free(&set);
    out->format = fmt;
    if (!rc && out->n == 0)
        rc = ds_error(DS_E_INVAL, "dataset: no document with fields in %s (%s)", dir,
                      ds_eval_format_name(fmt));
    if (rc) ds_dataset_free(out);
    return rc;
}

int ds_dataset_open(const char *format, const char *const *dirs, int n_dirs,
                    const char *schemas_dir, ds_dataset *out) {
    ds_eval_format fmt;
    int rc = ds_eval_format_parse(format, &fmt);
    if (rc) return rc;
    if (fmt == DS_EVAL_DOCSEEK) return ds_dataset_scan(dirs, n_dirs, out);
    if (n_dirs != 1)
        return ds_error(DS_E_INVAL, "dataset: --format %s reads one --data folder, got %d", format,
                        n_dirs);
    return ds_dataset_from_gt(fmt, dirs[0], schemas_dir, out);
}

// A dataset's seven per-item arrays, grown into new ones by appending and by flattening
// windows.
typedef struct {
    char **paths, **tpaths;
    json_t **truths;
    ds_seq *seqs;
    uint8_t **px;
    int *ok, *times;
} item_arrays;

// a's arrays freed, not what they point to.
static void items_discard(item_arrays *a) {
    free(a->paths), free(a->tpaths), free(a->truths), free(a->seqs), free(a->px), free(a->ok);
    free(a->times);
}

// The arrays of n items, zeroed. Returns 0, or DS_E_NOMEM with nothing allocated.
static int items_alloc(int n, item_arrays *a) {
    a->paths = calloc((size_t)n + 1, sizeof(char *));
    a->tpaths = calloc((size_t)n + 1, sizeof(char *));
    a->truths = calloc((size_t)n + 1, sizeof(json_t *));
    a->seqs = calloc((size_t)n + 1, sizeof(ds_seq));
    a->px = calloc((size_t)n + 1, sizeof(uint8_t *));
    a->ok = calloc((size_t)n + 1, sizeof(int));
    a->times = calloc((size_t)n + 1, sizeof(int));
    if (a->paths && a->tpaths && a->truths && a->seqs && a->px && a->ok && a->times) {
        for (int i = 0; i < n; i++) a->times[i] = 1;
        return 0;
    }
    items_discard(a);
    return ds_error(DS_E_NOMEM, "dataset: out of memory");
}

// d's arrays freed, not what they point to (moved elsewhere by the caller).
static void items_free(ds_dataset *d) {
    free(d->doc_paths), free(d->truth_paths), free(d->truths), free(d->seqs), free(d->px);
    free(d->ok), free(d->times);
}

// d's arrays replaced by a's, which took over their items.
static void items_adopt(ds_dataset *d, const item_arrays *a, int n) {
    items_free(d);
    d->doc_paths = a->paths, d->truth_paths = a->tpaths, d->truths = a->truths;
    d->seqs = a->seqs, d->px = a->px, d->ok = a->ok, d->times = a->times, d->n = n;
}

int ds_dataset_times(const ds_dataset *d, int i) {
    return d->times ? d->times[i] : 1;
}

int ds_dataset_append(ds_dataset *d, ds_dataset *more) {
    int n = d->n + more->n, rc;
    item_arrays a;
    if ((rc = items_alloc(n, &a))) return rc;
    const ds_dataset *from[2] = {d, more};
    for (int s = 0, j = 0; s < 2; s++)
        for (int i = 0; i < from[s]->n; i++, j++) {
            a.paths[j] = from[s]->doc_paths[i];
            if (from[s]->truth_paths) a.tpaths[j] = from[s]->truth_paths[i];
            if (from[s]->truths) a.truths[j] = from[s]->truths[i];
            a.times[j] = ds_dataset_times(from[s], i);
        }
    // d's settings (windows, every_window, skip_unfound) stay as they were
    items_adopt(d, &a, n);
    items_free(more); // its items are d's now
    memset(more, 0, sizeof *more);
    return 0;
}

int ds_dataset_repeat(ds_dataset *d, int times) {
    if (times < 1)
        return ds_error(DS_E_INVAL, "dataset: repeat %d times: must be 1 or more", times);
    if (times == 1 || d->n == 0) return 0;
    if (!d->times) {
        d->times = malloc(sizeof(int) * ((size_t)d->n + 1));
        if (!d->times) return ds_error(DS_E_NOMEM, "dataset: out of memory");
        for (int i = 0; i < d->n; i++) d->times[i] = 1;
    }
    for (int i = 0; i < d->n; i++) {
        if (d->times[i] > INT_MAX / times)
            return ds_error(DS_E_INVAL, "dataset: a document repeated too often");
        d->times[i] *= times;
    }
    return 0;
}

// ---- the cache

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

// The cache format and what goes into a sequence: 12 an OCR'd amount's comma read as
// the page's point, 11 amounts OCR split at the point joined, 10 only doubtful small type read
// magnified, 9 small type read magnified by OCR, 8 windows (absent values) and empty lists as
// [eov], 7 near runs, 6 text drawn as graphics read by OCR, 5 OCR words ordered along the page's
// tilt.
#define DS_SEQ_MAGIC     "DSSEQ12\n"
#define DS_SEQ_MAGIC_LEN (sizeof DS_SEQ_MAGIC - 1)
#define DS_MAX_WINDOWS   64 // windows of one document trained on

typedef struct {
    // n_more: the windows after this one, cached beside it (every_window; else 0)
    int32_t n, n_prefix, n_words, n_pages, doc_lo, doc_hi, img_size, n_more;
} seq_header;

// The arrays of a sequence, in file order: pointer, element size, count.
static void seq_fields(ds_seq *s, void **ptr[12], size_t size[12], size_t count[12]) {
    void **p[12] = {(void **)&s->ids,        (void **)&s->box,     (void **)&s->page,
                    (void **)&s->roi,        (void **)&s->img,     (void **)&s->target,
                    (void **)&s->target_w,   (void **)&s->role,    (void **)&s->ptr_kind,
                    (void **)&s->ptr_target, (void **)&s->ptr_min, (void **)&s->word_tok};
    size_t sz[12] = {4, 4, 4, 4, 4, 4, 4, 1, 4, 4, 4, 4};
    size_t n = (size_t)s->n;
    size_t ct[12] = {n, 4 * n, n, 5 * n, n, n, n, n, n, n, n, (size_t)s->n_words + 1};
    for (int i = 0; i < 12; i++) ptr[i] = p[i], size[i] = sz[i], count[i] = ct[i];
}

static int cache_write(const char *path, ds_seq *s, const uint8_t *px, int S, int n_more) {
    char tmp[4200];
    // a name of its own: one document in two folders, or two trainings sharing the
    // cache, may write the same entry at once; rename keeps one whole
    snprintf(tmp, sizeof tmp, "%s.%ld.%lx.tmp", path, (long)getpid(),
             (unsigned long)pthread_self());
    FILE *f = fopen(tmp, "wb");
    if (!f) return ds_error(DS_E_IO, "dataset cache: cannot write %s: %s", tmp, strerror(errno));
    seq_header h = {s->n, s->n_prefix, s->n_words, s->n_pages, s->doc_lo, s->doc_hi, S, n_more};
    int ok = fwrite(DS_SEQ_MAGIC, 1, DS_SEQ_MAGIC_LEN, f) == DS_SEQ_MAGIC_LEN &&
             fwrite(&h, sizeof h, 1, f) == 1;
    void **ptr[12];
    size_t size[12], count[12];
    seq_fields(s, ptr, size, count);
    for (int i = 0; i < 12 && ok; i++) ok = fwrite(*ptr[i], size[i], count[i], f) == count[i];
    size_t npx = px ? (size_t)s->n_pages * 3 * S * S : 0;
    if (ok && npx) ok = fwrite(px, 1, npx, f) == npx;
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return ds_error(DS_E_IO, "dataset cache: cannot write %s", path);
    }
    return 0;
}

// 1 when path held a valid entry (now in s / *px, and its n_more), 0 otherwise (a miss:
// rebuild).
static int cache_read(const char *path, ds_seq *s, uint8_t **px, int S, int *n_more) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[DS_SEQ_MAGIC_LEN];
    seq_header h;
    int ok = fread(magic, 1, DS_SEQ_MAGIC_LEN, f) == DS_SEQ_MAGIC_LEN &&
             memcmp(magic, DS_SEQ_MAGIC, DS_SEQ_MAGIC_LEN) == 0 && fread(&h, sizeof h, 1, f) == 1 &&
             h.n > 0 && h.n < (1 << 24) && h.n_words >= 0 && h.n_words < (1 << 24) &&
             h.n_pages >= 0 && h.n_pages <= 64 && h.img_size == S && h.n_more >= 0 &&
             h.n_more < DS_MAX_WINDOWS;
    if (ok) ok = ds_seq_alloc(s, h.n, h.n_words, 0, 0) == 0;
    if (ok) *n_more = h.n_more;
    if (ok) {
        s->n_prefix = h.n_prefix, s->n_pages = h.n_pages;
        s->doc_lo = h.doc_lo, s->doc_hi = h.doc_hi;
        void **ptr[12];
        size_t size[12], count[12];
        seq_fields(s, ptr, size, count);
        for (int i = 0; i < 12 && ok; i++) ok = fread(*ptr[i], size[i], count[i], f) == count[i];
        size_t npx = (size_t)h.n_pages * 3 * S * S;
        *px = NULL;
        if (ok && npx && S > 0) {
            *px = malloc(npx);
            ok = *px && fread(*px, 1, npx, f) == npx;
        }
        if (!ok) {
            ds_seq_free(s);
            free(*px);
            *px = NULL;
        }
    }
    fclose(f);
    return ok;
}

// ---- preparation

// A long document's windows after its first (every_window), each an item of its own once
// the documents are prepared.
typedef struct {
    int n;
    ds_seq *seqs;
    uint8_t **px;
} more_windows;

typedef struct {
    ds_dataset *d;
    const ds_model *m;
    const ds_schema_set *schemas;
    const char *cache_dir;
    uint64_t key0; // hash of config and tokenizer
    atomic_int next, cached, done;
    atomic_int n_span, n_near, n_gen; // values of the documents prepared now (not cached)
    atomic_int n_unseen, n_windowed;  // ... absent from their window; documents windowed
    atomic_int n_skipped; // ... no run of the words, learned nothing from (skip_unfound)
    atomic_int n_items;   // sequences: documents, or their windows (every_window)
    more_windows *more;   // (n) every_window: each document's further windows
} prep_args;

// The truth of a window starting at page p0 + 1: boxes on earlier pages dropped, the
// others' pages counted from the window's first.
static json_t *window_truth(const json_t *truth, int p0) {
    json_t *t = json_deep_copy(truth);
    const char *name;
    json_t *list;
    json_object_foreach(json_object_get(t, "boxes"), name, list) {
        json_t *kept = json_array();
        size_t k;
        json_t *b;
        json_array_foreach(list, k, b) {
            json_int_t page = json_integer_value(json_object_get(b, "page")) - p0;
            if (page < 1) continue;
            json_t *c = json_deep_copy(b);
            json_object_set_new(c, "page", json_integer(page));
            json_array_append_new(kept, c);
        }
        json_array_clear(list);
        json_array_extend(list, kept);
        json_decref(kept);
    }
    return t;
}

// The first pages of a long document's windows, as the extractor reads them: *n of them
// (at most DS_MAX_WINDOWS). info is the first window's, as ds_seq_build left it.
static int window_starts(prep_args *a, const ds_doc *doc, const ds_seq_info *info,
                         int starts[DS_MAX_WINDOWS], int *n) {
    int p0 = 0, kept = info->n_pages_kept, cut = info->last_page_cut, rc;
    starts[0] = 0;
    *n = 1;
    while (*n < DS_MAX_WINDOWS && (p0 = ds_window_next(p0, kept, cut)) < doc->n_pages) {
        ds_doc sub = *doc;
        sub.pages = doc->pages + p0;
        sub.n_pages = doc->n_pages - p0;
        ds_seq s;
        ds_seq_info wi;
        if ((rc = ds_seq_build(a->m, a->schemas, &sub, NULL, &s, &wi))) return rc;
        ds_seq_free(&s);
        starts[(*n)++] = p0;
        kept = wi.n_pages_kept, cut = wi.last_page_cut;
    }
    return 0;
}

// The window from page p0 + 1 with its truth: the values it does not show absent, the
// first window's too (otherwise a value on a later page would be generated there).
static int build_window(prep_args *a, const ds_doc *doc, const json_t *truth, int p0, ds_seq *seq,
                        ds_seq_info *info) {
    ds_doc sub = *doc;
    sub.pages = doc->pages + p0;
    sub.n_pages = doc->n_pages - p0;
    json_t *wt = window_truth(truth, p0);
    if (!wt) return ds_error(DS_E_NOMEM, "dataset: out of memory");
    int rc = ds_seq_build_window(a->m, a->schemas, &sub, wt, 1, seq, info);
    json_decref(wt);
    return rc;
}

static void count_values(prep_args *a, const ds_seq_info *info) {
    atomic_fetch_add(&a->n_span, info->n_values_span - info->n_values_near);
    atomic_fetch_add(&a->n_near, info->n_values_near);
    atomic_fetch_add(&a->n_gen, info->n_values_gen);
    atomic_fetch_add(&a->n_unseen, info->n_values_unseen);
    atomic_fetch_add(&a->n_skipped, info->n_values_skipped);
}

// The sequence's page pixels kept as bytes in *px (a quarter of the floats); s->pixels
// freed.
static int pixels_to_bytes(ds_seq *s, int S, uint8_t **px) {
    *px = NULL;
    if (S <= 0 || s->n_pages <= 0) return 0;
    size_t npx = (size_t)s->n_pages * 3 * S * S;
    *px = malloc(npx);
    if (!*px) return ds_error(DS_E_NOMEM, "dataset: out of memory");
    // back to bytes: the encoder input is (v / 255 - mean) / std with mean = std = 0.5
    for (size_t j = 0; j < npx; j++) {
        float v = (s->pixels[j] * 0.5f + 0.5f) * 255.0f;
        (*px)[j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrintf(v));
    }
    free(s->pixels);
    s->pixels = NULL;
    return 0;
}

// A document longer than one sequence, read in windows: it trains on window key % n of
// its n windows, rebuilt in *seq; with every_window on all of them, the first in *seq
// and the others in *more.
static int prepare_windows(prep_args *a, const ds_doc *doc, const json_t *truth, uint64_t key,
                           ds_seq *seq, ds_seq_info *info, more_windows *more) {
    if (ds_seq_read_whole(info, doc)) return 0;
    int starts[DS_MAX_WINDOWS], n, rc = window_starts(a, doc, info, starts, &n);
    if (rc) return rc;
    int w = a->d->every_window ? 0 : (int)(key % (uint64_t)n);
    if (w > 0 || a->d->every_window) atomic_fetch_add(&a->n_windowed, 1);
    ds_seq_free(seq);
    if ((rc = build_window(a, doc, truth, starts[w], seq, info))) return rc;
    if (!a->d->every_window) return 0;
    int S = ds_cfg_use_vision(&a->m->cfg) ? a->m->cfg.img_size : 0;
    more->seqs = calloc((size_t)n, sizeof(ds_seq));
    more->px = calloc((size_t)n, sizeof(uint8_t *));
    if (!more->seqs || !more->px) return ds_error(DS_E_NOMEM, "dataset: out of memory");
    for (int k = 1; k < n; k++) {
        ds_seq_info wi;
        if ((rc = build_window(a, doc, truth, starts[k], &more->seqs[more->n], &wi))) return rc;
        more->n++;
        count_values(a, &wi);
        atomic_fetch_add(&a->n_items, 1);
        if ((rc = pixels_to_bytes(&more->seqs[more->n - 1], S, &more->px[more->n - 1]))) return rc;
    }
    return 0;
}

static void more_free(more_windows *more) {
    for (int k = 0; k < more->n; k++) {
        ds_seq_free(&more->seqs[k]);
        free(more->px[k]);
    }
    free(more->seqs);
    free(more->px);
    memset(more, 0, sizeof *more);
}

// The cache files of a document's further windows: PATH.wK.
static void more_path(char *buf, size_t cap, const char *cpath, int k) {
    snprintf(buf, cap, "%s.w%d", cpath, k);
}

static int more_cache_read(const char *cpath, int n_more, int S, more_windows *more) {
    more->seqs = calloc((size_t)n_more + 1, sizeof(ds_seq));
    more->px = calloc((size_t)n_more + 1, sizeof(uint8_t *));
    if (!more->seqs || !more->px) return 0;
    char path[4200];
    int unused;
    for (int k = 1; k <= n_more; k++) {
        more_path(path, sizeof path, cpath, k);
        if (!cache_read(path, &more->seqs[k - 1], &more->px[k - 1], S, &unused)) return 0;
        more->n++;
    }
    return 1;
}

static void prepare_one(prep_args *a, int i) {
    ds_dataset *d = a->d;
    const ds_model_cfg *cfg = &a->m->cfg;
    int S = ds_cfg_use_vision(cfg) ? cfg->img_size : 0;
    more_windows *more = &a->more[i];
    int set_words = d->set_words && d->truths && d->truths[i]; // read from d->format
    ds_ingest_opts io; // how the document is read (the environment's OCR settings too)
    ds_ingest_opts_default(&io);
    io.enc_size = S > 0 ? S : 64;
    io.no_pixels = S == 0;
    struct stat st;
    char cpath[4096] = "";
    if (a->cache_dir && stat(d->doc_paths[i], &st) == 0) {
        struct stat ts;
        uint64_t k = fnv(a->key0, d->doc_paths[i], strlen(d->doc_paths[i]));
        k = fnv(k, &st.st_size, sizeof st.st_size);
        k = fnv(k, &st.st_mtime, sizeof st.st_mtime);
        if (d->windows) k = fnv(k, "windows", 7);
        if (d->windows && d->every_window) k = fnv(k, "every", 5);
        if (d->skip_unfound) k = fnv(k, "skip", 4);
        char wpath[4096];
        struct stat ws;
        if (set_words && !ds_gt_words_path(d->format, d->doc_paths[i], wpath, sizeof wpath) &&
            stat(wpath, &ws) == 0) { // the words read: a changed file is another sequence
            k = fnv(k, &ws.st_size, sizeof ws.st_size);
            k = fnv(k, &ws.st_mtime, sizeof ws.st_mtime);
        }
        if (set_words) k = fnv(k, "set-words", 9);
        if (io.ocr_layout != DS_OCR_LAYOUT_BLOCK) k = fnv(k, &io.ocr_layout, sizeof io.ocr_layout);
        if (io.ocr_lang && strcmp(io.ocr_lang, "eng")) k = fnv(k, io.ocr_lang, strlen(io.ocr_lang));
        if (io.no_ocr_magnify) k = fnv(k, "no-magnify", 10);
        if (d->truths && d->truths[i]) {
            char *t = json_dumps(d->truths[i], JSON_SORT_KEYS | JSON_COMPACT);
            if (t) k = fnv(k, t, strlen(t));
            free(t);
        } else if (stat(d->truth_paths[i], &ts) == 0) {
            k = fnv(k, &ts.st_mtime, sizeof ts.st_mtime);
        }
        snprintf(cpath, sizeof cpath, "%s/%016llx.seq", a->cache_dir, (unsigned long long)k);
        int n_more = 0;
        if (cache_read(cpath, &d->seqs[i], &d->px[i], S, &n_more)) {
            if (n_more == 0 || more_cache_read(cpath, n_more, S, more)) {
                d->ok[i] = 1;
                atomic_fetch_add(&a->cached, 1);
                atomic_fetch_add(&a->n_items, 1 + more->n);
                return;
            }
            more_free(more);
            ds_seq_free(&d->seqs[i]);
            free(d->px[i]);
            d->px[i] = NULL;
        }
    }
    ds_doc *doc = NULL;
    json_error_t jerr;
    json_t *truth = d->truths && d->truths[i] ? json_incref(d->truths[i])
                                              : json_load_file(d->truth_paths[i], 0, &jerr);
    int rc = truth ? ds_gt_ingest(d->format, set_words, d->doc_paths[i], &io, &doc)
                   : ds_error(DS_E_FORMAT, "%s:%d: %s", d->truth_paths[i], jerr.line, jerr.text);
    ds_seq_info info;
    if (!rc)
        rc = ds_seq_build_window(a->m, a->schemas, doc, truth,
                                 d->skip_unfound ? DS_UNSEEN_SKIPPED : DS_UNSEEN_GENERATE,
                                 &d->seqs[i], &info);
    if (!rc && d->windows)
        rc = prepare_windows(a, doc, truth, fnv(7, d->doc_paths[i], strlen(d->doc_paths[i])),
                             &d->seqs[i], &info, more);
    if (!rc) count_values(a, &info);
    if (!rc) rc = pixels_to_bytes(&d->seqs[i], S, &d->px[i]);
    if (rc) {
        DS_LOGW("dataset: skipping %s: %s", d->doc_paths[i], ds_errmsg());
        if (d->seqs[i].ids) ds_seq_free(&d->seqs[i]);
        more_free(more);
    } else {
        d->ok[i] = 1;
        atomic_fetch_add(&a->n_items, 1);
        if (cpath[0]) {
            char path[4200];
            for (int k = 1; k <= more->n; k++) {
                more_path(path, sizeof path, cpath, k);
                cache_write(path, &more->seqs[k - 1], more->px[k - 1], S, 0);
            }
            // the first window last: it names the others, so a reader finds them whole
            cache_write(cpath, &d->seqs[i], d->px[i], S, more->n);
        }
    }
    json_decref(truth);
    ds_doc_free(doc);
}

static void *prep_thread(void *p) {
    prep_args *a = p;
    for (;;) {
        int i = atomic_fetch_add(&a->next, 1);
        if (i >= a->d->n) break;
        prepare_one(a, i);
        int done = atomic_fetch_add(&a->done, 1) + 1;
        if (done % 200 == 0) DS_LOGI("dataset: %d of %d documents prepared", done, a->d->n);
    }
    ds_ingest_thread_cleanup();
    return NULL;
}

// Every window an item of its own (every_window): the arrays grow by the further windows,
// each after its document's first, sharing its path and truth. more's arrays are freed,
// their sequences moved.
static int flatten_windows(ds_dataset *d, more_windows *more) {
    int n = d->n, nomem = 0;
    for (int i = 0; i < d->n; i++) n += more[i].n;
    if (n == d->n) return 0;
    item_arrays a;
    if (items_alloc(n, &a)) {
        for (int i = 0; i < d->n; i++) more_free(&more[i]);
        return DS_E_NOMEM;
    }
    for (int i = 0, j = 0; i < d->n; i++) {
        for (int k = -1; k < more[i].n; k++, j++) {
            a.paths[j] = k < 0 ? d->doc_paths[i] : strdup(d->doc_paths[i]);
            const char *tp = d->truth_paths ? d->truth_paths[i] : NULL; // NULL: truth in memory
            if (tp) a.tpaths[j] = k < 0 ? d->truth_paths[i] : strdup(tp);
            if (d->truths) a.truths[j] = k < 0 ? d->truths[i] : json_incref(d->truths[i]);
            nomem |= !a.paths[j] || (tp && !a.tpaths[j]);
            a.seqs[j] = k < 0 ? d->seqs[i] : more[i].seqs[k];
            a.px[j] = k < 0 ? d->px[i] : more[i].px[k];
            a.ok[j] = k < 0 ? d->ok[i] : 1;
            a.times[j] = ds_dataset_times(d, i); // each window as often as its document
        }
        free(more[i].seqs);
        free(more[i].px);
    }
    items_adopt(d, &a, n);
    return nomem ? ds_error(DS_E_NOMEM, "dataset: out of memory") : 0;
}

int ds_dataset_prepare(ds_dataset *d, const ds_model *m, const ds_schema_set *schemas,
                       int n_threads, const char *cache_dir) {
    double t0 = ds_time_s();
    prep_args a = {.d = d, .m = m, .schemas = schemas, .cache_dir = cache_dir};
    json_t *cj = ds_model_cfg_to_json(&m->cfg);
    char *cs = cj ? json_dumps(cj, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_t *tj = m->tok ? ds_tokenizer_to_json(m->tok) : NULL;
    char *ts = tj ? json_dumps(tj, JSON_COMPACT) : NULL;
    if (!cs || !ts) {
        free(cs);
        free(ts);
        json_decref(cj);
        json_decref(tj);
        return ds_error(DS_E_NOMEM, "dataset: out of memory (or a model without tokenizer)");
    }
    a.key0 = fnv(fnv(1469598103934665603ull, cs, strlen(cs)), ts, strlen(ts));
    a.key0 = fnv(a.key0, DS_SEQ_MAGIC, DS_SEQ_MAGIC_LEN);
    free(cs);
    free(ts);
    json_decref(cj);
    json_decref(tj);
    if (cache_dir && mkdir(cache_dir, 0755) != 0 && errno != EEXIST)
        return ds_error(DS_E_IO, "dataset: cannot create cache folder %s: %s", cache_dir,
                        strerror(errno));
    if (n_threads < 1) n_threads = 1;
    a.more = calloc((size_t)d->n + 1, sizeof(more_windows));
    if (!a.more) return ds_error(DS_E_NOMEM, "dataset: out of memory");
    pthread_t th[64];
    int started = 0;
    for (int t = 1; t < n_threads && t < 64; t++)
        if (pthread_create(&th[started], NULL, prep_thread, &a) == 0) started++;
    prep_thread(&a);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    d->n_failed = 0;
    for (int i = 0; i < d->n; i++) d->n_failed += !d->ok[i];
    d->n_docs = d->n;
    d->n_cached = atomic_load(&a.cached);
    d->seconds = ds_time_s() - t0;
    if (d->n_cached < d->n)
        DS_LOGI("dataset: values of the %d documents prepared now: %d point at a run of their "
                "words, %d at a near run (OCR spelling, date format), %d generated, %d skipped "
                "(no run of the words), %d absent from the window read (%d documents %s)",
                d->n - d->n_cached, atomic_load(&a.n_span), atomic_load(&a.n_near),
                atomic_load(&a.n_gen), atomic_load(&a.n_skipped), atomic_load(&a.n_unseen),
                atomic_load(&a.n_windowed),
                d->every_window ? "train on every window" : "train on a later window");
    int rc = flatten_windows(d, a.more);
    free(a.more);
    if (rc) return rc;
    if (d->n > d->n_docs)
        DS_LOGI("dataset: %d documents, %d sequences: every window of a long one", d->n_docs,
                atomic_load(&a.n_items));
    return d->n_failed == d->n_docs ? ds_error(DS_E_INVAL, "dataset: no document could be prepared")
                                    : 0;
}

ds_seq ds_dataset_seq(const ds_dataset *d, int i, float *buf, int img_size) {
    ds_seq s = d->seqs[i];
    s.pixels = NULL;
    if (buf && d->px[i] && img_size > 0) {
        size_t npx = (size_t)s.n_pages * 3 * img_size * img_size;
        for (size_t j = 0; j < npx; j++) buf[j] = d->px[i][j] * (2.0f / 255.0f) - 1.0f;
        s.pixels = buf;
    }
    return s;
}

void ds_dataset_free(ds_dataset *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        if (d->doc_paths) free(d->doc_paths[i]);
        if (d->truth_paths) free(d->truth_paths[i]);
        if (d->truths) json_decref(d->truths[i]);
        if (d->seqs && d->ok && d->ok[i]) ds_seq_free(&d->seqs[i]);
        if (d->px) free(d->px[i]);
    }
    free(d->doc_paths);
    free(d->truth_paths);
    free(d->truths);
    free(d->seqs);
    free(d->px);
    free(d->ok);
    free(d->times);
    memset(d, 0, sizeof *d);
}
