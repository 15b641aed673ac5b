// journal.c: see journal.h.
#include "cli/journal.h"

#include "fusion/result.h"
#include "core/error.h"
#include "core/timer.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

// Where a result line lies in the file, to copy it for a file of the same content.
typedef struct {
    off_t off;
    size_t len;
} line_at;

struct ds_journal {
    char *path;
    int fd;
    off_t size;       // the file's length: the next line's offset (O_APPEND)
    double synced_at; // when the lines last reached the disk (fdatasync)
    pthread_mutex_t mu;
    GHashTable *done;   // "sha256 path" -> NULL: every recorded line
    GHashTable *result; // sha256 -> line_at: lines with a result (not errors)
};

static char *done_key(const char *sha256, const char *file) {
    return g_strconcat(sha256, " ", file, NULL);
}

static void record(ds_journal *j, const char *file, const char *sha256, int ok, off_t off,
                   size_t len) {
    g_hash_table_add(j->done, done_key(sha256, file));
    if (ok && !g_hash_table_contains(j->result, sha256)) {
        line_at *at = g_new(line_at, 1);
        *at = (line_at){off, len};
        g_hash_table_insert(j->result, g_strdup(sha256), at);
    }
}

static int write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(const char *path, int fd, char **buf, size_t *size) {
    struct stat st;
    if (fstat(fd, &st) != 0) return ds_error(DS_E_IO, "%s: %s", path, strerror(errno));
    *size = (size_t)st.st_size;
    *buf = malloc(*size + 1);
    if (!*buf) return ds_error(DS_E_NOMEM, "%s: out of memory reading it", path);
    size_t n = 0;
    while (n < *size) {
        ssize_t r = pread(fd, *buf + n, *size - n, (off_t)n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            free(*buf);
            return ds_error(DS_E_IO, "%s: %s", path, r ? strerror(errno) : "shorter than its size");
        }
        n += (size_t)r;
    }
    (*buf)[n] = 0;
    return 0;
}

// Checks line k (len bytes at s, without its newline) and returns whether it is an
// error line (1), a result (0), or DS_E_FORMAT.
static int parse_line(ds_journal *j, const char *s, size_t len, int k, const char **file,
                      const char **sha, json_t **obj) {
    json_error_t e;
    json_t *o = json_loadb(s, len, 0, &e);
    *obj = o;
    *file = json_string_value(json_object_get(o, "file"));
    *sha = json_string_value(json_object_get(o, "sha256"));
    int failed = json_object_get(o, "error") != NULL;
    if (!*sha && failed) *sha = ""; // a file that could not be read has no hash
    if (!o || !*file || !*sha || (**sha && strlen(*sha) != 64))
        return ds_error(DS_E_FORMAT,
                        "%s: line %d is not a line docseek ingest wrote (%s); refusing to "
                        "append to it",
                        j->path, k, o ? "no \"file\" and \"sha256\"" : e.text);
    return failed;
}

// Writes the lines of buf that are not error lines to path.tmp and renames it over
// path; *fd becomes the new file, locked.
static int drop_failed(ds_journal *j, const char *buf, size_t size, int *fd) {
    char *tmp = g_strconcat(j->path, ".tmp", NULL);
    int t = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = 0;
    if (t < 0) rc = ds_error(DS_E_IO, "%s: %s", tmp, strerror(errno));
    for (size_t at = 0; !rc && at < size;) {
        const char *nl = memchr(buf + at, '\n', size - at);
        size_t len = (size_t)(nl - (buf + at)) + 1;
        json_t *o = json_loadb(buf + at, len - 1, 0, NULL);
        if (!json_object_get(o, "error") && write_all(t, buf + at, len))
            rc = ds_error(DS_E_IO, "%s: %s", tmp, strerror(errno));
        json_decref(o);
        at += len;
    }
    if (!rc && fsync(t) != 0) rc = ds_error(DS_E_IO, "%s: %s", tmp, strerror(errno));
    if (t >= 0) close(t);
    if (!rc && rename(tmp, j->path) != 0)
        rc = ds_error(DS_E_IO, "%s: cannot replace it: %s", j->path, strerror(errno));
    if (rc) {
        unlink(tmp);
    } else {
        int nfd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC);
        if (nfd < 0 || flock(nfd, LOCK_EX | LOCK_NB) != 0) {
            rc = ds_error(DS_E_IO, "%s: cannot reopen it: %s", j->path, strerror(errno));
            if (nfd >= 0) close(nfd);
        } else {
            close(*fd);
            *fd = nfd;
        }
    }
    g_free(tmp);
    return rc;
}

// Reads the recorded lines into the tables; cuts off a torn last line.
static int load(ds_journal *j, int retry_failed, ds_journal_loaded *ld) {
    char *buf;
    size_t size;
    int rc = read_all(j->path, j->fd, &buf, &size);
    if (rc) return rc;
    size_t whole = size;
    while (whole && buf[whole - 1] != '\n') whole--;
    if (whole < size) {
        // a line a killed run did not finish: its file is read again
        if (ftruncate(j->fd, (off_t)whole) != 0) {
            free(buf);
            return ds_error(DS_E_IO, "%s: cannot cut off its unfinished last line: %s", j->path,
                            strerror(errno));
        }
        ld->torn_bytes = (long)(size - whole);
    }
    int pass = 0;
again:
    g_hash_table_remove_all(j->done);
    g_hash_table_remove_all(j->result);
    ld->lines = ld->failed_lines = 0;
    for (size_t at = 0; !rc && at < whole;) {
        const char *s = buf + at, *nl = memchr(s, '\n', whole - at);
        size_t len = (size_t)(nl - s);
        const char *file, *sha;
        json_t *o;
        int k = ld->lines + 1;
        if (len == 0) { // a blank line holds nothing
            at++;
            continue;
        }
        int failed = parse_line(j, s, len, k, &file, &sha, &o);
        if (failed < 0) {
            rc = failed;
        } else {
            record(j, file, sha, !failed, (off_t)at, len);
            ld->lines++;
            ld->failed_lines += failed;
        }
        json_decref(o);
        at += len + 1;
    }
    if (!rc && retry_failed && ld->failed_lines && pass == 0) {
        ld->retried = ld->failed_lines;
        rc = drop_failed(j, buf, whole, &j->fd);
        free(buf);
        buf = NULL;
        if (!rc) rc = read_all(j->path, j->fd, &buf, &whole);
        pass = 1;
        if (!rc) goto again;
    }
    j->size = (off_t)whole;
    free(buf);
    return rc;
}

int ds_journal_open(const char *path, int retry_failed, ds_journal **out,
                    ds_journal_loaded *loaded) {
    *out = NULL;
    *loaded = (ds_journal_loaded){0};
    ds_journal *j = calloc(1, sizeof *j);
    if (!j) return ds_error(DS_E_NOMEM, "journal: out of memory");
    j->path = strdup(path);
    j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    j->done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    j->result = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    pthread_mutex_init(&j->mu, NULL);
    int rc = 0;
    if (!j->path)
        rc = ds_error(DS_E_NOMEM, "journal: out of memory");
    else if (j->fd < 0)
        rc = ds_error(DS_E_IO, "%s: %s", path, strerror(errno));
    else if (flock(j->fd, LOCK_EX | LOCK_NB) != 0)
        rc = errno == EWOULDBLOCK
                 ? ds_error(DS_E_BUSY, "%s: another docseek ingest is writing it", path)
                 : ds_error(DS_E_IO, "%s: cannot lock it: %s", path, strerror(errno));
    if (!rc) rc = load(j, retry_failed, loaded);
    if (rc) {
        ds_journal_close(j);
        return rc;
    }
    *out = j;
    return 0;
}

ds_journal_state ds_journal_lookup(ds_journal *j, const char *file, const char *sha256,
                                   json_t **copy) {
    char *key = done_key(sha256, file);
    ds_journal_state st = DS_JOURNAL_NEW;
    line_at at = {0};
    pthread_mutex_lock(&j->mu);
    if (g_hash_table_contains(j->done, key)) {
        st = DS_JOURNAL_DONE;
    } else {
        line_at *p = g_hash_table_lookup(j->result, sha256);
        if (p) at = *p, st = DS_JOURNAL_SAME_AS;
    }
    pthread_mutex_unlock(&j->mu);
    g_free(key);
    if (st != DS_JOURNAL_SAME_AS || !copy) return st;
    // the recorded line, read back (lines are never rewritten while the file is open)
    char *s = malloc(at.len + 1);
    json_t *o = NULL;
    if (s && pread(j->fd, s, at.len, at.off) == (ssize_t)at.len) o = json_loadb(s, at.len, 0, NULL);
    free(s);
    const char *was = json_string_value(json_object_get(o, "file"));
    if (!was) { // unreadable now: extract it again rather than lose it
        json_decref(o);
        return DS_JOURNAL_NEW;
    }
    json_object_set_new(o, "same_content_as", json_string(was));
    json_object_set_new(o, "file", json_string(file));
    *copy = o;
    return st;
}

int ds_journal_append(ds_journal *j, const json_t *o) {
    char *line = ds_result_line(o);
    if (!line) return ds_error(DS_E_NOMEM, "%s: out of memory writing a line", j->path);
    size_t len = strlen(line);
    const char *file = json_string_value(json_object_get(o, "file"));
    const char *sha = json_string_value(json_object_get(o, "sha256"));
    int rc = 0;
    pthread_mutex_lock(&j->mu);
    if (write_all(j->fd, line, len) != 0) {
        rc = ds_error(DS_E_IO, "%s: %s", j->path, strerror(errno));
    } else {
        int failed = json_object_get(o, "error") != NULL;
        if (file && (sha || failed)) record(j, file, sha ? sha : "", !failed, j->size, len - 1);
        j->size += (off_t)len;
        // a kill leaves written lines in the page cache; a power cut does not: at most
        // the last second of lines is lost to one (the next run reads those files again)
        double now = ds_time_s();
        if (now - j->synced_at >= 1.0) {
            if (fdatasync(j->fd) != 0) rc = ds_error(DS_E_IO, "%s: %s", j->path, strerror(errno));
            j->synced_at = now;
        }
    }
    pthread_mutex_unlock(&j->mu);
    free(line);
    return rc;
}

int ds_journal_sync(ds_journal *j) {
    pthread_mutex_lock(&j->mu);
    int rc = fdatasync(j->fd) != 0 ? ds_error(DS_E_IO, "%s: %s", j->path, strerror(errno)) : 0;
    j->synced_at = ds_time_s();
    pthread_mutex_unlock(&j->mu);
    return rc;
}

void ds_journal_close(ds_journal *j) {
    if (!j) return;
    if (j->fd >= 0) close(j->fd); // releases the lock
    if (j->done) g_hash_table_destroy(j->done);
    if (j->result) g_hash_table_destroy(j->result);
    pthread_mutex_destroy(&j->mu);
    free(j->path);
    free(j);
}
