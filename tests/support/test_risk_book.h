/* test_risk_book.h — the risk book (struct qts_risk_book) a test or
 * benchmark hands to qts_precheck_risk_new, over its own functions.
 * Header-only, no cmocka, so benchmarks may include it too. */
#ifndef QTS_TEST_RISK_BOOK_H
#define QTS_TEST_RISK_BOOK_H

#include "precheck_risk.h"

/* The book over prefix##_pos, _spos, _eq, _gross, _net, _pnl, _pool, _open
 * and _trades, each called with ctx_ (borrowed; it must outlive the checker). */
#define QTS_TEST_RISK_BOOK(prefix, ctx_)                        \
    ((struct qts_risk_book){.position = prefix##_pos,           \
                            .strategy_position = prefix##_spos, \
                            .equity = prefix##_eq,              \
                            .gross_exposure = prefix##_gross,   \
                            .net_exposure = prefix##_net,       \
                            .daily_pnl = prefix##_pnl,          \
                            .pool_available = prefix##_pool,    \
                            .session_open = prefix##_open,      \
                            .daily_trades = prefix##_trades,    \
                            .ctx = (ctx_)})

#endif
