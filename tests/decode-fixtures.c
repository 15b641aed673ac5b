// decode-fixtures.c: see decode-fixtures.h.
#include "tests/decode-fixtures.h"

#include "core/error.h"
#include "tests/ingest-fixtures.h"
#include "tests/model-fixtures.h"

#include <stdio.h>
#include <string.h>

static int failed(const char *what, int rc) {
    printf("  %s: %s: %s\n", what, ds_err_name(rc), ds_errmsg());
    return rc;
}

int ds_fx_decode_open(ds_fx_decode *f) {
    memset(f, 0, sizeof *f);
    ds_fx_init();
    int rc = ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &f->schemas);
    if (rc) return failed("schemas", rc);
    if ((rc = ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &f->cfg))) {
        ds_schema_set_free(&f->schemas);
        return failed("configs/tiny.json", rc);
    }
    if (!(f->ctx = ds_ctx_new(DS_BACKEND_CPU, 1))) {
        ds_schema_set_free(&f->schemas);
        return failed("context", DS_E_NOMEM);
    }
    return 0;
}

static void drop_model(ds_fx_decode *f) {
    ds_extractor_free(f->x);
    ds_model_free(f->m);
    f->x = NULL;
    f->m = NULL;
}

int ds_fx_decode_model(ds_fx_decode *f, const char *corpus, int vocab, uint64_t seed) {
    drop_model(f);
    int rc = ds_fixture_text_model(&f->cfg, corpus, vocab, seed, &f->m);
    if (rc) return failed("model", rc);
    if ((rc = ds_extractor_new(f->m, f->ctx, &f->schemas, &f->x))) {
        drop_model(f);
        return failed("extractor", rc);
    }
    return 0;
}

void ds_fx_decode_close(ds_fx_decode *f) {
    drop_model(f);
    ds_ctx_free(f->ctx);
    ds_schema_set_free(&f->schemas);
    memset(f, 0, sizeof *f);
}
