// multipart.c: the multipart/form-data parser behind server/multipart.h.
// Grammar: RFC 2046 §5.1.1 ([preamble CRLF] "--" boundary padding CRLF, parts
// separated by CRLF "--" boundary padding CRLF, then CRLF "--" boundary "--"
// and an epilogue); part headers per RFC 7578 §4.2 and RFC 6266 §4.1. A
// delimiter is recognised only as a whole line, so data that merely contains
// the boundary ("--bX", a boundary after a bare LF) stays data. Nothing here
// allocates, and every read is bounded by body + n.
#include "server/multipart.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

// ---- small helpers

static int is_ows(int c) {
    return c == ' ' || c == '\t';
}

static int ascii_lower(int c) {
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

// 1 when s[0..n) equals lit, ignoring ASCII case (header names, media types and
// parameter names are case-insensitive: RFC 2045 §5.1, RFC 7230 §3.2).
static int eq_nocase(const char *s, size_t n, const char *lit) {
    if (strlen(lit) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)lit[i])) return 0;
    return 1;
}

// Copies s[0..n) into buf (cap >= 8) for an error message: bytes outside
// printable ASCII become '?', since the message may end up in a log or a JSON
// answer; too long a text is cut and ends with "...".
static const char *snippet(char *buf, size_t cap, const void *s, size_t n) {
    const unsigned char *p = s;
    size_t keep = n < cap ? n : cap - 4;
    for (size_t i = 0; i < keep; i++) buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    if (keep < n) {
        memcpy(buf + keep, "...", 3);
        keep += 3;
    }
    buf[keep] = 0;
    return buf;
}

// ---- parameters: `; key=value` lists of Content-Type and Content-Disposition

typedef struct {
    const char *key;
    size_t key_len;
    const char *val; // raw: between the quotes when quoted, escapes kept
    size_t val_len;
    int quoted;
} mp_param;

// Reads the next parameter of [*pos, end) and advances *pos. Returns 1 with
// *prm filled, 0 when the list ends, or DS_E_FORMAT with a message starting
// with what. Empty parameters (";;", a trailing ';') are skipped as harmless.
static int next_param(const char **pos, const char *end, const char *what, mp_param *prm) {
    char b1[48];
    const char *p = *pos;
    while (p < end && is_ows(*p)) p++;
    if (p == end) return 0;
    if (*p != ';')
        return ds_error(DS_E_FORMAT, "%s: expected ';' before '%s'", what,
                        snippet(b1, sizeof b1, p, (size_t)(end - p)));
    while (p < end && (*p == ';' || is_ows(*p))) p++;
    if (p == end) return 0;
    const char *key = p;
    while (p < end && *p != '=' && *p != ';' && !is_ows(*p)) p++;
    size_t key_len = (size_t)(p - key);
    while (p < end && is_ows(*p)) p++;
    if (p == end || *p != '=')
        return ds_error(DS_E_FORMAT, "%s: parameter '%s' has no '='", what,
                        snippet(b1, sizeof b1, key, key_len));
    if (key_len == 0) return ds_error(DS_E_FORMAT, "%s: a parameter has no name before '='", what);
    p++;
    while (p < end && is_ows(*p)) p++;
    prm->key = key;
    prm->key_len = key_len;
    prm->quoted = p < end && *p == '"';
    if (prm->quoted) {
        // quoted-string with quoted-pair (RFC 7230 §3.2.6): a backslash takes the next byte.
        const char *v = ++p;
        while (p < end && *p != '"') p += *p == '\\' && p + 1 < end ? 2 : 1;
        if (p == end)
            return ds_error(DS_E_FORMAT, "%s: parameter '%s' has an unterminated quoted string",
                            what, snippet(b1, sizeof b1, key, key_len));
        prm->val = v;
        prm->val_len = (size_t)(p - v);
        p++;
    } else {
        prm->val = p;
        while (p < end && *p != ';' && !is_ows(*p)) p++;
        prm->val_len = (size_t)(p - prm->val);
    }
    *pos = p;
    return 1;
}

// Length of a parameter value once backslash escapes are removed.
static size_t unescaped_len(const mp_param *prm) {
    if (!prm->quoted) return prm->val_len;
    size_t len = 0;
    for (size_t i = 0; i < prm->val_len; i++, len++)
        if (prm->val[i] == '\\') i++;
    return len;
}

// ---- Content-Type

int ds_multipart_boundary(const char *content_type, char *out, size_t cap) {
    char b1[48];
    if (out && cap) out[0] = 0;
    if (!content_type)
        return ds_error(DS_E_UNSUPPORTED,
                        "no Content-Type: expected multipart/form-data; boundary=...");
    if (!out && cap) return ds_error(DS_E_INVAL, "ds_multipart_boundary: out is NULL");
    const char *p = content_type, *end = content_type + strlen(content_type);
    while (p < end && is_ows(*p)) p++;
    const char *type = p;
    while (p < end && *p != ';' && !is_ows(*p)) p++;
    if (!eq_nocase(type, (size_t)(p - type), "multipart/form-data"))
        return ds_error(DS_E_UNSUPPORTED, "Content-Type '%s' is not multipart/form-data",
                        snippet(b1, sizeof b1, type, (size_t)(end - type)));
    // The whole list is read, so a malformed or doubled parameter is refused
    // rather than read differently from a proxy in front of the service.
    mp_param prm, bnd = {0};
    int rc, seen = 0;
    while ((rc = next_param(&p, end, "Content-Type", &prm)) > 0) {
        if (!eq_nocase(prm.key, prm.key_len, "boundary")) continue;
        if (seen++)
            return ds_error(DS_E_FORMAT, "Content-Type has more than one boundary parameter");
        bnd = prm;
    }
    if (rc < 0) return rc;
    if (!seen) return ds_error(DS_E_FORMAT, "Content-Type multipart/form-data has no boundary");
    size_t len = unescaped_len(&bnd);
    if (len == 0)
        return ds_error(DS_E_FORMAT, "Content-Type multipart/form-data has an empty boundary");
    if (len > DS_MULTIPART_BOUNDARY_MAX)
        return ds_error(
            DS_E_FORMAT,
            "boundary is %zu characters, more than the %d RFC 2046 section 5.1.1 allows", len,
            DS_MULTIPART_BOUNDARY_MAX);
    if (len >= cap)
        return ds_error(DS_E_FORMAT,
                        "boundary of %zu characters does not fit a buffer of %zu bytes", len, cap);
    size_t k = 0;
    for (size_t i = 0; i < bnd.val_len; i++) {
        if (bnd.quoted && bnd.val[i] == '\\') i++;
        out[k++] = bnd.val[i];
    }
    out[k] = 0;
    return 0;
}

// ---- delimiters

typedef struct {
    size_t start; // where the data before it ends: its CR, or 0 when it opens the body
    size_t next;  // first byte after the delimiter line
    int close;    // 1 for the closing "--boundary--"
} mp_delim;

// Whether the bytes from p (just after "--boundary") finish a delimiter line:
// "--" for the closing one, transport padding (spaces, tabs), then CRLF; the
// closing line may also end the body. Anything else makes it data.
static int delim_tail(const uint8_t *body, size_t n, size_t p, mp_delim *d) {
    int close = 0;
    if (p + 1 < n && body[p] == '-' && body[p + 1] == '-') {
        close = 1;
        p += 2;
    }
    while (p < n && is_ows(body[p])) p++;
    if (p + 1 < n && body[p] == '\r' && body[p + 1] == '\n')
        p += 2;
    else if (!(close && p == n))
        return 0;
    d->close = close;
    d->next = p;
    return 1;
}

// Finds the first delimiter CRLF "--" boundary at or after from; pat holds
// those plen bytes. Returns 1 with *d filled, 0 when there is none.
static int find_delim(const uint8_t *body, size_t n, size_t from, const uint8_t *pat, size_t plen,
                      mp_delim *d) {
    while (from < n) {
        const uint8_t *hit = memmem(body + from, n - from, pat, plen);
        if (!hit) return 0;
        size_t at = (size_t)(hit - body);
        if (delim_tail(body, n, at + plen, d)) {
            d->start = at;
            return 1;
        }
        from = at + 1;
    }
    return 0;
}

// ---- one part

// Parses the part p[0..len) (headers, blank line, data) as part number k.
// *name_quoted tells whether the name may hold backslash escapes.
static int parse_part(const uint8_t *p, size_t len, int k, ds_multipart_part *part,
                      int *name_quoted) {
    char b1[48], what[48];
    memset(part, 0, sizeof *part);
    *name_quoted = 0;
    // Header section: CRLF-terminated lines up to the first empty line.
    size_t hdr_len;
    if (len >= 2 && p[0] == '\r' && p[1] == '\n') {
        hdr_len = 0;
    } else {
        // A blank line at offset j means j + 2 header bytes: search no further than the limit.
        size_t win = len < DS_MULTIPART_HEADERS_MAX + 2 ? len : DS_MULTIPART_HEADERS_MAX + 2;
        const uint8_t *blank = memmem(p, win, "\r\n\r\n", 4);
        if (!blank && len > DS_MULTIPART_HEADERS_MAX + 2)
            return ds_error(DS_E_TOO_LARGE, "part %d: headers exceed %d bytes", k,
                            DS_MULTIPART_HEADERS_MAX);
        if (!blank)
            return ds_error(DS_E_FORMAT,
                            "part %d: headers end without the blank line that must follow them", k);
        hdr_len = (size_t)(blank - p) + 2;
    }
    const char *disp = NULL, *h = (const char *)p;
    size_t disp_len = 0;
    for (size_t i = 0; i < hdr_len;) {
        const char *line = h + i;
        const char *eol = memmem(line, hdr_len - i, "\r\n", 2);
        DS_ASSERT(eol != NULL); // the section ends with the CRLF found above
        size_t line_len = (size_t)(eol - line);
        const char *colon = memchr(line, ':', line_len);
        if (!colon)
            return ds_error(DS_E_FORMAT, "part %d: header line '%s' has no ':'", k,
                            snippet(b1, sizeof b1, line, line_len));
        size_t key_len = (size_t)(colon - line);
        while (key_len > 0 && is_ows(line[key_len - 1])) key_len--;
        const char *v = colon + 1;
        while (v < eol && is_ows(*v)) v++;
        const char *vend = eol;
        while (vend > v && is_ows(vend[-1])) vend--;
        // A repeated header is ignored: the first one counts, as for names below.
        if (eq_nocase(line, key_len, "Content-Disposition") && !disp) {
            disp = v;
            disp_len = (size_t)(vend - v);
        } else if (eq_nocase(line, key_len, "Content-Type") && !part->content_type) {
            part->content_type = v;
            part->content_type_len = (size_t)(vend - v);
        }
        i += line_len + 2;
    }
    if (!disp) return ds_error(DS_E_FORMAT, "part %d has no Content-Disposition header", k);
    const char *q = disp, *dend = disp + disp_len;
    while (q < dend && *q != ';' && !is_ows(*q)) q++;
    if (!eq_nocase(disp, (size_t)(q - disp), "form-data"))
        return ds_error(DS_E_FORMAT, "part %d: Content-Disposition is '%s', not form-data", k,
                        snippet(b1, sizeof b1, disp, disp_len));
    snprintf(what, sizeof what, "part %d: Content-Disposition", k);
    mp_param prm;
    int rc;
    while ((rc = next_param(&q, dend, what, &prm)) > 0) {
        // filename*= (RFC 5987) is left alone: RFC 7578 §4.2 says senders must not use it.
        if (eq_nocase(prm.key, prm.key_len, "name") && !part->name) {
            part->name = prm.val;
            part->name_len = prm.val_len;
            *name_quoted = prm.quoted;
        } else if (eq_nocase(prm.key, prm.key_len, "filename") && !part->filename) {
            part->filename = prm.val;
            part->filename_len = prm.val_len;
        }
    }
    if (rc < 0) return rc;
    if (!part->name)
        return ds_error(DS_E_FORMAT, "part %d: Content-Disposition form-data has no name", k);
    size_t data_at = hdr_len + 2;
    part->data = p + data_at;
    part->size = len - data_at;
    return 0;
}

// 1 when the raw name equals want once its escapes (if quoted) are removed.
static int name_equals(const char *raw, size_t n, int quoted, const char *want) {
    size_t j = 0;
    for (size_t i = 0; i < n; i++, j++) {
        char c = raw[i];
        if (quoted && c == '\\' && i + 1 < n) c = raw[++i];
        if (want[j] == 0 || want[j] != c) return 0;
    }
    return want[j] == 0;
}

// ---- the body

static int fail(ds_multipart_part *out, int rc) {
    memset(out, 0, sizeof *out);
    return rc;
}

int ds_multipart_find(const uint8_t *body, size_t n, const char *boundary, const char *name,
                      ds_multipart_part *out) {
    char b1[48], b2[DS_MULTIPART_BOUNDARY_MAX + 8];
    if (out) memset(out, 0, sizeof *out);
    if (!boundary || !name || !out || (!body && n))
        return ds_error(DS_E_INVAL, "ds_multipart_find: NULL argument");
    size_t blen = strlen(boundary);
    if (blen == 0 || blen > DS_MULTIPART_BOUNDARY_MAX)
        return ds_error(DS_E_INVAL, "ds_multipart_find: boundary of %zu characters (1 to %d)", blen,
                        DS_MULTIPART_BOUNDARY_MAX);
    const char *bshow = snippet(b2, sizeof b2, boundary, blen);
    uint8_t pat[4 + DS_MULTIPART_BOUNDARY_MAX];
    memcpy(pat, "\r\n--", 4);
    memcpy(pat + 4, boundary, blen);
    size_t plen = 4 + blen;

    // The first delimiter may open the body; otherwise a preamble and CRLF come before it.
    mp_delim d;
    int have =
        n >= plen - 2 && memcmp(body, pat + 2, plen - 2) == 0 && delim_tail(body, n, plen - 2, &d);
    if (have)
        d.start = 0;
    else
        have = find_delim(body, n, 0, pat, plen, &d);
    if (!have)
        return ds_error(DS_E_FORMAT, "body (%zu bytes) has no first delimiter '--%s'", n, bshow);

    char names[400]; // the names seen, for the DS_E_NOT_FOUND message
    size_t names_len = 0;
    names[0] = 0;
    int n_parts = 0, found = 0;
    while (!d.close) {
        if (n_parts == DS_MULTIPART_PARTS_MAX)
            return fail(out, ds_error(DS_E_TOO_LARGE, "more than %d parts in the body",
                                      DS_MULTIPART_PARTS_MAX));
        n_parts++;
        mp_delim nd;
        if (!find_delim(body, n, d.next, pat, plen, &nd))
            return fail(out, ds_error(DS_E_FORMAT,
                                      "part %d (from byte %zu) is not followed by a delimiter: the "
                                      "body (%zu bytes) ends before the closing '--%s--' "
                                      "(truncated upload?)",
                                      n_parts, d.next, n, bshow));
        ds_multipart_part part;
        int quoted;
        int rc = parse_part(body + d.next, nd.start - d.next, n_parts, &part, &quoted);
        if (rc) return fail(out, rc);
        if (!found && name_equals(part.name, part.name_len, quoted, name)) {
            *out = part;
            found = 1;
        }
        if (names_len + 4 < sizeof names) {
            int w =
                snprintf(names + names_len, sizeof names - names_len, "%s'%s'",
                         n_parts > 1 ? ", " : "", snippet(b1, sizeof b1, part.name, part.name_len));
            // A cut entry ends the list with "...".
            if (w < 0 || (size_t)w >= sizeof names - names_len) {
                names_len = sizeof names - 4;
                memcpy(names + names_len, "...", 4);
            }
            names_len += strlen(names + names_len);
        }
        d = nd;
    }
    // The epilogue after the closing delimiter is ignored (RFC 2046 §5.1.1).
    if (found) return 0;
    if (n_parts == 0)
        return ds_error(DS_E_NOT_FOUND, "no part named '%s': the body has no parts",
                        snippet(b1, sizeof b1, name, strlen(name)));
    return ds_error(DS_E_NOT_FOUND, "no part named '%s'; parts present: %s",
                    snippet(b1, sizeof b1, name, strlen(name)), names);
}

// ---- fuzz entry

int ds_fuzz_multipart(const uint8_t *data, size_t size) {
    char ct[1024], boundary[DS_MULTIPART_BOUNDARY_MAX + 1];
    if (!data) size = 0;
    size_t line = 0;
    while (line < size && data[line] != '\n') line++;
    if (line >= sizeof ct)
        return ds_error(DS_E_TOO_LARGE, "fuzz: Content-Type line of %zu bytes", line);
    if (line) memcpy(ct, data, line);
    ct[line] = 0;
    if (line && ct[line - 1] == '\r') ct[line - 1] = 0; // a seed written with CRLF line ends
    int rc = ds_multipart_boundary(ct, boundary, sizeof boundary);
    if (rc) return rc;
    const uint8_t *body = line < size ? data + line + 1 : NULL;
    size_t n = line < size ? size - line - 1 : 0;
    ds_multipart_part part;
    rc = ds_multipart_find(body, n, boundary, "file", &part);
    if (rc) return rc;
    // Every view must lie inside the body (a parser bug, not bad input, so an
    // assert); touching each byte makes an out-of-range view show under ASan.
    const uint8_t *views[3] = {(const uint8_t *)part.name, (const uint8_t *)part.filename,
                               (const uint8_t *)part.content_type};
    size_t lens[3] = {part.name_len, part.filename_len, part.content_type_len};
    volatile unsigned sum = 0;
    for (int v = 0; v < 3; v++) {
        if (!views[v]) continue;
        DS_ASSERT(views[v] >= body && lens[v] <= n && views[v] - body <= (ptrdiff_t)(n - lens[v]));
        for (size_t i = 0; i < lens[v]; i++) sum += views[v][i];
    }
    DS_ASSERT(part.data >= body && part.size <= n &&
              part.data - body <= (ptrdiff_t)(n - part.size));
    for (size_t i = 0; i < part.size; i++) sum += part.data[i];
    (void)sum;
    return 0;
}
