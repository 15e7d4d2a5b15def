/* bench_config.c — cost of loading the default configuration (read, parse,
 * substitute, validate, defaults) against a reference: the raw YAML parse of
 * the same text alone; and the reader's cost of taking and dropping the
 * current snapshot (qts_config_holder_get + unref). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "build_info.h"
#include "clock.h"
#include "config_reload.h"
#include "config_node.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

int main(void)
{
    enum { N_LOAD = 2000, N_GET = 200000 };
    const char *path = QTS_SOURCE_DIR "/config/qts.yaml";
    const char *text = slurp(path);
    if (!text) {
        fprintf(stderr, "bench_config: %s absent\n", path);
        return 1;
    }
    struct qts_bench_samples load, parse, get;
    qts_bench_samples_init(&load, N_LOAD);
    qts_bench_samples_init(&parse, N_LOAD);
    qts_bench_samples_init(&get, N_GET);
    for (int i = 0; i < N_LOAD; i++) {
        struct qts_config *c = NULL;
        int64_t t0 = qts_mono_ns();
        if (qts_config_load(path, &c, NULL) != 0)
            return 1;
        qts_bench_add(&load, qts_mono_ns() - t0);
        qts_config_unref(c);

        struct qts_cfg_node *root = NULL;
        t0 = qts_mono_ns();
        if (qts__cfg_parse("qts.yaml", text, strlen(text), &root, NULL) != 0)
            return 1;
        qts_bench_add(&parse, qts_mono_ns() - t0);
        qts__cfg_node_free(root);
    }
    struct qts_config *c = NULL;
    if (qts_config_load(path, &c, NULL) != 0)
        return 1;
    struct qts_config_holder h;
    qts_config_holder_init(&h, c);
    for (int i = 0; i < N_GET; i++) {
        int64_t t0 = qts_mono_ns();
        struct qts_config *r = qts_config_holder_get(&h);
        qts_bench_keep(r);
        qts_config_unref(r);
        qts_bench_add(&get, qts_mono_ns() - t0);
    }
    qts_config_holder_cleanup(&h);
    qts_bench_report_latency("config.load_default", &load, NULL);
    qts_bench_report_latency("config.reference_yaml_parse_only", &parse, NULL);
    qts_bench_report_latency("config.holder_get_unref", &get, NULL);
    qts_bench_samples_free(&load);
    qts_bench_samples_free(&parse);
    qts_bench_samples_free(&get);
    return 0;
}
