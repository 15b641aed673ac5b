// libs.c: one-time start of libvips and the routing of GLib-based libraries'
// messages (libvips, Poppler) and Leptonica's into docseek's log, so a damaged
// file's warnings land in our log lines instead of raw on stderr.
// libvips runs with one worker thread per call and no operation cache:
// documents are ingested in parallel on our own worker threads, and a cache
// would hold references to request buffers long after the request. Its orc
// (run-time compiled SIMD) code is off: with orc 0.4.33 (Debian 12), freeing
// an operation's compiled program while another thread compiles or frees one
// crashes in orc_code_free. ingest_threads_in_parallel (4 threads reading
// images) crashed in 5 of 10 runs with orc on, 0 of 10 with it off, and
// extract latency is the same within noise (build/bench_extract).
// Poppler draws one blank page here for the same reason (see ds_pdf_first_render).
#include "core/error.h"
#include "core/log.h"
#include "ingest/ingest-impl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include <vips/vector.h> // needs vips.h first
#include <leptonica/allheaders.h>

static pthread_once_t ds_libs_once = PTHREAD_ONCE_INIT;
static int ds_libs_status;

static void glib_to_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
                        gpointer user) {
    (void)user;
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        DS_LOGW("%s: %s", domain ? domain : "glib", message);
    else
        DS_LOGD("%s: %s", domain ? domain : "glib", message);
}

// Leptonica (Tesseract's image library) prints its complaints to stderr itself:
// "Error in boxClipToRectangle: box outside rectangle" from Tesseract's layout
// analysis (--ocr-layout auto) on a worn thermal print, with nothing wrong in the
// reading. They go to the log at debug level, where the rest of OCR's chatter goes.
static void leptonica_to_log(const char *message) {
    size_t n = strlen(message);
    while (n && message[n - 1] == '\n') n--;
    DS_LOGD("leptonica: %.*s", (int)n, message);
}

static void libs_start(void) {
    static const char *domains[] = {"VIPS", "Poppler", "GLib-GObject", "GLib"};
    for (size_t i = 0; i < sizeof domains / sizeof *domains; i++)
        g_log_set_handler(domains[i], G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                          glib_to_log, NULL);
    leptSetStderrHandler(leptonica_to_log);
    if (VIPS_INIT("docseek") != 0) {
        ds_libs_status = -1;
        return;
    }
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_vector_set_enabled(FALSE);
    ds_pdf_first_render();
    if (!getenv("OMP_THREAD_LIMIT"))
        DS_LOGW("OMP_THREAD_LIMIT is not set: OCR runs ~7x slower. Set OMP_THREAD_LIMIT=1 in the "
                "environment before starting docseek.");
}

int ds_ingest_libs_init(void) {
    pthread_once(&ds_libs_once, libs_start);
    if (ds_libs_status != 0)
        return ds_error(DS_E_INTERNAL, "libvips failed to start: %s", vips_error_buffer());
    return 0;
}

const char *ds_vips_error_line(char *buf, size_t size) {
    snprintf(buf, size, "%s", vips_error_buffer());
    vips_error_clear();
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '\n') *p = ' ';
    if (!buf[0]) snprintf(buf, size, "libvips failed");
    return buf;
}
