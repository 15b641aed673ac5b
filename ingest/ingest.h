// ingest.h: the bytes of a user's file become a ds_doc: pages, each with a
// rendered image, the encoder's letterboxed float input, and the words on it
// with their boxes. PDFs go through Poppler (glib) and cairo; images through
// libvips; pages without a usable text layer through Tesseract OCR.
// The type is detected from the content, never from a file name. Every limit
// (bytes, pages, pixels, time) is an option and a clear error, never a crash.
// Plain structs (callers read the fields); a ds_doc owns everything it points
// to and is freed with ds_doc_free. Safe to call from several threads at once:
// each call opens its own PopplerDocument, and OCR engines are per thread.
#ifndef DS_INGEST_H
#define DS_INGEST_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    DS_FORMAT_UNKNOWN = 0,
    DS_FORMAT_PDF,
    DS_FORMAT_PNG,
    DS_FORMAT_JPEG,
    DS_FORMAT_TIFF,
    DS_FORMAT_WEBP,
    DS_FORMAT_GIF,
    DS_FORMAT_BMP,
    // recognised only to name them in the error message
    DS_FORMAT_ZIP,
    DS_FORMAT_GZIP,
    DS_FORMAT_HTML,
    DS_FORMAT_TEXT,
} ds_format;

typedef enum { DS_OCR_AUTO = 0, DS_OCR_ALWAYS = 1, DS_OCR_NEVER = 2 } ds_ocr_mode;
#define DS_OCR_MODE_CHOICES "auto, always or never"
// The mode named s ("auto", "always", "never") into *out: 0, or -1 for any other name.
int ds_ocr_mode_parse(const char *s, ds_ocr_mode *out);
const char *ds_ocr_mode_name(ds_ocr_mode m);
// How OCR finds the text on a page (Tesseract's page segmentation): block reads it as
// one block of lines (the default, PSM 6), auto runs Tesseract's layout analysis
// (PSM 3: blocks, columns, pictures), column one column of text of varying sizes
// (PSM 4), sparse as much text as it finds in no order (PSM 11). README "Reading
// documents" has what each measured on receipts and generated scans.
typedef enum {
    DS_OCR_LAYOUT_BLOCK = 0,
    DS_OCR_LAYOUT_AUTO = 1,
    DS_OCR_LAYOUT_COLUMN = 2,
    DS_OCR_LAYOUT_SPARSE = 3,
} ds_ocr_layout;
// The layouts' names, for messages that list them.
#define DS_OCR_LAYOUT_CHOICES "block, auto, column or sparse"
// The layout named s ("block", "auto", "column", "sparse") into *out: 0, or -1 for
// any other name.
int ds_ocr_layout_parse(const char *s, ds_ocr_layout *out);
const char *ds_ocr_layout_name(ds_ocr_layout l);
// Whether s names OCR languages as Tesseract does: its traineddata names joined by '+'
// ("eng", "deu", "eng+msa", "Latin"), each letters, digits and '_' (so never a path),
// at most DS_OCR_LANG_MAX bytes in all. 0, or DS_E_INVAL with a message that says so.
#define DS_OCR_LANG_MAX 63
int ds_ocr_lang_check(const char *s);
// Where a word came from: the PDF text layer, OCR, or a selection mark (a check
// box found in the raster: text "☒" checked or "☐" empty; ingest/marks.c).
typedef enum { DS_WORD_PDF = 0, DS_WORD_OCR = 1, DS_WORD_MARK = 2 } ds_word_source;
static inline const char *ds_word_source_name(int s) {
    return s == DS_WORD_OCR ? "ocr" : s == DS_WORD_MARK ? "mark" : "pdf";
}

// A box in page points (1/72 inch), origin top-left, y down.
typedef struct {
    float x0, y0, x1, y1;
} ds_box;

typedef struct {
    const char *text; // UTF-8, no whitespace
    ds_box box;
    const char *font; // PDF font name, or "" (OCR)
    float font_size;  // points; OCR: the box height
    float conf;       // 1 for the PDF text layer, 0..1 from OCR
    int line;         // line number on the page in reading order
    uint8_t bold;
    uint8_t source; // ds_word_source
} ds_word;

typedef struct {
    float width_pt, height_pt; // page size in points
    int img_w, img_h;          // the rendered raster
    uint8_t *rgb;              // (img_h, img_w, 3) sRGB, white background
    float px_per_pt;           // raster pixels per page point (dpi / 72)
    // Encoder input: (3, enc_size, enc_size), the page letterboxed on white and
    // normalised per channel; a point (x, y) of the page lies at encoder pixel
    // (x * enc_scale + enc_off_x, y * enc_scale + enc_off_y).
    float *pixels;
    int enc_size;
    float enc_scale, enc_off_x, enc_off_y;
    ds_word *words; // in reading order: lines top to bottom, left to right in a line
    int n_words;
    int n_lines;
    uint8_t ocr_used; // words came from OCR
    // Slope (dy/dx) of the text lines on an OCR'd page, a scan's tilt (0 for the
    // text layer): reading order groups words into lines along it.
    float skew;
    double ms_render; // rendering / decoding
    double ms_text;   // text layer extraction
    double ms_ocr;    // OCR (0 when not run)
} ds_page;

typedef struct ds_doc_impl ds_doc_impl;

typedef struct {
    ds_format format;
    int n_pages;
    ds_page *pages;
    double ms_total;
    ds_doc_impl *impl; // storage; private
} ds_doc;

// Words a caller already has for an image's pages (a data set's own transcripts, another
// engine's reading): with them, image pages are not read by OCR. PDFs keep their own.
typedef struct {
    int page;             // 0-based
    char *text;           // UTF-8, no whitespace (owned)
    float x0, y0, x1, y1; // pixels of the page as decoded (after its EXIF orientation)
} ds_given_word;

typedef struct {
    ds_given_word *words;
    int n, cap;
    float skew; // the lines' slope (dy/dx): reading order follows a tilted scan's lines
} ds_given_words;

// Adds a word (text: len bytes, copied). 0 or DS_E_NOMEM.
int ds_given_words_add(ds_given_words *g, int page, const char *text, size_t len, float x0,
                       float y0, float x1, float y1);
void ds_given_words_free(ds_given_words *g);

typedef struct {
    size_t max_bytes;              // input size limit (default 64 MiB)
    int max_pages;                 // default 50
    int64_t max_pixels;            // per page, before decoding (default 100 megapixels)
    double max_seconds;            // per-document time budget (default 60; 0 = none)
    float dpi;                     // PDF rendering and OCR resolution (default 150)
    ds_ocr_mode ocr;               // default auto: pages whose text layer has no usable words
    const char *ocr_lang;          // Tesseract languages (default "eng"; DS_OCR_LANG)
    int enc_size;                  // encoder square input (default 512)
    float enc_mean[3], enc_std[3]; // normalisation: (v / 255 - mean) / std (default 0.5, 0.5)
    int no_pixels;                 // 1: skip the encoder tensor (tools that only need words)
    int blank_pixels;              // 1: the encoder tensor is a white page (--no-vision)
    int no_marks;                  // 1: do not look for check boxes (selection marks)
    int no_graphic_text;           // 1: do not OCR text drawn as graphics on text-layer pages
    int no_ocr_magnify;            // 1: read small type as it is (see ingest/ocr.c)
    ds_ocr_layout ocr_layout;      // default block (DS_OCR_LAYOUT in the environment)
    const ds_given_words *given;   // the words of an image's pages instead of OCR (NULL)
} ds_ingest_opts;

// Fills opts with the defaults above; DS_OCR_MAGNIFY=0 in the environment sets
// no_ocr_magnify (so every command can be measured without the magnified pass), and
// DS_OCR_LAYOUT=NAME ocr_layout and DS_OCR_LANG=L ocr_lang (so can eval, train and serve,
// which take no --ocr-layout or --ocr-lang; a value it does not take is logged once and
// the default kept).
void ds_ingest_opts_default(ds_ingest_opts *opts);

// Detects the format from the first bytes; DS_FORMAT_UNKNOWN if none matches.
ds_format ds_detect_format(const void *data, size_t size);
// "pdf", "png", ... ; "unknown".
const char *ds_format_name(ds_format fmt);

// Reads a document from memory (the bytes are not kept). Returns 0 and *out, or
// a DS_E* code with a detail naming the page, the limit and the actual value:
// DS_E_UNSUPPORTED (unknown type, named), DS_E_FORMAT (damaged), DS_E_ENCRYPTED,
// DS_E_TOO_LARGE (bytes, pixels), DS_E_TOO_MANY_PAGES, DS_E_TIMEOUT.
int ds_ingest_memory(const void *data, size_t size, const ds_ingest_opts *opts, ds_doc **out);
// Reads a file (size checked against max_bytes before reading); errors name the file.
int ds_ingest_file(const char *path, const ds_ingest_opts *opts, ds_doc **out);
// Starts the document libraries once for the process: libvips, Poppler's
// process-wide state (ingest/pdf.c), and their warnings routed to docseek's log. Every read above
// does it first itself; the server calls it before it listens, so that its first request does not
// pay for it.
int ds_ingest_libs_init(void);
// Frees the document and everything its pages point to. NULL is a no-op.
void ds_doc_free(ds_doc *doc);

// Frees the calling thread's OCR engine (each thread keeps one; worker threads free
// theirs when they exit, the main thread must call this before exiting).
void ds_ingest_thread_cleanup(void);

// Writes the page raster as a PNG; with draw_words, each word's box is outlined
// (red for the PDF text layer, blue for OCR) so a person can see that the boxes
// sit on the words. Returns 0 or DS_E_IO.
int ds_page_save_png(const ds_page *page, const char *path, int draw_words);
// The page raster as PNG bytes in *png (free with g_free), scaled down so its longer
// side is at most max_side pixels (0: as rendered). Returns 0 or DS_E_INTERNAL.
int ds_page_png_memory(const ds_page *page, int max_side, void **png, size_t *len);

// Fuzz entry: ingests arbitrary bytes with small limits; never crashes or leaks.
int ds_fuzz_ingest(const uint8_t *data, size_t size);

#endif
