/* test_bus.c — the engine's bus: subscribers are called in the order they
 * were added, for every event kind; NULL handlers are skipped; the end of a
 * run stops at the first error; the list is bounded. */
#include "test_support.h"

#include <string.h>

#include "bus.h"
#include "safety_codes.h"
#include "portfolio.h"
#include "portfolio_sub.h"

struct rec {
    char log[256]; /* "<name>:<kind> " per call, in call order */
};

struct probe {
    const char *name;
    struct rec *rec;
    int run_end_rc;
};

static void note(struct probe *p, const char *kind)
{
    size_t n = strlen(p->rec->log);
    snprintf(p->rec->log + n, sizeof p->rec->log - n, "%s:%s ", p->name, kind);
}

/* A handler that notes "<name>:<tag>" and ignores its event. */
#define NOTING_HANDLER(fn, type, tag)          \
    static void fn(void *self, const type *ev) \
    {                                          \
        (void)ev;                              \
        note(self, tag);                       \
    }
NOTING_HANDLER(on_market, struct qts_bus_market, "m")
NOTING_HANDLER(on_order, struct qts_order_event, "o")
NOTING_HANDLER(on_fill, struct qts_fill, "f")
NOTING_HANDLER(on_safety, struct qts_safety_change, "s")

static int on_run_end(void *self, const struct qts_run_end *end, struct qts_err *err)
{
    (void)end;
    struct probe *p = self;
    note(p, "e");
    return p->run_end_rc ? qts_err_set(err, p->run_end_rc, "%s failed", p->name) : 0;
}

static struct qts_bus_sub full(struct probe *p)
{
    return (struct qts_bus_sub){.name = p->name,
                                .on_market = on_market,
                                .on_order = on_order,
                                .on_fill = on_fill,
                                .on_safety = on_safety,
                                .on_run_end = on_run_end,
                                .self = p};
}

static void add_all(struct qts_bus *bus, const struct qts_bus_sub *subs, size_t n)
{
    qts_bus_init(bus);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(qts_bus_add(bus, &subs[i]), 0);
}

static void deliver_all(struct qts_bus *b)
{
    struct qts_trade t = {.h = {.struct_size = sizeof t, .type = QTS_EV_TRADE}};
    struct qts_bus_market m = {.ev = &t.h};
    struct qts_order_event oe = {.h = {.type = QTS_EV_ORDER}};
    struct qts_fill f = {.h = {.type = QTS_EV_FILL}};
    struct qts_safety_change c = {.code = QTS_SC_FS092, .msg = "x"};
    struct qts_run_end end = {.run_dir = "/tmp", .ts_ns = 1};
    struct qts_err err;
    qts_err_clear(&err);
    qts_bus_market(b, &m);
    qts_bus_order(b, &oe);
    qts_bus_fill(b, &f);
    qts_bus_safety(b, &c);
    assert_int_equal(qts_bus_run_end(b, &end, &err), 0);
}

static void test_order_of_delivery(void **state)
{
    (void)state;
    struct rec rec = {{0}};
    struct probe a = {"a", &rec, 0}, b = {"b", &rec, 0}, c = {"c", &rec, 0};
    struct qts_bus_sub subs[] = {full(&a), full(&b), full(&c)};
    struct qts_bus bus;
    add_all(&bus, subs, 3);
    deliver_all(&bus);
    assert_string_equal(rec.log, "a:m b:m c:m a:o b:o c:o a:f b:f c:f a:s b:s c:s a:e b:e c:e ");
    char names[64];
    qts_bus_describe(&bus, names, sizeof names);
    assert_string_equal(names, "a,b,c");
}

static void test_null_handlers_skipped(void **state)
{
    (void)state;
    struct rec rec = {{0}};
    struct probe a = {"a", &rec, 0}, b = {"b", &rec, 0}, c = {"c", &rec, 0};
    struct qts_bus_sub subs[] = {
        full(&a),
        {.name = "none"}, /* no handler at all: allowed, never called */
        {.name = "b", .on_fill = on_fill, .self = &b}, /* fills only */
        full(&c),
    };
    struct qts_bus bus;
    add_all(&bus, subs, 4);
    deliver_all(&bus);
    assert_string_equal(rec.log, "a:m c:m a:o c:o a:f b:f c:f a:s c:s a:e c:e ");
}

static void test_run_end_stops_at_first_error(void **state)
{
    (void)state;
    struct rec rec = {{0}};
    struct probe a = {"a", &rec, 0}, b = {"b", &rec, QTS_EIO}, c = {"c", &rec, 0};
    struct qts_bus_sub subs[] = {full(&a), full(&b), full(&c)};
    struct qts_bus bus;
    add_all(&bus, subs, 3);
    struct qts_run_end end = {.run_dir = "/tmp"};
    struct qts_err err;
    qts_err_clear(&err);
    assert_int_equal(qts_bus_run_end(&bus, &end, &err), QTS_EIO);
    assert_string_equal(rec.log, "a:e b:e ");
    assert_string_equal(err.msg, "b failed");
}

static void test_bounded(void **state)
{
    (void)state;
    struct qts_bus bus;
    qts_bus_init(&bus);
    struct qts_bus_sub s = {.name = "x"};
    for (int i = 0; i < QTS_BUS_MAX_SUBS; i++)
        assert_int_equal(qts_bus_add(&bus, &s), 0);
    assert_int_equal(qts_bus_add(&bus, &s), QTS_EFULL);
}

/* The portfolio's subscriber: trades and bars mark, quotes do not; a fill
 * changes the position. */
static void test_portfolio_subscriber(void **state)
{
    (void)state;
    struct qts_portfolio *pf = qts_portfolio_new(1000000);
    struct qts_bus bus;
    qts_bus_init(&bus);
    struct qts_bus_sub sub = qts_portfolio_sub(pf);
    assert_int_equal(qts_bus_add(&bus, &sub), 0);
    struct qts_trade t = {.h = {.type = QTS_EV_TRADE, .instrument = 3, .px_exp = 2}, .px = 12345};
    struct qts_bus_market m = {.ev = &t.h};
    qts_bus_market(&bus, &m);
    assert_int_equal(qts_portfolio_last_px(pf, 3), 12345);
    struct qts_quote q = {
        .h = {.type = QTS_EV_QUOTE, .instrument = 3, .px_exp = 2}, .bid_px = 1, .ask_px = 2};
    m.ev = &q.h;
    qts_bus_market(&bus, &m);
    assert_int_equal(qts_portfolio_last_px(pf, 3), 12345);
    struct qts_bar bar = {.h = {.type = QTS_EV_BAR, .instrument = 3, .px_exp = 2}, .close = 12400};
    m.ev = &bar.h;
    qts_bus_market(&bus, &m);
    assert_int_equal(qts_portfolio_last_px(pf, 3), 12400);
    struct qts_fill f = {.h = {.type = QTS_EV_FILL, .instrument = 3, .px_exp = 2, .qty_exp = 0},
                         .order_id = 1,
                         .strategy_id = 1,
                         .side = QTS_SIDE_BUY,
                         .px = 12400,
                         .qty = 2};
    qts_bus_fill(&bus, &f);
    const struct qts_position *pos = qts_portfolio_position(pf, 3);
    assert_non_null(pos);
    assert_int_equal(pos->qty, 2);
    qts_portfolio_free(pf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_of_delivery),
        cmocka_unit_test(test_null_handlers_skipped),
        cmocka_unit_test(test_run_end_stops_at_first_error),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_portfolio_subscriber),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
