// metrics.c: the service's counters in Prometheus' text format (version
// 0.0.4): requests by status, documents and pages extracted, documents in
// flight, the batch sizes the scheduler ran, and latency histograms per stage
// (reading the document; waiting for and running the model; the whole
// request). Counters are atomics: the loop and scheduler threads add to them.
#include "server/server-impl.h"

#include "core/timer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double ds_lat_bounds[DS_LAT_BUCKETS] = {0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const int statuses[7] = {200, 400, 401, 404, 413, 422, 503};

void ds_metrics_count_status(ds_metrics *m, int status) {
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) atomic_fetch_add(&m->requests[cls], 1);
    int k = 7;
    for (int i = 0; i < 7; i++)
        if (statuses[i] == status) k = i;
    atomic_fetch_add(&m->by_status[k], 1);
}

void ds_metrics_observe(ds_metrics *m, int stage, double seconds) {
    int b = 0;
    while (b < DS_LAT_BUCKETS && seconds > ds_lat_bounds[b]) b++;
    atomic_fetch_add(&m->lat[stage][b], 1);
    double old = atomic_load(&m->lat_sum[stage]);
    while (!atomic_compare_exchange_weak(&m->lat_sum[stage], &old, old + seconds)) {
    }
}

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    if (t->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->oom = 1;
            return;
        }
        if ((size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)k;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->oom = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

char *ds_metrics_text(const ds_srv *s) {
    ds_metrics *m = (ds_metrics *)&s->m;
    text t = {malloc(4096), 0, 4096, 0};
    if (!t.s) return NULL;
    t.s[0] = 0;
    put(&t, "# HELP docseek_requests_total HTTP requests answered, by status.\n"
            "# TYPE docseek_requests_total counter\n");
    for (int i = 0; i < 8; i++)
        if (i < 7)
            put(&t, "docseek_requests_total{status=\"%d\"} %ld\n", statuses[i],
                atomic_load(&m->by_status[i]));
        else
            put(&t, "docseek_requests_total{status=\"other\"} %ld\n",
                atomic_load(&m->by_status[i]));
    put(&t,
        "# HELP docseek_queue_depth Documents accepted and not yet answered.\n"
        "# TYPE docseek_queue_depth gauge\ndocseek_queue_depth %d\n",
        atomic_load(&m->queue_depth));
    put(&t,
        "# HELP docseek_documents_total Documents extracted.\n"
        "# TYPE docseek_documents_total counter\ndocseek_documents_total %ld\n",
        atomic_load(&m->documents));
    put(&t,
        "# HELP docseek_documents_failed_total Documents that could not be read or "
        "extracted.\n# TYPE docseek_documents_failed_total counter\n"
        "docseek_documents_failed_total %ld\n",
        atomic_load(&m->failed));
    put(&t,
        "# HELP docseek_pages_total Pages extracted.\n"
        "# TYPE docseek_pages_total counter\ndocseek_pages_total %ld\n",
        atomic_load(&m->pages));
    double up = ds_time_s() - s->t_start;
    put(&t,
        "# HELP docseek_pages_per_second Pages extracted per second since the start.\n"
        "# TYPE docseek_pages_per_second gauge\ndocseek_pages_per_second %.4f\n",
        up > 0 ? (double)atomic_load(&m->pages) / up : 0);
    put(&t,
        "# HELP docseek_tokens_total Answer tokens decoded.\n"
        "# TYPE docseek_tokens_total counter\ndocseek_tokens_total %ld\n",
        atomic_load(&m->tokens));
    put(&t,
        "# HELP docseek_tokens_per_second Answer tokens decoded per second since the start.\n"
        "# TYPE docseek_tokens_per_second gauge\ndocseek_tokens_per_second %.4f\n",
        up > 0 ? (double)atomic_load(&m->tokens) / up : 0);
    put(&t,
        "# HELP docseek_model_seconds_total The model thread's time, by phase: prefills (the "
        "vision encoder and the layers over the document) and decode steps.\n"
        "# TYPE docseek_model_seconds_total counter\n"
        "docseek_model_seconds_total{phase=\"prefill\"} %.6f\n"
        "docseek_model_seconds_total{phase=\"decode\"} %.6f\n",
        atomic_load(&m->prefill_us) / 1e6, atomic_load(&m->decode_us) / 1e6);
    put(&t, "# HELP docseek_batch_size Documents in the model's stream (continuous batching), "
            "per step.\n"
            "# TYPE docseek_batch_size histogram\n");
    long cum = 0;
    for (int b = 0; b < 7; b++) {
        cum += atomic_load(&m->batch_hist[b]);
        if (b < 6) put(&t, "docseek_batch_size_bucket{le=\"%d\"} %ld\n", 1 << b, cum);
    }
    put(&t,
        "docseek_batch_size_bucket{le=\"+Inf\"} %ld\ndocseek_batch_size_sum %ld\n"
        "docseek_batch_size_count %ld\n",
        cum, atomic_load(&m->batch_sum), atomic_load(&m->batches));
    static const char *stages[3] = {"ingest", "model", "request"};
    put(&t, "# HELP docseek_latency_seconds Time per document: reading it (ingest), waiting for "
            "and running the model (model), the whole request (request).\n"
            "# TYPE docseek_latency_seconds histogram\n");
    for (int st = 0; st < 3; st++) {
        cum = 0;
        for (int b = 0; b <= DS_LAT_BUCKETS; b++) {
            cum += atomic_load(&m->lat[st][b]);
            if (b < DS_LAT_BUCKETS)
                put(&t, "docseek_latency_seconds_bucket{stage=\"%s\",le=\"%g\"} %ld\n", stages[st],
                    ds_lat_bounds[b], cum);
            else
                put(&t, "docseek_latency_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %ld\n",
                    stages[st], cum);
        }
        put(&t, "docseek_latency_seconds_sum{stage=\"%s\"} %.6f\n", stages[st],
            atomic_load(&m->lat_sum[st]));
        put(&t, "docseek_latency_seconds_count{stage=\"%s\"} %ld\n", stages[st], cum);
    }
    if (t.oom) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
