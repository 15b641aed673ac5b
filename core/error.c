// error.c: tables behind ds_strerror / ds_err_name / ds_err_http_status and
// the thread-local detail message. Nothing here allocates.
#include "core/error.h"

#include <stdarg.h>

#define DS_ERR_CASE_MSG(name, code, http, msg)                                                     \
    case code:                                                                                     \
        return msg;
#define DS_ERR_CASE_NAME(name, code, http, msg)                                                    \
    case code:                                                                                     \
        return #name;
#define DS_ERR_CASE_HTTP(name, code, http, msg)                                                    \
    case code:                                                                                     \
        return http;

const char *ds_strerror(int err) {
    switch (err) { DS_ERRNO_MAP(DS_ERR_CASE_MSG) }
    return "unknown error";
}

const char *ds_err_name(int err) {
    switch (err) { DS_ERRNO_MAP(DS_ERR_CASE_NAME) }
    return "UNKNOWN";
}

int ds_err_http_status(int err) {
    switch (err) { DS_ERRNO_MAP(DS_ERR_CASE_HTTP) }
    return 500;
}

static _Thread_local char ds_err_detail[1024];

int ds_error(int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ds_err_detail, sizeof ds_err_detail, fmt, ap);
    va_end(ap);
    return err;
}

const char *ds_errmsg(void) {
    return ds_err_detail;
}

void ds_error_clear(void) {
    ds_err_detail[0] = '\0';
}
