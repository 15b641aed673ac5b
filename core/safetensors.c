// safetensors.c: validation first, then views. The checks follow the
// reference implementation's rules (safetensors/src/tensor.rs, `validate`):
// header length within the file and the 100 MB cap, a JSON object, known
// dtypes, data_offsets [begin, end] with end - begin == numel * dtype size,
// tensors covering the data section contiguously without overlap, and
// __metadata__ a map of strings. Arithmetic is checked for overflow.
#include "core/safetensors.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct ds_safetensors {
    void *map; // NULL when parsing a caller's buffer
    size_t map_size;
    int n_tensors;
    ds_st_tensor *tensors;
    int n_meta;
    char **meta_keys;
    char **meta_values;
};

// ---- reading

static const char *known_foreign_dtypes[] = {"BOOL", "U8",  "I16", "U16",     "U32",
                                             "I64",  "U64", "F64", "F8_E4M3", "F8_E5M2"};

static int parse_dtype(const char *tensor, const char *name, ds_dtype *out) {
    if (ds_dtype_parse(name, out) == 0) return 0;
    for (size_t i = 0; i < sizeof known_foreign_dtypes / sizeof *known_foreign_dtypes; i++)
        if (strcmp(name, known_foreign_dtypes[i]) == 0)
            return ds_error(DS_E_UNSUPPORTED,
                            "tensor '%s': dtype %s is valid safetensors but docseek reads only "
                            "F32, F16, BF16, I8, I32",
                            tensor, name);
    return ds_error(DS_E_FORMAT, "tensor '%s': unknown dtype '%s'", tensor, name);
}

static int json_to_u64(const json_t *v, uint64_t *out) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int cmp_begin(const void *a, const void *b) {
    const ds_st_tensor *x = a, *y = b;
    return x->begin < y->begin   ? -1
           : x->begin > y->begin ? 1
                                 : (x->end > y->end) - (x->end < y->end);
}

static int parse_tensor(ds_safetensors *st, const char *name, json_t *info, const uint8_t *data,
                        uint64_t data_size) {
    if (!json_is_object(info))
        return ds_error(DS_E_FORMAT, "tensor '%s': header entry is not an object", name);
    json_t *jdtype = json_object_get(info, "dtype");
    json_t *jshape = json_object_get(info, "shape");
    json_t *joffs = json_object_get(info, "data_offsets");
    if (!json_is_string(jdtype) || !json_is_array(jshape) || !json_is_array(joffs) ||
        json_array_size(joffs) != 2)
        return ds_error(DS_E_FORMAT,
                        "tensor '%s': needs \"dtype\" (string), \"shape\" (array) and "
                        "\"data_offsets\" ([begin, end])",
                        name);
    ds_st_tensor *t = &st->tensors[st->n_tensors];
    ds_dtype dt;
    int rc = parse_dtype(name, json_string_value(jdtype), &dt);
    if (rc) return rc;
    size_t ndim = json_array_size(jshape);
    if (ndim > DS_MAX_DIMS)
        return ds_error(DS_E_UNSUPPORTED, "tensor '%s': %zu dimensions, at most %d supported", name,
                        ndim, DS_MAX_DIMS);
    int64_t shape[DS_MAX_DIMS];
    uint64_t numel = 1;
    for (size_t i = 0; i < ndim; i++) {
        uint64_t d;
        if (json_to_u64(json_array_get(jshape, i), &d) != 0)
            return ds_error(DS_E_FORMAT, "tensor '%s': shape[%zu] is not a non-negative integer",
                            name, i);
        if (d != 0 && numel > UINT64_MAX / d)
            return ds_error(DS_E_FORMAT, "tensor '%s': shape overflows", name);
        numel *= d;
        shape[i] = (int64_t)d;
    }
    uint64_t begin, end;
    if (json_to_u64(json_array_get(joffs, 0), &begin) != 0 ||
        json_to_u64(json_array_get(joffs, 1), &end) != 0 || begin > end)
        return ds_error(DS_E_FORMAT, "tensor '%s': data_offsets must be integers 0 <= begin <= end",
                        name);
    if (end > data_size)
        return ds_error(DS_E_FORMAT,
                        "tensor '%s': data_offsets [%llu, %llu] run past the data section "
                        "(%llu bytes); the file is truncated or corrupt",
                        name, (unsigned long long)begin, (unsigned long long)end,
                        (unsigned long long)data_size);
    size_t esize = ds_dtype_size(dt);
    if (numel > UINT64_MAX / esize || end - begin != numel * esize)
        return ds_error(DS_E_FORMAT,
                        "tensor '%s': %llu bytes of data for %llu elements of %s (%llu expected)",
                        name, (unsigned long long)(end - begin), (unsigned long long)numel,
                        ds_dtype_name(dt), (unsigned long long)(numel * esize));
    t->name = strdup(name);
    if (!t->name) return ds_error(DS_E_NOMEM, "out of memory reading tensor '%s'", name);
    t->view = ds_tensor_make((void *)(data + begin), dt, (int)ndim, shape);
    t->begin = begin;
    t->end = end;
    t->aligned = ((uintptr_t)(data + begin) % esize) == 0;
    st->n_tensors++;
    return 0;
}

static int parse_metadata(ds_safetensors *st, json_t *meta) {
    if (!json_is_object(meta))
        return ds_error(DS_E_FORMAT, "__metadata__ is not an object of strings");
    size_t n = json_object_size(meta);
    st->meta_keys = calloc(n ? n : 1, sizeof(char *));
    st->meta_values = calloc(n ? n : 1, sizeof(char *));
    if (!st->meta_keys || !st->meta_values) return ds_error(DS_E_NOMEM, "out of memory");
    const char *key;
    json_t *value;
    json_object_foreach(meta, key, value) {
        if (!json_is_string(value))
            return ds_error(DS_E_FORMAT, "__metadata__ entry '%s' is not a string", key);
        st->meta_keys[st->n_meta] = strdup(key);
        st->meta_values[st->n_meta] = strdup(json_string_value(value));
        st->n_meta++;
        if (!st->meta_keys[st->n_meta - 1] || !st->meta_values[st->n_meta - 1])
            return ds_error(DS_E_NOMEM, "out of memory");
    }
    return 0;
}

static int parse_into(ds_safetensors *st, const uint8_t *bytes, size_t size) {
    if (size < 8)
        return ds_error(DS_E_FORMAT, "%zu bytes: too short for a safetensors header (8 bytes)",
                        size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | bytes[i]; // little-endian on any host
    if (hlen > DS_ST_MAX_HEADER)
        return ds_error(DS_E_FORMAT, "header length %llu exceeds the %llu-byte limit",
                        (unsigned long long)hlen, DS_ST_MAX_HEADER);
    if (hlen > size - 8)
        return ds_error(DS_E_FORMAT,
                        "header length %llu is larger than the %zu bytes after it; the file is "
                        "truncated or not safetensors",
                        (unsigned long long)hlen, size - 8);
    if (hlen < 2 || bytes[8] != '{')
        return ds_error(DS_E_FORMAT, "header does not start with a JSON object");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)bytes + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ds_error(DS_E_FORMAT, "header JSON: %s at line %d column %d", jerr.text, jerr.line,
                        jerr.column);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = ds_error(DS_E_FORMAT, "header is not a JSON object");
        goto done;
    }
    const uint8_t *data = bytes + 8 + hlen;
    uint64_t data_size = size - 8 - hlen;
    st->tensors = calloc(json_object_size(root) + 1, sizeof(ds_st_tensor));
    if (!st->tensors) {
        rc = ds_error(DS_E_NOMEM, "out of memory");
        goto done;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        rc = strcmp(key, "__metadata__") == 0 ? parse_metadata(st, value)
                                              : parse_tensor(st, key, value, data, data_size);
        if (rc) goto done;
    }
    qsort(st->tensors, (size_t)st->n_tensors, sizeof(ds_st_tensor), cmp_begin);
    uint64_t expect = 0;
    for (int i = 0; i < st->n_tensors; i++) {
        const ds_st_tensor *t = &st->tensors[i];
        if (t->begin != expect) {
            rc = ds_error(DS_E_FORMAT,
                          "tensor '%s' starts at byte %llu of the data section, expected %llu: "
                          "tensors overlap or leave a gap",
                          t->name, (unsigned long long)t->begin, (unsigned long long)expect);
            goto done;
        }
        expect = t->end;
    }
    if (expect != data_size)
        rc = ds_error(DS_E_FORMAT,
                      "tensors cover %llu bytes but the data section has %llu: the file is "
                      "truncated or has trailing bytes",
                      (unsigned long long)expect, (unsigned long long)data_size);
done:
    json_decref(root);
    return rc;
}

int ds_st_parse(const void *data, size_t size, ds_safetensors **out) {
    *out = NULL;
    ds_safetensors *st = calloc(1, sizeof *st);
    if (!st) return ds_error(DS_E_NOMEM, "out of memory");
    int rc = parse_into(st, data, size);
    if (rc) {
        ds_st_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

int ds_st_open(const char *path, ds_safetensors **out) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ds_error(errno == ENOENT ? DS_E_NOENT : DS_E_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ds_error(DS_E_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        close(fd);
        return ds_error(DS_E_FORMAT, "%s: %zu bytes is too short for a safetensors file", path,
                        size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return ds_error(DS_E_IO, "%s: mmap: %s", path, strerror(errno));
    ds_safetensors *st = calloc(1, sizeof *st);
    if (!st) {
        munmap(map, size);
        return ds_error(DS_E_NOMEM, "out of memory");
    }
    st->map = map;
    st->map_size = size;
    int rc = parse_into(st, map, size);
    if (rc) {
        char detail[1024];
        snprintf(detail, sizeof detail, "%s", ds_errmsg());
        ds_st_close(st);
        return ds_error(rc, "%s: %s", path, detail);
    }
    *out = st;
    return 0;
}

void ds_st_close(ds_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n_tensors; i++) free((char *)st->tensors[i].name);
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->tensors);
    free(st->meta_keys);
    free(st->meta_values);
    if (st->map) munmap(st->map, st->map_size);
    free(st);
}

int ds_st_count(const ds_safetensors *st) {
    return st->n_tensors;
}

const ds_st_tensor *ds_st_get(const ds_safetensors *st, int i) {
    return i >= 0 && i < st->n_tensors ? &st->tensors[i] : NULL;
}

const ds_st_tensor *ds_st_find(const ds_safetensors *st, const char *name) {
    for (int i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

int ds_st_metadata_count(const ds_safetensors *st) {
    return st->n_meta;
}

const char *ds_st_metadata_key(const ds_safetensors *st, int i) {
    return i >= 0 && i < st->n_meta ? st->meta_keys[i] : NULL;
}

const char *ds_st_metadata_get(const ds_safetensors *st, const char *key) {
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}

int ds_fuzz_safetensors(const uint8_t *data, size_t size) {
    ds_safetensors *st;
    int rc = ds_st_parse(data, size, &st);
    if (rc == 0) {
        // Touch every byte the views claim, so an out-of-range view shows up under ASan.
        unsigned sum = 0;
        for (int i = 0; i < ds_st_count(st); i++) {
            const ds_st_tensor *t = ds_st_get(st, i);
            const uint8_t *p = t->view.data;
            for (uint64_t b = 0; b < t->end - t->begin; b++) sum += p[b];
        }
        (void)sum;
        ds_st_close(st);
    }
    return rc;
}

// ---- writing

typedef struct {
    char *name;
    ds_dtype dtype;
    int ndim;
    int64_t shape[DS_MAX_DIMS];
    const void *data;
    size_t bytes;
} ds_st_entry;

struct ds_st_writer {
    ds_st_entry *entries;
    int n, cap;
    json_t *meta;
};

ds_st_writer *ds_st_writer_new(void) {
    ds_st_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->meta = json_object();
    if (!w->meta) {
        free(w);
        return NULL;
    }
    return w;
}

void ds_st_writer_free(ds_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) free(w->entries[i].name);
    free(w->entries);
    json_decref(w->meta);
    free(w);
}

int ds_st_writer_add(ds_st_writer *w, const char *name, ds_dtype dtype, int ndim,
                     const int64_t *shape, const void *data) {
    if (!name[0] || strcmp(name, "__metadata__") == 0)
        return ds_error(DS_E_INVAL, "tensor name '%s' is not allowed", name);
    if (ndim < 0 || ndim > DS_MAX_DIMS || ds_dtype_size(dtype) == 0)
        return ds_error(DS_E_INVAL, "tensor '%s': bad dtype or %d dimensions", name, ndim);
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->entries[i].name, name) == 0)
            return ds_error(DS_E_INVAL, "tensor '%s' added twice", name);
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        ds_st_entry *e = realloc(w->entries, (size_t)cap * sizeof *e);
        if (!e) return ds_error(DS_E_NOMEM, "out of memory");
        w->entries = e;
        w->cap = cap;
    }
    ds_st_entry *e = &w->entries[w->n];
    memset(e, 0, sizeof *e);
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return ds_error(DS_E_INVAL, "tensor '%s': negative dimension", name);
        e->shape[i] = shape[i];
        numel *= (size_t)shape[i];
    }
    e->name = strdup(name);
    if (!e->name) return ds_error(DS_E_NOMEM, "out of memory");
    e->dtype = dtype;
    e->ndim = ndim;
    e->data = data;
    e->bytes = numel * ds_dtype_size(dtype);
    w->n++;
    return 0;
}

int ds_st_writer_set_metadata(ds_st_writer *w, const char *key, const char *value) {
    json_t *s = json_string(value);
    if (!s) return ds_error(DS_E_INVAL, "metadata '%s' is not valid UTF-8", key);
    if (json_object_set_new(w->meta, key, s) != 0)
        return ds_error(DS_E_INVAL, "metadata key '%s' is not valid UTF-8", key);
    return 0;
}

static int entry_order(const ds_st_writer *w, int *order) {
    // Stable: larger dtypes first keeps every tensor aligned to its element size.
    int k = 0;
    for (size_t sz = 4; sz >= 1; sz /= 2)
        for (int i = 0; i < w->n; i++)
            if (ds_dtype_size(w->entries[i].dtype) == sz) order[k++] = i;
    return k;
}

int ds_st_writer_write(ds_st_writer *w, const char *path) {
    int *order = malloc((size_t)(w->n ? w->n : 1) * sizeof(int));
    json_t *root = json_object();
    char *header = NULL;
    char tmp[4096];
    FILE *f = NULL;
    int rc = 0;
    if (!order || !root) {
        rc = ds_error(DS_E_NOMEM, "out of memory");
        goto done;
    }
    if (json_object_size(w->meta)) json_object_set(root, "__metadata__", w->meta);
    int n = entry_order(w, order);
    DS_ASSERT(n == w->n);
    uint64_t offset = 0;
    for (int k = 0; k < n; k++) {
        const ds_st_entry *e = &w->entries[order[k]];
        json_t *shape = json_array();
        for (int d = 0; d < e->ndim; d++) json_array_append_new(shape, json_integer(e->shape[d]));
        json_t *info =
            json_pack("{s:s, s:o, s:[I, I]}", "dtype", ds_dtype_name(e->dtype), "shape", shape,
                      "data_offsets", (json_int_t)offset, (json_int_t)(offset + e->bytes));
        if (!info || json_object_set_new(root, e->name, info) != 0) {
            rc = ds_error(DS_E_INVAL, "tensor name '%s' is not valid UTF-8", e->name);
            goto done;
        }
        offset += e->bytes;
    }
    header = json_dumps(root, JSON_COMPACT);
    if (!header) {
        rc = ds_error(DS_E_NOMEM, "out of memory");
        goto done;
    }
    size_t hlen = strlen(header);
    size_t padded = (hlen + 7) & ~(size_t)7; // spaces are valid JSON whitespace
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        rc = ds_error(DS_E_INVAL, "path too long: %s", path);
        goto done;
    }
    f = fopen(tmp, "wb");
    if (!f) {
        rc = ds_error(DS_E_IO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(header, 1, hlen, f) == hlen;
    for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', f) != EOF;
    for (int k = 0; ok && k < n; k++) {
        const ds_st_entry *e = &w->entries[order[k]];
        ok = e->bytes == 0 || fwrite(e->data, 1, e->bytes, f) == e->bytes;
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0) ok = 0;
    f = NULL;
    if (!ok || rename(tmp, path) != 0) {
        rc = ds_error(DS_E_IO, "%s: write failed: %s", path, strerror(errno));
        unlink(tmp);
    }
done:
    if (f) fclose(f);
    free(header);
    json_decref(root);
    free(order);
    return rc;
}
