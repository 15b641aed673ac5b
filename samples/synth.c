// synth.c: `docseek synth`'s driver: for each document index, a seed from
// (base seed, type, index), a layout family, the drawing, and the files:
// DIR/<type>-<seed>-<index>.pdf (or .jpg / .tif with scan) and the ground
// truth DIR/<same name>.json. Files are written whole under a temporary
// name and renamed, so an interrupted run leaves no half document behind.
#include "samples/synth.h"
#include "core/error.h"
#include "ingest/ingest.h"
#include "samples/form-entities.h"
#include "samples/synth-impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *type;
    void (*draw)(ds_synth_doc *d, int family);      // families 0-11
    void (*draw_more)(ds_synth_doc *d, int family); // families 12 and up, where the type has them
    int families;
    double w, h; // page size in points (receipts: a narrow strip)
} ds_synth_kind;

static const ds_synth_kind kinds[] = {
    {"invoice", ds_synth_invoice, NULL, 12, 595.28, 841.89},               // A4
    {"receipt", ds_synth_receipt, ds_synth_receipt_till, 48, 226.77, 620}, // 80 mm till roll
    {"form", ds_synth_form, NULL, 12, 612, 792},                           // US Letter
    {"contract", ds_synth_contract, ds_synth_contract_filed, 60, 612, 792},
    {"form_entities", ds_synth_form_entities, NULL, 12, 612, 792}, // FUNSD-style truth
};

static const ds_synth_kind *find_kind(const char *type) {
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kinds[i].type, type) == 0) return &kinds[i];
    return NULL;
}

int ds_synth_families(const char *type) {
    const ds_synth_kind *k = find_kind(type);
    return k ? k->families : 0;
}

// splitmix-style mixing so neighbouring indices and seeds give unrelated streams.
static unsigned long doc_seed(unsigned long seed, const char *type, int index) {
    unsigned long h = seed * 0x9E3779B97F4A7C15ul + (unsigned long)index * 0xBF58476D1CE4E5B9ul;
    for (const char *p = type; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001B3ul;
    h ^= h >> 31;
    return h;
}

static int write_whole(const char *path, const void *data, size_t n) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return ds_error(DS_E_IO, "%s: %s", tmp, strerror(errno));
    int ok = fwrite(data, 1, n, f) == n;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return ds_error(DS_E_IO, "%s: write failed: %s", path, strerror(errno));
    }
    return 0;
}

static int one(const ds_synth_opts *o, const ds_synth_kind *k, int index) {
    unsigned long seed = doc_seed(o->seed, k->type, index);
    int family = o->family_lo + index % (o->family_hi - o->family_lo + 1);
    ds_synth_doc d;
    double h = k->h;
    if (strcmp(k->type, "receipt") == 0) // strips vary in length; a till's long ones more
        h = family < 12 ? 520 + (double)(seed % 200) : 560 + (double)(seed % 700);
    int rc = ds_synth_begin(&d, seed, k->w, h);
    if (rc == 0) (family < 12 ? k->draw : k->draw_more)(&d, family);
    ds_synth_bytes pdf = {0};
    json_t *truth = NULL;
    // entity lists in reading order, as the model is to write them
    if (strcmp(k->type, "form_entities") == 0) ds_form_entities_sort(d.fields, d.boxes);
    int rc2 = ds_synth_end(&d, k->type, &pdf, &truth);
    rc = rc ? rc : rc2;
    json_object_set_new(truth, "family", json_integer(family));
    json_object_set_new(truth, "seed", json_integer((json_int_t)(seed & 0x7fffffffffffffff)));
    char base[4096], path[4200];
    snprintf(base, sizeof base, "%s/%s-%lu-%05d", o->out_dir, k->type, o->seed, index);
    if (rc == 0) {
        if (o->scan) {
            ds_rng r;
            ds_rng_seed(&r, seed ^ 0x5ca7ul);
            snprintf(path, sizeof path, "%s.%s", base, d.page > 1 ? "tif" : "jpg");
            rc = ds_synth_scan(&pdf, truth, &r, o->on_sheet, o->thermal, path);
            json_object_set_new(truth, "scan", json_true());
        } else {
            snprintf(path, sizeof path, "%s.pdf", base);
            rc = write_whole(path, pdf.data, pdf.n);
        }
    }
    if (rc == 0) {
        char *text = json_dumps(truth, JSON_INDENT(1) | JSON_REAL_PRECISION(7));
        snprintf(path, sizeof path, "%s.json", base);
        rc = text ? write_whole(path, text, strlen(text)) : ds_error(DS_E_NOMEM, "out of memory");
        free(text);
    }
    json_decref(truth);
    free(pdf.data);
    return rc;
}

int ds_synth_generate(const ds_synth_opts *o) {
    const ds_synth_kind *k = find_kind(o->type);
    if (!k)
        return ds_error(DS_E_INVAL,
                        "unknown document type '%s' (invoice, receipt, form, contract, "
                        "form_entities)",
                        o->type);
    int n = ds_synth_families(o->type);
    if (o->family_lo < 0 || o->family_lo > o->family_hi || o->family_hi >= n)
        return ds_error(DS_E_INVAL, "families %d-%d: %s has %d (0-%d)", o->family_lo, o->family_hi,
                        o->type, n, n - 1);
    int rc = ds_synth_vocab_load();
    if (rc) return rc;
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST)
        return ds_error(DS_E_IO, "%s: %s", o->out_dir, strerror(errno));
    for (int i = 0; i < o->count && rc == 0; i++) rc = one(o, k, i);
    ds_ingest_thread_cleanup();
    return rc;
}
