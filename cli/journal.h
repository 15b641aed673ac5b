// journal.h: the output file of `docseek ingest`, one JSON line per file, which
// is also the run's record of what is done: a run stopped at any point (even by
// kill -9) continues where it stopped and loses nothing. Each line is written
// whole, by write(2) calls under one lock, so lines of concurrent writers never
// interleave; a last line torn by a kill is cut off when the file is opened
// again. A file is known by its content hash and path: one already recorded is
// skipped, and one whose content was already extracted under another path gets
// a copy of that result instead of a second run of the model. The file is
// locked (flock) while open, so two runs cannot write it at once.
#ifndef DS_JOURNAL_H
#define DS_JOURNAL_H

#include <jansson.h>

typedef struct ds_journal ds_journal;

typedef struct {
    int lines;        // lines the file held when opened (after the changes below)
    int failed_lines; // of them, error lines
    long torn_bytes;  // an unfinished last line cut off
    int retried;      // error lines removed by retry_failed
} ds_journal_loaded;

// Opens (creates) path. Every line already there must be one docseek wrote: a JSON
// object with "file" and "sha256", or "file" and "error" (a file that could not be
// read has no hash); DS_E_FORMAT names the line otherwise: this is not a file to
// append to. retry_failed removes the error lines (the file is rewritten
// through a temporary and a rename), so those files are read again.
// DS_E_BUSY when another process holds the file.
int ds_journal_open(const char *path, int retry_failed, ds_journal **out,
                    ds_journal_loaded *loaded);

typedef enum {
    DS_JOURNAL_NEW = 0,     // not recorded: extract it
    DS_JOURNAL_DONE = 1,    // this path with this content is recorded
    DS_JOURNAL_SAME_AS = 2, // the content is recorded, under another path
} ds_journal_state;

// What the journal knows of file with content hash sha256 ("": a file that could not
// be read, known by its path alone). For DS_JOURNAL_SAME_AS,
// *copy (when copy is not NULL) receives the recorded result, its "file" changed to
// file and "same_content_as" naming the recorded path. Thread-safe.
ds_journal_state ds_journal_lookup(ds_journal *j, const char *file, const char *sha256,
                                   json_t **copy);
// Appends o as one line and records it; the lines reach the disk (fdatasync) at most
// a second apart, so a power cut loses at most the last second's lines. Thread-safe.
// DS_E_IO (disk full, say): the line may be torn; the next open cuts it off.
int ds_journal_append(ds_journal *j, const json_t *o);
// Puts every line written so far on the disk (the end of a run). 0 or DS_E_IO.
int ds_journal_sync(ds_journal *j);
void ds_journal_close(ds_journal *j);

#endif
