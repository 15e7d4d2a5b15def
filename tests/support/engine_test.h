/* engine_test.h — for tests that run the whole host end to end (replay
 * configurations): write a configuration with its common head, load it and
 * run the engine to the end.
 * Header-only, so a test binary that does not include it links no engine. */
#ifndef QTS_ENGINE_TEST_H
#define QTS_ENGINE_TEST_H

#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "qts/qts_types.h"
#include "util.h"

/* Load `cfg_path` (borrowed; diagnostics go to stderr; asserts it loads)
 * and create an engine writing into `run_dir` (borrowed). Returns
 * qts_engine_new's code (its message in *err, also printed); *cfg_out and
 * *e_out are owned: qts_engine_free() the engine, then qts_config_unref()
 * the configuration. */
static inline int qts_test_engine_new(const char *cfg_path, const char *run_dir,
                                      struct qts_config **cfg_out, struct qts_engine **e_out,
                                      struct qts_err *err)
{
    assert_int_equal(qts_test_config_load(cfg_path, NULL, cfg_out, NULL), 0);
    struct qts_engine_opts opts = {.run_dir = run_dir};
    *e_out = NULL;
    qts_err_clear(err);
    int rc = qts_engine_new(*cfg_out, &opts, e_out, err);
    if (rc != 0)
        fprintf(stderr, "engine: %s\n", err->msg);
    return rc;
}

/* Load `cfg_path` (borrowed; diagnostics go to stderr) and run it to the end
 * into `run_dir`; asserts that loading, creating and running succeed and
 * fills *st. Returns the finished engine, owned: qts_engine_free() it, then
 * qts_config_unref() *cfg_out (owned too). */
static inline struct qts_engine *qts_test_engine_run(const char *cfg_path, const char *run_dir,
                                                     struct qts_engine_stats *st,
                                                     struct qts_config **cfg_out)
{
    struct qts_engine *e = NULL;
    struct qts_err err;
    assert_int_equal(qts_test_engine_new(cfg_path, run_dir, cfg_out, &e, &err), 0);
    int rc = qts_engine_run(e, &err);
    if (rc != 0)
        fprintf(stderr, "run: %s\n", err.msg);
    assert_int_equal(rc, 0);
    qts_engine_get_stats(e, st);
    return e;
}

/* One row of a run's fills.csv (the ledger, which the portfolio streams
 * there instead of keeping it), amounts in their fixed-point units. */
struct qts_test_fill_row {
    int side; /* QTS_SIDE_BUY / QTS_SIDE_SELL */
    int64_t qty, notional, fee, cash_after, pos_after;
};

/* Reads <run_dir>/fills.csv; quantities at qty_exp, money at QTS_CASH_EXP.
 * Returns the row count; *out owned (free()). Asserts the file parses. */
static inline size_t qts_test_read_fills(const char *run_dir, unsigned qty_exp,
                                         struct qts_test_fill_row **out)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/fills.csv", run_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    size_t n = 0, cap = 0;
    struct qts_test_fill_row *v = NULL;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        char *fld[20];
        int nf = 0;
        line[strcspn(line, "\n")] = '\0';
        for (char *p = line; p && nf < 20; nf++) {
            fld[nf] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        assert_int_equal(nf, 18); /* the 18th: the strategy name */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            v = realloc(v, cap * sizeof *v);
            assert_non_null(v);
        }
        struct qts_test_fill_row *r = &v[n++];
        r->side = strcmp(fld[7], "buy") == 0 ? QTS_SIDE_BUY : QTS_SIDE_SELL;
        assert_int_equal(qts_parse_fixed(fld[9], strlen(fld[9]), qty_exp, &r->qty), 0);
        assert_int_equal(qts_parse_fixed(fld[11], strlen(fld[11]), QTS_CASH_EXP, &r->notional), 0);
        assert_int_equal(qts_parse_fixed(fld[12], strlen(fld[12]), QTS_CASH_EXP, &r->fee), 0);
        assert_int_equal(qts_parse_fixed(fld[14], strlen(fld[14]), QTS_CASH_EXP, &r->cash_after),
                         0);
        assert_int_equal(qts_parse_fixed(fld[15], strlen(fld[15]), qty_exp, &r->pos_after), 0);
    }
    fclose(f);
    *out = v;
    return n;
}

/* The one instrument of the synthetic-feed replays: BTCUSDT at exponents 2/5. */
#define QTS_TEST_YAML_BTCUSDT_SYNTHETIC                                                   \
    "instruments:\n"                                                                      \
    "  - {symbol: BTCUSDT, venue: synthetic, px_exp: 2, qty_exp: 5, tick_size: \"0.01\"," \
    " lot_size: \"0.00001\", min_qty: \"0.00001\"}\n"
/* The one instrument of the KRX venue tests: 005930 in whole won and shares. */
#define QTS_TEST_YAML_KRX_005930                                                    \
    "instruments:\n"                                                                \
    "  - {symbol: \"005930\", venue: krx, px_exp: 0, qty_exp: 0, tick_size: \"1\"," \
    " lot_size: \"1\", min_qty: \"1\"}\n"

/* An engine test's configuration file; every string is borrowed. */
struct qts_test_engine_yaml {
    const char *mode; /* "replay", "paper" */
    const char *host_id;
    const char *log_level;      /* NULL: warn */
    const char *body;           /* YAML between the head and the strategies:
                                 * risk, instruments, feeds, broker, account... */
    const char *strategies_dir; /* NULL: the test's directory */
    const char *strategies;     /* the items of strategies.list, "    - {...}\n" each */
};

/* Writes `text` (borrowed) to <dir>/<name>; asserts it was written. */
static inline void qts_test_write_in(const char *dir, const char *name, const char *text)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(qts_test_write_file(path, text), 0);
}

/* Writes the configuration <dir>/<name>: mode, host id and log level, the
 * var directory <dir>/var and the test plugin directory, y->body, then the
 * strategies section. */
static inline void qts_test_write_engine_yaml(const char *dir, const char *name,
                                              const struct qts_test_engine_yaml *y)
{
    size_t cap = strlen(y->body) + strlen(y->strategies) + 4096;
    char *yaml = malloc(cap);
    assert_non_null(yaml);
    int n = snprintf(yaml, cap,
                     "mode: %s\n"
                     "host_id: %s\n"
                     "log: {level: %s}\n"
                     "paths: {var_dir: %s/var}\n"
                     "plugins: {dir: %s}\n"
                     "%s"
                     "strategies:\n"
                     "  dir: %s\n"
                     "  list:\n"
                     "%s",
                     y->mode, y->host_id, y->log_level ? y->log_level : "warn", dir,
                     qts_test_plugin_dir(), y->body, y->strategies_dir ? y->strategies_dir : dir,
                     y->strategies);
    assert_true(n > 0 && (size_t)n < cap);
    qts_test_write_in(dir, name, yaml);
    free(yaml);
}

/* Asserts that each of the `n` files named in `files` (borrowed) reads the
 * same, byte for byte, in the run directories `dir_a` and `dir_b`. */
static inline void qts_test_expect_same_files(const char *dir_a, const char *dir_b,
                                              const char *const *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char pa[1200], pb[1200];
        snprintf(pa, sizeof pa, "%s/%s", dir_a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", dir_b, files[i]);
        size_t na = 0, nb = 0;
        char *a = qts_test_read_file_len(pa, &na), *b = qts_test_read_file_len(pb, &nb);
        assert_non_null(a);
        assert_non_null(b);
        if (na != nb || memcmp(a, b, na) != 0)
            fail_msg("%s differs between two runs of the same input", files[i]);
        free(a);
        free(b);
    }
}

#endif
