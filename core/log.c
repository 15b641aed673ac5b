// log.c: formats the whole line into one buffer and writes it with a single
// fputs under flockfile, so lines from different threads never interleave.
#include "core/log.h"
#include "core/error.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int ds_log_level_now = -1;

int ds_log_parse_level(const char *s, ds_log_level *out) {
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (ds_log_level)i;
            return 0;
        }
    }
    return ds_error(DS_E_INVAL, "log level '%s' is not one of error, warn, info, debug", s);
}

void ds_log_set_level(ds_log_level level) {
    atomic_store(&ds_log_level_now, (int)level);
}

ds_log_level ds_log_get_level(void) {
    int level = atomic_load(&ds_log_level_now);
    if (level < 0) {
        ds_log_level parsed = DS_LOG_INFO;
        const char *env = getenv("DS_LOG");
        if (env && ds_log_parse_level(env, &parsed) != 0) parsed = DS_LOG_INFO;
        level = (int)parsed;
        atomic_store(&ds_log_level_now, level);
    }
    return (ds_log_level)level;
}

void ds_log(ds_log_level level, const char *fmt, ...) {
    if (level > ds_log_get_level()) return;
    static const char *tags[] = {"error", "warn", "info", "debug"};
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, tags[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    line[len] = '\n';
    line[len + 1] = '\0';
    flockfile(stderr);
    fputs(line, stderr);
    funlockfile(stderr);
}
