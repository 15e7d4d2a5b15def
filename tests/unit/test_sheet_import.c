/* test_sheet_import.c — `qts import sheets DIR` into the real SQLite store:
 * good fixtures land in their tables with the spec's column maps, a re-run
 * changes nothing, bad fixtures are reported as file:line and nothing is
 * written. */
#include "test_support.h"

#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "sheet_import.h"
#include "util.h"

static char *g_dir;

static int run_cmd(const char *fixture, const char *db, char *err_out, size_t cap)
{
    char store[600], errpath[600];
    snprintf(store, sizeof store, "sqlite:%s", db);
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", g_dir);
    const char *dir = qts_test_src_path(fixture);
    char *argv[] = {"import", "sheets", (char *)dir, "--store", store, "--host-id", "h1", NULL};
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    fflush(stdout);
    int saved_out = dup(1);
    int nul = open("/dev/null", O_WRONLY);
    dup2(nul, 1);
    close(nul);
    int rc = qts_cmd_import.run(7, argv);
    fflush(stderr);
    fflush(stdout);
    dup2(saved, 2);
    close(saved);
    dup2(saved_out, 1);
    close(saved_out);
    FILE *f = fopen(errpath, "r");
    size_t n = f ? fread(err_out, 1, cap - 1, f) : 0;
    err_out[n] = '\0';
    if (f)
        fclose(f);
    return rc;
}

static int64_t q_i64(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static double q_dbl(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    double v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : NAN;
    sqlite3_finalize(st);
    return v;
}

static const char *q_str(sqlite3 *db, const char *sql)
{
    static char buf[256];
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    buf[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        qts_strlcpy(buf, (const char *)sqlite3_column_text(st, 0), sizeof buf);
    sqlite3_finalize(st);
    return buf;
}

static void check_good(sqlite3 *db)
{
    assert_int_equal(q_i64(db, "SELECT count(*) FROM positions WHERE host_id = 'h1'"), 2);
    assert_string_equal(q_str(db, "SELECT strategy_type FROM positions WHERE symbol = '005930'"),
                        "SCALP");
    assert_string_equal(q_str(db, "SELECT strategy_type FROM positions WHERE symbol = '000660'"),
                        "NET");
    assert_true(q_dbl(db, "SELECT avg_price FROM positions WHERE symbol = '005930'") == 71500.0);
    assert_true(q_dbl(db, "SELECT exposure_value FROM positions WHERE symbol = '005930'") ==
                720000.0);
    assert_true(fabs(q_dbl(db, "SELECT exposure_pct FROM positions WHERE symbol = '005930'") -
                     720000.0 / 10003956.0) < 1e-12);
    assert_int_equal(q_i64(db, "SELECT count(*) FROM t_ledger"), 3);
    /* amount computed when the sheet leaves it empty; side normalised */
    assert_true(q_dbl(db, "SELECT amount FROM t_ledger WHERE order_id = 'ORD-002'") == 540000.0);
    assert_string_equal(q_str(db, "SELECT side FROM t_ledger WHERE order_id = 'ORD-002'"), "BUY");
    assert_true(q_dbl(db, "SELECT realized_pnl FROM t_ledger WHERE order_id = 'ORD-003'") ==
                3956.0);
    /* no offset in the sheet = Korea time: 09:01:05 KST is 00:01:05 UTC */
    assert_int_equal(q_i64(db, "SELECT timestamp FROM t_ledger WHERE order_id = 'ORD-001'"),
                     INT64_C(1795132865) * 1000000000);
    assert_int_equal(q_i64(db, "SELECT count(*) FROM t_ledger WHERE src_hash IS NULL"), 0);
    /* History is daily account equity, not bars */
    assert_int_equal(q_i64(db, "SELECT count(*) FROM account_history"), 2);
    assert_true(q_dbl(db, "SELECT total_equity FROM account_history WHERE date = '2026-11-20'") ==
                10000000.0);
    assert_true(
        fabs(q_dbl(db, "SELECT daily_return FROM account_history WHERE date = '2026-11-21'") -
             0.0004) < 1e-12);
    assert_int_equal(q_i64(db, "SELECT count(*) FROM ohlcv_1d"), 0);
    assert_int_equal(q_i64(db, "SELECT count(*) FROM strategies WHERE strategy_id = 'DEFAULT'"), 4);
    assert_string_equal(
        q_str(db, "SELECT value_type FROM strategies WHERE param_name = 'ema_fast'"), "int");
    assert_string_equal(
        q_str(db, "SELECT value_type FROM strategies WHERE param_name = 'stop_pct'"), "float");
    assert_string_equal(q_str(db, "SELECT value_type FROM strategies WHERE param_name = 'active'"),
                        "bool");
    assert_int_equal(q_i64(db, "SELECT count(*) FROM config"), 5);
    assert_string_equal(q_str(db, "SELECT value FROM config WHERE scope = 'SCALP' AND "
                                  "key = 'ENGINE_LOOP_INTERVAL_SCALP'"),
                        "1");
    assert_string_equal(q_str(db, "SELECT value FROM config WHERE scope = 'LOCAL' AND "
                                  "key = 'BROKER_TIMEOUT_SEC'"),
                        "3");
}

static void test_good_and_rerun(void **state)
{
    (void)state;
    char db[600], err[4096];
    snprintf(db, sizeof db, "%s/good.db", g_dir);
    assert_int_equal(run_cmd("tests/fixtures/sheets/good", db, err, sizeof err), 0);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    check_good(h);
    /* idempotent: the same files again change nothing */
    assert_int_equal(run_cmd("tests/fixtures/sheets/good", db, err, sizeof err), 0);
    check_good(h);
    sqlite3_close(h);
}

static void test_bad_rows_reported_nothing_written(void **state)
{
    (void)state;
    char db[600], err[4096];
    snprintf(db, sizeof db, "%s/bad.db", g_dir);
    assert_int_equal(run_cmd("tests/fixtures/sheets/bad", db, err, sizeof err), QTS_EXIT_FAILURE);
    QTS_ASSERT_HAS(err, "T_Ledger.csv:3: timestamp: '2026-13-40 09:00' is not a timestamp",
                   "T_Ledger.csv:4: side: 'HOLD' is not BUY or SELL",
                   "T_Ledger.csv:5: symbol: required value missing",
                   "T_Ledger.csv:5: qty: 'abc' is not a number",
                   "Position.csv:2: qty: negative quantity", "Position.csv:3: strategy: 'DAYTRADE'",
                   "6 bad row(s); nothing imported");
    struct stat st;
    assert_int_not_equal(stat(db, &st), 0); /* the store was never opened */

    /* the good rows of the bad folder were not written either */
    struct qts_sheet_import imp;
    assert_int_equal(
        qts_sheet_import_load(qts_test_src_path("tests/fixtures/sheets/bad"), NULL, 0, &imp), 0);
    assert_int_equal(imp.n_errors, 6);
    qts_sheet_import_free(&imp);
}

static void test_quoted_fields_and_missing_folder(void **state)
{
    (void)state;
    char sub[600];
    snprintf(sub, sizeof sub, "%s/q", g_dir);
    mkdir(sub, 0755);
    char path[700];
    snprintf(path, sizeof path, "%s/Strategy.csv", sub);
    qts_test_write_file(path, "\xEF\xBB\xBFparam_name,value,description\r\n"
                              "note,\"a, \"\"quoted\"\"\nvalue\",multi\r\n");
    struct qts_sheet_import imp;
    assert_int_equal(qts_sheet_import_load(sub, "ema", 0, &imp), 0);
    assert_int_equal(imp.n_errors, 0);
    assert_int_equal(imp.n, 1);
    assert_string_equal(imp.recs[0].param.value, "a, \"quoted\"\nvalue");
    assert_string_equal(imp.recs[0].param.strategy_id, "ema");
    qts_sheet_import_free(&imp);
    snprintf(path, sizeof path, "%s/none", g_dir);
    assert_int_equal(qts_sheet_import_load(path, NULL, 0, &imp), QTS_ENOENT);
    qts_sheet_import_free(&imp);
}

static void test_migrate_command(void **state)
{
    (void)state;
    char store[600];
    snprintf(store, sizeof store, "sqlite:%s/m/qts.db", g_dir);
    char *argv[] = {"migrate", "--store", store, NULL};
    fflush(stdout);
    int o = dup(1), nul = open("/dev/null", O_WRONLY);
    dup2(nul, 1);
    close(nul);
    int first = qts_cmd_migrate.run(3, argv);
    int again = qts_cmd_migrate.run(3, argv);
    char *bad[] = {"migrate", "--store", "oracle:x", NULL};
    int usage = qts_cmd_migrate.run(3, bad);
    fflush(stdout);
    dup2(o, 1);
    close(o);
    assert_int_equal(first, QTS_EXIT_OK);
    assert_int_equal(again, QTS_EXIT_OK);
    assert_int_equal(usage, QTS_EXIT_USAGE);
    char path[700];
    snprintf(path, sizeof path, "%s/m/qts.db", g_dir);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(q_i64(h, "SELECT count(*) FROM schema_migrations"), 3);
    sqlite3_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_and_rerun),
        cmocka_unit_test(test_bad_rows_reported_nothing_written),
        cmocka_unit_test(test_quoted_fields_and_missing_folder),
        cmocka_unit_test(test_migrate_command),
    };
    qts_log_set_level(QTS_LOG_ERROR);
    g_dir = qts_test_tmpdir();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qts_test_rmtree(g_dir);
    free(g_dir);
    return rc;
}
