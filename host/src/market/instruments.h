/* instruments.h — the host's instrument registry.
 *
 * Instruments come from the configuration (`instruments:`) and from feed
 * plugins (host->instrument_define). Ids are dense (0, 1, 2, ...) and stable
 * for the run, so per-instrument state elsewhere is a plain array indexed by
 * id. Lookups by symbol go through a small open-addressing hash.
 * Core-loop thread only.
 */
#ifndef QTS_INSTRUMENTS_H
#define QTS_INSTRUMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_types.h"

struct qts_instruments; /* opaque */

struct qts_instruments *qts_instruments_new(void); /* owned: qts_instruments_free */
void qts_instruments_free(struct qts_instruments *reg);

/* Define `inst` (copied; its id field is ignored). If the symbol exists the
 * existing id is returned when the definitions agree on exponents, else
 * QTS_EEXIST with err explaining the conflict. */
int qts_instruments_define(struct qts_instruments *reg, const struct qts_instrument *inst,
                           uint32_t *id_out, struct qts_err *err);

/* Borrowed pointers, valid until the registry is freed (entries never move:
 * they are allocated in fixed chunks). NULL if absent. */
const struct qts_instrument *qts_instruments_find(const struct qts_instruments *reg,
                                                  const char *symbol);
const struct qts_instrument *qts_instruments_get(const struct qts_instruments *reg, uint32_t id);
/* The symbol of instrument `id` (borrowed, like the entry), "" if absent. */
const char *qts_instruments_symbol(const struct qts_instruments *reg, uint32_t id);
size_t qts_instruments_count(const struct qts_instruments *reg);

/* Round a price to the instrument's tick (toward the passive side for
 * limit orders: down for buys, up for sells) and a quantity down to its lot. */
int64_t qts_instrument_round_px(const struct qts_instrument *inst, int64_t px, int side);
int64_t qts_instrument_round_qty(const struct qts_instrument *inst, int64_t qty);

#endif
