// test-multipart.c: the multipart/form-data parser against bodies written out
// by hand: the boundary of each Content-Type form and each refusal, a body as
// curl -F sends it (binary data full of CR, LF, NUL and near-boundaries),
// preamble and epilogue, duplicate and missing names, each malformed body with
// its message, the limits, every truncation of an upload, and the fuzz entry
// over tests/corpus/multipart. Bodies are copied to heap buffers of exactly
// their size, so ASan sees any read past the end.
#include "tests/ingest-fixtures.h"
#include "tests/test.h"
#include "core/error.h"
#include "core/rng.h"
#include "server/multipart.h"

#include <stdlib.h>
#include <string.h>

// ---- helpers

#define CRLF "\r\n"
// A string literal and its length without the terminating NUL (literals may hold NULs).
#define LIT(s) s, sizeof(s) - 1

static uint8_t *dup_bytes(const void *p, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    if (b && n) memcpy(b, p, n);
    return b;
}

// What find_in saw: the code, the data as an offset into the body (-1 on
// error), and the strings copied out ("(null)" when absent).
typedef struct {
    int rc;
    long off; // data - body
    ds_multipart_part part;
    char name[128], filename[128], content_type[128];
} lookup;

static void copy_str(char *dst, size_t cap, const char *s, size_t n) {
    if (!s) {
        snprintf(dst, cap, "(null)");
        return;
    }
    snprintf(dst, cap, "%.*s", (int)n, s);
}

// Finds name in a heap copy of body[0..n), freed before returning, so the
// part's pointers are turned into an offset and strings.
static lookup find_in(const void *body, size_t n, const char *boundary, const char *name) {
    lookup f;
    memset(&f, 0, sizeof f);
    uint8_t *b = dup_bytes(body, n);
    if (!b) {
        f.rc = DS_E_NOMEM;
        return f;
    }
    f.rc = ds_multipart_find(b, n, boundary, name, &f.part);
    f.off = f.part.data ? (long)(f.part.data - b) : -1;
    copy_str(f.name, sizeof f.name, f.part.name, f.part.name_len);
    copy_str(f.filename, sizeof f.filename, f.part.filename, f.part.filename_len);
    copy_str(f.content_type, sizeof f.content_type, f.part.content_type, f.part.content_type_len);
    free(b);
    f.part.name = f.part.filename = f.part.content_type = NULL; // they pointed into the copy
    f.part.data = NULL;
    return f;
}

static int is_ds_code(int rc) {
    return rc == 0 || (rc < 0 && strcmp(ds_err_name(rc), "UNKNOWN") != 0);
}

// ---- Content-Type

DS_TEST(multipart_boundary_forms) {
    static const char b70[] =
        "0123456789012345678901234567890123456789012345678901234567890123456789";
    char ct70[128];
    snprintf(ct70, sizeof ct70, "multipart/form-data; boundary=%s", b70);
    const struct {
        const char *ct, *want;
    } cases[] = {
        {"multipart/form-data; boundary=----abc", "----abc"},
        {"multipart/form-data; boundary=\"quoted:b=1 x\"", "quoted:b=1 x"},
        {"  multipart/form-data ;  boundary=abc  ", "abc"},
        {"Multipart/Form-Data; BOUNDARY=AbC", "AbC"},
        {"multipart/form-data; charset=utf-8; boundary=xyz", "xyz"},
        {"multipart/form-data;\tboundary=\"a\\\"b\"", "a\"b"},
        {"multipart/form-data;boundary=b;", "b"},
        {"multipart/form-data; boundary=\"q\"; charset=\"utf-8\"", "q"},
        {ct70, b70},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[DS_MULTIPART_BOUNDARY_MAX + 1];
        int rc = ds_multipart_boundary(cases[i].ct, out, sizeof out);
        printf("  '%s' -> %s '%s' (want '%s')\n", cases[i].ct, ds_err_name(rc), rc ? "" : out,
               cases[i].want);
        DS_CHECK_INT_EQ(rc, 0);
        DS_CHECK(strcmp(out, cases[i].want) == 0);
    }
    // A buffer of exactly length + 1 is enough.
    char out9[9];
    DS_CHECK_INT_EQ(ds_multipart_boundary("multipart/form-data; boundary=abcdefgh", out9, 9), 0);
    DS_CHECK(strcmp(out9, "abcdefgh") == 0);
    printf("  8-character boundary into 9 bytes: '%s'\n", out9);
    return 0;
}

DS_TEST(multipart_boundary_refusals) {
    static const char b71[] =
        "01234567890123456789012345678901234567890123456789012345678901234567890";
    char ct71[128];
    snprintf(ct71, sizeof ct71, "multipart/form-data; boundary=%s", b71);
    const struct {
        const char *ct;
        size_t cap;
        int code;
        const char *msg;
    } cases[] = {
        {NULL, 71, DS_E_UNSUPPORTED, "no Content-Type"},
        {"text/plain", 71, DS_E_UNSUPPORTED, "'text/plain' is not multipart/form-data"},
        {"multipart/mixed; boundary=x", 71, DS_E_UNSUPPORTED, "is not multipart/form-data"},
        {"application/x-www-form-urlencoded", 71, DS_E_UNSUPPORTED, "is not multipart/form-data"},
        {"", 71, DS_E_UNSUPPORTED, "is not multipart/form-data"},
        {"multipart/form-data", 71, DS_E_FORMAT, "has no boundary"},
        {"multipart/form-data; charset=utf-8", 71, DS_E_FORMAT, "has no boundary"},
        {"multipart/form-data; boundary=", 71, DS_E_FORMAT, "empty boundary"},
        {"multipart/form-data; boundary=\"\"", 71, DS_E_FORMAT, "empty boundary"},
        {ct71, 128, DS_E_FORMAT, "boundary is 71 characters, more than the 70"},
        {"multipart/form-data; boundary=abcdefgh", 8, DS_E_FORMAT,
         "boundary of 8 characters does not fit a buffer of 8 bytes"},
        {"multipart/form-data; boundary=\"abc", 71, DS_E_FORMAT,
         "parameter 'boundary' has an unterminated quoted string"},
        {"multipart/form-data; boundary=a; boundary=b", 71, DS_E_FORMAT, "more than one boundary"},
        {"multipart/form-data; boundary", 71, DS_E_FORMAT, "parameter 'boundary' has no '='"},
        {"multipart/form-data boundary=x", 71, DS_E_FORMAT, "expected ';' before 'boundary=x'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[128];
        memset(out, 'x', sizeof out);
        DS_CHECK(cases[i].cap <= sizeof out);
        ds_error_clear();
        int rc = ds_multipart_boundary(cases[i].ct, out, cases[i].cap);
        printf("  '%s' (cap %zu) -> %s: %s\n", cases[i].ct ? cases[i].ct : "(NULL)", cases[i].cap,
               ds_err_name(rc), ds_errmsg());
        DS_CHECK_INT_EQ(rc, cases[i].code);
        DS_CHECK(strstr(ds_errmsg(), cases[i].msg) != NULL);
        DS_CHECK(out[0] == 0); // never a half-written boundary
    }
    return 0;
}

// ---- a body as curl -F sends it

// curl's boundary: 24 dashes and 16 hex digits; the delimiter adds two more dashes.
#define CURL_B "------------------------d74496d66958873e"
// CURL_B without its last character.
#define CURL_B_SHORT "------------------------d74496d66958873"

// PDF-like bytes holding what must stay data: CR, LF, NUL, "--", the boundary
// after a bare CR, after a bare LF, followed by 'X', not at a line start, and
// the boundary less its last character after CRLF; the data ends with CRLF.
#define PDF_DATA                                                                                   \
    "\r\n%PDF-1.4\r\n%\xE2\xE3\xCF\xD3\r\n"                                                        \
    "\0\0"                                                                                         \
    "1 0 obj\n"                                                                                    \
    "\r--" CURL_B "\r\n"                                                                           \
    "\n--" CURL_B "\r\n"                                                                           \
    "\r\n--" CURL_B "X\r\n"                                                                        \
    "x--" CURL_B "--\r\n"                                                                          \
    "\r\n--" CURL_B_SHORT "\r\n"                                                                   \
    "-- --\r\n"                                                                                    \
    "\0"                                                                                           \
    "%%EOF\r\n"

#define CURL_PART1 "--" CURL_B CRLF "Content-Disposition: form-data; name=\"title\"" CRLF CRLF
#define CURL_PART2                                                                                 \
    "Invoice 42" CRLF "--" CURL_B CRLF                                                             \
    "Content-Disposition: form-data; name=\"file\"; filename=\"x.pdf\"" CRLF                       \
    "Content-Type: application/pdf" CRLF CRLF
#define CURL_BODY CURL_PART1 CURL_PART2 PDF_DATA CRLF "--" CURL_B "--" CRLF

DS_TEST(multipart_curl_upload) {
    static const char body[] = CURL_BODY, pdf[] = PDF_DATA;
    const size_t n = sizeof body - 1, pdf_n = sizeof pdf - 1;
    char boundary[DS_MULTIPART_BOUNDARY_MAX + 1];
    DS_CHECK_INT_EQ(
        ds_multipart_boundary("multipart/form-data; boundary=" CURL_B, boundary, sizeof boundary),
        0);
    DS_CHECK(strcmp(boundary, CURL_B) == 0);

    lookup f = find_in(body, n, boundary, "file");
    // The data starts right after the blank line of part 2.
    const long want_off = (long)(sizeof(CURL_PART1 CURL_PART2) - 1);
    printf("  file: %s, %zu bytes at offset %ld (want %zu at %ld), filename '%s', type '%s'\n",
           ds_err_name(f.rc), f.part.size, f.off, pdf_n, want_off, f.filename, f.content_type);
    DS_CHECK_INT_EQ(f.rc, 0);
    DS_CHECK_INT_EQ(f.part.size, pdf_n);
    DS_CHECK_INT_EQ(f.off, want_off);
    DS_CHECK(memcmp(body + f.off, pdf, pdf_n) == 0);
    DS_CHECK(strcmp(f.name, "file") == 0);
    DS_CHECK(strcmp(f.filename, "x.pdf") == 0);
    DS_CHECK(strcmp(f.content_type, "application/pdf") == 0);

    f = find_in(body, n, boundary, "title");
    printf("  title: %s, '%.*s' (%zu bytes at %ld), filename %s, type %s\n", ds_err_name(f.rc),
           (int)f.part.size, f.off >= 0 ? body + f.off : "", f.part.size, f.off, f.filename,
           f.content_type);
    DS_CHECK_INT_EQ(f.rc, 0);
    DS_CHECK_INT_EQ(f.part.size, 10);
    DS_CHECK_INT_EQ(f.off, (long)(sizeof(CURL_PART1) - 1));
    DS_CHECK(memcmp(body + f.off, "Invoice 42", 10) == 0);
    DS_CHECK(strcmp(f.filename, "(null)") == 0 && strcmp(f.content_type, "(null)") == 0);
    return 0;
}

// Every prefix of the curl body: only the whole body and the body less its
// final CRLF (which ends on the closing delimiter) are complete.
DS_TEST(multipart_truncated_everywhere) {
    static const char body[] = CURL_BODY;
    const size_t n = sizeof body - 1;
    int accepted = 0, format = 0;
    for (size_t len = 0; len <= n; len++) {
        lookup f = find_in(body, len, CURL_B, "file");
        int want = len == n || len == n - 2 ? 0 : DS_E_FORMAT;
        if (f.rc != want) {
            fprintf(stderr, "  prefix of %zu / %zu bytes -> %s (want %s): %s\n", len, n,
                    ds_err_name(f.rc), ds_err_name(want), ds_errmsg());
            return 1;
        }
        accepted += f.rc == 0;
        format += f.rc == DS_E_FORMAT;
    }
    printf("  %zu prefixes of the %zu-byte curl body: %d complete (want 2), %d FORMAT\n", n + 1, n,
           accepted, format);
    DS_CHECK_INT_EQ(accepted, 2);
    // The message of a cut inside the file data names the part and the closing delimiter.
    lookup f = find_in(body, n - 20, CURL_B, "file");
    printf("  cut 20 bytes short: %s: %s\n", ds_err_name(f.rc), ds_errmsg());
    DS_CHECK(strstr(ds_errmsg(), "part 2") && strstr(ds_errmsg(), "closing '--" CURL_B "--'"));
    return 0;
}

// ---- structure

DS_TEST(multipart_preamble_epilogue) {
#define PRE_HEAD                                                                                   \
    "This is the preamble; it mentions --frontier mid-line." CRLF "--frontier" CRLF                \
    "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"" CRLF                       \
    "Content-Type: text/plain" CRLF CRLF
    // The epilogue holds a delimiter and half a part: after the closing delimiter nothing counts.
    static const char body[] =
        PRE_HEAD "hello" CRLF "--frontier--" CRLF "This is the epilogue." CRLF "--frontier" CRLF
                 "Content-Disposition: form-data; name=\"x\"" CRLF;
    lookup f = find_in(LIT(body), "frontier", "file");
    printf("  %s: '%.*s' at %ld (want 'hello' at %zu), type '%s'\n", ds_err_name(f.rc),
           (int)f.part.size, f.off >= 0 ? body + f.off : "", f.off, sizeof(PRE_HEAD) - 1,
           f.content_type);
    DS_CHECK_INT_EQ(f.rc, 0);
    DS_CHECK_INT_EQ(f.part.size, 5);
    DS_CHECK_INT_EQ(f.off, (long)(sizeof(PRE_HEAD) - 1));
    DS_CHECK(memcmp(body + f.off, "hello", 5) == 0);
    DS_CHECK(strcmp(f.content_type, "text/plain") == 0);
#undef PRE_HEAD
    return 0;
}

// Transport padding after a delimiter (RFC 2046 §5.1.1), a token name, and a
// closing delimiter that ends the body without CRLF.
DS_TEST(multipart_padding_bare_close) {
#define PAD_HEAD "--frontier \t" CRLF "Content-Disposition: form-data; name=file" CRLF CRLF
    static const char body[] = PAD_HEAD "abc" CRLF "--frontier--  ";
    lookup f = find_in(LIT(body), "frontier", "file");
    printf("  %s: %zu bytes at %ld (want 3 at %zu)\n", ds_err_name(f.rc), f.part.size, f.off,
           sizeof(PAD_HEAD) - 1);
    DS_CHECK_INT_EQ(f.rc, 0);
    DS_CHECK_INT_EQ(f.part.size, 3);
    DS_CHECK_INT_EQ(f.off, (long)(sizeof(PAD_HEAD) - 1));
    DS_CHECK(memcmp(body + f.off, "abc", 3) == 0);
#undef PAD_HEAD
    return 0;
}

DS_TEST(multipart_duplicate_first_wins) {
    static const char body[] =
        "--frontier" CRLF
        "Content-Disposition: form-data; name=\"file\"; filename=\"one.pdf\"" CRLF CRLF "first" CRLF
        "--frontier" CRLF
        "Content-Disposition: form-data; name=\"file\"; filename=\"two.pdf\"" CRLF CRLF
        "second!" CRLF "--frontier--" CRLF;
    lookup f = find_in(LIT(body), "frontier", "file");
    printf("  %s: '%s', %zu bytes '%.*s' (want one.pdf, 5 bytes 'first')\n", ds_err_name(f.rc),
           f.filename, f.part.size, (int)f.part.size, f.off >= 0 ? body + f.off : "");
    DS_CHECK_INT_EQ(f.rc, 0);
    DS_CHECK(strcmp(f.filename, "one.pdf") == 0);
    DS_CHECK_INT_EQ(f.part.size, 5);
    DS_CHECK(memcmp(body + f.off, "first", 5) == 0);
    return 0;
}

DS_TEST(multipart_not_found) {
    static const char body[] =
        "--frontier" CRLF "Content-Disposition: form-data; name=\"title\"" CRLF CRLF "Invoice" CRLF
        "--frontier" CRLF "Content-Disposition: form-data; name=\"note\"" CRLF CRLF
        "see attached" CRLF "--frontier--" CRLF;
    // A prefix or an extension of a present name is not that name.
    const char *const wanted[] = {"file", "titl", "title2", ""};
    for (int i = 0; i < 4; i++) {
        lookup f = find_in(LIT(body), "frontier", wanted[i]);
        printf("  '%s' -> %s: %s\n", wanted[i], ds_err_name(f.rc), ds_errmsg());
        DS_CHECK_INT_EQ(f.rc, DS_E_NOT_FOUND);
        char want[64];
        snprintf(want, sizeof want, "no part named '%s'", wanted[i]);
        DS_CHECK(strstr(ds_errmsg(), want) != NULL);
        DS_CHECK(strstr(ds_errmsg(), "'title', 'note'") != NULL);
        DS_CHECK(f.off == -1);
    }
    // Only a closing delimiter (after a preamble or not): well formed, no parts.
    static const char empty1[] = "--frontier--" CRLF, empty2[] = "preamble" CRLF "--frontier--";
    lookup f = find_in(LIT(empty1), "frontier", "file");
    printf("  closing delimiter only -> %s: %s\n", ds_err_name(f.rc), ds_errmsg());
    DS_CHECK_INT_EQ(f.rc, DS_E_NOT_FOUND);
    DS_CHECK(strstr(ds_errmsg(), "has no parts") != NULL);
    f = find_in(LIT(empty2), "frontier", "file");
    printf("  preamble and closing delimiter -> %s: %s\n", ds_err_name(f.rc), ds_errmsg());
    DS_CHECK_INT_EQ(f.rc, DS_E_NOT_FOUND);
    return 0;
}

// Header names in any case, quoted names with escapes, a ';' inside quotes,
// filename*= ignored, Content-Type trimmed.
DS_TEST(multipart_names_and_headers) {
    static const char body[] =
        "--frontier" CRLF "content-disposition: FORM-DATA; NAME=\"a\\\"b\"" CRLF CRLF "one" CRLF
        "--frontier" CRLF "CONTENT-TYPE:application/pdf  " CRLF
        "Content-Disposition: form-data ; name=file ; filename*=UTF-8''r%C3%A9.pdf; "
        "filename=\"r\\\"e.pdf\"" CRLF CRLF "two" CRLF "--frontier" CRLF
        "Content-Disposition: form-data; name=\"x;y\"" CRLF CRLF "three" CRLF "--frontier--" CRLF;
    const struct {
        const char *name, *data, *raw_name, *filename, *type;
    } cases[] = {
        {"a\"b", "one", "a\\\"b", "(null)", "(null)"},
        {"file", "two", "file", "r\\\"e.pdf", "application/pdf"},
        {"x;y", "three", "x;y", "(null)", "(null)"},
    };
    for (int i = 0; i < 3; i++) {
        lookup f = find_in(LIT(body), "frontier", cases[i].name);
        printf("  '%s' -> %s: data '%.*s', raw name '%s', filename '%s', type '%s'\n",
               cases[i].name, ds_err_name(f.rc), (int)f.part.size, f.off >= 0 ? body + f.off : "",
               f.name, f.filename, f.content_type);
        DS_CHECK_INT_EQ(f.rc, 0);
        DS_CHECK_INT_EQ(f.part.size, strlen(cases[i].data));
        DS_CHECK(memcmp(body + f.off, cases[i].data, f.part.size) == 0);
        DS_CHECK(strcmp(f.name, cases[i].raw_name) == 0);
        DS_CHECK(strcmp(f.filename, cases[i].filename) == 0);
        DS_CHECK(strcmp(f.content_type, cases[i].type) == 0);
    }
    // The escapes are removed before comparing: the raw spelling is not the name.
    lookup f = find_in(LIT(body), "frontier", "a\\\"b");
    printf("  raw 'a\\\"b' -> %s\n", ds_err_name(f.rc));
    DS_CHECK_INT_EQ(f.rc, DS_E_NOT_FOUND);
    return 0;
}

DS_TEST(multipart_empty_file) {
#define EMPTY_HEAD                                                                                 \
    "--frontier" CRLF "Content-Disposition: form-data; name=\"file\"; filename=\"empty.pdf\"" CRLF \
    "Content-Type: application/pdf" CRLF CRLF
#define EMPTY_NOTE "--frontier" CRLF "Content-Disposition: form-data; name=\"note\"" CRLF CRLF
    static const char body[] = EMPTY_HEAD CRLF EMPTY_NOTE CRLF "--frontier--" CRLF;
    lookup f = find_in(LIT(body), "frontier", "file");
    printf("  file: %s, %zu bytes at %ld (want 0 at %zu), filename '%s'\n", ds_err_name(f.rc),
           f.part.size, f.off, sizeof(EMPTY_HEAD) - 1, f.filename);
    DS_CHECK_INT_EQ(f.rc, 0);
    DS_CHECK_INT_EQ(f.part.size, 0);
    DS_CHECK_INT_EQ(f.off, (long)(sizeof(EMPTY_HEAD) - 1));
    DS_CHECK(strcmp(f.filename, "empty.pdf") == 0);
    f = find_in(LIT(body), "frontier", "note");
    printf("  note: %s, %zu bytes at %ld (want 0 at %zu)\n", ds_err_name(f.rc), f.part.size, f.off,
           sizeof(EMPTY_HEAD CRLF EMPTY_NOTE) - 1);
    DS_CHECK_INT_EQ(f.rc, 0);
    DS_CHECK_INT_EQ(f.part.size, 0);
    DS_CHECK_INT_EQ(f.off, (long)(sizeof(EMPTY_HEAD CRLF EMPTY_NOTE) - 1));
#undef EMPTY_HEAD
#undef EMPTY_NOTE
    return 0;
}

// ---- malformed bodies

#define CD_FILE "Content-Disposition: form-data; name=\"file\"" CRLF

DS_TEST(multipart_format_errors) {
    const struct {
        const char *what, *body;
        size_t n;
        const char *msg;
    } cases[] = {
        {"another boundary", LIT("hello" CRLF "--other" CRLF CD_FILE CRLF "x" CRLF "--other--"),
         "no first delimiter '--frontier'"},
        {"empty body", LIT(""), "body (0 bytes) has no first delimiter"},
        {"no blank line", LIT("--frontier" CRLF CD_FILE "--frontier--" CRLF),
         "part 1: headers end without the blank line"},
        {"header without ':'",
         LIT("--frontier" CRLF CD_FILE "X-Broken header" CRLF CRLF "data" CRLF "--frontier--"),
         "part 1: header line 'X-Broken header' has no ':'"},
        {"no Content-Disposition",
         LIT("--frontier" CRLF "Content-Type: text/plain" CRLF CRLF "data" CRLF "--frontier--"),
         "part 1 has no Content-Disposition"},
        {"no headers at all", LIT("--frontier" CRLF CRLF "data" CRLF "--frontier--"),
         "part 1 has no Content-Disposition"},
        {"not form-data",
         LIT("--frontier" CRLF "Content-Disposition: attachment; filename=\"x.pdf\"" CRLF CRLF
             "data" CRLF "--frontier--"),
         "is 'attachment; filename=\"x.pdf\"', not form-data"},
        {"no name",
         LIT("--frontier" CRLF "Content-Disposition: form-data; filename=\"x.pdf\"" CRLF CRLF
             "data" CRLF "--frontier--"),
         "part 1: Content-Disposition form-data has no name"},
        {"second part without name",
         LIT("--frontier" CRLF CD_FILE CRLF "data" CRLF "--frontier" CRLF
             "Content-Disposition: form-data" CRLF CRLF "x" CRLF "--frontier--"),
         "part 2: Content-Disposition form-data has no name"},
        {"unterminated quote",
         LIT("--frontier" CRLF "Content-Disposition: form-data; name=\"file" CRLF CRLF "data" CRLF
             "--frontier--"),
         "parameter 'name' has an unterminated quoted string"},
        {"parameter without '='",
         LIT("--frontier" CRLF "Content-Disposition: form-data; name" CRLF CRLF "data" CRLF
             "--frontier--"),
         "parameter 'name' has no '='"},
        // The wanted part is complete, but the upload is cut in the next one.
        {"truncated after the wanted part",
         LIT("--frontier" CRLF CD_FILE CRLF "DATA" CRLF "--frontier" CRLF
             "Content-Disposition: form-data; name=\"note\"" CRLF CRLF "par"),
         "part 2 (from byte"},
        {"ends after a delimiter line",
         LIT("--frontier" CRLF CD_FILE CRLF "DATA" CRLF "--frontier" CRLF),
         "ends before the closing '--frontier--' (truncated upload?)"},
        {"half a closing delimiter", LIT("--frontier" CRLF CD_FILE CRLF "DATA" CRLF "--frontier-"),
         "part 1 (from byte 12) is not followed by a delimiter"},
        {"closing delimiter run into text",
         LIT("--frontier" CRLF CD_FILE CRLF "DATA" CRLF "--frontier--junk"),
         "part 1 (from byte 12) is not followed by a delimiter"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ds_error_clear();
        lookup f = find_in(cases[i].body, cases[i].n, "frontier", "file");
        printf("  %-32s -> %s: %s\n", cases[i].what, ds_err_name(f.rc), ds_errmsg());
        DS_CHECK_INT_EQ(f.rc, DS_E_FORMAT);
        DS_CHECK(strstr(ds_errmsg(), cases[i].msg) != NULL);
        DS_CHECK(f.off == -1 && f.part.size == 0 && strcmp(f.name, "(null)") == 0);
    }
    // Bad arguments are DS_E_INVAL, not a crash.
    ds_multipart_part p;
    DS_CHECK_INT_EQ(ds_multipart_find(NULL, 5, "frontier", "file", &p), DS_E_INVAL);
    DS_CHECK_INT_EQ(ds_multipart_find((const uint8_t *)"x", 1, "", "file", &p), DS_E_INVAL);
    DS_CHECK_INT_EQ(ds_multipart_find((const uint8_t *)"x", 1, "frontier", NULL, &p), DS_E_INVAL);
    printf("  NULL body, empty boundary, NULL name -> INVAL\n");
    return 0;
}

// ---- limits

// A body of n_parts parts named p0, p1, ... with data v0, v1, ... (cap is ample).
static size_t many_parts(char *buf, size_t cap, int n_parts) {
    size_t at = 0;
    for (int i = 0; i < n_parts; i++)
        at += (size_t)snprintf(buf + at, cap - at,
                               "--frontier\r\nContent-Disposition: form-data; name=\"p%d\"\r\n"
                               "\r\nv%d\r\n",
                               i, i);
    at += (size_t)snprintf(buf + at, cap - at, "--frontier--\r\n");
    return at;
}

// A one-part body whose header section (header lines with their CRLFs, not
// the blank line) is exactly hdr bytes: the Content-Disposition line (45
// bytes) and an "X-Pad: " line padded to fit.
static size_t padded_headers(char *buf, size_t cap, size_t hdr) {
    static const char cd[] = CD_FILE;
    size_t pad = hdr - (sizeof cd - 1) - 9; // "X-Pad: " and CRLF
    size_t at = 0;
    at += (size_t)snprintf(buf + at, cap - at, "--frontier\r\n%sX-Pad: ", cd);
    memset(buf + at, 'p', pad);
    at += pad;
    at += (size_t)snprintf(buf + at, cap - at, "\r\n\r\ndata\r\n--frontier--\r\n");
    return at;
}

DS_TEST(multipart_limits) {
    DS_CHECK(sizeof(CD_FILE) - 1 == 45);
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    DS_CHECK(buf != NULL);
    int fails = 0;

    size_t n = many_parts(buf, cap, 64);
    lookup f = find_in(buf, n, "frontier", "p63");
    printf("  64 parts, find p63 -> %s, %zu bytes '%.*s'\n", ds_err_name(f.rc), f.part.size,
           (int)f.part.size, f.off >= 0 ? buf + f.off : "");
    fails += f.rc != 0 || f.part.size != 3 || memcmp(buf + f.off, "v63", 3) != 0;
    n = many_parts(buf, cap, 65);
    f = find_in(buf, n, "frontier", "p0");
    printf("  65 parts, find p0 -> %s: %s\n", ds_err_name(f.rc), ds_errmsg());
    fails += f.rc != DS_E_TOO_LARGE || !strstr(ds_errmsg(), "more than 64 parts");

    n = padded_headers(buf, cap, 8192);
    f = find_in(buf, n, "frontier", "file");
    printf("  8192 header bytes -> %s, %zu bytes of data\n", ds_err_name(f.rc), f.part.size);
    fails += f.rc != 0 || f.part.size != 4 || f.off != (long)(12 + 8192 + 2);
    n = padded_headers(buf, cap, 8193);
    f = find_in(buf, n, "frontier", "file");
    printf("  8193 header bytes -> %s: %s\n", ds_err_name(f.rc), ds_errmsg());
    fails += f.rc != DS_E_TOO_LARGE || !strstr(ds_errmsg(), "part 1: headers exceed 8192 bytes");

    // Data has no limit of its own: 900 000 bytes of CRLF-rich data after small headers.
    static const char head[] = "--frontier" CRLF CD_FILE CRLF, tail[] = CRLF "--frontier--" CRLF;
    size_t data_n = 900000;
    memcpy(buf, head, sizeof head - 1);
    for (size_t i = 0; i < data_n; i++) buf[sizeof head - 1 + i] = "ab\r\n-"[i % 5];
    memcpy(buf + sizeof head - 1 + data_n, tail, sizeof tail - 1);
    f = find_in(buf, sizeof head - 1 + data_n + sizeof tail - 1, "frontier", "file");
    printf("  %zu bytes of data -> %s, %zu bytes\n", data_n, ds_err_name(f.rc), f.part.size);
    fails += f.rc != 0 || f.part.size != data_n;
    free(buf);
    return fails;
}

// ---- fuzz smoke

// Seeds in tests/corpus/multipart (the valid-* ones must be accepted), every
// truncation of each, and byte flips with a fixed seed, through the fuzz entry:
// only 0 or a DS_E code, no crash, no leak (ASan). Every input is a heap copy
// of exactly its length.
DS_TEST(multipart_fuzz_smoke) {
    char dir[1024], path[1400];
    snprintf(dir, sizeof dir, "%s/tests/corpus/multipart", DS_SOURCE_DIR);
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *m = fopen(path, "r");
    DS_CHECK(m != NULL);
    char line[256];
    int seeds = 0, valid = 0, accepted = 0, rejected = 0, bad = 0;
    ds_rng r;
    ds_rng_seed(&r, 2046);
    while (fgets(line, sizeof line, m)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        snprintf(path, sizeof path, "%s/%s", dir, line);
        size_t n;
        uint8_t *seed = ds_fx_read_file(path, &n);
        if (!seed || n == 0) {
            fprintf(stderr, "  cannot read seed %s\n", path);
            free(seed);
            fclose(m);
            return 1;
        }
        uint8_t *exact = dup_bytes(seed, n);
        int rc = ds_fuzz_multipart(exact, n);
        free(exact);
        int must_pass = strncmp(line, "valid-", 6) == 0;
        printf("  seed %-28s %4zu bytes -> %s%s%s\n", line, n, ds_err_name(rc), rc ? ": " : "",
               rc ? ds_errmsg() : "");
        seeds++;
        valid += must_pass;
        bad += !is_ds_code(rc) || (must_pass && rc != 0);
        uint8_t *mut = malloc(n);
        DS_CHECK(mut != NULL);
        for (size_t len = 0; len < n; len++) {
            exact = dup_bytes(seed, len);
            rc = ds_fuzz_multipart(len ? exact : NULL, len);
            free(exact);
            bad += !is_ds_code(rc);
            accepted += rc == 0;
            rejected += rc != 0;
        }
        for (int iter = 0; iter < 500; iter++) {
            size_t len = ds_test_mutate(&r, mut, seed, n);
            exact = dup_bytes(mut, len);
            rc = ds_fuzz_multipart(exact, len);
            free(exact);
            bad += !is_ds_code(rc);
            accepted += rc == 0;
            rejected += rc != 0;
        }
        free(mut);
        free(seed);
    }
    fclose(m);
    printf("  %d seeds (%d valid), %d truncations and mutations: %d accepted, %d rejected, %d "
           "bad return codes\n",
           seeds, valid, accepted + rejected, accepted, rejected, bad);
    DS_CHECK(seeds >= 4 && valid >= 3 && rejected > 0);
    DS_CHECK_INT_EQ(bad, 0);
    return 0;
}
