// places.c: ds_norm_place, a country or a first-level region (a US state, a
// Canadian province, ...) by its name, from Debian's iso-codes (ISO 3166-1
// countries, ISO 3166-2 subdivisions of the kinds a governing-law clause
// names). Loaded once, on first use, for the whole process.
#include "core/error.h"
#include "core/log.h"
#include "samples/normalize.h"

#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ISO_DIR "/usr/share/iso-codes/json"

static json_t *names; // lower-cased name -> canonical name; NULL: iso-codes missing
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void add(const char *name) {
    if (!name || !name[0]) return;
    char key[128];
    snprintf(key, sizeof key, "%s", name);
    for (char *p = key; *p; p++) *p = (char)tolower((unsigned char)*p);
    if (!json_object_get(names, key)) json_object_set_new(names, key, json_string(name));
}

static void load(void) {
    json_t *c = json_load_file(ISO_DIR "/iso_3166-1.json", 0, NULL);
    json_t *s = json_load_file(ISO_DIR "/iso_3166-2.json", 0, NULL);
    if (c && s) {
        names = json_object();
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(c, "3166-1"), i, e) {
            add(json_string_value(json_object_get(e, "name")));
            add(json_string_value(json_object_get(e, "common_name")));
        }
        // the subdivisions a law is named after; not counties, cities or departments
        static const char *kinds[] = {"State",    "Province",         "Territory", "Commonwealth",
                                      "District", "Federal district", "Country",   "Nation"};
        json_array_foreach(json_object_get(s, "3166-2"), i, e) {
            const char *kind = json_string_value(json_object_get(e, "type"));
            for (size_t k = 0; kind && k < sizeof kinds / sizeof *kinds; k++)
                if (!strcmp(kind, kinds[k])) add(json_string_value(json_object_get(e, "name")));
        }
    } else {
        DS_LOGW("places: %s/iso_3166-*.json missing (install iso-codes): any text is a place",
                ISO_DIR);
    }
    json_decref(c);
    json_decref(s);
}

int ds_norm_place(const char *s, char out[64]) {
    pthread_once(&once, load);
    const char *b = s, *e = s + strlen(s);
    while (b < e && (isspace((unsigned char)*b) || strchr("\"'(", *b))) b++;
    while (e > b && (isspace((unsigned char)e[-1]) || strchr(".,;:)\"'", e[-1]))) e--;
    if (e - b > 4 && !strncasecmp(b, "the ", 4)) b += 4; // "the Netherlands"
    if (e <= b || e - b >= 64) return DS_E_FORMAT;
    if (!names) { // no gazetteer: no constraint
        snprintf(out, 64, "%.*s", (int)(e - b), b);
        return 0;
    }
    char key[64];
    int n = 0;
    for (const char *p = b; p < e; p++) key[n++] = (char)tolower((unsigned char)*p);
    key[n] = 0;
    const char *name = json_string_value(json_object_get(names, key));
    if (!name) return DS_E_FORMAT;
    snprintf(out, 64, "%s", name);
    return 0;
}
