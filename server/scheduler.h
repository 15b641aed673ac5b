// scheduler.h: the one thread that owns the model. Jobs whose documents are
// read arrive from the loop thread; the scheduler decodes those that are
// ready together, up to max_batch, waiting up to max_wait_ms for a batch to
// fill once one job is there (only while other documents are being read),
// and hands each finished job back to the loop thread (uv_async_send), which
// answers it. A batch runs to its end: jobs arriving meanwhile wait for the
// next one (not yet continuous batching, where they would join at the next
// decode step).
#ifndef DS_SCHEDULER_H
#define DS_SCHEDULER_H

#include "server/server-impl.h"

typedef struct ds_sched ds_sched;

// Starts the thread. done(job) runs on loop's thread for every job submitted.
int ds_sched_start(ds_srv *srv, ds_extractor *x, int max_batch, int max_wait_ms, uv_loop_t *loop,
                   void (*done)(ds_job *), ds_sched **out);
// Queues a job whose document is read (any thread).
void ds_sched_submit(ds_sched *s, ds_job *j);
// Finishes the queued jobs, stops the thread and closes its async handle (loop thread;
// the loop must run once more for the close). NULL is a no-op.
void ds_sched_stop(ds_sched *s);

#endif
