// multipart.h: multipart/form-data request bodies (RFC 7578 over RFC 2046 §5.1),
// so `curl -F file=@x.pdf http://host/v1/extract` reaches the service.
// The body is parsed in memory and in place: a part is a plain struct of
// pointers into the caller's body, nothing is copied or allocated. The whole
// body is validated up to the closing delimiter, so a truncated upload is an
// error. Not handled: streaming, nested multipart/mixed, filename*= (RFC 5987),
// Content-Transfer-Encoding (RFC 7578 §4.7: senders do not use it).
#ifndef DS_MULTIPART_H
#define DS_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

// Longest boundary RFC 2046 §5.1.1 allows; a buffer of DS_MULTIPART_BOUNDARY_MAX + 1 holds any.
#define DS_MULTIPART_BOUNDARY_MAX 70
// Limits per body: more parts, or more header bytes in one part, is DS_E_TOO_LARGE.
#define DS_MULTIPART_PARTS_MAX   64
#define DS_MULTIPART_HEADERS_MAX 8192

// One part of a body. Every pointer points into the body given to
// ds_multipart_find and is valid as long as it is; strings are not
// NUL-terminated. Quoted values are the bytes between the quotes, with any
// backslash escape left as it is (`a\"b` stays 4 bytes).
typedef struct {
    const char *name; // Content-Disposition name=
    size_t name_len;
    const char *filename; // Content-Disposition filename=; NULL when absent
    size_t filename_len;
    const char *content_type; // Content-Type value, white space trimmed; NULL when absent
    size_t content_type_len;
    const uint8_t *data; // the part's bytes, up to the CRLF before the next delimiter
    size_t size;
} ds_multipart_part;

// Copies the boundary of a Content-Type header value ("multipart/form-data;
// boundary=..."; quoted or not) into out, NUL-terminated. Returns 0;
// DS_E_UNSUPPORTED when the media type is not multipart/form-data (or
// content_type is NULL); DS_E_FORMAT when the boundary is missing, empty, longer
// than 70 characters or does not fit cap bytes.
int ds_multipart_boundary(const char *content_type, char *out, size_t cap);

// Walks the whole body (n bytes) delimited by boundary and fills *out with the
// first part named name. Returns 0; DS_E_NOT_FOUND when the body is well formed
// but has no such part; DS_E_FORMAT when it is malformed or truncated;
// DS_E_TOO_LARGE past the limits above. On error *out is zeroed.
int ds_multipart_find(const uint8_t *body, size_t n, const char *boundary, const char *name,
                      ds_multipart_part *out);

// Fuzz entry: the first line of data (up to '\n') is the Content-Type value,
// the rest the body; runs both functions for the part "file" and returns 0 or
// the error code. Must never crash, leak or read out of bounds.
int ds_fuzz_multipart(const uint8_t *data, size_t size);

#endif
