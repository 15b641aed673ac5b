// log.h: leveled logging to stderr, one line per call, safe across threads.
// The level comes from ds_log_set_level or, at first use, from the
// environment variable DS_LOG (error|warn|info|debug). No files, no rotation:
// the operator redirects stderr.
#ifndef DS_LOG_H
#define DS_LOG_H

typedef enum { DS_LOG_ERROR = 0, DS_LOG_WARN = 1, DS_LOG_INFO = 2, DS_LOG_DEBUG = 3 } ds_log_level;

void ds_log_set_level(ds_log_level level);
ds_log_level ds_log_get_level(void);
// Parses "error", "warn", "info", "debug"; returns 0 or DS_E_INVAL.
int ds_log_parse_level(const char *s, ds_log_level *out);
void ds_log(ds_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define DS_LOGE(...) ds_log(DS_LOG_ERROR, __VA_ARGS__)
#define DS_LOGW(...) ds_log(DS_LOG_WARN, __VA_ARGS__)
#define DS_LOGI(...) ds_log(DS_LOG_INFO, __VA_ARGS__)
#define DS_LOGD(...) ds_log(DS_LOG_DEBUG, __VA_ARGS__)

#endif
