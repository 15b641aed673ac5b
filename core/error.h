// error.h: the one error table of docseek.
// Every failure is a negative DS_E* code; the table below generates the enum,
// the names, the messages and the HTTP status each maps to, so an error reads
// the same in the CLI, the log and the HTTP API (libuv's UV_ERRNO_MAP, lwan's
// status table). A thread-local detail string carries the specifics (file,
// page, limit and actual value). This header does not define assertions for
// bad input: bad input is an error code, never an abort.
#ifndef DS_ERROR_H
#define DS_ERROR_H

#include <stdio.h>
#include <stdlib.h>

// X(NAME, code, http_status, message)
#define DS_ERRNO_MAP(X)                                                                            \
    X(OK, 0, 200, "success")                                                                       \
    X(NOMEM, -1, 500, "out of memory")                                                             \
    X(INVAL, -2, 400, "invalid argument")                                                          \
    X(IO, -3, 500, "input/output error")                                                           \
    X(NOENT, -4, 404, "no such file or object")                                                    \
    X(FORMAT, -5, 422, "malformed or corrupt data")                                                \
    X(UNSUPPORTED, -6, 415, "unsupported format or feature")                                       \
    X(TOO_LARGE, -7, 413, "input exceeds a size limit")                                            \
    X(TOO_MANY_PAGES, -8, 422, "document has more pages than allowed")                             \
    X(ENCRYPTED, -9, 422, "document is encrypted")                                                 \
    X(SHAPE, -10, 400, "tensor shape mismatch")                                                    \
    X(DTYPE, -11, 400, "tensor dtype mismatch")                                                    \
    X(TIMEOUT, -12, 504, "time budget exceeded")                                                   \
    X(BUSY, -13, 503, "queue full, retry later")                                                   \
    X(UNAUTHORIZED, -14, 401, "missing or wrong API key")                                          \
    X(NOT_FOUND, -15, 404, "not found")                                                            \
    X(INTERNAL, -16, 500, "internal error")                                                        \
    X(NODEVICE, -17, 503, "requested compute device is not available")                             \
    X(TOO_MANY_PIXELS, -18, 422, "a page has more pixels than allowed")

typedef enum {
#define DS_ERR_ENUM(name, code, http, msg) DS_E_##name = code,
    DS_ERRNO_MAP(DS_ERR_ENUM)
#undef DS_ERR_ENUM
} ds_err;

// Short constant message for an error code ("out of memory"); never NULL.
const char *ds_strerror(int err);
// Upper-case name of the code without prefix ("NOMEM"); "UNKNOWN" for codes outside the table.
const char *ds_err_name(int err);
// HTTP status that the service answers for this code (500 for unknown codes).
int ds_err_http_status(int err);

// Records a formatted detail for the calling thread and returns err, so a
// failure site reads `return ds_error(DS_E_FORMAT, "%s: header length %llu > file size", ...)`.
int ds_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// The calling thread's last detail message (empty string if none). Valid until the next ds_error.
const char *ds_errmsg(void);
// Clears the calling thread's detail message.
void ds_error_clear(void);

// Broken invariants only (never bad input): prints file and line, then aborts.
#define DS_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "docseek: assertion failed: %s at %s:%d\n", #cond, __FILE__,           \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
