// synth-vocab.c: real vocabularies for generated documents, read once from
// Debian packages: word lists (wamerican, wngerman, wfrench), city names from
// tzdata's zone1970.tab, country names from iso-codes. Names, streets, dates
// and amounts are assembled from them with the conventions of each language.
// Read-only after ds_synth_vocab_load, so generator threads may share it.
#include "core/error.h"
#include "samples/synth-impl.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char **items;
    int n;
} ds_list;

static ds_list words[3], cities, countries;
static pthread_once_t vocab_once = PTHREAD_ONCE_INIT;
static int vocab_status;

static void list_add(ds_list *l, const char *s, size_t len) {
    if ((l->n & (l->n - 1)) == 0) // grow at powers of two
        l->items = realloc(l->items, (size_t)(l->n ? 2 * l->n : 1) * sizeof *l->items);
    char *c = malloc(len + 1);
    memcpy(c, s, len);
    c[len] = 0;
    l->items[l->n++] = c;
}

// Plain words of 4-10 letters, lower case (proper nouns and possessives left out).
static int load_words(const char *path, ds_list *l) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        if (len < 4 || len > 14 || line[0] < 'a' || line[0] > 'z' || strchr(line, '\'')) continue;
        int chars = 0;
        for (size_t i = 0; i < len; i++) chars += ((unsigned char)line[i] & 0xC0) != 0x80;
        if (chars > 10) continue;
        list_add(l, line, len);
    }
    fclose(f);
    return l->n > 1000 ? 0 : -1;
}

static int load_cities(void) {
    FILE *f = fopen("/usr/share/zoneinfo/zone1970.tab", "r");
    if (!f) return -1;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char *tz = strchr(line, '\t');
        tz = tz ? strchr(tz + 1, '\t') : NULL; // third column: the zone name
        if (!tz) continue;
        tz++;
        char *end = tz + strcspn(tz, "\t\n");
        char *slash = NULL;
        for (char *p = tz; p < end; p++)
            if (*p == '/') slash = p;
        if (!slash) continue;
        char city[128];
        size_t len = (size_t)(end - slash - 1);
        if (len == 0 || len >= sizeof city) continue;
        memcpy(city, slash + 1, len);
        for (size_t i = 0; i < len; i++)
            if (city[i] == '_') city[i] = ' ';
        list_add(&cities, city, len);
    }
    fclose(f);
    return cities.n > 100 ? 0 : -1;
}

static int load_countries(void) {
    json_t *j = json_load_file("/usr/share/iso-codes/json/iso_3166-1.json", 0, NULL);
    json_t *arr = json_object_get(j, "3166-1");
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (name && !strchr(name, ',') && strlen(name) < 24)
            list_add(&countries, name, strlen(name));
    }
    json_decref(j);
    return countries.n > 100 ? 0 : -1;
}

static void vocab_start(void) {
    if (load_words("/usr/share/dict/american-english", &words[DS_LANG_EN]) ||
        load_words("/usr/share/dict/ngerman", &words[DS_LANG_DE]) ||
        load_words("/usr/share/dict/french", &words[DS_LANG_FR]) || load_cities() ||
        load_countries())
        vocab_status = -1;
}

int ds_synth_vocab_load(void) {
    pthread_once(&vocab_once, vocab_start);
    if (vocab_status)
        return ds_error(DS_E_NOENT,
                        "the generator needs Debian's wamerican, wngerman, wfrench, tzdata and "
                        "iso-codes packages (scripts/setup.sh installs them)");
    return 0;
}

static const char *pick(ds_rng *r, const ds_list *l) {
    return l->items[ds_rng_below(r, (uint64_t)l->n)];
}

const char *ds_synth_word(ds_rng *r) {
    return pick(r, &words[DS_LANG_EN]);
}

const char *ds_synth_word_lang(ds_rng *r, ds_synth_lang lang) {
    return pick(r, &words[lang]);
}

const char *ds_synth_city(ds_rng *r) {
    return pick(r, &cities);
}

const char *ds_synth_country(ds_rng *r) {
    return pick(r, &countries);
}

const char *ds_synth_currency(ds_rng *r) {
    static const char *codes[] = {"EUR", "USD", "GBP", "CHF", "CAD", "AUD",
                                  "SEK", "DKK", "NOK", "PLN", "JPY", "MYR"};
    return codes[ds_rng_below(r, sizeof codes / sizeof *codes)];
}

void ds_synth_capitalise(char *s) {
    if (s[0] >= 'a' && s[0] <= 'z') s[0] = (char)(s[0] - 'a' + 'A');
}

void ds_synth_company(ds_rng *r, ds_synth_lang lang, char *buf, size_t n) {
    static const char *suffix[3][5] = {{"Ltd", "Inc.", "LLC", "Corp.", "& Co."},
                                       {"GmbH", "AG", "KG", "GmbH & Co. KG", "e.K."},
                                       {"SARL", "SA", "SAS", "& Fils", "EURL"}};
    char a[64], b[64];
    snprintf(a, sizeof a, "%s", ds_synth_word_lang(r, lang));
    snprintf(b, sizeof b, "%s", ds_synth_word(r));
    ds_synth_capitalise(a);
    ds_synth_capitalise(b);
    if (ds_rng_below(r, 2))
        snprintf(buf, n, "%s %s %s", a, b, suffix[lang][ds_rng_below(r, 5)]);
    else
        snprintf(buf, n, "%s %s", a, suffix[lang][ds_rng_below(r, 5)]);
}

void ds_synth_person(ds_rng *r, char *buf, size_t n) {
    static const char *first[] = {"Anna", "Ben",    "Clara", "David", "Elena", "Farid", "Greta",
                                  "Hugo", "Ines",   "Jonas", "Karin", "Luis",  "Maya",  "Nils",
                                  "Olga", "Pierre", "Rosa",  "Sami",  "Tara",  "Yusuf"};
    char last[64];
    snprintf(last, sizeof last, "%s", ds_synth_word(r));
    ds_synth_capitalise(last);
    snprintf(buf, n, "%s %s", first[ds_rng_below(r, 20)], last);
}

void ds_synth_street(ds_rng *r, ds_synth_lang lang, char *buf, size_t n) {
    char w[64];
    snprintf(w, sizeof w, "%s", ds_synth_word_lang(r, lang));
    int num = 1 + (int)ds_rng_below(r, 240);
    if (lang == DS_LANG_DE) {
        ds_synth_capitalise(w);
        snprintf(buf, n, "%sstraße %d", w, num);
    } else if (lang == DS_LANG_FR) {
        snprintf(buf, n, "%d rue de la %s", num, w);
    } else {
        static const char *kind[] = {"Street", "Road", "Avenue", "Lane", "Drive"};
        ds_synth_capitalise(w);
        snprintf(buf, n, "%d %s %s", num, w, kind[ds_rng_below(r, 5)]);
    }
}

void ds_synth_date_format(int y, int m, int d, ds_synth_lang lang, int style, char *out, size_t n) {
    static const char *mon_en[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const char *mon_de[] = {"Januar",    "Februar", "März",     "April",
                                   "Mai",       "Juni",    "Juli",     "August",
                                   "September", "Oktober", "November", "Dezember"};
    static const char *mon_fr[] = {"janvier",   "février", "mars",     "avril",
                                   "mai",       "juin",    "juillet",  "août",
                                   "septembre", "octobre", "novembre", "décembre"};
    switch (style % 4) {
    case 0:
        snprintf(out, n, "%04d-%02d-%02d", y, m, d);
        break;
    case 1:
        if (lang == DS_LANG_DE)
            snprintf(out, n, "%02d.%02d.%04d", d, m, y);
        else
            snprintf(out, n, "%02d/%02d/%04d", d, m, y); // day first (en-GB, fr)
        break;
    case 2:
        if (lang == DS_LANG_DE)
            snprintf(out, n, "%d. %s %d", d, mon_de[m - 1], y);
        else if (lang == DS_LANG_FR)
            snprintf(out, n, "%d %s %d", d, mon_fr[m - 1], y);
        else
            snprintf(out, n, "%d %s %d", d, mon_en[m - 1], y);
        break;
    default:
        snprintf(out, n, "%02d.%02d.%04d", d, m, y);
        break;
    }
}

void ds_synth_date(ds_rng *r, ds_synth_lang lang, int style, int after_days, struct tm *base,
                   char *iso, char *out, size_t n) {
    struct tm t;
    memset(&t, 0, sizeof t);
    if (base) {
        t.tm_year = base->tm_year, t.tm_mon = base->tm_mon; // only the date counts
        t.tm_mday = base->tm_mday + after_days;             // timegm carries into months and years
    } else {
        t.tm_year = 115 + (int)ds_rng_below(r, 12);
        t.tm_mon = (int)ds_rng_below(r, 12);
        t.tm_mday = 1 + (int)ds_rng_below(r, 28);
    }
    t.tm_hour = 12;
    time_t secs = timegm(&t);
    gmtime_r(&secs, &t);
    if (base) *base = t;
    int y = t.tm_year + 1900, m = t.tm_mon + 1, d = t.tm_mday;
    snprintf(iso, 16, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u);
    ds_synth_date_format(y, m, d, lang, style, out, n);
}

void ds_synth_amount(long cents, ds_synth_lang lang, char *out, size_t n) {
    char thou = lang == DS_LANG_EN ? ',' : '.', dec = lang == DS_LANG_EN ? '.' : ',';
    long units = labs(cents) / 100, frac = labs(cents) % 100;
    char digits[32], grouped[48];
    snprintf(digits, sizeof digits, "%ld", units);
    size_t len = strlen(digits), k = 0;
    for (size_t i = 0; i < len; i++) {
        grouped[k++] = digits[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len) grouped[k++] = thou;
    }
    grouped[k] = 0;
    snprintf(out, n, "%s%s%c%02ld", cents < 0 ? "-" : "", grouped, dec, frac);
}

void ds_synth_pattern(ds_rng *r, const char *pattern, char *out, size_t n) {
    size_t k = 0;
    for (const char *p = pattern; *p && k + 1 < n; p++) {
        if (*p == '#')
            out[k++] = (char)('0' + ds_rng_below(r, 10));
        else if (*p == '@')
            out[k++] = (char)('A' + ds_rng_below(r, 26));
        else
            out[k++] = *p;
    }
    out[k] = 0;
}
