// conn.c: one HTTP/1.1 connection on the loop thread. llhttp parses what
// arrives (chunked bodies decoded by it); a complete request pauses the
// parser and reading, so pipelined requests are answered one at a time and in
// order; once its answer is written the parser resumes on the bytes already
// read. Limits are enforced as the bytes arrive: header size and count (431),
// body size from Content-Length or as it streams (413), the read timeout
// (408) and the idle timeout (closed quietly). `Expect: 100-continue` is
// answered at once. A connection that must close is shut down (uv_shutdown)
// after its last answer is written, never closed with writes queued.
#include "core/error.h"
#include "server/server-impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ds_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    llhttp_t parser;
    ds_srv *srv;
    ds_conn *next; // in srv->conns
    // the request being read
    char url[8192];
    size_t url_len;
    char field[64], value[1024];
    size_t field_len, value_len;
    char content_type[256], authorization[512];
    size_t header_bytes;
    int n_headers;
    uint8_t *body;
    size_t body_len, body_cap;
    int in_message; // a request has begun and not ended
    int expect_100; // the client waits for "100 Continue" before sending the body
    int eof;        // the client will send nothing more
    int reject;     // the status to answer when the parser stops on a limit
    int keep_alive; // the current request allows another after it
    // between requests
    char *pending; // bytes read but not parsed while a request is answered
    size_t pending_len;
    int busy;     // a request is being answered: parsing and reading paused
    int closing;  // closes after the answer in flight
    int closed;   // uv_close called
    int n_closed; // handles whose close has completed
    ds_job *job;  // the job the answer waits for
};

// ---- writing

typedef struct {
    uv_write_t req;
    ds_conn *c;
    char *buf;
    int last; // the connection closes once this is written
} write_req;

static void on_closed(uv_handle_t *h) {
    ds_conn *c = h->data;
    if (++c->n_closed < 2) return; // both handles (the socket, the timer) must be closed
    free(c->body);
    free(c->pending);
    free(c);
}

static void conn_close(ds_conn *c) {
    if (c->closed) return;
    c->closed = 1;
    if (c->job) { // its answer has nowhere to go
        c->job->conn = NULL;
        atomic_store(&c->job->abandoned, 1);
    }
    ds_conn **p = &c->srv->conns;
    while (*p && *p != c) p = &(*p)->next;
    if (*p) *p = c->next;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    uv_close((uv_handle_t *)&c->timer, on_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
    (void)status;
    conn_close(req->data);
}

// Closes after what is queued has been written.
static void conn_end(ds_conn *c) {
    if (c->closed || c->closing == 2) return;
    c->closing = 2;
    uv_timer_stop(&c->timer);
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0) conn_close(c);
}

static void next_request(ds_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status) {
    write_req *w = (write_req *)req;
    ds_conn *c = w->c;
    int last = w->last;
    free(w->buf);
    free(w);
    if (c->closed) return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (last) conn_end(c);
}

static int write_raw(ds_conn *c, char *buf, size_t len, int last) {
    write_req *w = malloc(sizeof *w);
    if (!w) {
        free(buf);
        conn_close(c);
        return -1;
    }
    w->c = c;
    w->buf = buf;
    w->last = last;
    uv_buf_t b = uv_buf_init(buf, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(buf);
        free(w);
        conn_close(c);
        return -1;
    }
    return 0;
}

static const char *reason(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

void ds_conn_respond(ds_conn *c, int status, const char *content_type, const char *body, size_t len,
                     const char *extra_headers) {
    if (c->closed) return;
    // a client that has sent its last bytes still gets answers to the requests
    // it pipelined before them
    int last = c->closing || !c->keep_alive || c->srv->draining || (c->eof && !c->pending_len);
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\n%s\r\n",
                     status, reason(status), content_type ? content_type : "text/plain", len,
                     last ? "close" : "keep-alive", extra_headers ? extra_headers : "");
    char *buf = malloc((size_t)n + len);
    if (!buf) {
        conn_close(c);
        return;
    }
    memcpy(buf, head, (size_t)n);
    if (len) memcpy(buf + n, body, len);
    ds_metrics_count_status(&c->srv->m, status);
    c->job = NULL;
    if (write_raw(c, buf, (size_t)n + len, last) == 0 && !last) next_request(c);
}

void ds_conn_respond_error(ds_conn *c, int err, const char *msg) {
    json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", ds_err_name(err), "message",
                          msg && msg[0] ? msg : ds_strerror(err));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    int status = ds_err_http_status(err);
    char extra[64] = "";
    if (err == DS_E_BUSY) snprintf(extra, sizeof extra, "Retry-After: 1\r\n");
    if (err == DS_E_UNAUTHORIZED) snprintf(extra, sizeof extra, "WWW-Authenticate: Bearer\r\n");
    ds_conn_respond(c, status, "application/json", s ? s : "{}", s ? strlen(s) : 2, extra);
    free(s);
    json_decref(o);
}

static void on_timer(uv_timer_t *t);

void ds_conn_set_job(ds_conn *c, ds_job *j) {
    c->job = j;
    double s = c->srv->cfg.request_timeout;
    if (s > 0) uv_timer_start(&c->timer, on_timer, (uint64_t)(s * 1e3 > 1 ? s * 1e3 : 1), 0);
}

// ---- reading

static void reset_request(ds_conn *c) {
    c->url_len = c->field_len = c->value_len = 0;
    c->content_type[0] = c->authorization[0] = 0;
    c->header_bytes = 0;
    c->n_headers = 0;
    c->body_len = 0;
    c->in_message = 0;
    c->reject = 0;
    c->expect_100 = 0;
}

static void arm_timer(ds_conn *c);

static ds_conn *of(llhttp_t *p) {
    return p->data;
}

static int on_message_begin(llhttp_t *p) {
    ds_conn *c = of(p);
    reset_request(c);
    c->in_message = 1;
    arm_timer(c); // from now on the read timeout
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
    ds_conn *c = of(p);
    if (c->url_len + len >= sizeof c->url) {
        c->reject = 414;
        return HPE_USER;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = 0;
    return 0;
}

static int header_limit(ds_conn *c, size_t len) {
    c->header_bytes += len;
    if (c->header_bytes > (size_t)c->srv->cfg.max_header_bytes) {
        c->reject = 431;
        return HPE_USER;
    }
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
    ds_conn *c = of(p);
    if (header_limit(c, len)) return HPE_USER;
    size_t room = sizeof c->field - 1 - c->field_len;
    size_t k = len < room ? len : room; // longer names are none we read
    memcpy(c->field + c->field_len, at, k);
    c->field_len += k;
    c->field[c->field_len] = 0;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
    ds_conn *c = of(p);
    if (header_limit(c, len)) return HPE_USER;
    size_t room = sizeof c->value - 1 - c->value_len;
    size_t k = len < room ? len : room;
    memcpy(c->value + c->value_len, at, k);
    c->value_len += k;
    c->value[c->value_len] = 0;
    return 0;
}

static int on_header_value_complete(llhttp_t *p) {
    ds_conn *c = of(p);
    if (++c->n_headers > c->srv->cfg.max_headers) {
        c->reject = 431;
        return HPE_USER;
    }
    if (!strcasecmp(c->field, "content-type"))
        snprintf(c->content_type, sizeof c->content_type, "%.*s", (int)sizeof c->content_type - 1,
                 c->value);
    else if (!strcasecmp(c->field, "authorization"))
        snprintf(c->authorization, sizeof c->authorization, "%.*s",
                 (int)sizeof c->authorization - 1, c->value);
    else if (!strcasecmp(c->field, "expect") && !strcasecmp(c->value, "100-continue"))
        c->expect_100 = 1;
    c->field_len = c->value_len = 0;
    c->field[0] = c->value[0] = 0;
    return 0;
}

// The headers are in: refuse a body that will not fit before it is sent, and tell a
// client that waits (Expect: 100-continue) to send it.
static int on_headers_complete(llhttp_t *p) {
    ds_conn *c = of(p);
    // a body nobody may send is refused before it is read (the route says 401 too)
    if (!ds_srv_authorized(c->srv, c->url, c->authorization)) {
        c->reject = 401;
        return HPE_USER;
    }
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->srv->cfg.max_body) {
        c->reject = 413;
        return HPE_USER;
    }
    if (p->flags & F_CONTENT_LENGTH && p->content_length > 0) {
        size_t want = (size_t)p->content_length;
        if (want > c->body_cap) {
            uint8_t *b = realloc(c->body, want);
            if (!b) {
                c->reject = 500;
                return HPE_USER;
            }
            c->body = b;
            c->body_cap = want;
        }
    }
    if (c->expect_100) { // curl waits (1 s) for this before a large body
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        char *b = malloc(sizeof cont - 1);
        if (b) {
            memcpy(b, cont, sizeof cont - 1);
            write_raw(c, b, sizeof cont - 1, 0);
        }
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
    ds_conn *c = of(p);
    if (c->body_len + len > c->srv->cfg.max_body) {
        c->reject = 413;
        return HPE_USER;
    }
    if (c->body_len + len > c->body_cap) { // chunked: grows as it comes
        size_t cap = c->body_cap ? c->body_cap : 65536;
        while (cap < c->body_len + len) cap *= 2;
        uint8_t *b = realloc(c->body, cap);
        if (!b) {
            c->reject = 500;
            return HPE_USER;
        }
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

static int on_message_complete(llhttp_t *p) {
    ds_conn *c = of(p);
    c->keep_alive = llhttp_should_keep_alive(p);
    c->in_message = 0;
    return HPE_PAUSED; // answered before the next request is parsed
}

static const llhttp_settings_t *settings(void) {
    static llhttp_settings_t s;
    static int init;
    if (!init) {
        llhttp_settings_init(&s);
        s.on_message_begin = on_message_begin;
        s.on_url = on_url;
        s.on_header_field = on_header_field;
        s.on_header_value = on_header_value;
        s.on_header_value_complete = on_header_value_complete;
        s.on_headers_complete = on_headers_complete;
        s.on_body = on_body;
        s.on_message_complete = on_message_complete;
        init = 1;
    }
    return &s;
}

// Hands the complete request to the routes.
static void dispatch(ds_conn *c) {
    char *q = strchr(c->url, '?');
    if (q) *q++ = 0;
    ds_request r = {.method = llhttp_get_method(&c->parser),
                    .path = c->url,
                    .query = q ? q : "",
                    .content_type = c->content_type,
                    .authorization = c->authorization,
                    .body = c->body,
                    .body_len = c->body_len};
    ds_route(c->srv, c, &r);
}

// Answers a request the parser stopped on, and closes after it.
static void reject(ds_conn *c, int status, const char *msg) {
    c->closing = 1;
    c->busy = 1;
    int err = status == 413   ? DS_E_TOO_LARGE
              : status == 500 ? DS_E_NOMEM
              : status == 408 ? DS_E_TIMEOUT
              : status == 401 ? DS_E_UNAUTHORIZED
                              : DS_E_INVAL;
    if (status == 431 || status == 414 || status == 408) {
        json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", ds_err_name(err), "message", msg);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        ds_conn_respond(c, status, "application/json", s, strlen(s), NULL);
        free(s);
        json_decref(o);
        return;
    }
    ds_conn_respond_error(c, err, msg);
}

// Parses data; stops at the end of a request (answering it) or on an error.
static void feed(ds_conn *c, const char *data, size_t len) {
    llhttp_errno_t e = llhttp_execute(&c->parser, data, len);
    if (e == HPE_OK) return;
    if (e == HPE_PAUSED) {
        const char *pos = llhttp_get_error_pos(&c->parser);
        size_t used = pos ? (size_t)(pos - data) : len, rest = len - used;
        if (rest) { // pipelined: the next requests wait for this answer
            char *p = malloc(rest);
            if (!p) {
                conn_close(c);
                return;
            }
            memcpy(p, data + used, rest);
            c->pending = p;
            c->pending_len = rest;
        }
        c->busy = 1;
        uv_read_stop((uv_stream_t *)&c->tcp);
        uv_timer_stop(&c->timer);
        dispatch(c);
        return;
    }
    char msg[256];
    if (c->reject == 413)
        snprintf(msg, sizeof msg, "request body larger than the limit of %zu bytes (--max-body)",
                 c->srv->cfg.max_body);
    else if (c->reject == 431)
        snprintf(msg, sizeof msg, "request headers over the limit of %d bytes or %d fields",
                 c->srv->cfg.max_header_bytes, c->srv->cfg.max_headers);
    else if (c->reject == 401)
        snprintf(msg, sizeof msg,
                 "this server needs \"Authorization: Bearer KEY\" "
                 "(--api-key-file)");
    else if (c->reject == 414)
        snprintf(msg, sizeof msg, "request target longer than %zu bytes", sizeof c->url - 1);
    else
        snprintf(msg, sizeof msg, "malformed HTTP request: %s (%s)", llhttp_errno_name(e),
                 c->parser.reason ? c->parser.reason : "");
    uv_read_stop((uv_stream_t *)&c->tcp);
    reject(c, c->reject ? c->reject : 400, msg);
}

// After an answer: the parser resumes on the bytes already read, then on the socket.
static void next_request(ds_conn *c) {
    c->busy = 0;
    reset_request(c);
    if (c->body_cap > (1u << 20)) { // an idle connection keeps no large buffer
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
    }
    llhttp_resume(&c->parser);
    char *p = c->pending;
    size_t n = c->pending_len;
    c->pending = NULL;
    c->pending_len = 0;
    if (p) {
        feed(c, p, n);
        free(p);
    }
    if (!c->busy && !c->closed && !c->closing) {
        if (c->srv->draining || c->eof) { // nothing more will be read
            conn_end(c);
            return;
        }
        arm_timer(c);
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h;
    (void)suggested;
    buf->base = malloc(65536);
    buf->len = buf->base ? 65536 : 0;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
    ds_conn *c = st->data;
    if (n < 0) { // EOF or error: nothing more comes
        free(buf->base);
        if (n != UV_EOF)
            conn_close(c);
        else if (!c->busy)
            conn_end(c); // after the answers already queued
        else
            c->eof = 1; // answer the request in flight, then close
        return;
    }
    if (n > 0 && !c->busy) {
        arm_timer(c);
        feed(c, buf->base, (size_t)n);
    }
    free(buf->base);
}

static void on_timer(uv_timer_t *t) {
    ds_conn *c = t->data;
    if (c->closed) return;
    if (c->busy && c->job) { // the answer is late: 504, and the job goes on unwatched
        ds_job *j = c->job;
        j->conn = NULL;
        atomic_store(&j->abandoned, 1);
        char msg[160];
        snprintf(msg, sizeof msg, "no answer within %g s (--request-timeout)",
                 c->srv->cfg.request_timeout);
        ds_conn_respond_error(c, DS_E_TIMEOUT, msg);
        return;
    }
    if (c->busy) return;
    if (c->in_message) { // a slow client: the request did not arrive in time
        uv_read_stop((uv_stream_t *)&c->tcp);
        char msg[128];
        snprintf(msg, sizeof msg, "the request did not arrive within %d ms",
                 c->srv->cfg.read_timeout_ms);
        reject(c, 408, msg);
    } else {
        conn_end(c); // idle keep-alive connection
    }
}

static void arm_timer(ds_conn *c) {
    int ms = c->in_message ? c->srv->cfg.read_timeout_ms : c->srv->cfg.idle_timeout_ms;
    uv_timer_start(&c->timer, on_timer, (uint64_t)(ms > 0 ? ms : 1), 0);
}

void ds_conn_accept(ds_srv *s) {
    ds_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp) != 0) {
        c->closed = 1;
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        uv_close((uv_handle_t *)&c->timer, on_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    llhttp_init(&c->parser, HTTP_REQUEST, settings());
    c->parser.data = c;
    c->next = s->conns;
    s->conns = c;
    arm_timer(c);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

void ds_conn_close_idle(ds_srv *s) {
    for (ds_conn *c = s->conns, *n; c; c = n) {
        n = c->next;
        if (!c->busy && !c->in_message) conn_end(c);
    }
}
