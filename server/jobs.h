// jobs.h: the table of asynchronous extractions (POST /v1/extract?async=1
// answers 202 with an id; GET /v1/jobs/{id} tells its status and, once done,
// its answer). Entries are kept until job_ttl seconds after they finish, then
// dropped by a periodic sweep; they live in memory only, so a restart loses
// them. Loop thread only.
#ifndef DS_JOBS_H
#define DS_JOBS_H

#include <jansson.h>
#include <uv.h>

typedef struct ds_job_table ds_job_table;

// A table whose finished entries expire ttl seconds after they finish.
int ds_jobs_new(uv_loop_t *loop, double ttl, ds_job_table **out);
// Stops the sweep and frees the table (the loop must run once more for the timer's
// close). NULL is a no-op.
void ds_jobs_free(ds_job_table *t);
// A new queued entry; id (33 bytes) receives its random 128-bit hex id. 0 or DS_E*.
int ds_jobs_add(ds_job_table *t, char id[33]);
// The document was read and waits for the model.
void ds_jobs_running(ds_job_table *t, const char *id);
// Done: the answer (its HTTP status and JSON object, borrowed) is kept until expiry.
void ds_jobs_done(ds_job_table *t, const char *id, int status, const json_t *answer);
// The status object of id ({"job_id", "status": queued|running|done|failed, and
// "result" or "error"}), new reference; NULL when there is no such entry (expired).
json_t *ds_jobs_get(ds_job_table *t, const char *id);

#endif
