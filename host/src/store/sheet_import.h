/* sheet_import.h — read CSV exports of the original system's sheets and
 * turn them into store records (docs/storage.md, "Import from sheets").
 *
 * Files looked for in the folder (each optional, at least one required):
 *   Position.csv      -> positions        (symbol, qty, avg_price_current_currency, market,
 *                                          market_value_krw, unrealized_pnl_krw, strategy)
 *   T_Ledger.csv      -> t_ledger         (timestamp, symbol, side, qty, price, amount_krw,
 *                                          fee_tax, strategy, order_id, broker, pnl)
 *   History.csv       -> account_history  (date, total_equity, daily_pnl, daily_return,
 *                                          cumulative_return, volatility_20d, high_watermark,
 *                                          drawdown, mdd, note)
 *   Strategy.csv      -> strategies       (param_name, value, description[, strategy_id])
 *   Config_Local.csv, Config_Scalp.csv, Config_Swing.csv -> config
 *                                         (CATEGORY, SUB_CATEGORY, KEY, VALUE, DESCRIPTION, TAG)
 * Columns are matched by header name (case-insensitive), never by position;
 * unknown columns are ignored. Every row is validated; problems are
 * collected as "file:line: column: why" and nothing is returned for
 * writing unless every row of every file is good (all-or-nothing).
 */
#ifndef QTS_SHEET_IMPORT_H
#define QTS_SHEET_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "qts/qts_store.h"

struct qts_sheet_file_count {
    char file[32];
    size_t rows;
};

struct qts_sheet_import {
    union qts_store_any *recs; /* owned; rec_id 0 (assigned by the writer side) */
    size_t n, cap;
    char **errors; /* owned strings, "file:line: column: why" */
    size_t n_errors, cap_errors;
    struct qts_sheet_file_count files[8];
    size_t n_files;
};

/* Read every known file of `dir` (borrowed). `strategy_id` names the
 * strategy of Strategy.csv rows without a strategy_id column (NULL =
 * "DEFAULT"); `now_ns` stamps upserted rows. Returns 0 when the folder was
 * read (check n_errors), QTS_ENOENT when it holds none of the files. */
int qts_sheet_import_load(const char *dir, const char *strategy_id, int64_t now_ns,
                          struct qts_sheet_import *out);
void qts_sheet_import_free(struct qts_sheet_import *imp);

#endif
