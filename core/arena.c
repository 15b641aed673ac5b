// arena.c: singly linked chunks, newest first. A request larger than the
// chunk size gets a chunk of its own, so big tensors do not waste the rest.
// Chunk headers live on the host and point at their memory, so the memory may
// be a device's (ds_arena_init_backed): the arena never reads or writes it.
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DS_ARENA_ALIGN 64

struct ds_arena_chunk {
    ds_arena_chunk *prev;
    size_t size; // usable bytes
    size_t used;
    unsigned char *data;
};

void ds_arena_init(ds_arena *a, size_t chunk_size, size_t limit) {
    memset(a, 0, sizeof *a);
    a->chunk_size = chunk_size ? chunk_size : (size_t)1 << 20;
    a->bytes_limit = limit;
}

void ds_arena_init_backed(ds_arena *a, size_t chunk_size, size_t limit,
                          const ds_arena_backing *backing, ds_arena *host) {
    ds_arena_init(a, chunk_size, limit);
    a->backing = *backing;
    a->host = host;
}

static size_t align_up(size_t n) {
    return (n + DS_ARENA_ALIGN - 1) & ~(size_t)(DS_ARENA_ALIGN - 1);
}

static void chunk_free(ds_arena *a, ds_arena_chunk *c) {
    if (a->backing.free)
        a->backing.free(a->backing.user, c->data);
    else
        free(c->data);
    free(c);
}

void *ds_arena_alloc(ds_arena *a, size_t size) {
    if (size > SIZE_MAX / 2) return NULL;
    size_t need = align_up(size ? size : 1);
    if (a->bytes_limit && a->bytes_used + need > a->bytes_limit) return NULL;
    ds_arena_chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t csize = need > a->chunk_size ? need : a->chunk_size;
        c = malloc(sizeof *c);
        if (!c) return NULL;
        c->data = a->backing.alloc ? a->backing.alloc(a->backing.user, csize)
                                   : aligned_alloc(DS_ARENA_ALIGN, align_up(csize));
        if (!c->data) {
            free(c);
            return NULL;
        }
        c->prev = a->head;
        c->size = csize;
        c->used = 0;
        a->head = c;
        a->bytes_reserved += csize;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->bytes_used += need;
    if (a->bytes_used > a->bytes_peak) a->bytes_peak = a->bytes_used;
    return p;
}

void *ds_arena_calloc(ds_arena *a, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    if (!ds_arena_in_host_memory(a)) return NULL; // the arena cannot write a device's memory
    void *p = ds_arena_alloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

ds_arena *ds_arena_host(ds_arena *a) {
    return a->host ? a->host : a;
}

ds_arena_mark_t ds_arena_mark(const ds_arena *a) {
    ds_arena_mark_t m = {a->head, a->head ? a->head->used : 0, a->bytes_used, NULL, 0, 0};
    if (a->host) {
        ds_arena_mark_t h = ds_arena_mark(a->host);
        m.host_chunk = h.chunk, m.host_used = h.used, m.host_bytes_used = h.bytes_used;
    }
    return m;
}

void ds_arena_rewind(ds_arena *a, ds_arena_mark_t mark) {
    while (a->head && a->head != mark.chunk) {
        ds_arena_chunk *prev = a->head->prev;
        a->bytes_reserved -= a->head->size;
        chunk_free(a, a->head);
        a->head = prev;
    }
    if (a->head) a->head->used = mark.used;
    a->bytes_used = mark.bytes_used;
    if (a->host) {
        ds_arena_mark_t h = {mark.host_chunk, mark.host_used, mark.host_bytes_used, NULL, 0, 0};
        ds_arena_rewind(a->host, h);
    }
}

void ds_arena_reset(ds_arena *a) {
    if (a->head && a->head->prev) {
        // Several chunks were needed: free them all and make the next chunk as large as
        // all of them, so a loop that resets between steps settles on one chunk instead
        // of freeing and page-faulting fresh memory every step.
        size_t total = a->bytes_reserved;
        while (a->head) {
            ds_arena_chunk *prev = a->head->prev;
            chunk_free(a, a->head);
            a->head = prev;
        }
        a->bytes_reserved = 0;
        if (total > a->chunk_size) a->chunk_size = total;
    } else if (a->head) {
        a->head->used = 0;
    }
    a->bytes_used = 0;
    if (a->host) ds_arena_reset(a->host);
}

void ds_arena_free(ds_arena *a) {
    while (a->head) {
        ds_arena_chunk *prev = a->head->prev;
        chunk_free(a, a->head);
        a->head = prev;
    }
    a->bytes_used = a->bytes_reserved = 0;
}
