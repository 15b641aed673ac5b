// progress.h: how far a long command is, for a person watching it: on a
// terminal a bar redrawn in place (at most 5 times a second) with the rate and
// the time left; otherwise, when the output goes to a log, one plain line every
// interval seconds. Not thread-safe: the caller serialises updates.
#ifndef DS_PROGRESS_H
#define DS_PROGRESS_H

#include <stdio.h>

typedef struct {
    FILE *f;
    const char *what; // the command ("docseek ingest")
    int total;        // items to go through
    int tty;
    double interval; // seconds between log lines
    double t0, last;
    int drawn; // a bar is on the screen
} ds_progress;

void ds_progress_init(ds_progress *p, FILE *f, const char *what, int total, double interval);
// done items of total (skipped ones among them: they do not count toward the rate),
// failed ones among done, pages read. force: draw now (the end of the run).
void ds_progress_update(ds_progress *p, int done, int skipped, int failed, long pages, int force);
// Ends the bar's line so what follows starts on its own line.
void ds_progress_end(ds_progress *p);

#endif
