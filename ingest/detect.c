// detect.c: the file type from its first bytes (magic numbers from each format's
// specification), never from the name. A PDF may have junk before "%PDF-" (the
// spec tolerates up to 1024 bytes, as readers do). Formats docseek does not read
// are still named, so the error can say what the user uploaded.
#include "ingest/ingest.h"

#include <string.h>

static int has(const unsigned char *p, size_t size, size_t off, const char *magic, size_t n) {
    return size >= off + n && memcmp(p + off, magic, n) == 0;
}

ds_format ds_detect_format(const void *data, size_t size) {
    const unsigned char *p = data;
    if (!p || size == 0) return DS_FORMAT_UNKNOWN;
    size_t scan = size < 1024 ? size : 1024;
    for (size_t i = 0; i + 5 <= scan; i++)
        if (p[i] == '%' && memcmp(p + i, "%PDF-", 5) == 0) return DS_FORMAT_PDF;
    if (has(p, size, 0, "\x89PNG\r\n\x1a\n", 8)) return DS_FORMAT_PNG;
    if (has(p, size, 0, "\xff\xd8\xff", 3)) return DS_FORMAT_JPEG;
    if (has(p, size, 0, "II*\0", 4) || has(p, size, 0, "MM\0*", 4)) return DS_FORMAT_TIFF;
    if (has(p, size, 0, "RIFF", 4) && has(p, size, 8, "WEBP", 4)) return DS_FORMAT_WEBP;
    if (has(p, size, 0, "GIF87a", 6) || has(p, size, 0, "GIF89a", 6)) return DS_FORMAT_GIF;
    if (has(p, size, 0, "BM", 2) && size >= 26) return DS_FORMAT_BMP;
    if (has(p, size, 0, "PK\x03\x04", 4) || has(p, size, 0, "PK\x05\x06", 4)) return DS_FORMAT_ZIP;
    if (has(p, size, 0, "\x1f\x8b", 2)) return DS_FORMAT_GZIP;
    size_t i = 0;
    while (i < scan && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    if (i + 5 <= size && (memcmp(p + i, "<!DOC", 5) == 0 || memcmp(p + i, "<html", 5) == 0 ||
                          memcmp(p + i, "<HTML", 5) == 0))
        return DS_FORMAT_HTML;
    int text = 1;
    for (i = 0; i < scan && text; i++)
        text = p[i] >= 0x20 || p[i] == '\n' || p[i] == '\r' || p[i] == '\t';
    return text ? DS_FORMAT_TEXT : DS_FORMAT_UNKNOWN;
}

const char *ds_format_name(ds_format fmt) {
    static const char *names[] = {"unknown", "pdf", "png", "jpeg", "tiff", "webp",
                                  "gif",     "bmp", "zip", "gzip", "html", "text"};
    return (unsigned)fmt < sizeof names / sizeof *names ? names[fmt] : "unknown";
}
