// cmd-serve.c: `docseek serve [options]`: the HTTP service (server/server.h).
// Options only (a configuration file is not built yet); every one is listed
// with its default by --help. The API key comes from a file or the
// environment, never from the command line (where ps shows it), and is never
// logged.
#include "cli/cli.h"
#include "core/error.h"
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f, const ds_serve_cfg *d) {
    fprintf(
        f,
        "usage: docseek serve [options]\n"
        "Serves the extraction over HTTP/1.1 until SIGTERM or SIGINT (then it stops\n"
        "accepting, answers the requests in flight and exits 0).\n"
        "  POST /v1/extract   the document as the body (its Content-Type), or multipart/form-data\n"
        "                     with a part \"file\" (curl -F file=@x.pdf); ?type=T fixes the type;\n"
        "                     ?async=1 answers 202 {\"job_id\", ...} at once; ?images=1 adds\n"
        "                     each page as a PNG data URL (page_images)\n"
        "  GET /v1/jobs/ID    an async job: queued, running, done (with \"result\") or failed\n"
        "  GET /healthz       {\"status\": \"ok\", ...}; 503 while shutting down\n"
        "  GET /metrics       Prometheus text: requests by status, queue depth, batch sizes,\n"
        "                     documents, pages, latency histograms per stage\n"
        "  GET /              the upload page: drop a document, see its pages with the boxes\n"
        "Errors: {\"error\": {\"code\", \"message\"}} with the status of the error table.\n"
        "Not built yet: ?adapter=,\n"
        "a configuration file, continuous batching (a batch runs to its end).\n"
        "  --host ADDR          address to bind (default %s; 0.0.0.0 for every interface)\n"
        "  --port N             port (default %d; 0: any free port, see --port-file)\n"
        "  --port-file FILE     write the bound port to FILE once listening\n"
        "  --model M            the model (default %s)\n"
        "  --adapter A          a LoRA adapter for it\n"
        "  --calibration C      confidence calibration (default: the model's own; none: raw)\n"
        "  --schemas DIR        document types (default %s)\n"
        "  --api-key-file FILE  require \"Authorization: Bearer KEY\" (KEY: the file's first\n"
        "                       line); or set DOCSEEK_API_KEY. Default: no key (loopback use)\n"
        "  --max-body N         request body limit in bytes (default %zu; 413 above)\n"
        "  --max-header-bytes N header lines together (default %d; 431 above)\n"
        "  --max-headers N      header fields (default %d; 431 above)\n"
        "  --max-pages N        pages of a document (default %d; 422 above)\n"
        "  --max-pixels N       pixels of a page (default %lld; 413 above)\n"
        "  --doc-timeout S      seconds to read one document (default %g; 504 above)\n"
        "  --read-timeout-ms N  a request must arrive within this (default %d; 408)\n"
        "  --idle-timeout-ms N  idle keep-alive connections close after (default %d)\n"
        "  --workers N          threads reading documents (default %d: the CPUs online)\n"
        "  --threads N          the model's compute threads (default %d)\n"
        "  --max-queue N        documents in flight before 503 + Retry-After (default %d)\n"
        "  --max-batch N        documents decoded together (default %d, at most 64)\n"
        "  --max-wait-ms N      how long a batch waits to fill (default %d)\n"
        "  --job-ttl S          an async job's answer is kept S seconds after it is done\n"
        "                       (default %g; in memory: a restart loses them)\n",
        d->host, d->port, d->model, d->schemas, d->max_body, d->max_header_bytes, d->max_headers,
        d->max_pages, (long long)d->max_pixels, d->doc_timeout, d->read_timeout_ms,
        d->idle_timeout_ms, d->workers, d->threads, d->max_queue, d->max_batch, d->max_wait_ms,
        d->job_ttl);
}

// The first line of path, without its newline, into key (static storage).
static const char *read_key(const char *path) {
    static char key[512];
    FILE *f = fopen(path, "r");
    if (!f || !fgets(key, sizeof key, f)) {
        if (f) fclose(f);
        return NULL;
    }
    fclose(f);
    key[strcspn(key, "\r\n")] = 0;
    return key[0] ? key : NULL;
}

int ds_cmd_serve(int argc, char **argv) {
    ds_serve_cfg c, d;
    ds_serve_cfg_default(&c);
    d = c;
    const char *key_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, &d);
            return 0;
        }
        if (!v || a[0] != '-') {
            fprintf(stderr, "docseek serve: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
        const char **str = !strcmp(a, "--host")           ? &c.host
                           : !strcmp(a, "--port-file")    ? &c.port_file
                           : !strcmp(a, "--model")        ? &c.model
                           : !strcmp(a, "--adapter")      ? &c.adapter
                           : !strcmp(a, "--calibration")  ? &c.calibration
                           : !strcmp(a, "--schemas")      ? &c.schemas
                           : !strcmp(a, "--api-key-file") ? &key_file
                                                          : NULL;
        struct {
            const char *flag;
            int *dst;
            int lo, hi;
        } ints[] = {{"--port", &c.port, 0, 65535},
                    {"--max-header-bytes", &c.max_header_bytes, 256, 1 << 20},
                    {"--max-headers", &c.max_headers, 4, 1000},
                    {"--max-pages", &c.max_pages, 1, 10000},
                    {"--read-timeout-ms", &c.read_timeout_ms, 10, 3600000},
                    {"--idle-timeout-ms", &c.idle_timeout_ms, 10, 3600000},
                    {"--workers", &c.workers, 1, 128},
                    {"--threads", &c.threads, 1, 128},
                    {"--max-queue", &c.max_queue, 1, 1 << 20},
                    {"--max-batch", &c.max_batch, 1, 64},
                    {"--max-wait-ms", &c.max_wait_ms, 0, 10000}};
        i++;
        if (str) {
            *str = v;
            continue;
        }
        char *end;
        double x = strtod(v, &end);
        if (*end || end == v) {
            fprintf(stderr, "docseek serve: %s takes a number, not '%s'\n", a, v);
            return 2;
        }
        int done = 0;
        for (size_t k = 0; k < sizeof ints / sizeof *ints && !done; k++)
            if (!strcmp(a, ints[k].flag)) {
                if (x < ints[k].lo || x > ints[k].hi || x != (int)x) {
                    fprintf(stderr,
                            "docseek serve: %s takes a whole number from %d to %d, not "
                            "'%s'\n",
                            a, ints[k].lo, ints[k].hi, v);
                    return 2;
                }
                *ints[k].dst = (int)x;
                done = 1;
            }
        if (done) continue;
        if (!strcmp(a, "--max-body") && x >= 1)
            c.max_body = (size_t)x;
        else if (!strcmp(a, "--max-pixels") && x >= 1)
            c.max_pixels = (int64_t)x;
        else if (!strcmp(a, "--doc-timeout") && x >= 0)
            c.doc_timeout = x;
        else if (!strcmp(a, "--job-ttl") && x > 0)
            c.job_ttl = x;
        else {
            fprintf(stderr, "docseek serve: unknown option or bad value: %s %s (see --help)\n", a,
                    v);
            return 2;
        }
    }
    if (key_file && !(c.api_key = read_key(key_file))) {
        fprintf(stderr, "docseek serve: --api-key-file %s: cannot read a key from it\n", key_file);
        return 2;
    }
    if (!c.api_key && getenv("DOCSEEK_API_KEY") && getenv("DOCSEEK_API_KEY")[0])
        c.api_key = getenv("DOCSEEK_API_KEY");
    if (!getenv("OMP_THREAD_LIMIT"))
        fprintf(stderr, "docseek serve: warning: OMP_THREAD_LIMIT is not set: OCR of scans runs "
                        "several times slower (set OMP_THREAD_LIMIT=1)\n");
    int rc = ds_serve_run(&c);
    return rc ? ds_cli_fail("serve", rc) : 0;
}
