// server-impl.h: what the service's files share: the server, its
// connections and the jobs that carry a document from a request through
// ingest and the model back to the connection. Everything here is touched on
// the loop thread only, except ds_job's document fields, which belong to
// whichever thread holds the job (a worker while it reads the document, the
// scheduler while it decodes), and the atomic metrics.
#ifndef DS_SERVER_IMPL_H
#define DS_SERVER_IMPL_H

#include <jansson.h>
#include <llhttp.h>
#include <stdatomic.h>
#include <uv.h>

#include "fusion/extract.h"
#include "server/server.h"

typedef struct ds_srv ds_srv;
typedef struct ds_conn ds_conn;

typedef struct ds_job {
    ds_srv *srv;
    ds_conn *conn;        // waiting for the answer; NULL once it went away
    atomic_int abandoned; // nobody waits for the answer any more (set on the loop thread,
                          // read by the scheduler: it skips the job)
    uint8_t *data;        // the document's bytes (owned)
    size_t size;
    char type[64];     // the type the caller fixed, "" for the model's choice
    char async_id[33]; // an asynchronous job's id (server/jobs.h), "" when a request waits
    int want_images;   // ?images=1: the answer carries each page as a PNG (upload page)
    json_t *images;    // [{"width_pt", "height_pt", "png": data URL}] made by the worker
    ds_doc *doc;       // read by a worker
    int rc;            // 0, or the DS_E* that ended it
    char err[512];     // its message
    json_t *result;    // the answer (fusion/result.h), on success
    double t_start;    // when the request was complete (s)
    double t_model;    // when it joined the model's stream (s)
    double ms_ingest, ms_queue, ms_model;
    int batch;                     // most documents in the model's stream while it was there
    const struct ds_lora *adapter; // ?adapter=NAME's, or NULL: the server's --adapter
    ds_ingest_opts io;             // how its document is read (the server's, ?ocr=)
    uv_work_t work;
    struct ds_job *next; // in the scheduler's queues
} ds_job;

// Latency histogram buckets (seconds), Prometheus style: cumulative on output.
#define DS_LAT_BUCKETS 10
extern const double ds_lat_bounds[DS_LAT_BUCKETS];

typedef struct {
    atomic_long requests[6];  // by status class: 1xx..5xx (index 1..5)
    atomic_long by_status[8]; // 200, 400, 401, 404, 413, 422, 503, other
    atomic_long documents, pages, failed;
    atomic_long batches, batch_hist[7];     // model steps; by documents in the stream then:
                                            // 1, 2, 4, 8, 16, 32, 64+
    atomic_long batch_sum;                  // those documents, summed over the steps
    atomic_long tokens;                     // answer tokens decoded
    atomic_long prefill_us, decode_us;      // the model thread's time in prefills, decode steps
    atomic_long lat[3][DS_LAT_BUCKETS + 1]; // ingest, queue + model, total; +Inf last
    _Atomic double lat_sum[3];
    atomic_int queue_depth; // documents accepted and not yet answered
} ds_metrics;

struct ds_srv {
    ds_serve_cfg cfg;
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_signal_t sigterm, sigint;
    struct ds_sched *sched;
    struct ds_job_table *jobs; // asynchronous extractions
    ds_extractor *x;
    struct ds_lora *adapters[DS_SERVE_MAX_ADAPTERS]; // cfg.adapter_files[i], loaded
    const ds_schema_set *schemas;                    // the extractor's
    ds_ingest_opts io; // how documents are read: the model's encoder input, the limits
    const char *model_name;
    ds_conn *conns; // every open connection (a list through ds_conn.next)
    int draining;   // a signal came: no new connections, finish what is in flight
    int listening;
    int barrier_used; // the workers' cleanup ran (server.c)
    double t_start;
    ds_metrics m;
};

// Draining (a signal came) and nothing in flight: closes the idle connections and
// stops the scheduler, so the loop runs out of handles (server.c).
void ds_srv_drain_check(ds_srv *s);

// ---- connections (server/conn.c)
// Accepts a connection on the listener.
void ds_conn_accept(ds_srv *s);
// Answers c's current request: status, content type and body (copied); the
// connection then reads its next request or closes. body NULL: no body.
void ds_conn_respond(ds_conn *c, int status, const char *content_type, const char *body, size_t len,
                     const char *extra_headers);
// Answers with the JSON error object of DS_E* err and message msg.
void ds_conn_respond_error(ds_conn *c, int err, const char *msg);
// Closes every idle connection (draining).
void ds_conn_close_idle(ds_srv *s);

// The request as the routes see it.
typedef struct {
    llhttp_method_t method;
    const char *path;  // without the query
    const char *query; // after '?', or ""
    const char *content_type;
    const char *authorization;
    const uint8_t *body;
    size_t body_len;
} ds_request;

// ---- routes (server/routes.c): answers r on c (now, or later through a job)
// Whether a request for target (a path, its query allowed) with "Authorization:
// <authorization>" may be answered: always without a key and for the public paths (/,
// /healthz), else when it carries the key (compared in constant time).
int ds_srv_authorized(const ds_srv *s, const char *target, const char *authorization);
void ds_route(ds_srv *s, ds_conn *c, const ds_request *r);
// A job finished (loop thread): its answer goes to its connection.
void ds_job_finish(ds_job *j);
void ds_job_free(ds_job *j);
// The job a connection is waiting for, so a closing connection can drop it; its
// answer is due within --request-timeout (else 504, and the job is abandoned).
void ds_conn_set_job(ds_conn *c, ds_job *j);

// The upload page (server/page.c).
extern const char ds_upload_page[];

// ---- metrics (server/metrics.c)
void ds_metrics_count_status(ds_metrics *m, int status);
void ds_metrics_observe(ds_metrics *m, int stage, double seconds);
// Prometheus text exposition of m (malloc'd).
char *ds_metrics_text(const ds_srv *s);

#endif
