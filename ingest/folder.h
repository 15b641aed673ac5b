// folder.h: the files of a folder that `docseek ingest` reads, and the
// content hash that names each of them. The walk is recursive and sorted
// (the same folder gives the same order), skips hidden names, does not follow
// links to folders (no cycles) nor open anything that is not a regular file
// (a FIFO would block), and leaves out one file (the run's own output). A
// subfolder that cannot be read is an entry with its error, so nothing is
// silently lost. Whether a file is a document is decided later, by content.
#ifndef DS_FOLDER_H
#define DS_FOLDER_H

#include <stddef.h>
#include <sys/stat.h>

typedef struct {
    char *path; // dir joined with the path below it
    int err;    // 0, or the DS_E* code of an entry that could not be read
    char *msg;  // its detail (NULL when err is 0)
} ds_folder_entry;

typedef struct {
    ds_folder_entry *items;
    int n, cap;
} ds_folder_list;

// Lists the regular files under dir whose name matches one of globs (fnmatch, case
// folded; a pattern with a '/' matches the path below dir instead of the name; no
// globs: every file). skip, when not NULL, is a file left out (by device and inode).
// Returns 0, or DS_E_NOENT / DS_E_IO when dir itself cannot be read, DS_E_NOMEM.
int ds_folder_walk(const char *dir, const char *const *globs, int n_globs, const struct stat *skip,
                   ds_folder_list *out);
void ds_folder_list_free(ds_folder_list *l);

// Reads a regular file of at most max_bytes into *data (malloc'd) and its SHA-256 as 64
// hex digits into hex. A larger file is hashed without being kept and DS_E_TOO_LARGE
// returned (hex still set), so a run can name it by content. DS_E_NOENT, DS_E_IO.
int ds_file_load_hashed(const char *path, size_t max_bytes, void **data, size_t *size,
                        char hex[65]);

#endif
