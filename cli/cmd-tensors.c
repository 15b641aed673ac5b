// cmd-tensors.c: `docseek tensors FILE [--json] [--stats]`: lists a
// safetensors file's metadata and tensors after full validation, optionally
// with min / max / mean / sum of each tensor. It reads any safetensors file
// (a model, an adapter, a checkpoint); it never changes one.
#include "cli/cli.h"
#include "core/error.h"
#include "core/safetensors.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    double min, max, sum;
    int64_t n;
} ds_stats;

static double element(const ds_st_tensor *t, int64_t i) {
    const unsigned char *p =
        (const unsigned char *)t->view.data + i * (int64_t)ds_dtype_size(t->view.dtype);
    float f;
    uint16_t h;
    int32_t i32;
    switch (t->view.dtype) { // memcpy: foreign files may hold unaligned tensors
    case DS_DTYPE_F32:
        memcpy(&f, p, 4);
        return f;
    case DS_DTYPE_F16:
        memcpy(&h, p, 2);
        return ds_f16_to_f32(h);
    case DS_DTYPE_BF16:
        memcpy(&h, p, 2);
        return ds_bf16_to_f32(h);
    case DS_DTYPE_I8:
        return (double)(int8_t)p[0];
    case DS_DTYPE_I32:
        memcpy(&i32, p, 4);
        return i32;
    default:
        return NAN;
    }
}

static ds_stats tensor_stats(const ds_st_tensor *t) {
    ds_stats s = {INFINITY, -INFINITY, 0, ds_tensor_numel(&t->view)};
    for (int64_t i = 0; i < s.n; i++) {
        double x = element(t, i);
        s.min = x < s.min ? x : s.min;
        s.max = x > s.max ? x : s.max;
        s.sum += x;
    }
    return s;
}

static int print_json(const ds_safetensors *st, int stats) {
    json_t *root = json_object(), *meta = json_object(), *tensors = json_array();
    for (int i = 0; i < ds_st_metadata_count(st); i++)
        json_object_set_new(meta, ds_st_metadata_key(st, i),
                            json_string(ds_st_metadata_get(st, ds_st_metadata_key(st, i))));
    for (int i = 0; i < ds_st_count(st); i++) {
        const ds_st_tensor *t = ds_st_get(st, i);
        json_t *shape = json_array();
        for (int d = 0; d < t->view.ndim; d++)
            json_array_append_new(shape, json_integer(t->view.shape[d]));
        json_t *jt = json_pack("{s:s, s:s, s:o, s:I}", "name", t->name, "dtype",
                               ds_dtype_name(t->view.dtype), "shape", shape, "bytes",
                               (json_int_t)(t->end - t->begin));
        if (stats) {
            ds_stats s = tensor_stats(t);
            if (s.n) {
                json_object_set_new(jt, "min", json_real(s.min));
                json_object_set_new(jt, "max", json_real(s.max));
                json_object_set_new(jt, "mean", json_real(s.sum / (double)s.n));
            }
            json_object_set_new(jt, "sum", json_real(s.sum));
        }
        json_array_append_new(tensors, jt);
    }
    json_object_set_new(root, "metadata", meta);
    json_object_set_new(root, "tensors", tensors);
    int rc = json_dumpf(root, stdout, JSON_INDENT(1)) == 0 ? 0 : 1;
    printf("\n");
    json_decref(root);
    return rc;
}

static void print_text(const ds_safetensors *st, int stats) {
    int64_t total = 0;
    for (int i = 0; i < ds_st_metadata_count(st); i++) {
        const char *v = ds_st_metadata_get(st, ds_st_metadata_key(st, i));
        printf("metadata %s: %.*s%s\n", ds_st_metadata_key(st, i), 70, v,
               strlen(v) > 70 ? "..." : "");
    }
    for (int i = 0; i < ds_st_count(st); i++) {
        const ds_st_tensor *t = ds_st_get(st, i);
        char shape[128];
        ds_tensor_shape_str(&t->view, shape, sizeof shape);
        printf("%-40s %-5s %-20s", t->name, ds_dtype_name(t->view.dtype), shape);
        if (stats) {
            ds_stats s = tensor_stats(t);
            if (s.n)
                printf(" min %-11.4g max %-11.4g mean %.4g", s.min, s.max, s.sum / (double)s.n);
        }
        printf("\n");
        total += ds_tensor_numel(&t->view);
    }
    printf("%d tensors, %lld elements\n", ds_st_count(st), (long long)total);
}

int ds_cmd_tensors(int argc, char **argv) {
    const char *path = NULL;
    int json = 0, stats = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--stats") == 0)
            stats = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: docseek tensors FILE [--json] [--stats]\n"
                   "Validates a .safetensors file and lists its metadata and tensors.\n"
                   "  --json   machine-readable output\n"
                   "  --stats  min, max, mean (and sum in JSON) of every tensor\n");
            return 0;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "docseek tensors: unexpected argument '%s' (see --help)\n", argv[i]);
            return 2;
        } else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: docseek tensors FILE [--json] [--stats]\n");
        return 2;
    }
    ds_safetensors *st;
    int rc = ds_st_open(path, &st);
    if (rc) return ds_cli_fail("tensors", rc);
    rc = json ? print_json(st, stats) : (print_text(st, stats), 0);
    ds_st_close(st);
    return rc;
}
