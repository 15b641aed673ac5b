// config.c: defaults, JSON reading and writing, and the checks of
// ds_model_cfg. One X-macro table drives all four, so a new setting is one line.
#include "fusion/config.h"

#include "core/error.h"

#include <math.h>
#include <string.h>

void ds_model_cfg_default(ds_model_cfg *cfg) {
#define DS_CFG_DEF(name, def, lo, hi) cfg->name = def;
    DS_CONFIG_INTS(DS_CFG_DEF)
    DS_CONFIG_FLOATS(DS_CFG_DEF)
#undef DS_CFG_DEF
}

int ds_model_cfg_check(const ds_model_cfg *c) {
#define DS_CFG_RANGE(name, def, lo, hi)                                                            \
    if (!(c->name >= (lo) && c->name <= (hi)))                                                     \
        return ds_error(DS_E_INVAL, "config: %s = %g is outside %g..%g", #name, (double)c->name,   \
                        (double)(lo), (double)(hi));
    DS_CONFIG_INTS(DS_CFG_RANGE)
    DS_CONFIG_FLOATS(DS_CFG_RANGE)
#undef DS_CFG_RANGE
    if (c->head_dim % 2)
        return ds_error(DS_E_INVAL, "config: head_dim = %d must be even (RoPE rotates pairs)",
                        c->head_dim);
    if (c->n_heads % c->n_kv_heads)
        return ds_error(DS_E_INVAL, "config: n_heads = %d is not a multiple of n_kv_heads = %d",
                        c->n_heads, c->n_kv_heads);
    if (c->n_dense_layers > c->n_layers)
        return ds_error(DS_E_INVAL, "config: n_dense_layers = %d > n_layers = %d",
                        c->n_dense_layers, c->n_layers);
    if (c->n_experts % c->n_groups)
        return ds_error(DS_E_INVAL, "config: n_groups = %d does not divide n_experts = %d",
                        c->n_groups, c->n_experts);
    if (c->topk_groups > c->n_groups)
        return ds_error(DS_E_INVAL, "config: topk_groups = %d > n_groups = %d", c->topk_groups,
                        c->n_groups);
    int per_group = c->n_experts / c->n_groups;
    if (c->topk > c->topk_groups * per_group)
        return ds_error(DS_E_INVAL,
                        "config: topk = %d exceeds the %d experts of the %d kept groups", c->topk,
                        c->topk_groups * per_group, c->topk_groups);
    if (c->n_groups > 1 && per_group < 2)
        return ds_error(DS_E_INVAL, "config: groups need at least 2 experts (scored by the top 2)");
    if (ds_cfg_use_vision(c)) {
        if (c->img_size % c->patch)
            return ds_error(DS_E_INVAL, "config: patch = %d does not divide img_size = %d",
                            c->patch, c->img_size);
        if (ds_cfg_grid(c) % 2)
            return ds_error(DS_E_INVAL,
                            "config: the patch grid (%d) must be even for the 2x2 merge",
                            ds_cfg_grid(c));
        if (c->vit_dim % c->vit_heads)
            return ds_error(DS_E_INVAL, "config: vit_heads = %d does not divide vit_dim = %d",
                            c->vit_heads, c->vit_dim);
    }
    // copy_pointer and copy_pointer_gen may both be on: pointers fill span fields, the
    // gate serves generated values.
    return 0;
}

int ds_model_cfg_from_json(const json_t *j, ds_model_cfg *cfg) {
    ds_model_cfg_default(cfg);
    if (!json_is_object(j)) return ds_error(DS_E_INVAL, "config: expected a JSON object");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val) {
        int found = 0;
#define DS_CFG_READ_INT(name, def, lo, hi)                                                         \
    if (!found && strcmp(key, #name) == 0) {                                                       \
        found = 1;                                                                                 \
        if (!json_is_integer(val))                                                                 \
            return ds_error(DS_E_INVAL, "config: %s must be an integer", key);                     \
        json_int_t v = json_integer_value(val);                                                    \
        if (v < INT32_MIN || v > INT32_MAX)                                                        \
            return ds_error(DS_E_INVAL, "config: %s = %lld is out of range", key, (long long)v);   \
        cfg->name = (int)v;                                                                        \
    }
        DS_CONFIG_INTS(DS_CFG_READ_INT)
#undef DS_CFG_READ_INT
#define DS_CFG_READ_FLOAT(name, def, lo, hi)                                                       \
    if (!found && strcmp(key, #name) == 0) {                                                       \
        found = 1;                                                                                 \
        if (!json_is_number(val)) return ds_error(DS_E_INVAL, "config: %s must be a number", key); \
        cfg->name = (float)json_number_value(val);                                                 \
    }
        DS_CONFIG_FLOATS(DS_CFG_READ_FLOAT)
#undef DS_CFG_READ_FLOAT
        if (!found) return ds_error(DS_E_INVAL, "config: unknown setting '%s'", key);
    }
    return ds_model_cfg_check(cfg);
}

int ds_model_cfg_load(const char *path, ds_model_cfg *cfg) {
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j) return ds_error(DS_E_FORMAT, "%s:%d: %s", path, jerr.line, jerr.text);
    int rc = ds_model_cfg_from_json(j, cfg);
    json_decref(j);
    return rc;
}

json_t *ds_model_cfg_to_json(const ds_model_cfg *cfg) {
    json_t *j = json_object();
    if (!j) return NULL;
#define DS_CFG_WRITE_INT(name, def, lo, hi) json_object_set_new(j, #name, json_integer(cfg->name));
    DS_CONFIG_INTS(DS_CFG_WRITE_INT)
#undef DS_CFG_WRITE_INT
#define DS_CFG_WRITE_FLOAT(name, def, lo, hi) json_object_set_new(j, #name, json_real(cfg->name));
    DS_CONFIG_FLOATS(DS_CFG_WRITE_FLOAT)
#undef DS_CFG_WRITE_FLOAT
    return j;
}
