// windows.c: see windows.h.
#include "fusion/windows.h"

#include "core/error.h"
#include "samples/normalize.h"

#include <stdlib.h>
#include <string.h>

static double confidence(const json_t *v) {
    return json_is_object(v) ? json_number_value(json_object_get(v, "confidence")) : -1;
}

// A copy of the value object v with its page moved by page_offset.
static json_t *shifted(const json_t *v, int page_offset) {
    json_t *c = json_deep_copy(v);
    json_t *page = c ? json_object_get(c, "page") : NULL;
    if (json_is_integer(page))
        json_object_set_new(c, "page", json_integer(json_integer_value(page) + page_offset));
    return c;
}

// The text a list item is compared by: collapsed white space, lower case.
static char *item_key(const json_t *v) {
    const char *t = json_string_value(json_object_get(v, "value"));
    char *k = ds_norm_collapse(t ? t : "");
    if (k) ds_norm_case(k, 0);
    return k;
}

static int has_item(const json_t *list, const char *key) {
    size_t i;
    json_t *v;
    int found = 0;
    json_array_foreach(list, i, v) {
        char *k = item_key(v);
        found |= k && strcmp(k, key) == 0;
        free(k);
    }
    return found;
}

int ds_list_holds(const json_t *list, const json_t *v) {
    char *key = item_key(v);
    int found = key && has_item(list, key);
    free(key);
    return found;
}

int ds_windows_merge(json_t *into, const json_t *more, int page_offset) {
    json_t *fields = json_object_get(into, "fields");
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(more, "fields"), name, v) {
        json_t *have = json_object_get(fields, name);
        if (json_is_array(v)) {
            // a list comes from the first window that names items: a contract names its
            // parties at its head; later pages repeat them or name other people
            if (json_array_size(have) > 0) continue;
            if (!json_is_array(have)) json_object_set_new(fields, name, have = json_array());
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) {
                char *key = item_key(item);
                if (!key) return ds_error(DS_E_NOMEM, "windows: out of memory");
                if (!has_item(have, key)) json_array_append_new(have, shifted(item, page_offset));
                free(key);
            }
        } else if (json_is_object(v) && confidence(v) > confidence(have)) {
            json_t *c = shifted(v, page_offset);
            if (!c) return ds_error(DS_E_NOMEM, "windows: out of memory");
            json_object_set_new(fields, name, c);
        }
    }
    return 0;
}
