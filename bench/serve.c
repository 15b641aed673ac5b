// serve.c: bench_serve --port P [--file F] [--requests N] [--concurrency C...]
// Load on a running `docseek serve`: C client threads, each on one keep-alive
// connection, POST the same document to /v1/extract until N requests are
// answered in all. Prints, per concurrency: requests answered by status,
// documents/s and pages/s, and latency p50 / p90 / p99 / max. With
// --expect-ok it exits 1 unless every answer was 200 (tests/serve-load.sh uses
// it to put the server under load). Plain blocking sockets: the client must be
// simpler than what it measures. Not a test of speed: nothing asserts on time.
#include "core/timer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int port;
    const char *body;
    size_t body_len;
    atomic_int next; // requests handed out
    int total;
    pthread_mutex_t mu;
    double *lat; // seconds, one per answered request
    int n_lat;
    int ok, other, errors;
    long pages;
} load;

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

// Reads one answer (headers, then Content-Length bytes); returns its status or -1.
static int read_answer(int fd, char *buf, size_t cap, long *pages) {
    size_t n = 0;
    char *end = NULL;
    while (!end) {
        if (n + 1 >= cap) return -1;
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0) return -1;
        n += (size_t)r;
        buf[n] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    int status = atoi(buf + 9);
    const char *cl = strstr(buf, "Content-Length: ");
    size_t len = cl ? (size_t)atol(cl + 16) : 0, have = n - (size_t)(end + 4 - buf);
    while (have < len) { // the body: only its page count is read
        char tmp[65536];
        size_t want = len - have < sizeof tmp ? len - have : sizeof tmp;
        ssize_t r = recv(fd, tmp, want, 0);
        if (r <= 0) return -1;
        have += (size_t)r;
        if (!*pages) {
            char *p = memmem(tmp, (size_t)r, "\"pages\":", 8);
            if (p && p + 8 < tmp + r) *pages = atol(p + 8);
        }
    }
    if (!*pages) {
        const char *p = strstr(end + 4, "\"pages\":");
        if (p) *pages = atol(p + 8);
    }
    return status;
}

static void *client(void *arg) {
    load *L = arg;
    char head[256], *buf = malloc(1 << 20);
    int fd = -1;
    while (buf && atomic_fetch_add(&L->next, 1) < L->total) {
        if (fd < 0 && (fd = connect_to(L->port)) < 0) {
            pthread_mutex_lock(&L->mu);
            L->errors++;
            pthread_mutex_unlock(&L->mu);
            continue;
        }
        int hn = snprintf(head, sizeof head,
                          "POST /v1/extract HTTP/1.1\r\nHost: bench\r\nContent-Type: "
                          "application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
                          L->body_len);
        double t0 = ds_time_s();
        long pages = 0;
        int st = send_all(fd, head, (size_t)hn) || send_all(fd, L->body, L->body_len)
                     ? -1
                     : read_answer(fd, buf, 1 << 20, &pages);
        double dt = ds_time_s() - t0;
        pthread_mutex_lock(&L->mu);
        if (st < 0) {
            L->errors++;
        } else {
            L->lat[L->n_lat++] = dt;
            L->ok += st == 200;
            L->other += st != 200;
            L->pages += pages;
        }
        pthread_mutex_unlock(&L->mu);
        if (st < 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) close(fd);
    free(buf);
    return NULL;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int port = 0, total = 64, expect_ok = 0, conc[8], n_conc = 0;
    const char *file = "samples/sets/invoice/invoice-100-00000.pdf";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--file") && i + 1 < argc)
            file = argv[++i];
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            total = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--concurrency") && i + 1 < argc && n_conc < 8)
            conc[n_conc++] = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--expect-ok"))
            expect_ok = 1;
        else {
            fprintf(stderr, "usage: bench_serve --port P [--file F] [--requests N] "
                            "[--concurrency C]... [--expect-ok]\n");
            return 2;
        }
    }
    if (!n_conc) conc[n_conc++] = 1, conc[n_conc++] = 4, conc[n_conc++] = 16;
    FILE *f = fopen(file, "rb");
    if (!port || !f || total < 1) {
        fprintf(stderr, "bench_serve: needs --port of a running docseek serve and a "
                        "readable --file\n");
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *body = malloc((size_t)size);
    if (!body || fread(body, 1, (size_t)size, f) != (size_t)size) return 2;
    fclose(f);
    printf("POST /v1/extract of %s (%ld bytes), %d requests per row, keep-alive\n", file, size,
           total);
    printf("%11s %6s %6s %6s %9s %9s %8s %8s %8s %8s\n", "concurrency", "200", "other", "failed",
           "docs/s", "pages/s", "p50 ms", "p90 ms", "p99 ms", "max ms");
    int all_ok = 1;
    for (int k = 0; k < n_conc; k++) {
        load L = {.port = port, .body = body, .body_len = (size_t)size, .total = total};
        L.lat = calloc((size_t)total, sizeof *L.lat);
        pthread_mutex_init(&L.mu, NULL);
        pthread_t th[256];
        int c = conc[k] < 1 ? 1 : conc[k] > 256 ? 256 : conc[k];
        double t0 = ds_time_s();
        for (int t = 0; t < c; t++) pthread_create(&th[t], NULL, client, &L);
        for (int t = 0; t < c; t++) pthread_join(th[t], NULL);
        double el = ds_time_s() - t0;
        qsort(L.lat, (size_t)L.n_lat, sizeof *L.lat, cmp_d);
        double q[4] = {0};
        const double at[4] = {0.5, 0.9, 0.99, 1.0};
        for (int i = 0; i < 4 && L.n_lat; i++) {
            int idx = (int)(at[i] * L.n_lat + 0.999999) - 1;
            q[i] = L.lat[idx < 0 ? 0 : idx >= L.n_lat ? L.n_lat - 1 : idx] * 1e3;
        }
        printf("%11d %6d %6d %6d %9.2f %9.2f %8.1f %8.1f %8.1f %8.1f\n", c, L.ok, L.other, L.errors,
               L.ok / el, L.pages / el, q[0], q[1], q[2], q[3]);
        all_ok &= L.ok == total;
        free(L.lat);
        pthread_mutex_destroy(&L.mu);
    }
    free(body);
    return expect_ok && !all_ok ? 1 : 0;
}
