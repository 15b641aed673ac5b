// arena.h: bump allocator for per-request and per-step scratch (lwan's arena).
// Memory comes in chunks; allocations are 64-byte aligned (cache line, AVX-512)
// and are never freed one by one: ds_arena_reset drops everything at once,
// ds_arena_mark / ds_arena_rewind drop everything after a point.
// Not thread-safe: one arena per thread or per request.
#ifndef DS_ARENA_H
#define DS_ARENA_H

#include <stddef.h>

typedef struct ds_arena_chunk ds_arena_chunk;

// Where a backed arena's chunks come from (a compute device's memory): alloc returns
// 64-byte aligned memory or NULL; free releases it.
typedef struct {
    void *(*alloc)(void *user, size_t bytes);
    void (*free)(void *user, void *ptr);
    void *user;
} ds_arena_backing;

typedef struct ds_arena {
    ds_arena_chunk *head;     // newest chunk
    size_t chunk_size;        // default size of a new chunk
    size_t bytes_used;        // live bytes (including alignment padding)
    size_t bytes_peak;        // the most bytes_used has been (the caller may zero it)
    size_t bytes_reserved;    // bytes held in chunks
    size_t bytes_limit;       // 0 = unlimited; else allocations past it fail with NULL
    ds_arena_backing backing; // zero: host memory (aligned_alloc)
    struct ds_arena *host;    // a backed arena's companion for host-side bookkeeping, or NULL
} ds_arena;

typedef struct {
    ds_arena_chunk *chunk;
    size_t used;
    size_t bytes_used;
    ds_arena_chunk *host_chunk; // the companion's position, when there is one
    size_t host_used;
    size_t host_bytes_used;
} ds_arena_mark_t;

// Initialises an empty arena; chunk_size 0 means 1 MiB; limit 0 means unlimited.
void ds_arena_init(ds_arena *a, size_t chunk_size, size_t limit);
// The same over memory from backing (a device's), with host an arena in host memory for
// the small arrays code must read on the host (offsets, counts); marks, rewinds and
// resets move the two together. The caller owns host and frees it after a.
void ds_arena_init_backed(ds_arena *a, size_t chunk_size, size_t limit,
                          const ds_arena_backing *backing, ds_arena *host);
// The arena for host-side arrays: a's companion when it has one, else a itself.
ds_arena *ds_arena_host(ds_arena *a);
// 1 when a's memory is the host's (host code may read and write it), 0 for a backed arena.
static inline int ds_arena_in_host_memory(const ds_arena *a) {
    return a->backing.alloc == NULL;
}
// Returns size bytes aligned to 64, or NULL when out of memory or past the limit.
void *ds_arena_alloc(ds_arena *a, size_t size);
// Like ds_arena_alloc, and zeroes the memory (host arenas only: NULL for a backed one).
void *ds_arena_calloc(ds_arena *a, size_t n, size_t size);
ds_arena_mark_t ds_arena_mark(const ds_arena *a);
// Frees every allocation made after the mark (chunks past it are released).
void ds_arena_rewind(ds_arena *a, ds_arena_mark_t mark);
// Drops all allocations. One chunk is kept for reuse; when several were in use they
// are freed and the next chunk is made as large as all of them (the high-water mark).
void ds_arena_reset(ds_arena *a);
// Releases every chunk. The arena may be initialised again.
void ds_arena_free(ds_arena *a);

// In a function returning an int error code: ptr = room for n elements of *ptr from
// arena, or return DS_E_NOMEM (with the arena's use in the message) from the caller.
// For activation buffers sized per step; needs core/error.h.
#define DS_ARENA_ALLOC(arena, ptr, n)                                                              \
    do {                                                                                           \
        (ptr) = ds_arena_alloc((arena), sizeof(*(ptr)) * ((size_t)(n) + 1));                       \
        if (!(ptr))                                                                                \
            return ds_error(DS_E_NOMEM, "%s:%d: activation arena full (%zu bytes used)", __FILE__, \
                            __LINE__, (arena)->bytes_used);                                        \
    } while (0)

// The same in host memory whatever the arena's backing: for arrays the host reads.
#define DS_ARENA_HOST_ALLOC(arena, ptr, n) DS_ARENA_ALLOC(ds_arena_host(arena), ptr, n)

#endif
