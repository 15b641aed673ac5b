// routes.c: what each request gets. GET /healthz and /metrics are answered
// at once; POST /v1/extract becomes a job: its document is read on a libuv
// worker thread (uv_queue_work), decoded by the scheduler thread, and
// answered here on the loop thread when it comes back; with ?async=1 the
// request is answered 202 at once and the answer kept for GET /v1/jobs/{id}
// (server/jobs.h). GET / is the upload page (server/page.c); with ?images=1
// the answer carries each page as a PNG for it; ?adapter=NAME picks one of the
// adapters the server loaded, ?ocr= and ?ocr_layout= how the document is read
// (ingest's --ocr, --ocr-layout; the server's defaults: serve --ocr, --ocr-layout).
// GET /v1/types lists the document types (their fields; whether the model picks the
// type by itself), the adapters' names and the server's reading defaults and
// layouts, for a client's choices (the upload page's).
#include "core/error.h"
#include "core/timer.h"
#include "server/jobs.h"
#include "server/multipart.h"
#include "server/scheduler.h"
#include "server/server-impl.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

void ds_job_free(ds_job *j) {
    if (!j) return;
    free(j->data);
    ds_doc_free(j->doc);
    json_decref(j->result);
    json_decref(j->images);
    free(j);
}

static void respond_json(ds_conn *c, int status, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;
    if (!s) {
        ds_conn_respond_error(c, DS_E_NOMEM, "out of memory writing the answer");
        return;
    }
    ds_conn_respond(c, status, "application/json", s, strlen(s), NULL);
    free(s);
}

void ds_job_finish(ds_job *j) {
    ds_srv *s = j->srv;
    atomic_fetch_sub(&s->m.queue_depth, 1);
    double total = ds_time_s() - j->t_start;
    ds_metrics_observe(&s->m, 0, j->ms_ingest / 1e3);
    if (!j->rc) ds_metrics_observe(&s->m, 1, (j->ms_queue + j->ms_model) / 1e3);
    ds_metrics_observe(&s->m, 2, total);
    if (j->rc) atomic_fetch_add(&s->m.failed, 1);
    if (!j->rc) {
        json_object_del(j->result, "file"); // an upload has no path
        json_object_set_new(json_object_get(j->result, "timings_ms"), "queue",
                            json_real(j->ms_queue));
        if (j->images) json_object_set(j->result, "page_images", j->images);
    }
    if (j->async_id[0]) { // kept for GET /v1/jobs/{id}
        json_t *err = j->rc ? json_pack("{s:{s:s, s:s}}", "error", "code", ds_err_name(j->rc),
                                        "message", j->err)
                            : NULL;
        ds_jobs_done(s->jobs, j->async_id, j->rc ? ds_err_http_status(j->rc) : 200,
                     j->rc ? err : j->result);
        json_decref(err);
    } else if (j->conn) {
        if (j->rc)
            ds_conn_respond_error(j->conn, j->rc, j->err);
        else
            respond_json(j->conn, 200, j->result);
    }
    ds_job_free(j);
    ds_srv_drain_check(s);
}

// ---- reading the document (a libuv worker thread)

static void work_ingest(uv_work_t *w) {
    ds_job *j = w->data;
    double t0 = ds_time_s();
    j->rc = ds_ingest_memory(j->data, j->size, &j->io, &j->doc);
    if (j->rc)
        snprintf(j->err, sizeof j->err, "%s", ds_errmsg()[0] ? ds_errmsg() : ds_strerror(j->rc));
    // the upload page draws the boxes on the pages: each as a PNG of at most 1200 px
    for (int p = 0; !j->rc && j->want_images && p < j->doc->n_pages; p++) {
        const ds_page *pg = &j->doc->pages[p];
        void *png = NULL;
        size_t len = 0;
        if (!j->images) j->images = json_array();
        if (ds_page_png_memory(pg, 1200, &png, &len) != 0) continue; // the answer goes on
        gchar *b64 = g_base64_encode(png, len);
        g_free(png);
        gchar *url = g_strconcat("data:image/png;base64,", b64, NULL);
        json_array_append_new(j->images, json_pack("{s:f, s:f, s:s}", "width_pt", pg->width_pt,
                                                   "height_pt", pg->height_pt, "png", url));
        g_free(b64);
        g_free(url);
    }
    j->ms_ingest = (ds_time_s() - t0) * 1e3;
    free(j->data); // the pages hold what the model needs
    j->data = NULL;
}

static void after_ingest(uv_work_t *w, int status) {
    ds_job *j = w->data;
    if (status == UV_ECANCELED && !j->rc) {
        j->rc = DS_E_BUSY;
        snprintf(j->err, sizeof j->err, "the server is shutting down");
    }
    if (!j->rc && !j->conn && !j->async_id[0]) { // nobody waits for it any more
        j->rc = DS_E_IO;
        snprintf(j->err, sizeof j->err, "the client went away");
    }
    if (j->rc) {
        ds_job_finish(j);
        return;
    }
    if (j->async_id[0]) ds_jobs_running(j->srv->jobs, j->async_id);
    ds_sched_submit(j->srv->sched, j);
}

// ---- the routes

static int query_value(const char *query, const char *key, char *out, size_t cap) {
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        if ((size_t)(end - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            size_t n = (size_t)(end - p) - kl - 1;
            if (n >= cap) n = cap - 1;
            memcpy(out, p + kl + 1, n);
            out[n] = 0;
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

int ds_srv_authorized(const ds_srv *s, const char *target, const char *authorization) {
    const char *key = s->cfg.api_key;
    size_t plen = strcspn(target, "?"); // the path, without the query
    int open = (plen == 1 && target[0] == '/') || (plen == 8 && !strncmp(target, "/healthz", 8));
    if (!key || open) return 1; // the upload page and the health check are public
    const char *a = authorization;
    if (strncasecmp(a, "Bearer ", 7)) return 0;
    a += 7;
    size_t n = strlen(key), m = strlen(a);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < n; i++) diff |= (unsigned)(key[i] ^ (i < m ? a[i] : 0));
    return diff == 0;
}

static void route_extract(ds_srv *s, ds_conn *c, const ds_request *r) {
    char type[64] = "", v[64];
    if (query_value(r->query, "type", type, sizeof type) && !ds_schema_find(s->schemas, type)) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "type=%s: no such document type (invoice, receipt, form, "
                 "contract)",
                 type);
        ds_conn_respond_error(c, DS_E_INVAL, msg);
        return;
    }
    const struct ds_lora *adapter = NULL;
    if (query_value(r->query, "adapter", v, sizeof v)) {
        int k = 0;
        while (k < s->cfg.n_adapters && strcmp(s->cfg.adapter_names[k], v) != 0) k++;
        if (k == s->cfg.n_adapters) {
            char msg[400], names[256] = "";
            for (int i = 0; i < s->cfg.n_adapters; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                         s->cfg.adapter_names[i]);
            snprintf(msg, sizeof msg,
                     "adapter=%s: no such adapter (this server has: %s; serve --adapter NAME=FILE "
                     "adds one)",
                     v, names[0] ? names : "none");
            ds_conn_respond_error(c, DS_E_INVAL, msg);
            return;
        }
        adapter = s->adapters[k];
    }
    ds_ingest_opts io = s->io;
    if (query_value(r->query, "ocr", v, sizeof v) && ds_ocr_mode_parse(v, &io.ocr) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "ocr=%s: takes " DS_OCR_MODE_CHOICES, v);
        ds_conn_respond_error(c, DS_E_INVAL, msg);
        return;
    }
    if (query_value(r->query, "ocr_layout", v, sizeof v) &&
        ds_ocr_layout_parse(v, &io.ocr_layout) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "ocr_layout=%s: takes " DS_OCR_LAYOUT_CHOICES, v);
        ds_conn_respond_error(c, DS_E_INVAL, msg);
        return;
    }
    int async = query_value(r->query, "async", v, sizeof v) && strcmp(v, "0") != 0;
    int images = query_value(r->query, "images", v, sizeof v) && strcmp(v, "0") != 0;
    const uint8_t *doc = r->body;
    size_t size = r->body_len;
    if (!strncasecmp(r->content_type, "multipart/", 10)) {
        char boundary[128];
        ds_multipart_part part;
        int rc = ds_multipart_boundary(r->content_type, boundary, sizeof boundary);
        if (!rc) rc = ds_multipart_find(r->body, r->body_len, boundary, "file", &part);
        if (rc) {
            ds_conn_respond_error(c, rc == DS_E_NOT_FOUND ? DS_E_INVAL : rc, ds_errmsg());
            return;
        }
        doc = part.data;
        size = part.size;
    }
    if (size == 0) {
        ds_conn_respond_error(c, DS_E_INVAL,
                              "no document: send it as the body (with its "
                              "Content-Type) or as the multipart part \"file\"");
        return;
    }
    if (atomic_load(&s->m.queue_depth) >= s->cfg.max_queue) {
        char msg[128];
        snprintf(msg, sizeof msg, "%d documents are in flight (--max-queue); retry later",
                 s->cfg.max_queue);
        ds_conn_respond_error(c, DS_E_BUSY, msg);
        return;
    }
    ds_job *j = calloc(1, sizeof *j);
    if (j) j->data = malloc(size);
    if (!j || !j->data) {
        free(j);
        ds_conn_respond_error(c, DS_E_NOMEM, "out of memory for the document");
        return;
    }
    memcpy(j->data, doc, size);
    j->size = size;
    j->srv = s;
    j->t_start = ds_time_s();
    snprintf(j->type, sizeof j->type, "%s", type);
    j->adapter = adapter;
    j->io = io;
    j->want_images = images;
    j->work.data = j;
    int rc = async ? ds_jobs_add(s->jobs, j->async_id) : 0;
    if (rc) {
        ds_job_free(j);
        ds_conn_respond_error(c, rc, ds_errmsg());
        return;
    }
    atomic_fetch_add(&s->m.queue_depth, 1);
    if (async) { // answered now; the job goes on without the connection
        char href[64];
        snprintf(href, sizeof href, "/v1/jobs/%s", j->async_id);
        json_t *o =
            json_pack("{s:s, s:s, s:s}", "job_id", j->async_id, "status", "queued", "href", href);
        respond_json(c, 202, o);
        json_decref(o);
    } else {
        j->conn = c;
        ds_conn_set_job(c, j);
    }
    if (uv_queue_work(s->loop, &j->work, work_ingest, after_ingest) != 0) {
        j->rc = DS_E_INTERNAL;
        snprintf(j->err, sizeof j->err, "cannot queue the document for reading");
        ds_job_finish(j);
    }
}

static void route_job(ds_srv *s, ds_conn *c, const char *id) {
    json_t *o = ds_jobs_get(s->jobs, id);
    if (!o) {
        char msg[128];
        snprintf(msg, sizeof msg, "no job %.40s (unknown, or expired after --job-ttl)", id);
        ds_conn_respond_error(c, DS_E_NOT_FOUND, msg);
        return;
    }
    respond_json(c, 200, o);
    json_decref(o);
}

// {"types": [{"doc_type", "description", "routed", "fields": [names]}], "adapters": [names],
//  "reading": {"ocr", "ocr_layout", "ocr_lang": the server's defaults, "ocr_layouts": [names]}}
static void route_types(ds_srv *s, ds_conn *c) {
    json_t *types = json_array(), *adapters = json_array();
    for (int i = 0; i < s->schemas->n; i++) {
        const ds_schema *sc = &s->schemas->schemas[i];
        json_t *fields = json_array();
        for (int k = 0; k < sc->n_fields; k++)
            json_array_append_new(fields, json_string(sc->fields[k].name));
        json_array_append_new(types, json_pack("{s:s, s:s, s:b, s:o}", "doc_type", sc->doc_type,
                                               "description", sc->description, "routed", sc->routed,
                                               "fields", fields));
    }
    for (int i = 0; i < s->cfg.n_adapters; i++)
        json_array_append_new(adapters, json_string(s->cfg.adapter_names[i]));
    json_t *layouts = json_array();
    for (ds_ocr_layout l = DS_OCR_LAYOUT_BLOCK; l <= DS_OCR_LAYOUT_SPARSE; l++)
        json_array_append_new(layouts, json_string(ds_ocr_layout_name(l)));
    json_t *o = json_pack("{s:o, s:o, s:{s:s, s:s, s:s, s:o}}", "types", types, "adapters",
                          adapters, "reading", "ocr", ds_ocr_mode_name(s->io.ocr), "ocr_layout",
                          ds_ocr_layout_name(s->io.ocr_layout), "ocr_lang",
                          s->io.ocr_lang ? s->io.ocr_lang : "eng", "ocr_layouts", layouts);
    if (!o)
        ds_conn_respond_error(c, DS_E_NOMEM, "out of memory");
    else
        respond_json(c, 200, o);
    json_decref(o);
}

void ds_route(ds_srv *s, ds_conn *c, const ds_request *r) {
    int get = r->method == HTTP_GET;
    if (!strcmp(r->path, "/") && get) { // the page itself is public; what it posts is not
        ds_conn_respond(c, 200, "text/html; charset=utf-8", ds_upload_page, strlen(ds_upload_page),
                        NULL);
        return;
    }
    if (!strcmp(r->path, "/healthz")) {
        if (!get) {
            ds_conn_respond_error(c, DS_E_INVAL, "/healthz takes GET");
            return;
        }
        json_t *o = json_pack("{s:s, s:s, s:f, s:i}", "status", s->draining ? "draining" : "ok",
                              "model", s->model_name, "uptime_s", ds_time_s() - s->t_start,
                              "queue_depth", atomic_load(&s->m.queue_depth));
        respond_json(c, s->draining ? 503 : 200, o);
        json_decref(o);
        return;
    }
    if (!ds_srv_authorized(s, r->path, r->authorization)) {
        ds_conn_respond_error(c, DS_E_UNAUTHORIZED,
                              "this server needs \"Authorization: Bearer KEY\" (--api-key-file)");
        return;
    }
    if (!strcmp(r->path, "/metrics") && get) {
        char *t = ds_metrics_text(s);
        if (!t)
            ds_conn_respond_error(c, DS_E_NOMEM, "out of memory");
        else
            ds_conn_respond(c, 200, "text/plain; version=0.0.4", t, strlen(t), NULL);
        free(t);
        return;
    }
    if (!strcmp(r->path, "/v1/extract")) {
        if (r->method != HTTP_POST)
            ds_conn_respond_error(c, DS_E_INVAL, "/v1/extract takes POST");
        else if (s->draining)
            ds_conn_respond_error(c, DS_E_BUSY, "the server is shutting down");
        else
            route_extract(s, c, r);
        return;
    }
    if (!strcmp(r->path, "/v1/types") && get) {
        route_types(s, c);
        return;
    }
    if (!strncmp(r->path, "/v1/jobs/", 9) && get) {
        route_job(s, c, r->path + 9);
        return;
    }
    char msg[300];
    snprintf(msg, sizeof msg,
             "%.200s: no such endpoint (GET /healthz, GET /metrics, POST /v1/extract, GET "
             "/v1/jobs/ID, GET /v1/types)",
             r->path);
    ds_conn_respond_error(c, DS_E_NOT_FOUND, msg);
}
