/* safety_codes.h — the one table of safety codes: fail-safe trips (FS),
 * guardrail limits (GR) and anomaly notices (AN), with what each means and
 * what the host does about it (spec-execution-risk §2.9, with the conflicts
 * of §9 #2, #3, #26, #28 resolved; docs/safety.md lists the table).
 * It lives in base so that every subsystem, the execution pipeline below
 * risk included, names a code by its enum; what a code does is decided
 * here, by its effect, and applied by the state machine (risk/safety.h),
 * never by the caller that raises it.
 *
 * Effect on the safety state machine (safety.h):
 * - TRIP:   a fail-safe; NORMAL/WARNING -> FAIL, FAIL x2 -> LOCKDOWN.
 * - WARN:   an anomaly; NORMAL -> WARNING, nothing else.
 * - LIMIT:  a guardrail; restricts or rejects one action, never moves the state.
 * - NOTICE: log and notify only, never moves the state.
 */
#ifndef QTS_SAFETY_CODES_H
#define QTS_SAFETY_CODES_H

#include <stdint.h>

enum qts_safety_family { QTS_SF_FS = 1, QTS_SF_GR = 2, QTS_SF_AN = 3 };
enum qts_safety_effect {
    QTS_SE_NOTICE = 0,
    QTS_SE_LIMIT = 1,
    QTS_SE_WARN = 2,
    QTS_SE_TRIP = 3,
};

/* X(ID, family, number, effect, meaning, action). The enum value of each
 * code is its index in the table; the number is the digits of the code
 * ("GR061" -> 61), which is what order events carry. */
#define QTS_SAFETY_CODES(X)                                                                  \
    /* data corruption, system */                                                            \
    X(FS001, FS, 1, TRIP, "schema version mismatch", "FAIL: halt trading")                   \
    X(FS010, FS, 10, TRIP, "required raw field missing", "FAIL: halt trading")               \
    X(FS020, FS, 20, TRIP, "NaN or Inf produced in a calculation", "FAIL: halt trading")     \
    X(FS030, FS, 30, TRIP, "risk computation error", "FAIL: halt trading")                   \
    X(FS040, FS, 40, TRIP, "broker execution error or 3 consecutive order failures",         \
      "FAIL: halt trading")                                                                  \
    X(FS041, FS, 41, TRIP, "fill data missing", "FAIL: halt trading")                        \
    X(FS042, FS, 42, TRIP, "order outcome unknown after a timeout", "FAIL: reconcile")       \
    X(FS050, FS, 50, TRIP, "equity <= 0", "FAIL: halt trading")                              \
    X(FS060, FS, 60, TRIP, "core loop stalled (cycle time exceeded)", "FAIL: halt trading")  \
    X(FS061, FS, 61, TRIP, "memory or resource exhaustion", "FAIL: halt trading")            \
    X(FS062, FS, 62, TRIP, "daily loss limit exceeded", "FAIL: halt trading")                \
    X(FS063, FS, 63, TRIP, "exposure above 1.2 x its limit", "FAIL: halt trading")           \
    X(FS064, FS, 64, TRIP, "records directory removed under the host", "FAIL: halt trading") \
    X(FS070, FS, 70, TRIP, "position / ledger mismatch", "FAIL: halt trading")               \
    /* capital */                                                                            \
    X(FS080, FS, 80, TRIP, "total capital <= 0", "FAIL: halt trading, lock pools")           \
    X(FS081, FS, 81, TRIP, "pool capital negative", "FAIL: lock the pool")                   \
    X(FS082, FS, 82, TRIP, "pool drawdown above 20 %", "FAIL: lock the pool")                \
    X(FS083, FS, 83, TRIP, "abnormal capital change", "FAIL: halt transfers")                \
    X(FS084, FS, 84, NOTICE, "pool state inconsistent", "resync, then resume")               \
    X(FS085, FS, 85, TRIP, "safety LOCKDOWN: every pool locked", "lock all pools")           \
    /* execution */                                                                          \
    X(FS090, FS, 90, TRIP, "every send of an order failed", "FAIL: abort execution")         \
    X(FS091, FS, 91, TRIP, "invalid symbol", "FAIL: abort, investigate")                     \
    X(FS092, FS, 92, NOTICE, "EmergencyEscape executed", "log and notify")                   \
    X(FS093, FS, 93, NOTICE, "fill timeout", "cancel the unfilled rest")                     \
    X(FS094, FS, 94, NOTICE, "slippage limit exceeded", "stop repricing")                    \
    X(FS095, FS, 95, TRIP, "P0 queue above its trip depth", "FAIL: pause order generation")  \
    X(FS096, FS, 96, TRIP, "P0 queue failure", "FAIL: suspend trading")                      \
    X(FS097, FS, 97, TRIP, "P1 queue could not be recreated", "FAIL")                        \
    X(FS098, FS, 98, TRIP, "P0 handler failed permanently", "FAIL: event dead-lettered")     \
    /* micro risk loop */                                                                    \
    X(FS100, FS, 100, TRIP, "risk loop crashed or stalled", "FAIL: restart the loop")        \
    X(FS101, FS, 101, NOTICE, "position shadow lagging > 1 s", "force a sync")               \
    X(FS102, FS, 102, NOTICE, "risk loop exit order sent", "log and notify")                 \
    X(FS103, FS, 103, NOTICE, "strategy evaluation suspended by the risk loop", "notify")    \
    X(FS104, FS, 104, TRIP, "kill switch: flatten everything, LOCKDOWN", "LOCKDOWN")         \
    X(FS105, FS, 105, NOTICE, "price feed interrupted (stale > 500 ms)", "block entries")    \
    X(FS106, FS, 106, NOTICE, "escalation to DEFENSIVE requested", "notify")                 \
    X(FS107, FS, 107, TRIP, "price stale > 1 s with an open position", "FAIL: halt trading") \
    /* guardrails (SAF, EXE, MRL) */                                                         \
    X(GR001, GR, 1, LIMIT, "gross exposure limit exceeded", "reject the order")              \
    X(GR010, GR, 10, LIMIT, "symbol exposure above its share of equity", "reject the order") \
    X(GR020, GR, 20, LIMIT, "daily loss warning level reached", "warn")                      \
    X(GR030, GR, 30, LIMIT, "buy and sell signals conflict", "block the decision")           \
    X(GR031, GR, 31, LIMIT, "risk not approved", "block the decision")                       \
    X(GR040, GR, 40, LIMIT, "position mismatch (sell with no position)", "block")            \
    X(GR041, GR, 41, LIMIT, "price information inconsistent", "block")                       \
    X(GR056, GR, 56, LIMIT, "capital pool utilisation above 90 %", "warn")                   \
    X(GR060, GR, 60, LIMIT, "too many splits", "cap the split count at 10")                  \
    X(GR061, GR, 61, LIMIT, "insufficient capital in the pool", "reject or shrink")          \
    X(GR062, GR, 62, LIMIT, "daily trade limit reached", "reject the order")                 \
    X(GR063, GR, 63, LIMIT, "slippage warning", "limit repricing")                           \
    X(GR064, GR, 64, LIMIT, "fill delay", "warn")                                            \
    X(GR065, GR, 65, LIMIT, "limit price outside the band around the reference", "reject")   \
    X(GR071, GR, 71, LIMIT, "MAE close to its threshold", "warn")                            \
    X(GR072, GR, 72, LIMIT, "time in trade at 80 % of its maximum", "warn")                  \
    X(GR073, GR, 73, LIMIT, "volatility rising (WARNING level)", "warn")                     \
    X(GR074, GR, 74, LIMIT, "risk loop exit order failed", "retry, then FS")                 \
    X(GR090, GR, 90, LIMIT, "event system in critical-only mode", "alert")                   \
    X(GR091, GR, 91, LIMIT, "strategy worker stalled", "halt the strategy")                  \
    /* pre-trade checks (GR100-GR119) */                                                     \
    X(GR100, GR, 100, LIMIT, "trading disabled", "reject the order")                         \
    X(GR101, GR, 101, LIMIT, "kill switch on", "reject the order")                           \
    X(GR102, GR, 102, LIMIT, "safety state does not allow trading", "reject the order")      \
    X(GR103, GR, 103, LIMIT, "instrument not tradable", "reject the order")                  \
    X(GR104, GR, 104, LIMIT, "trading session closed", "reject the order")                   \
    X(GR105, GR, 105, LIMIT, "limit price outside the band around the last trade", "reject") \
    X(GR106, GR, 106, LIMIT, "limit price outside the band around the mid", "reject")        \
    X(GR107, GR, 107, LIMIT, "order quantity above the maximum", "reject the order")         \
    X(GR108, GR, 108, LIMIT, "order notional above the maximum", "reject the order")         \
    X(GR109, GR, 109, LIMIT, "position per symbol above the maximum", "reject the order")    \
    X(GR110, GR, 110, LIMIT, "position per strategy above the maximum", "reject the order")  \
    X(GR111, GR, 111, LIMIT, "net exposure limit exceeded", "reject the order")              \
    X(GR112, GR, 112, LIMIT, "daily loss limit reached", "reject risk-increasing orders")    \
    X(GR113, GR, 113, LIMIT, "order rate per second exceeded", "reject the order")           \
    X(GR114, GR, 114, LIMIT, "order rate per minute exceeded", "reject the order")           \
    X(GR115, GR, 115, LIMIT, "cancel rate per second exceeded", "reject the cancel")         \
    X(GR116, GR, 116, LIMIT, "cancel rate per minute exceeded", "reject the cancel")         \
    X(GR117, GR, 117, LIMIT, "entries frozen for the symbol (stale price)", "reject entry")  \
    X(GR118, GR, 118, LIMIT, "no reference price for a risk check", "reject the order")      \
    X(GR119, GR, 119, LIMIT, "shared exposure budget exhausted", "reject the order")         \
    /* anomalies */                                                                          \
    X(AN001, AN, 1, WARN, "price spike or crash between ticks (> 5 %)", "WARNING")           \
    X(AN010, AN, 10, WARN, "symbol or price data missing or stale", "WARNING")               \
    X(AN020, AN, 20, WARN, "PnL jump", "WARNING")                                            \
    X(AN030, AN, 30, WARN, "ledger inconsistency", "WARNING")                                \
    X(AN040, AN, 40, WARN, "core loop cycle time surge", "WARNING")                          \
    X(AN050, AN, 50, WARN, "broker response latency", "WARNING")

enum qts_safety_code {
#define QTS_SC_ENUM_(id, fam, num, eff, meaning, action) QTS_SC_##id,
    QTS_SAFETY_CODES(QTS_SC_ENUM_)
#undef QTS_SC_ENUM_
        QTS_SC_COUNT
};

struct qts_safety_code_info {
    const char *str; /* "GR061" */
    uint8_t family;  /* enum qts_safety_family */
    uint8_t effect;  /* enum qts_safety_effect */
    int32_t number;  /* 61 */
    const char *meaning;
    const char *action;
};

/* Static row of a code; NULL for an out-of-range value. */
const struct qts_safety_code_info *qts_safety_code_info(int code);
/* Code by text ("FS104"); -1 when unknown. O(n); not for hot paths. */
int qts_safety_code_find(const char *str);
static inline const char *qts_safety_code_str(int code)
{
    const struct qts_safety_code_info *i = qts_safety_code_info(code);
    return i ? i->str : "?";
}
const char *qts_safety_family_name(int family);
const char *qts_safety_effect_name(int effect);

#endif /* QTS_SAFETY_CODES_H */
