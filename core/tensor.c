// tensor.c: dtype table, view helpers and the half-precision conversions
// (bit manipulation after the IEEE 754 layouts; no F16C intrinsics so the
// reference stays portable).
#include "core/tensor.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    size_t size;
} ds_dtype_table[DS_DTYPE_COUNT] = {
    [DS_DTYPE_F32] = {"F32", 4}, [DS_DTYPE_F16] = {"F16", 2}, [DS_DTYPE_BF16] = {"BF16", 2},
    [DS_DTYPE_I8] = {"I8", 1},   [DS_DTYPE_I32] = {"I32", 4},
};

size_t ds_dtype_size(ds_dtype dt) {
    return (unsigned)dt < DS_DTYPE_COUNT ? ds_dtype_table[dt].size : 0;
}

const char *ds_dtype_name(ds_dtype dt) {
    return (unsigned)dt < DS_DTYPE_COUNT ? ds_dtype_table[dt].name : "?";
}

int ds_dtype_parse(const char *name, ds_dtype *out) {
    for (int i = 0; i < DS_DTYPE_COUNT; i++) {
        if (strcmp(name, ds_dtype_table[i].name) == 0) {
            *out = (ds_dtype)i;
            return 0;
        }
    }
    return ds_error(DS_E_UNSUPPORTED, "dtype '%s' is not supported (F32, F16, BF16, I8, I32)",
                    name);
}

ds_tensor ds_tensor_make(void *data, ds_dtype dt, int ndim, const int64_t *shape) {
    ds_tensor t;
    memset(&t, 0, sizeof t);
    DS_ASSERT(ndim >= 0 && ndim <= DS_MAX_DIMS);
    t.data = data;
    t.dtype = dt;
    t.ndim = ndim;
    int64_t stride = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        t.shape[i] = shape[i];
        t.stride[i] = stride;
        stride *= shape[i];
    }
    return t;
}

int64_t ds_tensor_numel(const ds_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

int ds_tensor_is_contiguous(const ds_tensor *t) {
    int64_t stride = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != stride) return 0;
        stride *= t->shape[i];
    }
    return 1;
}

int ds_tensor_same_shape(const ds_tensor *a, const ds_tensor *b) {
    if (a->dtype != b->dtype || a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

char *ds_tensor_shape_str(const ds_tensor *t, char *buf, size_t size) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "(");
    for (int i = 0; i < t->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (n < size) snprintf(buf + n, size - n, ")");
    return buf;
}

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t ds_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);                                          // nearest even
    return (uint16_t)(u >> 16);
}

float ds_bf16_to_f32(uint16_t h) {
    return bits_f32((uint32_t)h << 16);
}

uint16_t ds_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t absu = u & 0x7fffffffu;
    if (absu > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  // NaN
    if (absu >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); // >= 65520 rounds to infinity
    if (absu < 0x38800000u) { // below the smallest normal half (2^-14): subnormal or zero
        if (absu < 0x33000000u) return (uint16_t)sign; // below 2^-25: rounds to zero
        // value = mant24 * 2^(exp - 150); a subnormal half counts units of 2^-24,
        // so the half mantissa is mant24 >> (126 - exp), rounded to nearest even.
        uint32_t exp = absu >> 23;
        uint32_t mant = (absu & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - exp; // 14..24
        uint32_t res = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (res & 1u))) res++;
        return (uint16_t)(sign | res);
    }
    // normal: rebias exponent from 127 to 15, round mantissa 23 -> 10 bits to nearest even
    uint32_t r = absu - 0x38000000u; // subtract (127 - 15) << 23
    r += 0xfffu + ((r >> 13) & 1u);
    uint32_t h = r >> 13;
    if (h >= 0x7c00u) h = 0x7c00u;
    return (uint16_t)(sign | h);
}

float ds_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        if (mant == 0) return bits_f32(sign);
        float v = (float)mant * (1.0f / 16777216.0f); // mant * 2^-24
        return sign ? -v : v;
    }
    if (exp == 31) return bits_f32(sign | 0x7f800000u | (mant << 13));
    return bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}
