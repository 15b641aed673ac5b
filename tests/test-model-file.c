// test-model-file.c: the model file (fusion/model.c) and the config checks
// (fusion/config.c): a save/load round trip that must be bit-identical and use
// the mapping in place; files that differ from a valid one in exactly one way
// (written with ds_st_writer from the valid file's tensors and metadata), each
// of which must fail with the right code and a message naming the culprit; and
// every constraint of ds_model_cfg_from_json. Model numerics are tested elsewhere.
#include "core/error.h"
#include "core/safetensors.h"
#include "model-fixtures.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

// ---- helpers

static const char *const k_texts[] = {
    "Invoice number 12345 dated 2024-03-01, total amount due 1,234.56 EUR",
    "Invoice from ACME GmbH to Example Ltd: total 99.00, amount due on receipt",
    "Receipt: total amount 42.00 paid by card; thank you for your purchase",
    "Purchase order 778: amount 3 items, total due within 30 days of invoice",
};
static const char *k_probe = "Invoice 998877: total amount due 1,000.25 EUR (ACME GmbH)";

// A tiny model with a trained tokenizer and a random router bias.
static int make_model(ds_model **out, int tok_vocab, uint64_t seed) {
    ds_tokenizer *tok;
    int rc = ds_tokenizer_train(k_texts, sizeof k_texts / sizeof *k_texts, tok_vocab, &tok);
    if (rc) return rc;
    ds_model_cfg cfg;
    ds_fixture_tiny_cfg(&cfg, 0);
    cfg.vocab = ds_tokenizer_vocab_size(tok);
    rc = ds_model_init(&cfg, tok, seed, out);
    if (rc) {
        ds_tokenizer_free(tok);
        return rc;
    }
    ds_test_randn((*out)->router_bias, (int64_t)cfg.n_layers * cfg.n_experts, seed + 1, 0.05f);
    return 0;
}

static char *cfg_dump(const ds_model_cfg *c) {
    json_t *j = ds_model_cfg_to_json(c);
    char *s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

static void tmp_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/model-file-%s.safetensors", ds_test_tmpdir(), name);
}

// One way a copy of a valid model file differs from it. NULL / 0 fields mean "as is".
typedef struct {
    const char *skip;       // tensor left out
    const char *reshape;    // tensor written with shape[] instead
    int ndim;               // of shape
    int64_t shape[4];       //
    const char *f16;        // tensor written as F16
    const char *extra;      // tensor added
    const char *drop_meta;  // metadata key left out
    const char *set_meta;   // metadata key set (added or replaced) to meta_value
    const char *meta_value; //
    int reverse;            // tensors in reverse order (another tool's layout)
} variant;

static int write_variant(const char *src, const char *dst, const variant *v) {
    ds_safetensors *st;
    int rc = ds_st_open(src, &st);
    if (rc) return rc;
    ds_st_writer *w = ds_st_writer_new();
    uint16_t *half = NULL;
    static const float extra_data[3] = {1, 2, 3};
    int n = ds_st_count(st);
    for (int k = 0; k < n && !rc; k++) {
        const ds_st_tensor *t = ds_st_get(st, v->reverse ? n - 1 - k : k);
        if (v->skip && strcmp(t->name, v->skip) == 0) continue;
        if (v->reshape && strcmp(t->name, v->reshape) == 0) {
            rc = ds_st_writer_add(w, t->name, t->view.dtype, v->ndim, v->shape, t->view.data);
        } else if (v->f16 && strcmp(t->name, v->f16) == 0) {
            int64_t numel = ds_tensor_numel(&t->view);
            half = malloc(sizeof(uint16_t) * (size_t)numel);
            const float *x = t->view.data;
            for (int64_t i = 0; i < numel; i++) half[i] = ds_f32_to_f16(x[i]);
            rc = ds_st_writer_add(w, t->name, DS_DTYPE_F16, t->view.ndim, t->view.shape, half);
        } else {
            rc = ds_st_writer_add(w, t->name, t->view.dtype, t->view.ndim, t->view.shape,
                                  t->view.data);
        }
    }
    if (!rc && v->extra) {
        int64_t shape[1] = {3};
        rc = ds_st_writer_add(w, v->extra, DS_DTYPE_F32, 1, shape, extra_data);
    }
    for (int i = 0; i < ds_st_metadata_count(st) && !rc; i++) {
        const char *key = ds_st_metadata_key(st, i);
        if (v->drop_meta && strcmp(key, v->drop_meta) == 0) continue;
        rc = ds_st_writer_set_metadata(w, key, ds_st_metadata_get(st, key));
    }
    if (!rc && v->set_meta) rc = ds_st_writer_set_metadata(w, v->set_meta, v->meta_value);
    if (!rc) rc = ds_st_writer_write(w, dst);
    ds_st_writer_free(w);
    free(half);
    ds_st_close(st);
    return rc;
}

// Loading path must fail with code, and the message must contain needle (and needle2).
static int expect_load_error(const char *what, const char *path, int code, const char *needle,
                             const char *needle2) {
    ds_error_clear();
    ds_model *m = NULL;
    int rc = ds_model_load(path, &m);
    printf("  %-28s -> %s: %s\n", what, ds_err_name(rc), ds_errmsg());
    if (rc == 0) ds_model_free(m);
    DS_CHECK_INT_EQ(rc, code);
    DS_CHECK(m == NULL);
    DS_CHECK(strstr(ds_errmsg(), needle) != NULL);
    if (needle2) DS_CHECK(strstr(ds_errmsg(), needle2) != NULL);
    return 0;
}

// ---- round trip

DS_TEST(model_file_round_trip) {
    ds_model *m, *l = NULL, *r = NULL;
    DS_CHECK_INT_EQ(make_model(&m, 300, 11), 0);
    char path[512], rpath[512];
    tmp_path(path, sizeof path, "rt");
    tmp_path(rpath, sizeof rpath, "reversed");
    DS_CHECK_INT_EQ(ds_model_save(m, path), 0);
    DS_CHECK_INT_EQ(ds_model_load(path, &l), 0);
    printf("  %d tensors, %lld parameters, vocab %d\n", m->table.n, (long long)m->table.total,
           m->cfg.vocab);

    // The same table, the same bits.
    DS_CHECK_INT_EQ(l->table.n, m->table.n);
    DS_CHECK_INT_EQ(l->table.total, m->table.total);
    for (int i = 0; i < m->table.n; i++) {
        DS_CHECK(strcmp(l->table.items[i].name, m->table.items[i].name) == 0);
        DS_CHECK_INT_EQ(l->table.items[i].offset, m->table.items[i].offset);
    }
    DS_CHECK(memcmp(l->params, m->params, sizeof(float) * m->table.total) == 0);
    int64_t nb = (int64_t)m->cfg.n_layers * m->cfg.n_experts;
    DS_CHECK(memcmp(l->router_bias, m->router_bias, sizeof(float) * nb) == 0);
    int nonzero_bias = 0;
    for (int64_t i = 0; i < nb; i++) nonzero_bias += l->router_bias[i] != 0.0f;
    DS_CHECK(nonzero_bias > 0);
    printf("  parameters and router bias (%d nonzero of %lld) bit-identical\n", nonzero_bias,
           (long long)nb);

    // The same config, every field.
    char *cs = cfg_dump(&m->cfg), *ls = cfg_dump(&l->cfg);
    DS_CHECK(cs && ls);
    int same_cfg = strcmp(cs, ls) == 0;
    if (!same_cfg) fprintf(stderr, "  config saved %s\n  config loaded %s\n", cs, ls);
    free(cs);
    free(ls);
    DS_CHECK(same_cfg);
    DS_CHECK(memcmp(&l->cfg, &m->cfg, sizeof m->cfg) == 0);

    // The same tokenizer.
    DS_CHECK(l->tok != NULL);
    DS_CHECK_INT_EQ(ds_tokenizer_vocab_size(l->tok), ds_tokenizer_vocab_size(m->tok));
    int32_t a[256], b[256];
    int na = ds_tokenizer_encode(m->tok, k_probe, strlen(k_probe), a, 256);
    int nb2 = ds_tokenizer_encode(l->tok, k_probe, strlen(k_probe), b, 256);
    DS_CHECK(na > 0);
    DS_CHECK_INT_EQ(nb2, na);
    DS_CHECK(memcmp(a, b, sizeof(int32_t) * na) == 0);
    int merged = 0;
    for (int i = 0; i < na; i++) merged += a[i] >= DS_TOK_BYTE0 + 256;
    printf("  tokenizer: probe (%zu bytes) -> %d tokens (%d merges used), identical\n",
           strlen(k_probe), na, merged);
    DS_CHECK(merged > 0);

    // In place: the parameters are the mapping, the weight pointers carve it.
    DS_CHECK_INT_EQ(l->params_owned, 0);
    DS_CHECK(l->file != NULL);
    const ds_param *emb = ds_param_find(&l->table, "lm.tok_emb");
    DS_CHECK(emb != NULL);
    DS_CHECK(ds_st_find(l->file, "lm.tok_emb")->view.data == (void *)(l->params + emb->offset));
    DS_CHECK(l->w.lm.tok_emb == l->params + emb->offset);
    const ds_param *first = &l->table.items[0];
    DS_CHECK(ds_st_find(l->file, first->name)->view.data == (void *)l->params);

    // Writable: an owned copy with the same values, pointers moved to it.
    float *mapped = l->params;
    DS_CHECK_INT_EQ(ds_model_make_writable(l), 0);
    DS_CHECK_INT_EQ(l->params_owned, 1);
    DS_CHECK(l->params != mapped);
    DS_CHECK(memcmp(l->params, m->params, sizeof(float) * m->table.total) == 0);
    DS_CHECK(l->w.lm.tok_emb == l->params + emb->offset);
    DS_CHECK(l->w.lm.layers[1].router ==
             l->params + ds_param_find(&l->table, "lm.layers.1.moe.router.weight")->offset);
    l->params[0] += 1.0f; // owned memory: writing must be fine (the mapping is read-only)
    DS_CHECK_INT_EQ(ds_model_make_writable(l), 0); // already owned: no-op
    printf("  loaded in place from the mapping; make_writable copies %lld floats\n",
           (long long)l->table.total);

    // Another tool's tensor order: not in place, copied, same values.
    variant rev = {.reverse = 1};
    DS_CHECK_INT_EQ(write_variant(path, rpath, &rev), 0);
    DS_CHECK_INT_EQ(ds_model_load(rpath, &r), 0);
    DS_CHECK_INT_EQ(r->params_owned, 1);
    DS_CHECK(memcmp(r->params, m->params, sizeof(float) * m->table.total) == 0);
    DS_CHECK(memcmp(r->router_bias, m->router_bias, sizeof(float) * nb) == 0);
    DS_CHECK(r->w.lm.tok_emb == r->params + emb->offset);
    printf("  reversed tensor order: copied (params_owned 1), values identical\n");

    ds_model_free(r);
    ds_model_free(l);
    ds_model_free(m);
    remove(path);
    remove(rpath);
    return 0;
}

// ---- errors: a valid file changed in one way

DS_TEST(model_file_errors) {
    ds_model *m;
    DS_CHECK_INT_EQ(make_model(&m, 300, 5), 0);
    char good[512], bad[512];
    tmp_path(good, sizeof good, "good");
    tmp_path(bad, sizeof bad, "bad");
    DS_CHECK_INT_EQ(ds_model_save(m, good), 0);
    int fails = 0;

    // Baseline: the copy with no change loads.
    variant same = {0};
    DS_CHECK_INT_EQ(write_variant(good, bad, &same), 0);
    ds_model *ok;
    DS_CHECK_INT_EQ(ds_model_load(bad, &ok), 0);
    DS_CHECK(memcmp(ok->params, m->params, sizeof(float) * m->table.total) == 0);
    ds_model_free(ok);

    const char *router = "lm.layers.1.moe.router.weight"; // (E, C) = (8, 16)
    const char *w13 = "lm.layers.2.moe.experts.w13.weight";
    variant shape_t = {.reshape = router, .ndim = 2, .shape = {16, 8}};
    DS_CHECK_INT_EQ(write_variant(good, bad, &shape_t), 0);
    fails += expect_load_error("shape transposed", bad, DS_E_SHAPE, router, "(16, 8)");
    variant shape_r = {.reshape = w13, .ndim = 2, .shape = {8, 16}};
    DS_CHECK_INT_EQ(write_variant(good, bad, &shape_r), 0);
    fails += expect_load_error("shape rank", bad, DS_E_SHAPE, w13, NULL);

    variant missing = {.skip = "lm.layers.2.ffn_norm.weight"};
    DS_CHECK_INT_EQ(write_variant(good, bad, &missing), 0);
    fails += expect_load_error("tensor missing", bad, DS_E_FORMAT, "lm.layers.2.ffn_norm.weight",
                               "missing");
    variant nobias = {.skip = "lm.router_bias"};
    DS_CHECK_INT_EQ(write_variant(good, bad, &nobias), 0);
    fails += expect_load_error("router bias missing", bad, DS_E_FORMAT, "lm.router_bias", NULL);

    variant extra = {.extra = "lm.layers.9.moe.router.weight"};
    DS_CHECK_INT_EQ(write_variant(good, bad, &extra), 0);
    fails += expect_load_error("extra tensor", bad, DS_E_FORMAT, "lm.layers.9.moe.router.weight",
                               "not part of this config");

    variant half = {.f16 = "lm.head.weight"};
    DS_CHECK_INT_EQ(write_variant(good, bad, &half), 0);
    fails += expect_load_error("F16 tensor", bad, DS_E_DTYPE, "lm.head.weight", "F16");

    variant noconfig = {.drop_meta = "config"};
    DS_CHECK_INT_EQ(write_variant(good, bad, &noconfig), 0);
    fails += expect_load_error("no config metadata", bad, DS_E_FORMAT, "config", "docseek model");
    variant noformat = {.drop_meta = "format"};
    DS_CHECK_INT_EQ(write_variant(good, bad, &noformat), 0);
    fails +=
        expect_load_error("no format metadata", bad, DS_E_FORMAT, "format=docseek-model-1", NULL);
    variant otherformat = {.set_meta = "format", .meta_value = "docseek-model-0"};
    DS_CHECK_INT_EQ(write_variant(good, bad, &otherformat), 0);
    fails += expect_load_error("other format", bad, DS_E_FORMAT, "format=docseek-model-1", NULL);

    // Config with an unknown key (a typo of n_layers), otherwise the saved config.
    json_t *cj = ds_model_cfg_to_json(&m->cfg);
    json_object_set_new(cj, "n_layer", json_integer(3));
    char *cs = json_dumps(cj, JSON_COMPACT);
    json_decref(cj);
    variant unknown = {.set_meta = "config", .meta_value = cs};
    DS_CHECK_INT_EQ(write_variant(good, bad, &unknown), 0);
    free(cs);
    fails += expect_load_error("unknown config key", bad, DS_E_INVAL, "'n_layer'", NULL);
    variant badjson = {.set_meta = "config", .meta_value = "{\"dim\": 16,"};
    DS_CHECK_INT_EQ(write_variant(good, bad, &badjson), 0);
    fails += expect_load_error("config not JSON", bad, DS_E_FORMAT, "config metadata", NULL);

    // A tokenizer of another size than the config's vocab.
    ds_tokenizer *small;
    DS_CHECK_INT_EQ(ds_tokenizer_train(k_texts, 2, 280, &small), 0);
    DS_CHECK(ds_tokenizer_vocab_size(small) != m->cfg.vocab);
    json_t *tj = ds_tokenizer_to_json(small);
    char *ts = json_dumps(tj, JSON_COMPACT);
    json_decref(tj);
    char want[64];
    snprintf(want, sizeof want, "has %d tokens", ds_tokenizer_vocab_size(small));
    ds_tokenizer_free(small);
    variant tok = {.set_meta = "tokenizer", .meta_value = ts};
    DS_CHECK_INT_EQ(write_variant(good, bad, &tok), 0);
    free(ts);
    fails += expect_load_error("tokenizer size", bad, DS_E_FORMAT, "vocab", want);

    // Not a file at all.
    char nofile[512];
    tmp_path(nofile, sizeof nofile, "does-not-exist");
    remove(nofile);
    fails += expect_load_error("no such file", nofile, DS_E_NOENT, "does-not-exist", NULL);

    ds_model_free(m);
    remove(good);
    remove(bad);
    return fails;
}

// ---- config checks

static int expect_cfg_error(const char *json, const char *needle, const char *needle2) {
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    DS_CHECK(j != NULL);
    ds_model_cfg cfg;
    ds_error_clear();
    int rc = ds_model_cfg_from_json(j, &cfg);
    json_decref(j);
    printf("  %-44s -> %s: %s\n", json, ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_INVAL);
    DS_CHECK(strstr(ds_errmsg(), needle) != NULL);
    if (needle2) DS_CHECK(strstr(ds_errmsg(), needle2) != NULL);
    return 0;
}

DS_TEST(model_config_checks) {
    int fails = 0;
    fails += expect_cfg_error("{\"head_dim\": 5}", "head_dim", "even");
    fails += expect_cfg_error("{\"n_groups\": 3}", "n_groups", "n_experts");
    // defaults: 16 experts in 4 groups, 2 groups kept -> 8 candidates
    fails += expect_cfg_error("{\"topk\": 9}", "topk", "kept groups");
    fails += expect_cfg_error("{\"topk_groups\": 5}", "topk_groups", NULL);
    fails += expect_cfg_error("{\"n_heads\": 6, \"n_kv_heads\": 4}", "n_heads", "n_kv_heads");
    fails += expect_cfg_error("{\"dim\": \"256\"}", "dim", "integer");
    fails += expect_cfg_error("{\"dim\": 256.0}", "dim", "integer");
    fails += expect_cfg_error("{\"bias_rate\": \"fast\"}", "bias_rate", "number");
    fails += expect_cfg_error("{\"vocab\": 100}", "vocab", "outside");
    fails += expect_cfg_error("{\"n_experts\": 2000}", "n_experts", "outside");
    fails += expect_cfg_error("{\"norm_eps\": 0.5}", "norm_eps", "outside");
    fails += expect_cfg_error("{\"dim\": 4294967296}", "dim", "out of range");
    fails += expect_cfg_error("{\"n_dense_layers\": 5}", "n_dense_layers", "n_layers");
    fails += expect_cfg_error("{\"n_layerz\": 4}", "n_layerz", "unknown");
    fails += expect_cfg_error("{\"patch\": 24}", "patch", "img_size");
    fails += expect_cfg_error("[1, 2]", "object", NULL);

    // Defaults: {} reads back as the default config and passes the checks.
    ds_model_cfg def, got;
    ds_model_cfg_default(&def);
    DS_CHECK_INT_EQ(ds_model_cfg_check(&def), 0);
    json_t *empty = json_object();
    DS_CHECK_INT_EQ(ds_model_cfg_from_json(empty, &got), 0);
    json_decref(empty);
    DS_CHECK(memcmp(&def, &got, sizeof def) == 0);
    // Every key written by to_json reads back to the same config (the tiny one too).
    ds_model_cfg tiny, back;
    ds_fixture_tiny_cfg(&tiny, 7);
    json_t *tj = ds_model_cfg_to_json(&tiny);
    DS_CHECK_INT_EQ(ds_model_cfg_from_json(tj, &back), 0);
    json_decref(tj);
    DS_CHECK(memcmp(&tiny, &back, sizeof tiny) == 0);
    printf("  defaults and to_json -> from_json round trip: ok\n");
    return fails;
}
