// server.c: see server.h. Start-up (model, extractor, scheduler, listener,
// signals), the accept callback, and the graceful stop: the first SIGTERM or
// SIGINT closes the listener and the idle connections; requests in flight are
// answered (Connection: close); when none is left the loop runs out of
// handles and ds_serve_run returns 0.
#include "server/server.h"

#include "core/error.h"
#include "core/log.h"
#include "core/timer.h"
#include "fusion/lora.h"
#include "server/jobs.h"
#include "server/scheduler.h"
#include "server/server-impl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ds_serve_cfg_default(ds_serve_cfg *c) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus > 0 ? (int)(cpus < 64 ? cpus : 64) : 1;
    *c = (ds_serve_cfg){.host = "127.0.0.1",
                        .port = 8080,
                        .model = "models/default.safetensors",
                        .schemas = "samples/schemas",
                        .max_body = 64u << 20,
                        .max_header_bytes = 16384,
                        .max_headers = 64,
                        .max_pages = 50,
                        .max_pixels = 100000000,
                        .doc_timeout = 60,
                        .request_timeout = 120,
                        .read_timeout_ms = 30000,
                        .idle_timeout_ms = 60000,
                        .workers = n,
                        .threads = n,
                        .max_queue = 64,
                        .max_batch = 8,
                        .max_wait_ms = 5,
                        .job_ttl = 3600,
                        .ocr = -1,
                        .ocr_layout = -1};
}

static void on_connection(uv_stream_t *server, int status) {
    ds_srv *s = server->data;
    if (status < 0 || s->draining) return;
    ds_conn_accept(s);
}

static void on_signal(uv_signal_t *h, int signum) {
    ds_srv *s = h->data;
    if (s->draining) return;
    DS_LOGI("serve: %s: no new connections; finishing %d document(s) in flight",
            signum == SIGTERM ? "SIGTERM" : "SIGINT", atomic_load(&s->m.queue_depth));
    s->draining = 1;
    if (s->listening) uv_close((uv_handle_t *)&s->listener, NULL);
    s->listening = 0;
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    ds_srv_drain_check(s);
}

// Each worker thread of libuv's pool holds an OCR engine (ingest's per-thread
// state) that must be freed on that thread before the process exits (Tesseract's
// own caches complain otherwise). One cleanup job per thread, each held at a
// barrier until all have started, lands exactly one on every thread.
static pthread_barrier_t cleanup_barrier;

static void work_cleanup(uv_work_t *w) {
    (void)w;
    ds_ingest_thread_cleanup();
    pthread_barrier_wait(&cleanup_barrier);
}

static void after_cleanup(uv_work_t *w, int status) {
    (void)status;
    free(w);
}

static void cleanup_workers(ds_srv *s) {
    int n = s->cfg.workers;
    if (pthread_barrier_init(&cleanup_barrier, NULL, (unsigned)n) != 0) return;
    s->barrier_used = 1;
    for (int i = 0; i < n; i++) {
        uv_work_t *w = malloc(sizeof *w);
        if (!w || uv_queue_work(s->loop, w, work_cleanup, after_cleanup) != 0) {
            // cannot happen with an idle pool; the barrier would then never open
            free(w);
            DS_LOGW("serve: cannot queue the OCR engines' cleanup");
            return;
        }
    }
}

void ds_srv_drain_check(ds_srv *s) {
    if (!s->draining || atomic_load(&s->m.queue_depth) > 0 || !s->sched) return;
    ds_conn_close_idle(s);
    cleanup_workers(s);
    ds_sched *sc = s->sched;
    s->sched = NULL;
    ds_sched_stop(sc); // idle now; the loop then runs out of handles
}

static int start_listening(ds_srv *s) {
    struct sockaddr_storage addr;
    const ds_serve_cfg *c = &s->cfg;
    if (uv_ip4_addr(c->host, c->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(c->host, c->port, (struct sockaddr_in6 *)&addr) != 0)
        return ds_error(DS_E_INVAL, "--host %s: not an IPv4 or IPv6 address", c->host);
    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    int e = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
    if (!e) e = uv_listen((uv_stream_t *)&s->listener, 256, on_connection);
    if (e) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        return ds_error(DS_E_IO, "cannot listen on %s:%d: %s", c->host, c->port, uv_strerror(e));
    }
    s->listening = 1;
    struct sockaddr_storage bound;
    int len = sizeof bound;
    int port = c->port;
    if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len) == 0)
        port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    char where[256];
    DS_LOGI("serve: listening on http://%s:%d (model %s, computing on %s)", c->host, port,
            s->model_name, ds_ctx_describe(ds_extractor_ctx(s->x), where, sizeof where));
    if (c->port_file) {
        FILE *f = fopen(c->port_file, "w");
        if (!f) return ds_error(DS_E_IO, "%s: cannot write the port", c->port_file);
        fprintf(f, "%d\n", port);
        fclose(f);
    }
    return 0;
}

int ds_serve_run(const ds_serve_cfg *cfg) {
    ds_srv *s = calloc(1, sizeof *s);
    if (!s) return ds_error(DS_E_NOMEM, "serve: out of memory");
    s->cfg = *cfg;
    s->model_name = cfg->model;
    s->t_start = ds_time_s();
    uv_loop_t loop;
    int loop_ok = 0;
    // libuv's pool reads documents; its size is read once, at its first use
    char n_workers[16];
    snprintf(n_workers, sizeof n_workers, "%d", cfg->workers);
    setenv("UV_THREADPOOL_SIZE", n_workers, 1);
    ds_extractor_cfg xc = {.model = cfg->model,
                           .adapter = cfg->adapter,
                           .schemas_dir = cfg->schemas,
                           .calibration = cfg->calibration,
                           .threads = cfg->threads,
                           .device = cfg->device,
                           .max_batch = cfg->max_batch,
                           .no_type_adapters = cfg->no_type_adapters,
                           .opts = {.windows = 1}};
    int rc = ds_extractor_open(&xc, &s->x);
    if (!rc) s->schemas = ds_extractor_schemas(s->x);
    for (int i = 0; !rc && i < cfg->n_adapters; i++)
        rc = ds_lora_load(cfg->adapter_files[i], ds_extractor_model(s->x), &s->adapters[i]);
    if (!rc) {
        ds_extractor_ingest_opts(s->x, &s->io);
        s->io.max_bytes = cfg->max_body;
        s->io.max_pages = cfg->max_pages;
        s->io.max_pixels = cfg->max_pixels;
        s->io.max_seconds = cfg->doc_timeout;
        if (cfg->ocr >= 0) s->io.ocr = (ds_ocr_mode)cfg->ocr;
        if (cfg->ocr_layout >= 0) s->io.ocr_layout = (ds_ocr_layout)cfg->ocr_layout;
        rc = uv_loop_init(&loop) ? ds_error(DS_E_INTERNAL, "uv_loop_init failed") : 0;
        loop_ok = !rc;
        s->loop = &loop;
    }
    if (!rc) rc = ds_jobs_new(&loop, cfg->job_ttl, &s->jobs);
    if (!rc)
        rc = ds_sched_start(s, s->x, cfg->max_batch, cfg->max_wait_ms, &loop, ds_job_finish,
                            &s->sched);
    if (!rc) rc = ds_ingest_libs_init(); // before the first request, not in it
    if (!rc) rc = start_listening(s);
    if (!rc) {
        uv_signal_init(&loop, &s->sigterm);
        uv_signal_init(&loop, &s->sigint);
        s->sigterm.data = s->sigint.data = s;
        uv_signal_start(&s->sigterm, on_signal, SIGTERM);
        uv_signal_start(&s->sigint, on_signal, SIGINT);
        uv_run(&loop, UV_RUN_DEFAULT);
        DS_LOGI("serve: stopped; %ld documents extracted", atomic_load(&s->m.documents));
    } else if (s->sched) {
        ds_sched_stop(s->sched);
    }
    ds_jobs_free(s->jobs);
    if (loop_ok) {
        uv_run(&loop, UV_RUN_DEFAULT); // what closing left
        uv_loop_close(&loop);
    }
    if (s->barrier_used) pthread_barrier_destroy(&cleanup_barrier);
    ds_extractor_free(s->x);
    for (int i = 0; i < cfg->n_adapters; i++) ds_lora_free(s->adapters[i]);
    free(s);
    return rc;
}
