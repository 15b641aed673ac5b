// test-schema.c: the committed schemas load and say what the issue lists;
// malformed schemas are rejected with the file and the field named.
#include "tests/test.h"
#include "core/error.h"
#include "samples/schema.h"

#include <string.h>

DS_TEST(schema_committed_set) {
    ds_schema_set set;
    int rc = ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &set);
    if (rc) fprintf(stderr, "  %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    DS_CHECK_INT_EQ(set.n, 5);
    for (int i = 0; i < set.n; i++) {
        printf("  %-8s %d fields:", set.schemas[i].doc_type, set.schemas[i].n_fields);
        for (int k = 0; k < set.schemas[i].n_fields; k++)
            printf(" %s(%s)", set.schemas[i].fields[k].name,
                   ds_field_type_name(set.schemas[i].fields[k].type));
        printf("\n");
    }
    const ds_schema *inv = ds_schema_find(&set, "invoice");
    DS_CHECK(inv && ds_schema_field(inv, "total") &&
             ds_schema_field(inv, "total")->type == DS_FIELD_AMOUNT);
    const ds_schema *form = ds_schema_find(&set, "form");
    DS_CHECK(form && ds_schema_field(form, "newsletter")->type == DS_FIELD_CHECKBOX);
    DS_CHECK(ds_schema_field(form, "plan")->n_values == 3);
    const ds_schema *con = ds_schema_find(&set, "contract");
    DS_CHECK(con && ds_field_is_multi(ds_schema_field(con, "parties")->type));
    DS_CHECK(ds_schema_find(&set, "receipt") && !ds_schema_find(&set, "passport"));
    DS_CHECK(con->routed && ds_schema_field(con, "parties")->max_items == 6);
    // a form's entities: long text lists, read only when a caller names the type
    const ds_schema *ent = ds_schema_find(&set, "form_entities");
    DS_CHECK(ent && !ent->routed);
    const ds_field *q = ent ? ds_schema_field(ent, "questions") : NULL;
    DS_CHECK(q && q->type == DS_FIELD_TEXT_LIST && ds_field_is_multi(q->type) &&
             q->max_items == 48);
    ds_schema_set_free(&set);
    return 0;
}

DS_TEST(schema_rejects_malformed) {
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"{\"doc_type\": \"x\", \"fields\": [{\"name\": \"a\", \"type\": \"colour\"}]}",
         "unknown field type 'colour'"},
        {"{\"doc_type\": \"x\", \"fields\": [{\"name\": \"a\", \"type\": \"text\"},"
         " {\"name\": \"a\", \"type\": \"date\"}]}",
         "appears twice"},
        {"{\"doc_type\": \"x\", \"fields\": [{\"name\": \"a\", \"type\": \"enum\"}]}",
         "needs \"values\""},
        {"{\"doc_type\": \"x\", \"fields\": []}", "non-empty"},
        {"{\"fields\": [{\"name\": \"a\", \"type\": \"text\"}]}", "doc_type"},
        {"{\"doc_type\": \"x\", \"fields\": [{\"type\": \"text\"}]}", "field 1 needs"},
        {"{\"doc_type\": ", "JSON error"},
        {"{\"doc_type\": \"x\", \"fields\": [{\"name\": \"a\", \"type\": \"text\","
         " \"max_items\": 3}]}",
         "on a list only"},
        {"{\"doc_type\": \"x\", \"fields\": [{\"name\": \"a\", \"type\": \"text_list\","
         " \"max_items\": 0}]}",
         "must be 1..128"},
        {"{\"doc_type\": \"x\", \"routed\": \"no\", \"fields\": [{\"name\": \"a\","
         " \"type\": \"text\"}]}",
         "\"routed\" must be true or false"},
    };
    int fails = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ds_schema s;
        int rc = ds_schema_parse(cases[i].json, "test.json", &s);
        printf("  case %zu -> %s: %s\n", i, ds_err_name(rc), ds_errmsg());
        if (rc != DS_E_FORMAT || !strstr(ds_errmsg(), cases[i].needle) ||
            !strstr(ds_errmsg(), "test.json"))
            fails++;
    }
    ds_schema_set set;
    DS_CHECK_INT_EQ(ds_schema_set_load("/nonexistent/schemas", &set), DS_E_NOENT);
    return fails;
}
