// tensor.h: a non-owning view of an n-dimensional array: pointer, dtype,
// shape and strides (in elements), row-major by default. Views never own
// memory; whoever allocated the data frees it. Kernels take raw float
// pointers with explicit sizes (llm.c style); the view is for files, model
// loading and checks, where shapes and dtypes must be validated.
#ifndef DS_TENSOR_H
#define DS_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define DS_MAX_DIMS 6

typedef enum {
    DS_DTYPE_F32 = 0,
    DS_DTYPE_F16 = 1,
    DS_DTYPE_BF16 = 2,
    DS_DTYPE_I8 = 3,
    DS_DTYPE_I32 = 4,
    DS_DTYPE_COUNT
} ds_dtype;

typedef struct {
    void *data;
    ds_dtype dtype;
    int ndim;
    int64_t shape[DS_MAX_DIMS];
    int64_t stride[DS_MAX_DIMS]; // in elements
} ds_tensor;

// Bytes per element (4, 2, 2, 1, 4).
size_t ds_dtype_size(ds_dtype dt);
// safetensors spelling: "F32", "F16", "BF16", "I8", "I32".
const char *ds_dtype_name(ds_dtype dt);
// Parses a safetensors dtype name; returns 0 or DS_E_UNSUPPORTED (with the name in the detail).
int ds_dtype_parse(const char *name, ds_dtype *out);

// A contiguous row-major view. ndim <= DS_MAX_DIMS, every shape entry >= 0.
ds_tensor ds_tensor_make(void *data, ds_dtype dt, int ndim, const int64_t *shape);
// Number of elements; 1 for ndim 0.
int64_t ds_tensor_numel(const ds_tensor *t);
int ds_tensor_is_contiguous(const ds_tensor *t);
// 1 when dtype and shape are equal.
int ds_tensor_same_shape(const ds_tensor *a, const ds_tensor *b);
// Formats the shape as "(2, 3, 4)" into buf; returns buf.
char *ds_tensor_shape_str(const ds_tensor *t, char *buf, size_t size);

// Half-precision conversions. f32 -> f16 / bf16 round to nearest even; NaN
// stays NaN, overflow goes to infinity.
uint16_t ds_f32_to_f16(float f);
float ds_f16_to_f32(uint16_t h);
uint16_t ds_f32_to_bf16(float f);
float ds_bf16_to_f32(uint16_t h);

#endif
