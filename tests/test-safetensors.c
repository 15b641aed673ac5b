// test-safetensors.c: round trip, the public layout rules checked byte by
// byte, and each kind of corrupt file rejected with its error code and a
// message that says what is wrong. Fixtures are written into the test tmpdir.
#include "tests/test.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/safetensors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

// ---- helpers

static char *fixture_path(const char *name) {
    static char path[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", ds_test_tmpdir(), name);
    return path[k];
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

static uint8_t *read_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return buf;
}

// A file made of an explicit header and `data_len` data bytes (all 0x11).
static size_t craft(uint8_t *out, size_t cap, const char *header, size_t data_len) {
    size_t hlen = strlen(header);
    DS_ASSERT(8 + hlen + data_len <= cap);
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(out + 8, header, hlen);
    memset(out + 8 + hlen, 0x11, data_len);
    return 8 + hlen + data_len;
}

// Parses crafted bytes and checks the error code and that the message contains `needle`.
static int expect_parse_error(const char *what, const uint8_t *buf, size_t n, int want,
                              const char *needle) {
    ds_safetensors *st = NULL;
    int rc = ds_st_parse(buf, n, &st);
    printf("  %-28s -> %s: %s\n", what, ds_err_name(rc), ds_errmsg());
    if (rc != want || st != NULL || !strstr(ds_errmsg(), needle)) {
        fprintf(stderr, "  %s: want %s with \"%s\", got %s \"%s\"\n", what, ds_err_name(want),
                needle, ds_err_name(rc), ds_errmsg());
        ds_st_close(st);
        return 1;
    }
    return 0;
}

// Deterministic values by formula, shared with tests/py/check_safetensors.py.
static void fill_fixture(float *f32, uint16_t *f16, uint16_t *bf16, int8_t *i8, int32_t *i32) {
    for (int i = 0; i < 24; i++) f32[i] = (float)i * 0.5f - 3.0f;
    for (int i = 0; i < 6; i++) f16[i] = ds_f32_to_f16((float)i * 0.25f - 1.0f);
    for (int i = 0; i < 10; i++) bf16[i] = ds_f32_to_bf16((float)i * 1.5f);
    for (int i = 0; i < 5; i++) i8[i] = (int8_t)(i * 50 - 100);
    for (int i = 0; i < 7; i++) i32[i] = i * 7 - 20;
}

static int write_fixture(const char *path) {
    static float f32[24];
    static uint16_t f16[6], bf16[10];
    static int8_t i8[5];
    static int32_t i32[7];
    static float scalar = 42.0f;
    fill_fixture(f32, f16, bf16, i8, i32);
    ds_st_writer *w = ds_st_writer_new();
    if (!w) return DS_E_NOMEM;
    int rc = 0;
    // Insertion order mixes sizes on purpose: the writer must still align every tensor.
    rc = rc ? rc : ds_st_writer_add(w, "i8.odd", DS_DTYPE_I8, 1, (int64_t[]){5}, i8);
    rc = rc ? rc : ds_st_writer_add(w, "f16.v", DS_DTYPE_F16, 2, (int64_t[]){2, 3}, f16);
    rc = rc ? rc : ds_st_writer_add(w, "f32.m", DS_DTYPE_F32, 3, (int64_t[]){2, 3, 4}, f32);
    rc = rc ? rc : ds_st_writer_add(w, "bf16.v", DS_DTYPE_BF16, 1, (int64_t[]){10}, bf16);
    rc = rc ? rc : ds_st_writer_add(w, "i32.v", DS_DTYPE_I32, 1, (int64_t[]){7}, i32);
    rc = rc ? rc : ds_st_writer_add(w, "scalar", DS_DTYPE_F32, 0, NULL, &scalar);
    rc = rc ? rc : ds_st_writer_add(w, "empty", DS_DTYPE_F32, 2, (int64_t[]){0, 3}, f32);
    rc = rc ? rc : ds_st_writer_set_metadata(w, "config", "{\"width\": 256, \"name\": \"tiny\"}");
    rc = rc ? rc : ds_st_writer_set_metadata(w, "format", "pt");
    rc = rc ? rc : ds_st_writer_write(w, path);
    ds_st_writer_free(w);
    return rc;
}

// ---- tests

DS_TEST(safetensors_roundtrip) {
    const char *path = fixture_path("roundtrip.safetensors");
    int rc = write_fixture(path);
    if (rc) fprintf(stderr, "  write: %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    ds_safetensors *st;
    rc = ds_st_open(path, &st);
    if (rc) fprintf(stderr, "  open: %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    DS_CHECK_INT_EQ(ds_st_count(st), 7);
    float f32[24];
    uint16_t f16[6], bf16[10];
    int8_t i8[5];
    int32_t i32[7];
    fill_fixture(f32, f16, bf16, i8, i32);
    struct {
        const char *name;
        ds_dtype dt;
        int ndim;
        const void *want;
        size_t bytes;
    } cases[] = {{"f32.m", DS_DTYPE_F32, 3, f32, sizeof f32},
                 {"f16.v", DS_DTYPE_F16, 2, f16, sizeof f16},
                 {"bf16.v", DS_DTYPE_BF16, 1, bf16, sizeof bf16},
                 {"i8.odd", DS_DTYPE_I8, 1, i8, sizeof i8},
                 {"i32.v", DS_DTYPE_I32, 1, i32, sizeof i32}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const ds_st_tensor *t = ds_st_find(st, cases[c].name);
        DS_CHECK(t != NULL);
        char shape[64];
        printf("  %-8s %-5s %-12s aligned=%d bytes=%llu\n", t->name, ds_dtype_name(t->view.dtype),
               ds_tensor_shape_str(&t->view, shape, sizeof shape), t->aligned,
               (unsigned long long)(t->end - t->begin));
        DS_CHECK_INT_EQ(t->view.dtype, cases[c].dt);
        DS_CHECK_INT_EQ(t->view.ndim, cases[c].ndim);
        DS_CHECK_INT_EQ(t->end - t->begin, cases[c].bytes);
        DS_CHECK(t->aligned);
        DS_CHECK(memcmp(t->view.data, cases[c].want, cases[c].bytes) == 0);
    }
    const ds_st_tensor *s = ds_st_find(st, "scalar");
    DS_CHECK(s && s->view.ndim == 0 && ds_tensor_numel(&s->view) == 1);
    DS_CHECK(*(const float *)s->view.data == 42.0f);
    const ds_st_tensor *e = ds_st_find(st, "empty");
    DS_CHECK(e && ds_tensor_numel(&e->view) == 0 && e->end == e->begin);
    DS_CHECK(ds_st_find(st, "missing") == NULL);
    DS_CHECK_INT_EQ(ds_st_metadata_count(st), 2);
    DS_CHECK(strcmp(ds_st_metadata_get(st, "format"), "pt") == 0);
    json_t *cfg = json_loads(ds_st_metadata_get(st, "config"), 0, NULL);
    DS_CHECK(cfg && json_integer_value(json_object_get(cfg, "width")) == 256);
    json_decref(cfg);
    ds_st_close(st);
    return 0;
}

// The file as the public format defines it, read without our reader.
DS_TEST(safetensors_layout_rules) {
    const char *path = fixture_path("layout.safetensors");
    DS_CHECK_INT_EQ(write_fixture(path), 0);
    size_t n;
    uint8_t *buf = read_bytes(path, &n);
    DS_CHECK(buf != NULL);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | buf[i];
    printf("  file %zu bytes, header %llu bytes\n", n, (unsigned long long)hlen);
    int bad = 0;
    bad |= hlen % 8 != 0 || 8 + hlen > n;
    json_error_t jerr;
    json_t *root = bad ? NULL : json_loadb((const char *)buf + 8, hlen, 0, &jerr);
    bad |= root == NULL || !json_is_object(root);
    uint64_t data_size = n - 8 - hlen, covered = 0;
    const char *key;
    json_t *v;
    if (root) {
        json_object_foreach(root, key, v) {
            if (strcmp(key, "__metadata__") == 0) continue;
            json_t *offs = json_object_get(v, "data_offsets");
            uint64_t b = (uint64_t)json_integer_value(json_array_get(offs, 0));
            uint64_t e = (uint64_t)json_integer_value(json_array_get(offs, 1));
            const char *dt = json_string_value(json_object_get(v, "dtype"));
            uint64_t esize = strcmp(dt, "F32") == 0 || strcmp(dt, "I32") == 0 ? 4
                             : strcmp(dt, "I8") == 0                          ? 1
                                                                              : 2;
            bad |= e < b || e > data_size || (8 + hlen + b) % esize != 0;
            covered += e - b;
        }
    }
    bad |= covered != data_size;
    printf("  data section %llu bytes, covered by tensors %llu\n", (unsigned long long)data_size,
           (unsigned long long)covered);
    json_decref(root);
    free(buf);
    DS_CHECK(!bad);
    return 0;
}

DS_TEST(safetensors_rejects_corrupt) {
    uint8_t buf[4096];
    int fails = 0;
    const char *ok_header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
    size_t n = craft(buf, sizeof buf, ok_header, 16);
    ds_safetensors *st;
    DS_CHECK_INT_EQ(ds_st_parse(buf, n, &st), 0);
    ds_st_close(st);

    fails += expect_parse_error("zero bytes", buf, 0, DS_E_FORMAT, "too short");
    fails += expect_parse_error("truncated length", buf, 5, DS_E_FORMAT, "too short");
    fails += expect_parse_error("truncated data", buf, n - 1, DS_E_FORMAT, "truncated");
    fails += expect_parse_error("truncated header", buf, 30, DS_E_FORMAT, "truncated");
    uint8_t big[16];
    memcpy(big, buf, 16);
    big[5] = 0x01; // 2^40-byte header
    fails += expect_parse_error("oversized header", big, sizeof big, DS_E_FORMAT, "limit");
    memcpy(big, buf, 16);
    big[0] = 0xff; // header longer than the file, under the cap
    big[1] = 0xff;
    fails += expect_parse_error("header beyond file", big, sizeof big, DS_E_FORMAT, "larger than");
    n = craft(buf, sizeof buf,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[250],\"data_offsets\":[0,1000]}}", 16);
    fails += expect_parse_error("offset out of range", buf, n, DS_E_FORMAT, "run past");
    n = craft(buf, sizeof buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}",
              16);
    fails += expect_parse_error("bytes vs shape", buf, n, DS_E_FORMAT, "expected");
    n = craft(buf, sizeof buf,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
              12);
    fails += expect_parse_error("overlap", buf, n, DS_E_FORMAT, "overlap");
    n = craft(buf, sizeof buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
              12);
    fails += expect_parse_error("trailing bytes", buf, n, DS_E_FORMAT, "trailing");
    n = craft(buf, sizeof buf, "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}",
              16);
    fails += expect_parse_error("F64 dtype", buf, n, DS_E_UNSUPPORTED, "F64");
    n = craft(buf, sizeof buf, "{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,16]}}",
              16);
    fails += expect_parse_error("unknown dtype", buf, n, DS_E_FORMAT, "unknown dtype");
    n = craft(buf, sizeof buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
              8);
    fails += expect_parse_error("negative dim", buf, n, DS_E_FORMAT, "shape[0]");
    n = craft(buf, sizeof buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
              8);
    fails += expect_parse_error("reversed offsets", buf, n, DS_E_FORMAT, "begin <= end");
    n = craft(buf, sizeof buf,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
              "\"data_offsets\":[0,8]}}",
              8);
    fails += expect_parse_error("shape overflow", buf, n, DS_E_FORMAT, "overflow");
    n = craft(buf, sizeof buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 8);
    fails += expect_parse_error("bad JSON", buf, n, DS_E_FORMAT, "JSON");
    n = craft(buf, sizeof buf, "[1,2,3]", 0);
    fails += expect_parse_error("not an object", buf, n, DS_E_FORMAT, "JSON object");
    n = craft(buf, sizeof buf,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
              8);
    fails += expect_parse_error("duplicate name", buf, n, DS_E_FORMAT, "duplicate");
    n = craft(buf, sizeof buf, "{\"__metadata__\":{\"k\":3}}", 0);
    fails += expect_parse_error("metadata not string", buf, n, DS_E_FORMAT, "not a string");
    n = craft(buf, sizeof buf,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4);
    fails += expect_parse_error("too many dims", buf, n, DS_E_UNSUPPORTED, "dimensions");
    return fails;
}

DS_TEST(safetensors_open_errors) {
    ds_safetensors *st;
    int rc = ds_st_open("/nonexistent/dir/model.safetensors", &st);
    printf("  missing file -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_NOENT);
    const char *empty = fixture_path("empty.safetensors");
    DS_CHECK_INT_EQ(write_bytes(empty, "", 0), 0);
    rc = ds_st_open(empty, &st);
    printf("  empty file -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_FORMAT);
    DS_CHECK(strstr(ds_errmsg(), "empty.safetensors") != NULL); // the message names the file
    // A real file cut short on disk.
    const char *path = fixture_path("cut.safetensors");
    DS_CHECK_INT_EQ(write_fixture(path), 0);
    size_t n;
    uint8_t *buf = read_bytes(path, &n);
    DS_CHECK(buf != NULL);
    DS_CHECK_INT_EQ(write_bytes(path, buf, n - 3), 0);
    free(buf);
    rc = ds_st_open(path, &st);
    printf("  truncated file -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_FORMAT);
    DS_CHECK(strstr(ds_errmsg(), "cut.safetensors") && strstr(ds_errmsg(), "truncated"));
    return 0;
}

DS_TEST(safetensors_writer_errors) {
    ds_st_writer *w = ds_st_writer_new();
    DS_CHECK(w != NULL);
    float x[2] = {1, 2};
    DS_CHECK_INT_EQ(ds_st_writer_add(w, "x", DS_DTYPE_F32, 1, (int64_t[]){2}, x), 0);
    DS_CHECK_INT_EQ(ds_st_writer_add(w, "x", DS_DTYPE_F32, 1, (int64_t[]){2}, x), DS_E_INVAL);
    DS_CHECK_INT_EQ(ds_st_writer_add(w, "__metadata__", DS_DTYPE_F32, 1, (int64_t[]){2}, x),
                    DS_E_INVAL);
    DS_CHECK_INT_EQ(ds_st_writer_set_metadata(w, "bad", "\xff\xfe"), DS_E_INVAL);
    int rc = ds_st_writer_write(w, "/nonexistent/dir/out.safetensors");
    printf("  unwritable path -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_IO);
    ds_st_writer_free(w);
    return 0;
}

// Seeds in tests/corpus/safetensors plus deterministic mutations of a valid
// file through the fuzz entry: no crash, no leak, no out-of-range view (ASan).
DS_TEST(safetensors_fuzz_smoke) {
    const char *path = fixture_path("fuzz-seed.safetensors");
    DS_CHECK_INT_EQ(write_fixture(path), 0);
    size_t n;
    uint8_t *seed = read_bytes(path, &n);
    DS_CHECK(seed != NULL);
    uint8_t *mut = malloc(n);
    DS_CHECK(mut != NULL);
    ds_rng r;
    ds_rng_seed(&r, 7);
    int accepted = 0, rejected = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = ds_test_mutate(&r, mut, seed, n);
        if (ds_fuzz_safetensors(mut, len) == 0)
            accepted++;
        else
            rejected++;
    }
    free(mut);
    free(seed);
    char corpus[1024];
    snprintf(corpus, sizeof corpus, "%s/tests/corpus/safetensors/manifest.txt", DS_SOURCE_DIR);
    FILE *m = fopen(corpus, "r");
    DS_CHECK(m != NULL);
    char line[512];
    int seeds = 0;
    while (fgets(line, sizeof line, m)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/tests/corpus/safetensors/%s", DS_SOURCE_DIR, line);
        uint8_t *b = read_bytes(file, &n);
        DS_CHECK(b != NULL);
        ds_fuzz_safetensors(b, n);
        free(b);
        seeds++;
    }
    fclose(m);
    printf("  3000 mutations: %d accepted, %d rejected; %d corpus seeds parsed\n", accepted,
           rejected, seeds);
    DS_CHECK(rejected > 0 && seeds > 0);
    return 0;
}

// Writes the fixture where tests/py/check_safetensors.py asks (DS_ST_FIXTURE_OUT),
// so the public Python reader can check docseek's output.
DS_TEST(safetensors_fixture) {
    const char *out = getenv("DS_ST_FIXTURE_OUT");
    const char *path = out ? out : fixture_path("fixture.safetensors");
    int rc = write_fixture(path);
    printf("  wrote %s\n", path);
    DS_CHECK_INT_EQ(rc, 0);
    return 0;
}
