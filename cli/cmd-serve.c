// cmd-serve.c: `docseek serve [options]`: the HTTP service (server/server.h).
// Options from the command line and an optional JSON configuration file (the
// command line wins); every one is listed with its default by --help. The API key comes from a file
// or the environment, never from the command line (where ps shows it), and is never logged.
#include "cli/args.h"
#include "cli/cli.h"
#include "core/error.h"
#include "ingest/ingest.h"
#include "server/server.h"

#include <jansson.h>

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
        "                     ?ocr=auto|always|never and ?ocr_layout=L how it is read (as\n"
        "                     --ocr, --ocr-layout below); ?adapter=NAME an adapter\n"
        "                     of --adapter NAME=FILE; ?async=1 answers 202 {\"job_id\", ...} at\n"
        "                     once; ?images=1 adds each page as a PNG data URL (page_images)\n"
        "  GET /v1/jobs/ID    an async job: queued, running, done (with \"result\") or failed\n"
        "  GET /healthz       {\"status\": \"ok\", ...}; 503 while shutting down\n"
        "  GET /metrics       Prometheus text: requests by status, queue depth, documents in\n"
        "                     the model's stream per step, documents, pages, tokens, the model's\n"
        "                     seconds in prefill and decode, latency histograms per stage\n"
        "  GET /              the upload page: drop a document, see its pages with the boxes\n"
        "Errors: {\"error\": {\"code\", \"message\"}} with the status of the error table.\n"
        "The model thread batches continuously: documents join the decoding at every step\n"
        "and leave it as soon as their answer is complete; prefills run a layer at a time.\n"
        "  --config FILE        options from a JSON object, keys without the dashes\n"
        "                       ({\"port\": 8080, \"adapter\": [\"a=a.safetensors\"]}); the\n"
        "                       command line overrides it\n"
        "  --host ADDR          address to bind (default %s; 0.0.0.0 for every interface)\n"
        "  --port N             port (default %d; 0: any free port, see --port-file)\n"
        "  --port-file FILE     write the bound port to FILE once listening\n"
        "  --model M            the model (default %s)\n"
        "  --adapter A          a LoRA adapter for every request (default: none)\n"
        "  --adapter NAME=FILE  an adapter requests choose with ?adapter=NAME (up to %d)\n"
        "  --no-type-adapters   read every document with the base weights alone: no type's own\n"
        "                       adapter beside the model (MODEL.TYPE.lora.safetensors), so a\n"
        "                       routed receipt or contract is read once, not twice\n"
        "  --calibration C      confidence calibration (default: the model's own; none: raw)\n"
        "  --ocr MODE           how a request without ?ocr= is read: auto (pages without a\n"
        "                       text layer, the default), always, never\n"
        "  --ocr-layout L       and without ?ocr_layout=: how OCR finds a page's text, block\n"
        "                       (the default), auto, column, sparse; DS_OCR_LAYOUT=L sets it too\n"
        "  --schemas DIR        document types (default %s)\n"
        "  --api-key-file FILE  require \"Authorization: Bearer KEY\" (KEY: the file's first\n"
        "                       line); or set DOCSEEK_API_KEY. Default: no key (loopback use)\n"
        "  --max-body N         request body limit in bytes (default %zu; 413 above)\n"
        "  --max-header-bytes N header lines together (default %d; 431 above)\n"
        "  --max-headers N      header fields (default %d; 431 above)\n"
        "  --max-pages N        pages of a document (default %d; 422 above)\n"
        "  --max-pixels N       pixels of a page (default %lld; 422 above)\n"
        "  --doc-timeout S      seconds to read one document (default %g; 504 above)\n"
        "  --request-timeout S  seconds from a request to its answer (default %g; 504 above;\n"
        "                       0: none)\n"
        "  --read-timeout-ms N  a request must arrive within this (default %d; 408)\n"
        "  --idle-timeout-ms N  idle keep-alive connections close after (default %d)\n"
        "  --workers N          threads reading documents (default %d: the CPUs online)\n"
        "  --threads N          the model's compute threads (default %d)\n"
        "  --device D           cpu, cuda, cuda:N or auto (default: GPU 0 when present)\n"
        "  --max-queue N        documents in flight before 503 + Retry-After (default %d)\n"
        "  --max-batch N        documents in the model's stream at once (default %d, at most\n"
        "                       64; 1: one document at a time)\n"
        "  --max-wait-ms N      how long an idle model waits for a first job's company, while\n"
        "                       other documents are being read (default %d)\n"
        "  --job-ttl S          an async job's answer is kept S seconds after it is done\n"
        "                       (default %g; in memory: a restart loses them)\n",
        d->host, d->port, d->model, DS_SERVE_MAX_ADAPTERS, d->schemas, d->max_body,
        d->max_header_bytes, d->max_headers, d->max_pages, (long long)d->max_pixels, d->doc_timeout,
        d->request_timeout, d->read_timeout_ms, d->idle_timeout_ms, d->workers, d->threads,
        d->max_queue, d->max_batch, d->max_wait_ms, d->job_ttl);
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

// One option (name with its dashes) and its value, from the command line or the
// configuration file (where says which, for the messages). 0, or 2 after a message.
static int apply(ds_serve_cfg *c, const char **key_file, const char *a, const char *v,
                 const char *where) {
    if (!strcmp(a, "--adapter") && strchr(v, '=')) { // NAME=FILE: chosen by ?adapter=NAME
        size_t n = (size_t)(strchr(v, '=') - v);
        if (n == 0 || n > 63 || !v[n + 1]) {
            fprintf(stderr, "docseek serve: %s--adapter %s: takes FILE or NAME=FILE\n", where, v);
            return 2;
        }
        if (c->n_adapters == DS_SERVE_MAX_ADAPTERS) {
            fprintf(stderr, "docseek serve: %sat most %d named adapters\n", where,
                    DS_SERVE_MAX_ADAPTERS);
            return 2;
        }
        char *name = strndup(v, n); // lives as long as the server (the process)
        if (!name) return 2;
        for (int i = 0; i < c->n_adapters; i++)
            if (!strcmp(c->adapter_names[i], name)) {
                fprintf(stderr, "docseek serve: %sadapter %s named twice\n", where, name);
                free(name);
                return 2;
            }
        c->adapter_names[c->n_adapters] = name;
        c->adapter_files[c->n_adapters++] = v + n + 1;
        return 0;
    }
    const char **str = !strcmp(a, "--host")           ? &c->host
                       : !strcmp(a, "--port-file")    ? &c->port_file
                       : !strcmp(a, "--model")        ? &c->model
                       : !strcmp(a, "--adapter")      ? &c->adapter
                       : !strcmp(a, "--calibration")  ? &c->calibration
                       : !strcmp(a, "--schemas")      ? &c->schemas
                       : !strcmp(a, "--device")       ? &c->device
                       : !strcmp(a, "--api-key-file") ? key_file
                                                      : NULL;
    struct {
        const char *flag;
        int *dst;
        int lo, hi;
    } ints[] = {{"--port", &c->port, 0, 65535},
                {"--max-header-bytes", &c->max_header_bytes, 256, 1 << 20},
                {"--max-headers", &c->max_headers, 4, 1000},
                {"--max-pages", &c->max_pages, 1, 10000},
                {"--read-timeout-ms", &c->read_timeout_ms, 10, 3600000},
                {"--idle-timeout-ms", &c->idle_timeout_ms, 10, 3600000},
                {"--workers", &c->workers, 1, 128},
                {"--threads", &c->threads, 1, 128},
                {"--max-queue", &c->max_queue, 1, 1 << 20},
                {"--max-batch", &c->max_batch, 1, 64},
                {"--max-wait-ms", &c->max_wait_ms, 0, 10000}};
    if (!strcmp(a, "--ocr")) {
        ds_ocr_mode mode;
        if (ds_ocr_mode_parse(v, &mode) != 0) {
            fprintf(stderr, "docseek serve: %s--ocr takes " DS_OCR_MODE_CHOICES ", not '%s'\n",
                    where, v);
            return 2;
        }
        c->ocr = (int)mode;
        return 0;
    }
    if (!strcmp(a, "--ocr-layout")) {
        ds_ocr_layout layout;
        if (ds_ocr_layout_parse(v, &layout) != 0) {
            fprintf(stderr,
                    "docseek serve: %s--ocr-layout takes " DS_OCR_LAYOUT_CHOICES ", not '%s'\n",
                    where, v);
            return 2;
        }
        c->ocr_layout = (int)layout;
        return 0;
    }
    if (str) {
        *str = v;
        return 0;
    }
    struct {
        const char *flag;
        double *dst;
        double lo, hi;
    } reals[] = {{"--doc-timeout", &c->doc_timeout, 0, 86400},
                 {"--request-timeout", &c->request_timeout, 0, 86400},
                 {"--job-ttl", &c->job_ttl, 0.1, 30 * 86400}};
    int rc = 0, found = 0;
    for (size_t k = 0; !found && k < sizeof ints / sizeof *ints; k++)
        if ((found = !strcmp(a, ints[k].flag)))
            rc = ds_cli_int(a, v, ints[k].lo, ints[k].hi, ints[k].dst);
    for (size_t k = 0; !found && k < sizeof reals / sizeof *reals; k++)
        if ((found = !strcmp(a, reals[k].flag)))
            rc = ds_cli_real(a, v, reals[k].lo, reals[k].hi, reals[k].dst);
    int64_t n = 0;
    if (!found && (found = !strcmp(a, "--max-body"))) {
        rc = ds_cli_whole(a, v, 1, DS_CLI_WHOLE_MAX, &n);
        c->max_body = rc ? c->max_body : (size_t)n;
    }
    if (!found && (found = !strcmp(a, "--max-pixels"))) {
        rc = ds_cli_whole(a, v, 1, DS_CLI_WHOLE_MAX, &n);
        c->max_pixels = rc ? c->max_pixels : n;
    }
    if (!found) {
        fprintf(stderr, "docseek serve: %sunknown option %s (see --help)\n", where, a);
        return 2;
    }
    if (rc) {
        fprintf(stderr, "docseek serve: %s%s\n", where, ds_errmsg());
        return 2;
    }
    return 0;
}

// The options that take no value: where each is kept, NULL for another name.
static int *flag_of(ds_serve_cfg *c, const char *a) {
    return !strcmp(a, "--no-type-adapters") ? &c->no_type_adapters : NULL;
}

// The configuration file: a JSON object whose keys are the options' names without
// their dashes ("port": 8080, "max-batch": 16, "adapter": ["a=a.safetensors"]). Its
// values stay in *root (the caller keeps it while the server runs). 0, or 2.
static int apply_file(ds_serve_cfg *c, const char **key_file, const char *path, json_t **root) {
    json_error_t e;
    *root = json_load_file(path, 0, &e);
    if (!*root || !json_is_object(*root)) {
        fprintf(stderr, "docseek serve: --config %s: %s (line %d)\n", path,
                *root ? "not a JSON object" : e.text, e.line);
        return 2;
    }
    char where[300];
    snprintf(where, sizeof where, "%s: ", path);
    const char *k;
    json_t *v;
    json_object_foreach(*root, k, v) {
        char flag[80], num[64];
        snprintf(flag, sizeof flag, "--%s", k);
        if (!strcmp(k, "config")) {
            fprintf(stderr, "docseek serve: %sa configuration file cannot name another\n", where);
            return 2;
        }
        int *on = flag_of(c, flag);
        if (on) { // "no-type-adapters": true
            if (!json_is_boolean(v)) {
                fprintf(stderr, "docseek serve: %s%s: takes true or false\n", where, k);
                return 2;
            }
            *on = json_is_true(v);
            continue;
        }
        size_t n = json_is_array(v) ? json_array_size(v) : 1;
        if (json_is_array(v) && strcmp(k, "adapter")) {
            fprintf(stderr, "docseek serve: %s%s: only adapter takes a list\n", where, k);
            return 2;
        }
        int names = !strcmp(k, "host") || !strcmp(k, "model") || !strcmp(k, "adapter");
        if (json_is_number(v) && !names) { // the options keep text: the number's, kept here
            snprintf(num, sizeof num, "%.17g", json_number_value(v));
            json_object_set_new(*root, k, json_string(num)); // same key: the walk goes on
            v = json_object_get(*root, k);
        }
        for (size_t i = 0; i < n; i++) {
            const char *text = json_string_value(json_is_array(v) ? json_array_get(v, i) : v);
            if (!text) {
                fprintf(stderr, "docseek serve: %s%s: takes a %s\n", where, k,
                        names ? "string" : "string or a number");
                return 2;
            }
            int rc = apply(c, key_file, flag, text, where);
            if (rc) return rc;
        }
    }
    return 0;
}

int ds_cmd_serve(int argc, char **argv) {
    ds_serve_cfg c, d;
    ds_serve_cfg_default(&c);
    d = c;
    const char *key_file = NULL;
    json_t *file_cfg = NULL;
    // the file first, wherever --config stands: the command line overrides it
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--config")) {
            if (file_cfg) {
                fprintf(stderr, "docseek serve: --config given twice\n");
                json_decref(file_cfg);
                return 2;
            }
            if (apply_file(&c, &key_file, argv[i + 1], &file_cfg)) {
                json_decref(file_cfg);
                return 2;
            }
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, &d);
            json_decref(file_cfg);
            return 0;
        }
        int *on = flag_of(&c, a);
        if (on) {
            *on = 1;
            continue;
        }
        if (!v || a[0] != '-') {
            fprintf(stderr, "docseek serve: unexpected argument '%s' (see --help)\n", a);
            json_decref(file_cfg);
            return 2;
        }
        i++;
        if (!strcmp(a, "--config")) continue;
        if (apply(&c, &key_file, a, v, "")) {
            json_decref(file_cfg);
            return 2;
        }
    }
    int rc = 0;
    if (key_file && !(c.api_key = read_key(key_file))) {
        fprintf(stderr, "docseek serve: --api-key-file %s: cannot read a key from it\n", key_file);
        rc = 2;
    }
    if (!rc && !c.api_key && getenv("DOCSEEK_API_KEY") && getenv("DOCSEEK_API_KEY")[0])
        c.api_key = getenv("DOCSEEK_API_KEY");
    if (!rc && !getenv("OMP_THREAD_LIMIT"))
        fprintf(stderr, "docseek serve: warning: OMP_THREAD_LIMIT is not set: OCR of scans runs "
                        "several times slower (set OMP_THREAD_LIMIT=1)\n");
    if (!rc && (rc = ds_serve_run(&c))) rc = ds_cli_fail("serve", rc);
    json_decref(file_cfg);
    for (int i = 0; i < c.n_adapters; i++) free((char *)c.adapter_names[i]);
    return rc;
}
