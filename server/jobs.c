// jobs.c: see jobs.h.
#include "server/jobs.h"

#include "core/error.h"
#include "core/timer.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

enum { QUEUED, RUNNING, DONE, FAILED };
static const char *status_name[] = {"queued", "running", "done", "failed"};

typedef struct {
    int status;
    json_t *answer; // done: the result; failed: the error object
    double t_done;
} entry;

struct ds_job_table {
    GHashTable *map; // id -> entry
    uv_timer_t sweep;
    double ttl;
};

static void free_entry(gpointer p) {
    entry *e = p;
    json_decref(e->answer);
    free(e);
}

static gboolean expired(gpointer key, gpointer value, gpointer user) {
    (void)key;
    const entry *e = value;
    const double *now_ttl = user;
    return e->status >= DONE && now_ttl[0] - e->t_done > now_ttl[1];
}

static void on_sweep(uv_timer_t *h) {
    ds_job_table *t = h->data;
    double now_ttl[2] = {ds_time_s(), t->ttl};
    g_hash_table_foreach_remove(t->map, expired, now_ttl);
}

int ds_jobs_new(uv_loop_t *loop, double ttl, ds_job_table **out) {
    ds_job_table *t = calloc(1, sizeof *t);
    if (!t) return ds_error(DS_E_NOMEM, "jobs: out of memory");
    t->map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_entry);
    t->ttl = ttl;
    uv_timer_init(loop, &t->sweep);
    t->sweep.data = t;
    uint64_t every = (uint64_t)(ttl * 1000 / 4);
    every = every < 100 ? 100 : every > 60000 ? 60000 : every;
    uv_timer_start(&t->sweep, on_sweep, every, every);
    uv_unref((uv_handle_t *)&t->sweep); // the sweep alone does not keep the loop running
    *out = t;
    return 0;
}

static void on_closed(uv_handle_t *h) {
    ds_job_table *t = h->data;
    g_hash_table_destroy(t->map);
    free(t);
}

void ds_jobs_free(ds_job_table *t) {
    if (!t) return;
    uv_close((uv_handle_t *)&t->sweep, on_closed);
}

int ds_jobs_add(ds_job_table *t, char id[33]) {
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return ds_error(DS_E_INTERNAL, "jobs: no random bytes for an id");
    for (int i = 0; i < 16; i++) snprintf(id + 2 * i, 3, "%02x", r[i]);
    entry *e = calloc(1, sizeof *e);
    if (!e) return ds_error(DS_E_NOMEM, "jobs: out of memory");
    e->status = QUEUED;
    g_hash_table_insert(t->map, g_strdup(id), e);
    return 0;
}

void ds_jobs_running(ds_job_table *t, const char *id) {
    entry *e = g_hash_table_lookup(t->map, id);
    if (e && e->status == QUEUED) e->status = RUNNING;
}

void ds_jobs_done(ds_job_table *t, const char *id, int status, const json_t *answer) {
    entry *e = g_hash_table_lookup(t->map, id);
    if (!e) return;
    e->status = status == 200 ? DONE : FAILED;
    e->answer = json_deep_copy(answer);
    e->t_done = ds_time_s();
}

json_t *ds_jobs_get(ds_job_table *t, const char *id) {
    const entry *e = g_hash_table_lookup(t->map, id);
    if (!e) return NULL;
    json_t *o = json_pack("{s:s, s:s}", "job_id", id, "status", status_name[e->status]);
    if (o && e->answer)
        json_object_set(o, e->status == DONE ? "result" : "error",
                        e->status == DONE ? e->answer : json_object_get(e->answer, "error"));
    return o;
}
