/* instruments.c — see instruments.h. */
#include "instruments.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define CHUNK 256 /* instruments per chunk; chunks never move */
#define MAX_CHUNKS 256

struct qts_instruments {
    struct qts_instrument *chunks[MAX_CHUNKS];
    size_t n;
    uint32_t *slots; /* hash of symbol -> id + 1 (0 = empty) */
    size_t n_slots;  /* power of two */
};

static uint64_t hash_symbol(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

struct qts_instruments *qts_instruments_new(void)
{
    struct qts_instruments *reg = qts_xcalloc(1, sizeof *reg);
    reg->n_slots = 64;
    reg->slots = qts_xcalloc(reg->n_slots, sizeof *reg->slots);
    return reg;
}

void qts_instruments_free(struct qts_instruments *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < MAX_CHUNKS; i++)
        free(reg->chunks[i]);
    free(reg->slots);
    free(reg);
}

const struct qts_instrument *qts_instruments_get(const struct qts_instruments *reg, uint32_t id)
{
    if (id >= reg->n)
        return NULL;
    return &reg->chunks[id / CHUNK][id % CHUNK];
}

const char *qts_instruments_symbol(const struct qts_instruments *reg, uint32_t id)
{
    const struct qts_instrument *inst = qts_instruments_get(reg, id);
    return inst ? inst->symbol : "";
}

size_t qts_instruments_count(const struct qts_instruments *reg) { return reg->n; }

const struct qts_instrument *qts_instruments_find(const struct qts_instruments *reg,
                                                  const char *symbol)
{
    size_t mask = reg->n_slots - 1;
    for (size_t i = hash_symbol(symbol) & mask;; i = (i + 1) & mask) {
        uint32_t v = reg->slots[i];
        if (v == 0)
            return NULL;
        const struct qts_instrument *inst = qts_instruments_get(reg, v - 1);
        if (strcmp(inst->symbol, symbol) == 0)
            return inst;
    }
}

static void insert_slot(struct qts_instruments *reg, const char *symbol, uint32_t id)
{
    size_t mask = reg->n_slots - 1;
    size_t i = hash_symbol(symbol) & mask;
    while (reg->slots[i])
        i = (i + 1) & mask;
    reg->slots[i] = id + 1;
}

int qts_instruments_define(struct qts_instruments *reg, const struct qts_instrument *inst,
                           uint32_t *id_out, struct qts_err *err)
{
    if (!inst->symbol[0] || memchr(inst->symbol, '\0', sizeof inst->symbol) == NULL)
        return qts_err_set(err, QTS_EINVAL, "instrument symbol empty or not terminated");
    if (inst->px_exp > QTS_MAX_EXP || inst->qty_exp > QTS_MAX_EXP)
        return qts_err_set(err, QTS_ERANGE, "instrument %s: exponent above %d", inst->symbol,
                           QTS_MAX_EXP);
    const struct qts_instrument *old = qts_instruments_find(reg, inst->symbol);
    if (old) {
        if (old->px_exp != inst->px_exp || old->qty_exp != inst->qty_exp)
            return qts_err_set(err, QTS_EEXIST,
                               "instrument %s already defined with px_exp=%u qty_exp=%u "
                               "(new definition has %u/%u)",
                               inst->symbol, old->px_exp, old->qty_exp, inst->px_exp,
                               inst->qty_exp);
        if (id_out)
            *id_out = old->id;
        return 0;
    }
    if (reg->n == (size_t)CHUNK * MAX_CHUNKS)
        return qts_err_set(err, QTS_EFULL, "too many instruments (%d)", CHUNK * MAX_CHUNKS);
    if ((reg->n + 1) * 2 > reg->n_slots) { /* keep load factor <= 0.5 */
        free(reg->slots);
        reg->n_slots *= 2;
        reg->slots = qts_xcalloc(reg->n_slots, sizeof *reg->slots);
        for (size_t i = 0; i < reg->n; i++)
            insert_slot(reg, qts_instruments_get(reg, (uint32_t)i)->symbol, (uint32_t)i);
    }
    size_t c = reg->n / CHUNK;
    if (!reg->chunks[c])
        reg->chunks[c] = qts_xcalloc(CHUNK, sizeof(struct qts_instrument));
    uint32_t id = (uint32_t)reg->n;
    struct qts_instrument *slot = &reg->chunks[c][reg->n % CHUNK];
    *slot = *inst;
    slot->struct_size = sizeof *slot;
    slot->id = id;
    reg->n++;
    insert_slot(reg, slot->symbol, id);
    if (id_out)
        *id_out = id;
    return 0;
}

int64_t qts_instrument_round_px(const struct qts_instrument *inst, int64_t px, int side)
{
    int64_t t = inst->tick_size;
    if (t <= 1)
        return px;
    int64_t r = px % t;
    if (r == 0)
        return px;
    if (r < 0)
        r += t;
    return side == QTS_SIDE_SELL ? px - r + t : px - r;
}

int64_t qts_instrument_round_qty(const struct qts_instrument *inst, int64_t qty)
{
    int64_t l = inst->lot_size;
    if (l <= 1)
        return qty;
    return qty - qty % l;
}
