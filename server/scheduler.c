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
    int max_batch, max_wait_ms; // the stream's places (the extractor's batch); see sched_main
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

// The answer of a job the stream finished (pred: its prediction, or NULL with rc).
static void finish_job(ds_sched *s, ds_job *j, json_t *pred, int rc, const char *err) {
    j->ms_model = (ds_time_s() - j->t_model) * 1e3;
    if (rc) {
        j->rc = rc;
        snprintf(j->err, sizeof j->err, "%s", err);
        return;
    }
    ds_result_info ri = {.file = "upload",
                         .model = s->srv->model_name,
                         .ms_ingest = j->ms_ingest,
                         .ms_model = j->ms_model,
                         .batch = j->batch};
    j->result = ds_result_json(&ri, pred, j->doc, s->srv->schemas);
    json_decref(pred);
    if (!j->result) {
        j->rc = DS_E_NOMEM;
        snprintf(j->err, sizeof j->err, "out of memory building the answer");
        return;
    }
    ds_metrics *m = &s->srv->m;
    atomic_fetch_add(&m->documents, 1);
    atomic_fetch_add(&m->pages, j->doc->n_pages);
}

// Continuous batching: every turn, the jobs waiting join the stream while it has room,
// then one prefill piece and one decode step run (ds_extractor_step), and the jobs
// whose answers are complete leave it at once.
static void *sched_main(void *arg) {
    ds_sched *s = arg;
    ds_metrics *m = &s->srv->m;
    ds_job *joining[DS_EXTRACT_MAX_BATCH];
    ds_job *in_stream[DS_EXTRACT_MAX_BATCH];
    int n_stream = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->in_head && n_stream == 0 && !s->stop) pthread_cond_wait(&s->cv, &s->mu);
        if (!s->in_head && n_stream == 0 && s->stop) break;
        if (n_stream == 0 && s->max_wait_ms > 0 && !s->stop) {
            // an idle model and a job: give others max_wait_ms to join it, but only when
            // more documents are on their way (being read by the workers)
            int n = 0;
            for (ds_job *j = s->in_head; j; j = j->next) n++;
            if (n < s->max_batch && atomic_load(&m->queue_depth) > n) {
                struct timespec until;
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_nsec += (long)s->max_wait_ms * 1000000L;
                until.tv_sec += until.tv_nsec / 1000000000L;
                until.tv_nsec %= 1000000000L;
                pthread_cond_timedwait(&s->cv, &s->mu, &until);
            }
        }
        int n_join = 0, room = ds_extractor_room(s->x);
        while (s->in_head && n_join < room) {
            joining[n_join++] = s->in_head;
            s->in_head = s->in_head->next;
        }
        if (!s->in_head) s->in_tail = NULL;
        pthread_mutex_unlock(&s->mu);
        double now = ds_time_s();
        ds_job *finished = NULL;
        for (int k = 0; k < n_join; k++) {
            ds_job *j = joining[k];
            if (atomic_load(&j->abandoned)) { // answered already (504) or its client left
                j->rc = DS_E_IO;
                snprintf(j->err, sizeof j->err, "nobody waits for the answer any more");
                j->next = finished;
                finished = j;
                continue;
            }
            j->t_model = now;
            j->ms_queue = (now - j->t_start) * 1e3 - j->ms_ingest;
            int rc = ds_extractor_submit(s->x, j->doc, j->type[0] ? j->type : NULL, j->adapter, j);
            if (rc) { // cannot happen with room; answered as an error, not lost
                finish_job(s, j, NULL, rc, ds_errmsg());
                j->next = finished;
                finished = j;
                continue;
            }
            in_stream[n_stream++] = j;
        }
        int decoding = ds_extractor_active(s->x);
        ds_extractor_step(s->x);
        atomic_fetch_add(&m->batches, 1);
        atomic_fetch_add(&m->batch_hist[batch_bucket(decoding)], 1);
        atomic_fetch_add(&m->batch_sum, decoding);
        ds_decode_stats ds = ds_extractor_stats(s->x);
        atomic_store(&m->tokens, ds.tokens); // this thread's figures, read by /metrics
        atomic_store(&m->prefill_us, (long)(ds.prefill_s * 1e6));
        atomic_store(&m->decode_us, (long)(ds.decode_s * 1e6));
        for (int k = 0; k < n_stream; k++)
            if (in_stream[k]->batch < decoding) in_stream[k]->batch = decoding;
        void *tag;
        json_t *pred;
        int rc;
        char err[DS_EXTRACT_ERR_LEN];
        while (ds_extractor_take(s->x, &tag, &pred, &rc, err)) {
            ds_job *j = tag;
            finish_job(s, j, pred, rc, err);
            for (int k = 0; k < n_stream; k++)
                if (in_stream[k] == j) {
                    in_stream[k] = in_stream[--n_stream];
                    break;
                }
            j->next = finished;
            finished = j;
        }
        pthread_mutex_lock(&s->mu);
        if (finished) {
            while (finished) {
                ds_job *n = finished->next;
                finished->next = s->out_head;
                s->out_head = finished;
                finished = n;
            }
            uv_async_send(&s->async);
        }
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
