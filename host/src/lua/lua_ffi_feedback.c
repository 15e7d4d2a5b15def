/* lua_ffi_feedback.c — ctx:feedback(symbol): the execution-feedback board
 * (tca.h) as seen from a strategy. Same rules as lua_ffi.c: scalar
 * arguments and one struct pointer, an int code back, never a Lua error.
 * Runs on the strategy's worker thread; the board is read under its mutex. */
#include <string.h>

#include "lua_strategy.h"
#include "tca.h"

#define QTS_FFI __attribute__((visibility("default")))

QTS_FFI int qts_ffi_feedback(struct qts_lua_strategy *s, uint32_t instrument, double qty,
                             double dist_ticks, double horizon_s, struct qts_feedback_summary *out);

QTS_FFI int qts_ffi_feedback(struct qts_lua_strategy *s, uint32_t instrument, double qty,
                             double dist_ticks, double horizon_s, struct qts_feedback_summary *out)
{
    (void)s; /* the board is per process; every strategy sees the same costs */
    memset(out, 0, sizeof *out);
    return qts_feedback_board_read(instrument, qty, dist_ticks, horizon_s, out);
}
