// pool.h: a fixed set of worker threads that run one data-parallel task at a
// time, ggml style: the task is a function called as fn(arg, ith, nth) on every
// thread (the caller is ith 0), each thread taking its own share of rows.
// ds_pool_run returns when all threads have finished. No queue, no futures:
// asynchronous work belongs to libuv or the model's scheduler thread.
#ifndef DS_POOL_H
#define DS_POOL_H

#include <stdint.h>

typedef struct ds_pool ds_pool;
typedef void (*ds_pool_fn)(void *arg, int ith, int nth);

// Starts n_threads - 1 workers (the caller is the n-th). n_threads >= 1.
// Returns NULL when threads cannot be created.
ds_pool *ds_pool_new(int n_threads);
// Stops and joins the workers. NULL is a no-op.
void ds_pool_free(ds_pool *pool);
int ds_pool_size(const ds_pool *pool);
// Runs fn(arg, ith, nth) for ith in 0..nth-1 and waits for all of them.
// A NULL pool runs fn(arg, 0, 1) on the caller. Not reentrant: a task must not
// call ds_pool_run on the same pool.
void ds_pool_run(ds_pool *pool, ds_pool_fn fn, void *arg);

// The share [lo, hi) of n items that thread ith of nth takes (contiguous, balanced).
static inline void ds_split(int64_t n, int ith, int nth, int64_t *lo, int64_t *hi) {
    int64_t per = n / nth, rem = n % nth;
    *lo = ith * per + (ith < rem ? ith : rem);
    *hi = *lo + per + (ith < rem ? 1 : 0);
}

#endif
