// ingest-impl.h: what the parts of ingest/ share; private to ingest/.
#ifndef DS_INGEST_IMPL_H
#define DS_INGEST_IMPL_H

#include "core/arena.h"
#include "ingest/ingest.h"

struct ds_doc_impl {
    ds_arena arena; // every string, word array, raster and tensor of the document
};

typedef struct {
    const ds_ingest_opts *opts;
    ds_doc *doc;
    double t_start; // ds_time_s() when the call began
} ds_ingest_ctx;

// A growable list of words under construction (heap; strings in the doc arena).
typedef struct {
    ds_word *items;
    int n, cap;
} ds_word_list;

// Adds a word; text (len bytes) and font are copied into the arena. Returns 0 or DS_E_NOMEM.
int ds_word_list_add(ds_ingest_ctx *c, ds_word_list *list, const char *text, size_t len, ds_box box,
                     const char *font, float font_size, float conf, int bold,
                     ds_word_source source);
void ds_word_list_free(ds_word_list *list);

// Allocation in the document's arena; NULL on out-of-memory.
void *ds_ingest_alloc(ds_ingest_ctx *c, size_t bytes);

// Returns DS_E_TIMEOUT (naming the page) when the time budget is spent.
int ds_ingest_check_time(ds_ingest_ctx *c, int page);

// The page's words (but those with drop[k] set; drop may be NULL) join list, and
// list becomes the page's words in reading order (ingest/marks.c, graphic-text.c).
int ds_page_add_words(ds_ingest_ctx *c, ds_page *page, ds_word_list *list, const uint8_t *drop);

// Sorts the words of a page into reading order (lines top to bottom, words left to
// right), numbers the lines, and stores them in the page (copied into the arena).
int ds_page_set_words(ds_ingest_ctx *c, ds_page *page, ds_word_list *list);
// Adds the page's check boxes as words (DS_WORD_MARK) and redoes the reading order;
// OCR words that are a reading of a box give way (ingest/marks.c).
int ds_page_find_marks(ds_ingest_ctx *c, ds_page *page);
// Builds page->pixels, the letterboxed encoder input, from page->rgb.
int ds_page_encoder_input(ds_ingest_ctx *c, ds_page *page);
// Grey below this is ink (the masks of check boxes and graphic text).
#define DS_INK_LEVEL 160

static inline float ds_box_area(ds_box b) {
    float w = b.x1 - b.x0, h = b.y1 - b.y0;
    return w > 0 && h > 0 ? w * h : 0.0f;
}

static inline float ds_box_inter(ds_box a, ds_box b) {
    ds_box i = {a.x0 > b.x0 ? a.x0 : b.x0, a.y0 > b.y0 ? a.y0 : b.y0, a.x1 < b.x1 ? a.x1 : b.x1,
                a.y1 < b.y1 ? a.y1 : b.y1};
    return ds_box_area(i);
}

// A rectangle of mask cells or raster pixels, ends exclusive.
typedef struct {
    int x0, y0, x1, y1;
} ds_rect;

// The page raster as an ink mask (1 where grey < level) of *W x *H cells, *ppt
// cells per page point (near 144 dpi whatever the raster's resolution). NULL
// with *W = -1 when out of memory, NULL with *W = 0 when the page has no raster
// (or one too large to index). Free with free().
uint8_t *ds_page_ink(const ds_page *page, int level, int *W, int *H, float *ppt);
// The bounding boxes of the mask's 8-connected shapes (*out: free()). 0 or DS_E_NOMEM.
int ds_ink_components(uint8_t *ink, int W, int H, ds_rect **out, int *n);
// The caller's words for page page_index (opts->given) become the page's words.
int ds_page_given_words(ds_ingest_ctx *c, ds_page *page, int page_index);
// Reads the page raster with OCR (Tesseract) and replaces the page's words.
int ds_page_ocr(ds_ingest_ctx *c, ds_page *page, int page_index);
// Tesseract's page segmentation mode for a layout (ocr-layout.c), and the layout
// DS_OCR_LAYOUT sets (block when unset; a name it does not know is logged once).
int ds_ocr_layout_psm(ds_ocr_layout l);
ds_ocr_layout ds_ocr_layout_default(void);
// The OCR languages DS_OCR_LANG names ("eng" when unset; a value ds_ocr_lang_check
// refuses is logged once).
const char *ds_ocr_lang_default(void);
// The page segmentation mode the calling thread's OCR engine last read with (-1: it
// has none yet); tests check that a layout reaches Tesseract.
int ds_ocr_thread_psm(void);
// Keeps only the confident words (0.6 and more) of a reading whose words' mean
// confidence is under 0.4: a page of noise, not text. Returns the words dropped.
int ds_ocr_drop_noise(ds_word_list *list);
// Joins an amount OCR split at its decimal point ("73." "00", "73" ".00"), two words
// next to each other on one line, into one word ("73.00"): monospaced till type gives
// the point a cell of its own, and Tesseract reads the gaps beside it as spaces.
// Returns the pairs joined, or a negative DS_E_NOMEM.
int ds_ocr_join_amounts(ds_ingest_ctx *c, ds_word_list *list);
// Reads a comma as the point it is on a page whose amounts carry a point: Tesseract
// reads a worn till print's point as a comma now and then ("TOTAL RM 33,90" among
// "9.00", "24.00"). With 3 or more amounts in cents written with a point, and more
// than with a comma, each amount in cents written with a comma ("33,90", "RM60,30")
// takes a point, unless "&" follows it on its line ("55,57 & 59": house numbers). A page of
// decimal commas (most of Europe's) is left as read. Returns the words changed, or a
// negative DS_E_NOMEM.
int ds_ocr_decimal_points(ds_ingest_ctx *c, ds_word_list *list);
// OCR of regions of the page raster (pixels), each read as one line; words with
// a confidence of at least min_conf are added to out (source OCR). Regions left
// when the document's time budget runs out are skipped, not an error.
int ds_page_ocr_regions(ds_ingest_ctx *c, ds_page *page, const ds_rect *regions, int n,
                        float min_conf, ds_word_list *out);
// Text drawn as graphics on a text-layer page (a logo's letters, a pasted
// image of text) read by OCR and added to the page's words (graphic-text.c).
int ds_page_read_graphic_text(ds_ingest_ctx *c, ds_page *page);
// 1 when the words of a text layer are usable (some letters or digits), else 0.
int ds_words_usable(const ds_word_list *list);

int ds_pdf_ingest(ds_ingest_ctx *c, const void *data, size_t size);
// Draws a blank page so Poppler sets its process-wide state before threads read PDFs.
void ds_pdf_first_render(void);
int ds_image_ingest(ds_ingest_ctx *c, const void *data, size_t size, ds_format fmt);

// libvips' error buffer as one line (trailing space and newlines folded), then cleared;
// "libvips failed" when it is empty. Returns buf.
const char *ds_vips_error_line(char *buf, size_t size);

#endif
