// params.h: the parameter table of a model: every tensor's name, shape and
// offset inside one contiguous float buffer (llm.c's
// malloc_and_point_parameters). A module lays out its tensors by calling
// ds_carve in a fixed order; the same walk run over the parameter buffer and
// over the gradient buffer gives both sets of pointers, and over a NULL base
// it only records the table. Names are "module.layers.N.part".
#ifndef DS_PARAMS_H
#define DS_PARAMS_H

#include <stdint.h>

#define DS_PARAM_NAME_MAX 64
#define DS_PARAM_MAX_DIMS 4

typedef struct {
    char name[DS_PARAM_NAME_MAX];
    int ndim;
    int64_t shape[DS_PARAM_MAX_DIMS];
    int64_t offset; // in floats, from the start of the buffer
    int64_t numel;
} ds_param;

typedef struct {
    ds_param *items;
    int n, cap;
    int64_t total; // floats
} ds_param_table;

// One walk over the layout: base (may be NULL: pointers come back NULL) and,
// when tab is not NULL, the table to record into.
typedef struct {
    float *base;
    int64_t offset;
    ds_param_table *tab;
    int failed; // set when the table could not grow (out of memory)
} ds_carver;

// Returns base + offset and advances by the tensor's size. Tensors are packed
// without gaps, as safetensors lays them out, so a model file can be used in
// place through its mapping. name is a printf format; shape entries after ndim
// are ignored.
float *ds_carve(ds_carver *c, int ndim, int64_t d0, int64_t d1, int64_t d2, const char *name_fmt,
                ...) __attribute__((format(printf, 6, 7)));

void ds_param_table_free(ds_param_table *tab);
// NULL when absent.
const ds_param *ds_param_find(const ds_param_table *tab, const char *name);

#endif
