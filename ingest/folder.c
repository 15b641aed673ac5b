// folder.c: see folder.h.
#include "ingest/folder.h"

#include "core/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *const *globs;
    int n_globs;
    const struct stat *skip;
    size_t root_len; // the part of each path that is dir and its '/'
} walk_opts;

static int add(ds_folder_list *l, char *path, int err, const char *msg) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        ds_folder_entry *n = realloc(l->items, sizeof *n * (size_t)cap);
        if (!n) return ds_error(DS_E_NOMEM, "folder: out of memory");
        l->items = n;
        l->cap = cap;
    }
    char *m = msg ? strdup(msg) : NULL;
    if (msg && !m) return ds_error(DS_E_NOMEM, "folder: out of memory");
    l->items[l->n++] = (ds_folder_entry){path, err, m};
    return 0;
}

static int matches(const walk_opts *o, const char *path, const char *name) {
    if (!o->n_globs) return 1;
    for (int i = 0; i < o->n_globs; i++) {
        const char *g = o->globs[i];
        const char *subject = strchr(g, '/') ? path + o->root_len : name;
        if (fnmatch(g, subject, FNM_CASEFOLD) == 0) return 1;
    }
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const walk_opts *o, const char *dir, ds_folder_list *out, int top) {
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno == ENOENT || errno == ENOTDIR ? DS_E_NOENT : DS_E_IO;
        char msg[512];
        snprintf(msg, sizeof msg, "%s: cannot read the folder: %s", dir, strerror(errno));
        if (top) return ds_error(e, "%s", msg);
        char *p = strdup(dir);
        return p ? add(out, p, e, msg) : ds_error(DS_E_NOMEM, "folder: out of memory");
    }
    char **names = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue; // ".", "..", hidden files and folders
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, sizeof *nn * (size_t)cap);
            if (!nn) {
                rc = ds_error(DS_E_NOMEM, "folder: out of memory");
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = ds_error(DS_E_NOMEM, "folder: out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (!rc) qsort(names, (size_t)n, sizeof *names, cmp_names);
    for (int i = 0; i < n && !rc; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (!path) {
            rc = ds_error(DS_E_NOMEM, "folder: out of memory");
            break;
        }
        snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
        struct stat st, lst;
        int lok = lstat(path, &lst) == 0;
        if (!lok || stat(path, &st) != 0) {
            if (!matches(o, path, names[i])) {
                free(path);
                continue;
            }
            char msg[512];
            snprintf(msg, sizeof msg, "%s: %s", path,
                     lok && S_ISLNK(lst.st_mode) ? "a link to nothing" : strerror(errno));
            rc = add(out, path, DS_E_NOENT, msg);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            // a link to a folder is not followed: it could lead back up the tree
            if (!S_ISLNK(lst.st_mode)) rc = walk(o, path, out, 0);
            free(path);
        } else if (S_ISREG(st.st_mode) && matches(o, path, names[i]) &&
                   !(o->skip && st.st_dev == o->skip->st_dev && st.st_ino == o->skip->st_ino)) {
            rc = add(out, path, 0, NULL);
        } else {
            free(path); // not matched, the output itself, or a FIFO, socket, device
        }
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int ds_folder_walk(const char *dir, const char *const *globs, int n_globs, const struct stat *skip,
                   ds_folder_list *out) {
    *out = (ds_folder_list){0};
    struct stat st;
    if (stat(dir, &st) != 0)
        return ds_error(errno == ENOENT ? DS_E_NOENT : DS_E_IO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return ds_error(DS_E_INVAL, "%s: not a folder", dir);
    walk_opts o = {globs, n_globs, skip, strlen(dir) + (dir[strlen(dir) - 1] == '/' ? 0 : 1)};
    int rc = walk(&o, dir, out, 1);
    if (rc) ds_folder_list_free(out);
    return rc;
}

void ds_folder_list_free(ds_folder_list *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->items[i].path);
        free(l->items[i].msg);
    }
    free(l->items);
    *l = (ds_folder_list){0};
}

int ds_file_load_hashed(const char *path, size_t max_bytes, void **data, size_t *size,
                        char hex[65]) {
    *data = NULL;
    *size = 0;
    hex[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ds_error(errno == ENOENT ? DS_E_NOENT : DS_E_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ds_error(DS_E_IO, "%s: not a regular file", path);
    }
    int keep = (size_t)st.st_size <= max_bytes, rc = 0;
    size_t cap = keep ? (size_t)st.st_size + 1 : 1 << 20, n = 0;
    guchar *buf = malloc(cap);
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    if (!buf || !sum) rc = ds_error(DS_E_NOMEM, "%s: out of memory", path);
    while (!rc) {
        if (keep && n == cap) {
            rc = ds_error(DS_E_IO, "%s: the file grew while it was read", path);
            break;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rc = ds_error(DS_E_IO, "%s: %s", path, strerror(errno));
        if (r <= 0) break;
        g_checksum_update(sum, buf + n, (gssize)r);
        if (keep) n += (size_t)r;
    }
    close(fd);
    if (!rc) {
        snprintf(hex, 65, "%s", g_checksum_get_string(sum));
        if (keep) {
            *data = buf;
            *size = n;
            buf = NULL;
        } else {
            rc = ds_error(DS_E_TOO_LARGE, "%s: %lld bytes, more than the limit of %zu", path,
                          (long long)st.st_size, max_bytes);
        }
    }
    if (sum) g_checksum_free(sum);
    free(buf);
    return rc;
}
