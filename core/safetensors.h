// safetensors.h: reading and writing the safetensors format
// (github.com/huggingface/safetensors: 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}},
// then the raw little-endian data). Reading maps the file and validates every
// field against the file size before any tensor is touched: a corrupt or
// hostile file is an error with a message naming the tensor, never a crash.
// Tensor data stays in the mapping (no copy). Only the dtypes of ds_dtype
// are accepted; others are DS_E_UNSUPPORTED.
#ifndef DS_SAFETENSORS_H
#define DS_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"

// Largest header accepted: the reference implementation's limit (100 MB).
#define DS_ST_MAX_HEADER 100000000ull

typedef struct {
    const char *name; // owned by the ds_safetensors
    ds_tensor view;   // data points into the file; read-only
    uint64_t begin;   // data_offsets relative to the data section
    uint64_t end;
    int aligned; // 1 when data is aligned to its dtype (always for files docseek writes)
} ds_st_tensor;

typedef struct ds_safetensors ds_safetensors;

// Maps and validates the file. On success *out owns the mapping; on failure
// returns a DS_E* code with a detail naming the file and the problem.
int ds_st_open(const char *path, ds_safetensors **out);
// Validates a buffer already in memory (not copied: it must outlive *out).
int ds_st_parse(const void *data, size_t size, ds_safetensors **out);
// Unmaps and frees. NULL is a no-op.
void ds_st_close(ds_safetensors *st);

// Tensors in data-offset order.
int ds_st_count(const ds_safetensors *st);
const ds_st_tensor *ds_st_get(const ds_safetensors *st, int i);
// NULL when there is no tensor of that name.
const ds_st_tensor *ds_st_find(const ds_safetensors *st, const char *name);
// Metadata entries ("__metadata__"), in file order; value NULL when the key is absent.
int ds_st_metadata_count(const ds_safetensors *st);
const char *ds_st_metadata_key(const ds_safetensors *st, int i);
const char *ds_st_metadata_get(const ds_safetensors *st, const char *key);

// ---- writing

typedef struct ds_st_writer ds_st_writer;

ds_st_writer *ds_st_writer_new(void);
void ds_st_writer_free(ds_st_writer *w);
// Adds a tensor; data (numel * dtype size bytes) is referenced, not copied, and
// must stay valid until ds_st_writer_write. Names must be unique and not "__metadata__".
int ds_st_writer_add(ds_st_writer *w, const char *name, ds_dtype dtype, int ndim,
                     const int64_t *shape, const void *data);
// Sets a metadata string (copied); a later call with the same key replaces it.
int ds_st_writer_set_metadata(ds_st_writer *w, const char *key, const char *value);
// Writes PATH.tmp, syncs it and renames it to PATH, so readers never see half a file.
// Tensors are laid out by decreasing dtype size, then insertion order, and the
// header is padded with spaces to a multiple of 8, so every tensor is aligned.
int ds_st_writer_write(ds_st_writer *w, const char *path);

// Fuzz entry: parses arbitrary bytes; must never crash or leak.
int ds_fuzz_safetensors(const uint8_t *data, size_t size);

#endif
