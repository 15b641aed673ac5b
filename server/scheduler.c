// scheduler.c: see scheduler.h.
#include "server/scheduler.h"

#include "core/error.h"
#include "core/timer.h"
#include "fusion/result.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ds_sched {
    ds_srv *srv;
    ds_extractor *x;
    int max_batch, max_wait_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ds_job *in_head, *in_tail; // ready for the model
    ds_job *out_head;          // answered, for the loop thread
    int stop;
    uv_async_t async;
    void (*done)(ds_job *);
};

static void push(ds_job **head, ds_job **tail, ds_job *j) {
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static void on_async(uv_async_t *a) {
    ds_sched *s = a->data;
    pthread_mutex_lock(&s->mu);
    ds_job *j = s->out_head;
    s->out_head = NULL;
    pthread_mutex_unlock(&s->mu);
    // they were pushed at the head: answer in arrival order
    ds_job *rev = NULL;
    while (j) {
        ds_job *n = j->next;
        j->next = rev;
        rev = j;
        j = n;
    }
    while (rev) {
        ds_job *n = rev->next;
        s->done(rev);
        rev = n;
    }
}

static int batch_bucket(int n) {
    int b = 0;
    while (b < 6 && (1 << b) < n) b++;
    return b;
}

// Decodes jobs[0..n) together and fills their answers.
static void run_batch(ds_sched *s, ds_job **jobs, int n) {
    const ds_doc *docs[DS_EXTRACT_MAX_BATCH];
    const char *types[DS_EXTRACT_MAX_BATCH];
    json_t *preds[DS_EXTRACT_MAX_BATCH];
    int rcs[DS_EXTRACT_MAX_BATCH];
    char errs[DS_EXTRACT_MAX_BATCH][DS_EXTRACT_ERR_LEN];
    double t0 = ds_time_s();
    for (int k = 0; k < n; k++) {
        docs[k] = jobs[k]->doc;
        types[k] = jobs[k]->type[0] ? jobs[k]->type : NULL;
        jobs[k]->ms_queue = (t0 - jobs[k]->t_start) * 1e3 - jobs[k]->ms_ingest;
    }
    ds_extractor_docs(s->x, docs, types, n, preds, rcs, errs);
    double ms = (ds_time_s() - t0) * 1e3;
    ds_metrics *m = &s->srv->m;
    atomic_fetch_add(&m->batches, 1);
    atomic_fetch_add(&m->batch_hist[batch_bucket(n)], 1);
    for (int k = 0; k < n; k++) {
        ds_job *j = jobs[k];
        j->ms_model = ms;
        j->batch = n;
        if (rcs[k]) {
            j->rc = rcs[k];
            snprintf(j->err, sizeof j->err, "%s", errs[k]);
            continue;
        }
        ds_result_info ri = {.file = "upload",
                             .model = s->srv->model_name,
                             .ms_ingest = j->ms_ingest,
                             .ms_model = ms,
                             .batch = n};
        j->result = ds_result_json(&ri, preds[k], j->doc, s->srv->schemas);
        json_decref(preds[k]);
        if (!j->result) {
            j->rc = DS_E_NOMEM;
            snprintf(j->err, sizeof j->err, "out of memory building the answer");
        }
        atomic_fetch_add(&m->documents, 1);
        atomic_fetch_add(&m->pages, j->doc->n_pages);
    }
}

static void *sched_main(void *arg) {
    ds_sched *s = arg;
    ds_job *jobs[DS_EXTRACT_MAX_BATCH];
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->in_head && !s->stop) pthread_cond_wait(&s->cv, &s->mu);
        if (!s->in_head && s->stop) break;
        // one job is there: give others max_wait_ms to join the batch
        int n = 0;
        for (ds_job *j = s->in_head; j; j = j->next) n++;
        // (only when more documents are on their way: being read by the workers)
        int coming = atomic_load(&s->srv->m.queue_depth) > n;
        if (n < s->max_batch && s->max_wait_ms > 0 && !s->stop && coming) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (long)s->max_wait_ms * 1000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&s->cv, &s->mu, &until);
        }
        n = 0;
        while (s->in_head && n < s->max_batch) {
            jobs[n++] = s->in_head;
            s->in_head = s->in_head->next;
        }
        if (!s->in_head) s->in_tail = NULL;
        pthread_mutex_unlock(&s->mu);
        run_batch(s, jobs, n);
        pthread_mutex_lock(&s->mu);
        for (int k = 0; k < n; k++) {
            jobs[k]->next = s->out_head;
            s->out_head = jobs[k];
        }
        uv_async_send(&s->async);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int ds_sched_start(ds_srv *srv, ds_extractor *x, int max_batch, int max_wait_ms, uv_loop_t *loop,
                   void (*done)(ds_job *), ds_sched **out) {
    ds_sched *s = calloc(1, sizeof *s);
    if (!s) return ds_error(DS_E_NOMEM, "scheduler: out of memory");
    *s = (ds_sched){
        .srv = srv, .x = x, .max_batch = max_batch, .max_wait_ms = max_wait_ms, .done = done};
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (uv_async_init(loop, &s->async, on_async) != 0) {
        free(s);
        return ds_error(DS_E_INTERNAL, "scheduler: uv_async_init failed");
    }
    s->async.data = s;
    if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
        uv_close((uv_handle_t *)&s->async, NULL); // s leaks until the loop closes it: rare
        return ds_error(DS_E_NOMEM, "scheduler: cannot start its thread");
    }
    *out = s;
    return 0;
}

void ds_sched_submit(ds_sched *s, ds_job *j) {
    pthread_mutex_lock(&s->mu);
    push(&s->in_head, &s->in_tail, j);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_closed(uv_handle_t *h) {
    ds_sched *s = h->data;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

void ds_sched_stop(ds_sched *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    on_async(&s->async); // the last answers
    uv_close((uv_handle_t *)&s->async, on_closed);
}
