// pool.c: workers wait on a generation counter. They spin briefly first,
// because kernels are issued back to back and a futex wake costs tens of
// microseconds, then sleep on a condition variable so an idle server does not
// burn a core.
#include "core/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define DS_POOL_SPIN 20000

struct ds_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    pthread_cond_t done;
    atomic_uint_fast64_t generation; // bumped once per task
    atomic_int pending;              // workers still running the current task
    atomic_int stop;
    ds_pool_fn fn;
    void *arg;
};

typedef struct {
    ds_pool *pool;
    int ith;
} ds_pool_worker;

static void *ds_pool_main(void *p) {
    ds_pool_worker *w = p;
    ds_pool *pool = w->pool;
    int ith = w->ith;
    free(w);
    uint_fast64_t seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen &&
               !atomic_load(&pool->stop) && spins < DS_POOL_SPIN) {
            spins++;
            if ((spins & 255) == 0) sched_yield();
        }
        if (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen &&
            !atomic_load(&pool->stop)) {
            pthread_mutex_lock(&pool->mutex);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        pool->fn(pool->arg, ith, pool->n_threads);
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mutex);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->mutex);
        }
    }
}

ds_pool *ds_pool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    ds_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    pool->threads = calloc((size_t)n_threads, sizeof(pthread_t));
    if (!pool->threads) {
        free(pool);
        return NULL;
    }
    for (int i = 1; i < n_threads; i++) {
        ds_pool_worker *w = malloc(sizeof *w);
        if (w) *w = (ds_pool_worker){pool, i};
        if (!w || pthread_create(&pool->threads[i], NULL, ds_pool_main, w) != 0) {
            free(w);
            pool->n_threads = i; // join the ones that started
            ds_pool_free(pool);
            return NULL;
        }
    }
    return pool;
}

void ds_pool_free(ds_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    free(pool->threads);
    free(pool);
}

int ds_pool_size(const ds_pool *pool) {
    return pool ? pool->n_threads : 1;
}

void ds_pool_run(ds_pool *pool, ds_pool_fn fn, void *arg) {
    if (!pool || pool->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->pending, pool->n_threads - 1);
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    fn(arg, 0, pool->n_threads);
    int spins = 0;
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0 && spins < DS_POOL_SPIN)
        spins++;
    if (atomic_load(&pool->pending) > 0) {
        pthread_mutex_lock(&pool->mutex);
        while (atomic_load(&pool->pending) > 0) pthread_cond_wait(&pool->done, &pool->mutex);
        pthread_mutex_unlock(&pool->mutex);
    }
}
