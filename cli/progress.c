// progress.c: see progress.h.
#include "cli/progress.h"

#include "core/timer.h"

#include <unistd.h>

void ds_progress_init(ds_progress *p, FILE *f, const char *what, int total, double interval) {
    *p = (ds_progress){.f = f, .what = what, .total = total, .interval = interval};
    p->tty = isatty(fileno(f));
    p->t0 = p->last = ds_time_s();
}

static void fmt_time(char *s, size_t n, double sec) {
    if (sec < 0 || sec > 1e7)
        snprintf(s, n, "?");
    else if (sec < 60)
        snprintf(s, n, "%.0fs", sec);
    else if (sec < 3600)
        snprintf(s, n, "%dm%02ds", (int)sec / 60, (int)sec % 60);
    else
        snprintf(s, n, "%dh%02dm", (int)sec / 3600, (int)sec % 3600 / 60);
}

void ds_progress_update(ds_progress *p, int done, int skipped, int failed, long pages, int force) {
    double now = ds_time_s(), el = now - p->t0;
    if (!force && now - p->last < (p->tty ? 0.2 : p->interval)) return;
    p->last = now;
    int worked = done - skipped;
    double rate = el > 0 ? worked / el : 0;
    char eta[32], took[32];
    fmt_time(eta, sizeof eta, rate > 0 ? (p->total - done) / rate : -1);
    fmt_time(took, sizeof took, el);
    if (p->tty) {
        int width = 30, fill = p->total ? (int)((long)width * done / p->total) : width;
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(p->f, "\r\033[K[%s] %d/%d documents, %d failed, %.2f docs/s, %.2f pages/s, ETA %s",
                bar, done, p->total, failed, rate, el > 0 ? pages / el : 0, eta);
        p->drawn = 1;
    } else {
        fprintf(p->f,
                "%s: %d/%d documents (%d already done, %d failed), %.2f docs/s, %.2f "
                "pages/s, %s so far, ETA %s\n",
                p->what, done, p->total, skipped, failed, rate, el > 0 ? pages / el : 0, took, eta);
    }
    fflush(p->f);
}

void ds_progress_end(ds_progress *p) {
    if (p->drawn) fputc('\n', p->f);
    p->drawn = 0;
}
