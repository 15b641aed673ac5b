// server.h: `docseek serve`, the HTTP service. One libuv loop thread does all
// socket I/O and parses HTTP/1.1 with llhttp; documents are read (rendered,
// OCR'd) on libuv's worker threads; one scheduler thread owns the model and
// decodes the documents that are ready together (server/scheduler.h). The
// loop thread never blocks on the model or on ingest. Every error answers
// {"error": {"code", "message"}} with the status of core/error.h's table.
// Routes: server/routes.c; what is not built yet is listed in docseek serve --help.
#ifndef DS_SERVER_H
#define DS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#define DS_SERVE_MAX_ADAPTERS 16

typedef struct {
    const char *host;      // address to bind (default 127.0.0.1: loopback only)
    int port;              // default 8080; 0: any free port (see port_file)
    const char *port_file; // when set, the bound port is written there once listening
    const char *model;     // the model file (default models/default.safetensors)
    const char *adapter;   // a LoRA adapter for every request without ?adapter=, or NULL
    const char *device;    // --device (extraction runs on the CPU: NULL, "auto" or "cpu")
    // adapters a request names with ?adapter=NAME (--adapter NAME=FILE)
    const char *adapter_names[DS_SERVE_MAX_ADAPTERS], *adapter_files[DS_SERVE_MAX_ADAPTERS];
    int n_adapters;
    int no_type_adapters;    // 1: no MODEL.TYPE.lora.safetensors; the base reads every document
    const char *schemas;     // document types (default samples/schemas)
    const char *calibration; // NULL: the model's own when present; "none": raw
    int ocr;                 // how a request without ?ocr= is read (ds_ocr_mode; -1: auto)
    int ocr_layout;          // and without ?ocr_layout= (ds_ocr_layout; -1: DS_OCR_LAYOUT's)
    const char *api_key;     // NULL: no key needed; else "Authorization: Bearer KEY"
    size_t max_body;         // request body limit (413 above; default 64 MiB)
    int max_header_bytes;    // all header lines together (431 above; default 16 KiB)
    int max_headers;         // header count (431 above; default 64)
    int max_pages;           // pages of a document (422 above; default 50)
    int64_t max_pixels;      // pixels of a page, from its header (422 above; 100 M)
    double doc_timeout;      // seconds to read one document (504 above; default 60)
    double request_timeout;  // seconds from a request to its answer (504 above; default 120;
                             // 0: none)
    int read_timeout_ms;     // a request must arrive within this (408; default 30 s)
    int idle_timeout_ms;     // an idle keep-alive connection is closed after (default 60 s)
    int workers;             // threads reading documents (default: CPUs online)
    int threads;             // the model's compute threads (default: CPUs online)
    int max_queue;           // documents in flight before 503 + Retry-After (default 64)
    int max_batch;           // documents decoded together (default 8)
    int max_wait_ms;         // how long a batch waits to fill (default 5)
    double job_ttl;          // seconds an asynchronous job's answer is kept (default 3600)
} ds_serve_cfg;

void ds_serve_cfg_default(ds_serve_cfg *c);
// Loads the model, binds, and serves until SIGTERM or SIGINT, then stops accepting,
// finishes the requests in flight and returns 0. Start-up failures return a DS_E*
// code (the port taken, the model missing) with ds_errmsg() saying which.
int ds_serve_run(const ds_serve_cfg *c);

#endif
