// cmd-model.c: `docseek model init --config FILE --out MODEL [--tokenizer TOK]
// [--seed N]` writes a model file with freshly initialised parameters (the
// starting point of training); `docseek model info MODEL [--json]` prints its
// configuration, parameter counts (total and active per token), and memory.
// Training is `docseek train` (next issue); this command never changes a model.
#include "cli/args.h"
#include "cli/cli.h"
#include "core/error.h"
#include "fusion/model.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: docseek model init --config FILE --out MODEL [--tokenizer TOK.json] "
               "[--seed N]\n"
               "       docseek model info MODEL [--json]\n\n"
               "init: a model with random parameters (seeded) from a JSON config (see\n"
               "      configs/*.json; missing settings take their defaults); with a tokenizer\n"
               "      (docseek tokenizer train) its vocabulary size is used and it is stored in\n"
               "      the model file.\n"
               "info: configuration, parameter counts and memory of a model file.\n");
}

static int cmd_init(int argc, char **argv) {
    const char *config = NULL, *out = NULL, *tok_path = NULL;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--tokenizer") == 0 && i + 1 < argc)
            tok_path = argv[++i];
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            if (ds_cli_seed("--seed", argv[++i], &seed)) {
                fprintf(stderr, "docseek model init: %s\n", ds_errmsg());
                return 2;
            }
        } else {
            fprintf(stderr, "docseek model init: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!config || !out) {
        fprintf(stderr, "docseek model init: --config and --out are required\n");
        usage(stderr);
        return 2;
    }
    json_error_t jerr;
    json_t *cj = json_load_file(config, 0, &jerr);
    if (!cj) {
        fprintf(stderr, "docseek model init: %s:%d: %s\n", config, jerr.line, jerr.text);
        return 1;
    }
    ds_tokenizer *tok = NULL;
    int rc = 0;
    if (tok_path) {
        if ((rc = ds_tokenizer_load(tok_path, &tok))) {
            json_decref(cj);
            return ds_cli_fail("model init", rc);
        }
        // the tokenizer decides the vocabulary; a config that says otherwise is a mistake
        json_t *v = json_object_get(cj, "vocab");
        if (v && json_integer_value(v) != ds_tokenizer_vocab_size(tok)) {
            fprintf(stderr, "docseek model init: %s says vocab %lld but %s has %d tokens\n", config,
                    (long long)json_integer_value(v), tok_path, ds_tokenizer_vocab_size(tok));
            json_decref(cj);
            ds_tokenizer_free(tok);
            return 1;
        }
        json_object_set_new(cj, "vocab", json_integer(ds_tokenizer_vocab_size(tok)));
    } else {
        fprintf(stderr, "docseek model init: warning: no --tokenizer: the model cannot read "
                        "documents until one is added\n");
    }
    ds_model_cfg cfg;
    rc = ds_model_cfg_from_json(cj, &cfg);
    json_decref(cj);
    if (rc) {
        ds_tokenizer_free(tok);
        fprintf(stderr, "docseek model init: %s: %s\n", config, ds_errmsg());
        return 1;
    }
    ds_model *m;
    if ((rc = ds_model_init(&cfg, tok, seed, &m))) {
        ds_tokenizer_free(tok);
        return ds_cli_fail("model init", rc);
    }
    rc = ds_model_save(m, out);
    int64_t total, active;
    ds_model_count(m, &total, &active);
    ds_model_free(m);
    if (rc) return ds_cli_fail("model init", rc);
    printf("wrote %s: %.2f M parameters (%.2f M active per token), seed %llu\n", out, total / 1e6,
           active / 1e6, (unsigned long long)seed);
    return 0;
}

// Parameters per top-level part, from the table's name prefixes.
static int64_t count_prefix(const ds_model *m, const char *prefix) {
    int64_t n = 0;
    size_t k = strlen(prefix);
    for (int i = 0; i < m->table.n; i++)
        if (strncmp(m->table.items[i].name, prefix, k) == 0) n += m->table.items[i].numel;
    return n;
}

static int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "docseek model info: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else
            path = argv[i];
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    ds_model *m;
    int rc = ds_model_load(path, &m);
    if (rc) return ds_cli_fail("model info", rc);
    const ds_model_cfg *c = &m->cfg;
    int64_t total, active;
    ds_model_count(m, &total, &active);
    double kv_per_token = 2.0 * c->n_layers * c->n_kv_heads * c->head_dim * sizeof(float);
    json_t *o = json_pack(
        "{s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:f, s:f}, s:i, s:i, s:i}", "file", path,
        "config", ds_model_cfg_to_json(c), "parameters", "total", (json_int_t)total,
        "active_per_token", (json_int_t)active, "vision", (json_int_t)count_prefix(m, "vision."),
        "fusion", (json_int_t)count_prefix(m, "fusion."), "lm", (json_int_t)count_prefix(m, "lm."),
        "heads", (json_int_t)count_prefix(m, "head."), "memory_mib", "weights",
        total * 4.0 / (1 << 20), "kv_cache_per_token_kib", kv_per_token / 1024, "tensors",
        m->table.n + 1, "tokenizer_vocab", m->tok ? ds_tokenizer_vocab_size(m->tok) : 0,
        "image_tokens_per_page", ds_cfg_img_tokens(c));
    if (as_json) {
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
        puts(s);
        free(s);
    } else {
        printf("model %s\n", path);
        printf("  parameters   %.3f M total, %.3f M active per token\n", total / 1e6, active / 1e6);
        printf("               vision %.3f M, fusion %.3f M, language model %.3f M, heads "
               "%.3f M\n",
               count_prefix(m, "vision.") / 1e6, count_prefix(m, "fusion.") / 1e6,
               count_prefix(m, "lm.") / 1e6, count_prefix(m, "head.") / 1e6);
        printf("  memory       weights %.1f MiB (f32, mapped from the file); KV cache %.1f KiB "
               "per token\n",
               total * 4.0 / (1 << 20), kv_per_token / 1024);
        printf("  vision       %s: %dx%d px, patch %d, width %d, %d blocks, %d image tokens per "
               "page\n",
               ds_cfg_use_vit(c) ? "on" : "off", c->img_size, c->img_size, c->patch, c->vit_dim,
               c->vit_layers, ds_cfg_img_tokens(c));
        printf("  fusion       prefix %s, box embeddings %s, ROI features %s, glyph strips %s, "
               "check boxes as words %s\n",
               c->use_prefix ? "on" : "off", c->use_box ? "on" : "off", c->use_roi ? "on" : "off",
               c->use_glyph ? "on" : "off", c->use_marks ? "on" : "off");
        printf("  language     width %d, %d layers (%d dense), %d heads / %d KV heads of %d, "
               "window %d, vocab %d\n",
               c->dim, c->n_layers, c->n_dense_layers, c->n_heads, c->n_kv_heads, c->head_dim,
               c->window, c->vocab);
        printf("  experts      %d routed (width %d) in %d groups, top-%d in %d groups, %d "
               "shared; %s router\n",
               c->n_experts, c->expert_hidden, c->n_groups, c->topk, c->topk_groups, c->n_shared,
               c->router_sigmoid ? "sigmoid" : "softmax");
        printf("  copy path    pointers %s, pointer-generator %s, copy mask %s\n",
               c->copy_pointer ? "on" : "off", c->copy_pointer_gen ? "on" : "off",
               c->copy_mask ? "on" : "off");
        printf("  tokenizer    %s\n", m->tok ? "stored in the file" : "none");
    }
    json_decref(o);
    ds_model_free(m);
    return 0;
}

int ds_cmd_model(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "init") == 0) return cmd_init(argc - 1, argv + 1);
    if (strcmp(argv[1], "info") == 0) return cmd_info(argc - 1, argv + 1);
    fprintf(stderr, "docseek model: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
