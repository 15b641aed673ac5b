// cmd-ingest.c: `docseek ingest DIR --out FILE`: extracts every document of a
// folder into JSON lines, for folders of thousands that a user leaves running.
// Worker threads read the files (hash, detect by content, render, OCR); the
// main thread owns the model and decodes the documents the workers have ready
// together, in batches (a decode step streams the weights once for all of
// them). Every file ends as one line in FILE, written as soon as it is done:
// the result (fusion/result.h) with its path and content hash, or an error line
// naming the error; the run goes on. FILE is also the record of the run
// (cli/journal.h): a rerun skips what it holds, so a run stopped at any point,
// even by kill -9, continues where it stopped and loses nothing. SIGINT or
// SIGTERM stop it cleanly: the documents already read are finished first.
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/extractor-opts.h"
#include "cli/ingest-opts.h"
#include "cli/journal.h"
#include "cli/progress.h"
#include "fusion/result.h"
#include "core/error.h"
#include "core/timer.h"
#include "fusion/extract.h"
#include "ingest/folder.h"

#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *usage_text =
    "usage: docseek ingest DIR --out FILE [options]\n"
    "Extracts every document under DIR (recursively; documents are told by their content,\n"
    "other files become error lines) and appends one JSON line per file to FILE: the\n"
    "result as `docseek extract` prints it, with the file's path and sha256, or\n"
    "{\"file\", \"sha256\", \"error\": {\"code\", \"message\"}}. Run it again with the same\n"
    "FILE after an interruption: files already in it (by path and content) are skipped;\n"
    "a file with the content of one already done gets a copy of its result\n"
    "(\"same_content_as\"). Hidden files and folders are left out; links to folders are not\n"
    "followed. Exit status: 0 all done, 1 some files failed, 130 interrupted, 2 usage.\n"
    "  --out FILE      the JSON lines (required); appended to, never overwritten\n"
    "  --jobs N        threads reading documents, and the model's compute threads\n"
    "                  (default: the CPUs online)\n"
    "  --batch N       documents the model decodes together (default 8, at most 64)\n"
    "  --glob PATTERN  only files whose name matches ('*.pdf'; case-insensitive; a pattern\n"
    "                  with '/' matches the path below DIR); repeat for several\n"
    "  --retry-failed  read again the files whose lines in FILE are errors (their lines\n"
    "                  are removed first)\n"
    "  --type T        the document type of every file (default: the model names "
    "it)\n" DS_CLI_EXTRACTOR_USAGE
    "  --log-every S   seconds between progress lines when stderr is no terminal (default "
    "10)\n" DS_CLI_INGEST_USAGE;

// A document read by a worker, waiting for the model.
typedef struct {
    int idx; // in the file list
    char sha256[65];
    ds_doc *doc;
    double ms_ingest;
} job;

typedef struct {
    // set up before the threads start, read-only after
    ds_folder_list files;
    ds_ingest_opts io;
    ds_journal *journal;
    const ds_schema_set *schemas;
    const char *type, *model_path;
    int batch;
    // work
    atomic_int next; // the next file a worker takes
    pthread_mutex_t mu;
    pthread_cond_t ready, room; // a job is queued / the queue has room
    job *queue;
    int q_head, q_n, q_cap;
    int workers_left;
    // Contents being read or extracted now (sha256 -> NULL): a second file with the
    // same content waits for the first one's line (landed), then copies its result.
    GHashTable *inflight;
    pthread_cond_t landed;
    atomic_int fatal; // a line could not be written (its error code): stop
    // counts, under mu
    int n_done, n_skipped, n_same, n_failed;
    int failed_by_code[32]; // by -code
    long pages;
    ds_progress progress;
} run;

static volatile sig_atomic_t stop_requested;

// The first SIGINT / SIGTERM stops the run cleanly; a second one ends it at once
// (nothing is lost: the output is the record, and a rerun continues).
static void on_signal(int sig) {
    stop_requested = 1;
    signal(sig, SIG_DFL);
}

static int stopping(run *r) {
    return stop_requested || atomic_load(&r->fatal);
}

// Records a finished file in the counts (under mu) and redraws the progress.
static void count(run *r, int err, int skipped, int same, int pages) {
    pthread_mutex_lock(&r->mu);
    r->n_done++;
    r->n_skipped += skipped;
    r->n_same += same;
    if (err) {
        r->n_failed++;
        int k = -err;
        if (k > 0 && k < (int)(sizeof r->failed_by_code / sizeof *r->failed_by_code))
            r->failed_by_code[k]++;
    }
    r->pages += pages;
    ds_progress_update(&r->progress, r->n_done, r->n_skipped, r->n_failed, r->pages, 0);
    pthread_mutex_unlock(&r->mu);
}

// Writes line o (consumed) of a finished file; a write failure stops the run.
// Content sha256 has its line (or will never get one): files waiting for it go on.
static void landed(run *r, const char *sha256) {
    if (!sha256 || !sha256[0]) return;
    pthread_mutex_lock(&r->mu);
    if (g_hash_table_remove(r->inflight, sha256)) pthread_cond_broadcast(&r->landed);
    pthread_mutex_unlock(&r->mu);
}

// Writes line o (consumed) of a finished file; a write failure stops the run.
static void emit(run *r, json_t *o, int err, int same, int pages) {
    int rc = o ? ds_journal_append(r->journal, o) : ds_error(DS_E_NOMEM, "ingest: out of memory");
    landed(r, json_string_value(json_object_get(o, "sha256")));
    json_decref(o);
    if (rc) {
        pthread_mutex_lock(&r->mu);
        if (!atomic_load(&r->fatal)) {
            atomic_store(&r->fatal, rc);
            ds_progress_end(&r->progress);
            fprintf(stderr, "docseek ingest: %s: %s; stopping\n", ds_err_name(rc), ds_errmsg());
        }
        pthread_cond_broadcast(&r->room);
        pthread_cond_broadcast(&r->landed);
        pthread_mutex_unlock(&r->mu);
        return;
    }
    count(r, err, 0, same, pages);
}

static void emit_error(run *r, const char *path, const char *sha256, int err) {
    ds_result_info ri = {.file = path, .sha256 = sha256 && sha256[0] ? sha256 : NULL};
    emit(r, ds_result_error(&ri, err), err, 0, 0);
}

// Reads file i: hashes it, skips it when the journal has it, else ingests it and
// queues it for the model (waiting while the queue is full).
static void read_one(run *r, int i) {
    const ds_folder_entry *e = &r->files.items[i];
    void *data = NULL;
    size_t size;
    char sha[65] = "";
    double t0 = ds_time_s();
    int rc = e->err ? ds_error(e->err, "%s", e->msg)
                    : ds_file_load_hashed(e->path, r->io.max_bytes, &data, &size, sha);
    json_t *copy = NULL;
    ds_journal_state st = ds_journal_lookup(r->journal, e->path, sha, &copy);
    if (st == DS_JOURNAL_NEW && sha[0]) {
        // one file of each content at a time: a copy waits for the first one's line
        int waited = 0;
        pthread_mutex_lock(&r->mu);
        while (g_hash_table_contains(r->inflight, sha) && !atomic_load(&r->fatal)) {
            pthread_cond_wait(&r->landed, &r->mu);
            waited = 1;
        }
        if (!waited) g_hash_table_add(r->inflight, g_strdup(sha));
        pthread_mutex_unlock(&r->mu);
        if (waited) { // look again: the first one's result, or its error (then read this one)
            free(data);
            read_one(r, i);
            return;
        }
    }
    if (st == DS_JOURNAL_DONE) {
        free(data);
        count(r, 0, 1, 0, 0);
        return;
    }
    if (st == DS_JOURNAL_SAME_AS) {
        free(data);
        emit(r, copy, 0, 1, 0); // no pages read
        return;
    }
    ds_doc *doc = NULL;
    if (!rc) rc = ds_ingest_memory(data, size, &r->io, &doc);
    free(data);
    if (rc) {
        emit_error(r, e->path, sha, rc);
        return;
    }
    pthread_mutex_lock(&r->mu);
    while (r->q_n == r->q_cap && !atomic_load(&r->fatal)) pthread_cond_wait(&r->room, &r->mu);
    if (atomic_load(&r->fatal)) {
        pthread_mutex_unlock(&r->mu);
        ds_doc_free(doc);
        landed(r, sha);
        return;
    }
    job *j = &r->queue[(r->q_head + r->q_n++) % r->q_cap];
    *j = (job){.idx = i, .doc = doc, .ms_ingest = (ds_time_s() - t0) * 1e3};
    memcpy(j->sha256, sha, sizeof sha);
    pthread_cond_signal(&r->ready);
    pthread_mutex_unlock(&r->mu);
}

static void *worker(void *arg) {
    run *r = arg;
    for (;;) {
        if (stopping(r)) break;
        int i = atomic_fetch_add(&r->next, 1);
        if (i >= r->files.n) break;
        read_one(r, i);
    }
    pthread_mutex_lock(&r->mu);
    r->workers_left--;
    pthread_cond_broadcast(&r->ready);
    pthread_mutex_unlock(&r->mu);
    ds_ingest_thread_cleanup(); // this thread's OCR engine
    return NULL;
}

// The model's loop (the calling thread): takes up to batch ready documents at a
// time, extracts them together and writes their lines, until the workers are done
// and the queue is empty.
static void model_loop(run *r, ds_extractor *x) {
    job jobs[DS_EXTRACT_MAX_BATCH];
    const ds_doc *docs[DS_EXTRACT_MAX_BATCH];
    const char *types[DS_EXTRACT_MAX_BATCH];
    json_t *preds[DS_EXTRACT_MAX_BATCH];
    int rcs[DS_EXTRACT_MAX_BATCH];
    char errs[DS_EXTRACT_MAX_BATCH][DS_EXTRACT_ERR_LEN];
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (r->q_n == 0 && r->workers_left > 0) pthread_cond_wait(&r->ready, &r->mu);
        int n = r->q_n < r->batch ? r->q_n : r->batch;
        for (int k = 0; k < n; k++) jobs[k] = r->queue[(r->q_head + k) % r->q_cap];
        r->q_head = (r->q_head + n) % r->q_cap;
        r->q_n -= n;
        pthread_cond_broadcast(&r->room);
        pthread_mutex_unlock(&r->mu);
        if (n == 0) break; // no worker left and nothing queued
        for (int k = 0; k < n; k++) docs[k] = jobs[k].doc, types[k] = r->type;
        double t0 = ds_time_s();
        int fatal = atomic_load(&r->fatal);
        if (!fatal) ds_extractor_docs(x, docs, types, n, preds, rcs, errs);
        double ms = (ds_time_s() - t0) * 1e3 / n;
        for (int k = 0; k < n; k++) {
            const char *path = r->files.items[jobs[k].idx].path;
            if (!fatal) {
                ds_result_info ri = {.file = path,
                                     .sha256 = jobs[k].sha256,
                                     .model = r->model_path,
                                     .ms_ingest = jobs[k].ms_ingest,
                                     .ms_model = ms,
                                     .batch = n};
                if (rcs[k]) {
                    ds_error(rcs[k], "%s", errs[k]); // this document's detail, for its line
                    emit_error(r, path, jobs[k].sha256, rcs[k]);
                } else
                    emit(r, ds_result_json(&ri, preds[k], jobs[k].doc, r->schemas), 0, 0,
                         jobs[k].doc->n_pages);
                json_decref(preds[k]);
            }
            ds_doc_free(jobs[k].doc);
        }
    }
}

static void summary(run *r, const char *out, double seconds, int jobs) {
    ds_progress_end(&r->progress);
    int extracted = r->n_done - r->n_skipped - r->n_same - r->n_failed;
    fprintf(stderr,
            "docseek ingest: %d files: %d extracted, %d already in %s, %d with the "
            "content of another, %d failed",
            r->files.n, extracted, r->n_skipped, out, r->n_same, r->n_failed);
    const char *sep = " (";
    for (int k = 1; k < (int)(sizeof r->failed_by_code / sizeof *r->failed_by_code); k++)
        if (r->failed_by_code[k]) {
            fprintf(stderr, "%s%s %d", sep, ds_err_name(-k), r->failed_by_code[k]);
            sep = ", ";
        }
    fprintf(stderr, "%s\n", sep[0] == ',' ? ")" : "");
    fprintf(stderr,
            "docseek ingest: %ld pages in %.1f s: %.2f pages/s, %.2f documents/s (%d jobs, "
            "batch %d)\n",
            r->pages, seconds, seconds > 0 ? r->pages / seconds : 0,
            seconds > 0 ? (r->n_done - r->n_skipped) / seconds : 0, jobs, r->batch);
    if (r->n_done < r->files.n)
        fprintf(stderr,
                "docseek ingest: stopped with %d files not done; run the same command "
                "again to continue\n",
                r->files.n - r->n_done);
}

typedef struct {
    const char *dir, *out, *type;
    const char *globs[64];
    int n_globs, jobs, batch, retry_failed;
    double log_every;
    ds_extractor_cfg x; // the model and how it reads (threads and batch set from jobs, batch)
    ds_ingest_opts io;
} ingest_args;

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out) {
    int rc = ds_cli_int(flag, s, lo, hi, out);
    if (rc) fprintf(stderr, "docseek ingest: %s\n", ds_errmsg());
    return rc;
}

// Returns 0, or the exit status for a usage error (2) or --help (0 after printing, -1).
static int parse_args(int argc, char **argv, ingest_args *a) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *a = (ingest_args){.jobs = cpus > 0 ? (int)(cpus < 64 ? cpus : 64) : 1,
                       .batch = 8,
                       .log_every = 10,
                       .x = ds_cli_extractor_defaults()}; // threads: from jobs
    ds_ingest_opts_default(&a->io);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int k;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            fputs(usage_text, stdout);
            return -1;
        } else if (ds_cli_extractor_option(argc, argv, &i, &a->x)) {
            continue; // the model's options, read into a->x
        } else if (!strcmp(s, "--retry-failed")) {
            a->retry_failed = 1;
        } else if ((k = ds_cli_ingest_option("ingest", argc, argv, &i, &a->io)) != 0) {
            if (k < 0) return 2;
        } else if (v && !strcmp(s, "--jobs")) {
            if (parse_int(s, argv[++i], 1, 64, &a->jobs)) return 2;
        } else if (v && !strcmp(s, "--batch")) {
            if (parse_int(s, argv[++i], 1, DS_EXTRACT_MAX_BATCH, &a->batch)) return 2;
        } else if (v && !strcmp(s, "--log-every")) {
            if (ds_cli_real(s, argv[++i], 0.1, 86400, &a->log_every)) {
                fprintf(stderr, "docseek ingest: %s\n", ds_errmsg());
                return 2;
            }
        } else if (v && !strcmp(s, "--glob")) {
            if (a->n_globs == (int)(sizeof a->globs / sizeof *a->globs)) {
                fprintf(stderr, "docseek ingest: more than %d --glob patterns\n", a->n_globs);
                return 2;
            }
            a->globs[a->n_globs++] = argv[++i];
        } else if (v && s[0] == '-' && s[1] == '-') {
            const char **dst = !strcmp(s, "--out")    ? &a->out
                               : !strcmp(s, "--type") ? &a->type
                                                      : NULL;
            if (!dst) {
                fprintf(stderr, "docseek ingest: unknown option '%s'\n%s", s, usage_text);
                return 2;
            }
            *dst = argv[++i];
        } else if (s[0] == '-' || a->dir) {
            fprintf(stderr, "docseek ingest: unexpected argument '%s'\n%s", s, usage_text);
            return 2;
        } else {
            a->dir = s;
        }
    }
    if (!a->dir || !a->out) {
        fprintf(stderr, "docseek ingest: needs a folder and --out FILE\n%s", usage_text);
        return 2;
    }
    return 0;
}

// Runs the workers and the model loop over r's files; returns the exit status.
static int run_all(run *r, ds_extractor *x, const ingest_args *a) {
    pthread_t th[64];
    int started = 0;
    double t0 = ds_time_s();
    r->q_cap = 2 * r->batch + a->jobs; // bounded: at most this many documents in memory
    r->queue = calloc((size_t)r->q_cap, sizeof *r->queue);
    if (!r->queue) return ds_cli_fail("ingest", ds_error(DS_E_NOMEM, "ingest: out of memory"));
    ds_progress_init(&r->progress, stderr, "docseek ingest", r->files.n, a->log_every);
    pthread_mutex_lock(&r->mu);
    r->workers_left = a->jobs;
    pthread_mutex_unlock(&r->mu);
    for (int t = 0; t < a->jobs; t++) {
        if (pthread_create(&th[t], NULL, worker, r) != 0) {
            pthread_mutex_lock(&r->mu);
            r->workers_left -= a->jobs - t; // the ones that did not start
            pthread_mutex_unlock(&r->mu);
            if (!started) {
                free(r->queue);
                return ds_cli_fail("ingest", ds_error(DS_E_NOMEM, "cannot start a thread"));
            }
            break;
        }
        started++;
    }
    model_loop(r, x);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    pthread_mutex_lock(&r->mu);
    ds_progress_update(&r->progress, r->n_done, r->n_skipped, r->n_failed, r->pages, 1);
    pthread_mutex_unlock(&r->mu);
    summary(r, a->out, ds_time_s() - t0, a->jobs);
    free(r->queue);
    if (atomic_load(&r->fatal)) return 1;
    if (r->n_done < r->files.n) return 130;
    return r->n_failed ? 1 : 0;
}

int ds_cmd_ingest(int argc, char **argv) {
    ingest_args a;
    int st = parse_args(argc, argv, &a);
    if (st) return st < 0 ? 0 : st;
    if (!getenv("OMP_THREAD_LIMIT"))
        fprintf(stderr, "docseek ingest: warning: OMP_THREAD_LIMIT is not set: OCR of scans runs "
                        "several times slower (set OMP_THREAD_LIMIT=1)\n");
    run r = {.schemas = NULL, .type = a.type, .model_path = a.x.model, .batch = a.batch};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.ready, NULL);
    pthread_cond_init(&r.room, NULL);
    pthread_cond_init(&r.landed, NULL);
    r.inflight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ds_extractor *x = NULL;
    ds_journal_loaded ld;
    ds_extractor_cfg cfg = a.x;
    cfg.threads = a.jobs;
    cfg.max_batch = a.batch;
    int rc = ds_extractor_open(&cfg, &x);
    if (!rc) r.schemas = ds_extractor_schemas(x);
    if (!rc && a.type && !ds_schema_find(r.schemas, a.type))
        rc =
            ds_error(DS_E_INVAL, "--type %s: no such document type in %s", a.type, a.x.schemas_dir);
    if (!rc) {
        r.io = a.io;
        ds_extractor_ingest_model(x, &r.io); // the model's encoder input
        rc = ds_journal_open(a.out, a.retry_failed, &r.journal, &ld);
    }
    if (!rc) {
        struct stat out_st;
        int have = stat(a.out, &out_st) == 0;
        rc = ds_folder_walk(a.dir, a.globs, a.n_globs, have ? &out_st : NULL, &r.files);
    }
    if (!rc) {
        if (ld.torn_bytes)
            fprintf(stderr,
                    "docseek ingest: %s: cut off an unfinished last line (%ld bytes) of "
                    "an interrupted run\n",
                    a.out, ld.torn_bytes);
        if (ld.retried)
            fprintf(stderr,
                    "docseek ingest: %s: removed %d error lines to read those files again\n", a.out,
                    ld.retried);
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        st = run_all(&r, x, &a);
        if (ds_journal_sync(r.journal) != 0) { // the lines may not be on the disk
            fprintf(stderr, "docseek ingest: %s\n", ds_errmsg());
            st = st ? st : 1;
        }
    }
    ds_journal_close(r.journal);
    ds_folder_list_free(&r.files);
    ds_extractor_free(x);
    ds_ingest_thread_cleanup();
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.ready);
    pthread_cond_destroy(&r.room);
    pthread_cond_destroy(&r.landed);
    g_hash_table_destroy(r.inflight);
    return rc ? ds_cli_fail("ingest", rc) : st;
}
