/* fuzz_config.c — a configuration file as `qts check` reads it: YAML parsed
 * into the config tree, every key validated against the schema (types,
 * ranges, enums, unknown keys), defaults applied, and every finding
 * formatted as the CLI prints it. Includes resolve relative to the working
 * directory and are not followed outside it by the seeds. */
#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *yaml = fuzz_strdup(data, size);
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    if (qts_config_load_string("fuzz.yaml", yaml, &c, &d) == 0) {
        /* walk the tree the way free-form owners (plugin config) read it */
        const struct qts_cfg_node *root = qts_config_root(c);
        for (size_t i = 0; i < qts_cfg_len(root); i++) {
            const struct qts_cfg_node *n = qts_cfg_at(root, i);
            int64_t iv;
            double dv;
            bool bv;
            qts_cfg_int(n, &iv, NULL);
            qts_cfg_double(n, &dv, NULL);
            qts_cfg_bool(n, &bv, NULL);
        }
        qts_config_unref(c);
    }
    char line[512];
    for (size_t i = 0; i < d.n; i++)
        qts_diag_format(&d.v[i], line, sizeof line);
    qts_diags_cleanup(&d);
    free(yaml);
    return 0;
}
