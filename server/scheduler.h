// scheduler.h: the one thread that owns the model, with continuous
// batching. Jobs whose documents are read arrive from the loop thread; every
// turn, those waiting join the extractor's stream while it has room (up to
// max_batch documents at once), one prefill piece and one decode step run for
// all of them (fusion/extract.h, ds_extractor_step), and each job whose
// answer is complete leaves at once and goes back to the loop thread
// (uv_async_send), which answers it. So a job never waits for a whole batch
// to end, and a long prefill holds the others up by one layer at most. An
// idle model with one job waits up to max_wait_ms for others to join it, only
// while other documents are being read.
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
