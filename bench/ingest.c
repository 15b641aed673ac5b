// ingest.c: bench_ingest [DIR...] [--jobs N] [--dpi N] ingests every file under
// each folder (default: the three folders of ../shared/data) and prints, per
// folder, documents, pages, pages/s and words/page, with PDF text-layer pages
// and OCR pages counted apart, plus the mean time per page of each stage.
// Documents are spread over N threads (default 1), one document per thread at
// a time, as the server's ingest workers will. Not a test: nothing asserts.
#include "core/error.h"
#include "core/timer.h"
#include "ingest/folder.h"
#include "ingest/ingest.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    ds_folder_list files;
    atomic_int next;
    ds_ingest_opts opts;
    pthread_mutex_t mu;
    // totals, by text source
    int docs, failed, pages[2], words[2];
    double ms_render[2], ms_text[2], ms_ocr[2];
} bench_set;

static void *worker(void *p) {
    bench_set *s = p;
    for (;;) {
        int i = atomic_fetch_add(&s->next, 1);
        if (i >= s->files.n) break;
        ds_doc *doc;
        int rc = ds_ingest_file(s->files.items[i].path, &s->opts, &doc);
        pthread_mutex_lock(&s->mu);
        if (rc) {
            // Sets hold labels and notes beside the documents (UNSUPPORTED: counted only);
            // anything else is a document that failed, and is named.
            s->failed++;
            if (rc != DS_E_UNSUPPORTED)
                printf("  FAILED %s: %s: %s\n", s->files.items[i].path, ds_err_name(rc),
                       ds_errmsg());
        } else {
            s->docs++;
            for (int k = 0; k < doc->n_pages; k++) {
                const ds_page *pg = &doc->pages[k];
                int src = pg->ocr_used;
                s->pages[src]++;
                s->words[src] += pg->n_words;
                s->ms_render[src] += pg->ms_render;
                s->ms_text[src] += pg->ms_text;
                s->ms_ocr[src] += pg->ms_ocr;
            }
        }
        pthread_mutex_unlock(&s->mu);
        ds_doc_free(doc);
    }
    ds_ingest_thread_cleanup();
    return NULL;
}

static void run_set(const char *dir, int jobs, const ds_ingest_opts *opts) {
    bench_set s;
    memset(&s, 0, sizeof s);
    s.opts = *opts;
    pthread_mutex_init(&s.mu, NULL);
    if (ds_folder_walk(dir, NULL, 0, NULL, &s.files) || s.files.n == 0) {
        printf("%-40s no files\n", dir);
        return;
    }
    double t0 = ds_time_s();
    pthread_t th[64];
    for (int j = 0; j < jobs; j++) pthread_create(&th[j], NULL, worker, &s);
    for (int j = 0; j < jobs; j++) pthread_join(th[j], NULL);
    double secs = ds_time_s() - t0;
    int pages = s.pages[0] + s.pages[1];
    printf("%s: %d documents (%d files not read), %d pages in %.2f s = %.2f pages/s with %d "
           "job(s)\n",
           dir, s.docs, s.failed, pages, secs, pages / secs, jobs);
    const char *names[2] = {"pdf text layer", "ocr"};
    for (int src = 0; src < 2; src++) {
        int n = s.pages[src];
        if (!n) continue;
        printf("  %-15s %4d pages  %7.1f words/page  ms/page: render %.1f  text %.1f  ocr %.1f\n",
               names[src], n, (double)s.words[src] / n, s.ms_render[src] / n, s.ms_text[src] / n,
               s.ms_ocr[src] / n);
    }
    ds_folder_list_free(&s.files);
    pthread_mutex_destroy(&s.mu);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    ds_ingest_opts opts;
    ds_ingest_opts_default(&opts);
    int jobs = 1;
    const char *dirs[32];
    int n_dirs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dpi") == 0 && i + 1 < argc)
            opts.dpi = (float)atof(argv[++i]);
        else if (argv[i][0] != '-' && n_dirs < 32)
            dirs[n_dirs++] = argv[i];
        else {
            fprintf(stderr, "usage: bench_ingest [DIR...] [--jobs N] [--dpi N]\n");
            return 2;
        }
    }
    jobs = jobs < 1 ? 1 : jobs > 64 ? 64 : jobs;
    if (n_dirs == 0) {
        static const char *defaults[] = {"../shared/data/sroie-dev", "../shared/data/funsd-dev",
                                         "../shared/data/kleister-nda-dev"};
        for (int i = 0; i < 3; i++) dirs[n_dirs++] = defaults[i];
    }
    if (!getenv("OMP_THREAD_LIMIT"))
        printf("note: OMP_THREAD_LIMIT is not set; OCR figures will be ~7x slow\n");
    printf("dpi %.0f, ocr auto, encoder input %d px\n", opts.dpi, opts.enc_size);
    for (int i = 0; i < n_dirs; i++) run_set(dirs[i], jobs, &opts);
    return 0;
}
