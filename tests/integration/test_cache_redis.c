/* test_cache_redis.c — cache_redis against a real redis-server: every key
 * type and TTL (expiry at millisecond resolution), value and TTL set
 * atomically, prefix isolation between two hosts, Redis killed during a
 * replay and restarted (trading unaffected, breaker transitions, writes
 * resume), warm start, AUTH (password and ACL user), and the cross-host
 * budget under two concurrent hosts.
 *
 * Needs QTS_REDIS_PORT (scripts/with-services); exits 77 without it. The
 * kill/restart and AUTH cases start their own redis-server (QTS_REDIS_SERVER)
 * on another port. */
#include "test_support.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cache_test_host.h"
#include "redis_test.h"
#include "cache_warm.h"
#include "cache_writer.h"
#include "risk_budget.h"

static int g_port;
static char g_tag[32]; /* makes every prefix of this run unique */

/* ------------------------------------------------------------ helpers */

/* "f=v;f=v;" of a hash, in Redis order */
static void hgetall(redisContext *c, const char *key, char *out, size_t cap)
{
    redisReply *r = redisCommand(c, "HGETALL %s", key);
    assert_non_null(r);
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        o += (size_t)snprintf(out + o, cap - o, "%s=%s;", r->element[i]->str,
                              r->element[i + 1]->str);
    freeReplyObject(r);
}

struct inst {
    struct qts_th_inst in;
    char prefix[96];
};

static void start_redis_plugin(struct qts_th *th, struct inst *x, int port, const char *host_id,
                               const char *const *extra)
{
    struct qts_err err;
    assert_int_equal(qts_th_load(th, &x->in, NULL, "cache_redis", &err), 0);
    snprintf(x->prefix, sizeof x->prefix, "qts:%s-%s:", g_tag, host_id);
    qts_th_cfg(&x->in, "host", "127.0.0.1");
    qts_th_cfg(&x->in, "port", redis_port_str(port));
    qts_th_cfg(&x->in, "prefix", x->prefix);
    char shared[64];
    snprintf(shared, sizeof shared, "qts:%s-shared:", g_tag);
    qts_th_cfg(&x->in, "shared_prefix", shared);
    qts_th_cfg(&x->in, "command_timeout_ms", "1000");
    assert_int_equal(qts_th_start_with(&x->in, extra, &err), 0);
}

/* `x` is a struct inst *, or its first member (the predicates get either) */
static struct qts_cache_health health(void *x)
{
    struct qts_cache_health h;
    assert_int_equal(qts_th_health(x, &h), 0);
    return h;
}

static bool is_up(void *arg) { return health(arg).state == QTS_CACHE_UP; }
static bool is_idle(void *arg) { return health(arg).pending == 0; }

static void wait_up(struct qts_th *th, struct inst *x)
{
    assert_true(qts_th_wait_for(th, is_up, x, 3000));
}

static void drain(struct qts_th *th, struct inst *x)
{
    uv_run(&th->loop, UV_RUN_NOWAIT); /* writer flush */
    assert_true(qts_th_wait_for(th, is_idle, x, 3000));
}

static void key_of(struct inst *x, const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", x->prefix, rel);
}

/* ------------------------------------------------------ extra servers */

static pid_t spawn_redis(int port, const char *const *args)
{
    const char *bin = getenv("QTS_REDIS_SERVER");
    assert_non_null(bin);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *head[] = {"--port", redis_port_str(port), "--bind", "127.0.0.1", NULL};
        redis_server_exec(bin, head, args, NULL);
    }
    for (int i = 0; i < 200; i++) {
        struct timeval tv = {0, 200000};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
        if (c && !c->err) {
            redisFree(c);
            return pid;
        }
        if (c)
            redisFree(c);
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("redis-server on port %d did not start", port);
    return -1;
}

static void kill_redis(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int free_port(void)
{
    for (int i = 0; i < 50; i++) {
        int p = 40000 + (int)((getpid() * 7 + i * 131) % 20000);
        struct timeval tv = {0, 100000};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", p, tv);
        bool busy = c && !c->err;
        if (c)
            redisFree(c);
        if (!busy)
            return p;
    }
    fail_msg("no free port");
    return -1;
}

/* --------------------------------------------------------------- tests */

static void test_every_key_type_and_ttl(void **state)
{
    (void)state;
    struct qts_th th;
    qts_th_init(&th);
    struct inst x;
    start_redis_plugin(&th, &x, g_port, "keys", NULL);
    wait_up(&th, &x);
    struct qts_cache_writer *w;
    assert_int_equal(qts_cache_writer_new(&th.loop, x.in.ops, x.in.self, NULL, &w, NULL), 0);

    struct qts_cache_price p = {.bid = 6000001,
                                .ask = 6000002,
                                .last = 6000001,
                                .volume = 12345,
                                .ts_ms = 1700000000123LL,
                                .px_exp = 2,
                                .qty_exp = 3};
    qts_cache_writer_price(w, "BTCUSDT", &p);
    struct qts_cache_position pos = {.qty = 3, .avg_px = 100, .ts_ms = 1, .px_exp = 0};
    qts_cache_writer_position(w, "BTCUSDT", &pos);
    struct qts_cache_order o = {.symbol = "BTCUSDT",
                                .status = "NEW",
                                .side = QTS_SIDE_SELL,
                                .qty = 2,
                                .pending_qty = 2,
                                .limit_px = 6000005,
                                .px_exp = 2};
    qts_cache_writer_order(w, 4242, &o);
    struct qts_cache_risk r = {.exposure_used = 1000000, .trade_count = 3, .ts_ms = 2};
    qts_cache_writer_risk(w, &r);
    const char *names[1] = {"rsi_oversold"};
    double vals[1] = {30};
    struct qts_cache_strategy s = {.is_active = true, .n = 1, .names = names, .values = vals};
    qts_cache_writer_strategy(w, "scalp1", &s);
    struct qts_level bids[3] = {{6000001, 5}, {6000000, 7}, {5999990, 1}};
    struct qts_level asks[2] = {{6000002, 4}, {6000010, 9}};
    qts_cache_writer_book(w, "BTCUSDT", bids, 3, asks, 2, 2, 0, 3);
    drain(&th, &x);

    redisContext *c = redis_connect(g_port, NULL);
    char k[256], out[1024];
    struct {
        const char *rel, *type;
        long long ttl;
    } want[] = {
        {"price:BTCUSDT", "hash", 100},   {"pos:BTCUSDT", "hash", 1000},
        {"ord:4242", "hash", 60000},      {"risk:account", "hash", 5000},
        {"strat:scalp1", "hash", 60000},  {"book:BTCUSDT:bid", "zset", 50},
        {"book:BTCUSDT:ask", "zset", 50},
    };
    /* type and TTL first, all in one pipeline, before the 50 ms keys expire */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        key_of(&x, want[i].rel, k, sizeof k);
        redisAppendCommand(c, "TYPE %s", k);
        redisAppendCommand(c, "PTTL %s", k);
    }
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        redisReply *t, *ttl;
        assert_int_equal(redisGetReply(c, (void **)&t), REDIS_OK);
        assert_int_equal(redisGetReply(c, (void **)&ttl), REDIS_OK);
        /* the 50 ms book may already be gone on a slow machine: then it is
         * "none"/-2, never a key without TTL */
        bool short_lived = want[i].ttl <= 100;
        if (!(short_lived && ttl->integer == -2)) {
            if (strcmp(t->str, want[i].type) != 0)
                fail_msg("%s: type %s, want %s", want[i].rel, t->str, want[i].type);
            if (!(ttl->integer > 0 && ttl->integer <= want[i].ttl))
                fail_msg("%s: pttl %lld, want (0, %lld]", want[i].rel, ttl->integer, want[i].ttl);
        }
        freeReplyObject(t);
        freeReplyObject(ttl);
    }
    key_of(&x, "ord:4242", k, sizeof k);
    hgetall(c, k, out, sizeof out);
    assert_string_equal(out, "symbol=BTCUSDT;side=SELL;status=NEW;qty=2;filled_qty=0;"
                             "pending_qty=2;avg_fill_price=0;limit_price=60000.05;last_update=0;");
    key_of(&x, "strat:scalp1", k, sizeof k);
    hgetall(c, k, out, sizeof out);
    assert_string_equal(out, "active=1;rsi_oversold=30;updated_at=0;");

    /* the book, scored by price: rewrite with a long TTL through the op to
     * read it back without racing its 50 ms */
    double sc[3] = {60000.01, 60000.00, 59999.90};
    struct qts_str m[3] = {{"60000.01:5", 10}, {"60000:7", 7}, {"59999.9:1", 9}};
    assert_int_equal(
        x.in.ops->zset_replace(x.in.self, (struct qts_str){"book:T:bid", 10}, sc, m, 3, 5000), 0);
    drain(&th, &x);
    key_of(&x, "book:T:bid", k, sizeof k);
    redisReply *z = redisCommand(c, "ZREVRANGE %s 0 0 WITHSCORES", k);
    assert_int_equal(z->elements, 2);
    assert_string_equal(z->element[0]->str, "60000.01:5"); /* best bid first */
    freeReplyObject(z);

    /* millisecond expiry: a 30 ms string is gone after 60 ms, a 5 s one is not */
    assert_int_equal(
        x.in.ops->set(x.in.self, (struct qts_str){"short", 5}, (struct qts_str){"v", 1}, 30), 0);
    assert_int_equal(
        x.in.ops->set(x.in.self, (struct qts_str){"long", 4}, (struct qts_str){"v", 1}, 5000), 0);
    drain(&th, &x);
    key_of(&x, "short", k, sizeof k);
    long long pttl = redis_cmd_int(c, "PTTL %s", k);
    assert_true(pttl <= 30 && pttl >= -2 && pttl != -1);
    qts_th_run_ms(&th, 60);
    assert_int_equal(redis_cmd_int(c, "EXISTS %s", k), 0);
    key_of(&x, "long", k, sizeof k);
    assert_int_equal(redis_cmd_int(c, "EXISTS %s", k), 1);
    qts_th_run_ms(&th, 60);
    key_of(&x, "price:BTCUSDT", k, sizeof k);
    assert_int_equal(redis_cmd_int(c, "EXISTS %s", k), 0); /* 100 ms price gone after >120 ms */
    key_of(&x, "pos:BTCUSDT", k, sizeof k);
    assert_int_equal(redis_cmd_int(c, "EXISTS %s", k), 1); /* 1 s position still there */

    /* get through the plugin */
    struct qts_cache_health h = health(&x);
    assert_true(h.writes_ok >= 9);
    assert_int_equal(h.writes_failed, 0);
    redisFree(c);
    qts_cache_writer_free(w);
    qts_th_close(&th, &x.in);
}

/* A reader thread asks PTTL of keys being rewritten: never -1 (a key that
 * exists without TTL). */
struct watcher {
    int port;
    char keys[2][256];
    volatile bool stop;
    long long checks, no_ttl;
};

static void *watch(void *arg)
{
    struct watcher *wt = arg;
    redisContext *c = redisConnect("127.0.0.1", wt->port);
    while (!wt->stop) {
        for (int i = 0; i < 2; i++) {
            redisReply *r = redisCommand(c, "PTTL %s", wt->keys[i]);
            if (r && r->type == REDIS_REPLY_INTEGER && r->integer == -1)
                wt->no_ttl++;
            wt->checks++;
            freeReplyObject(r);
        }
    }
    redisFree(c);
    return NULL;
}

static void test_value_and_ttl_atomic(void **state)
{
    (void)state;
    struct qts_th th;
    qts_th_init(&th);
    struct inst x;
    start_redis_plugin(&th, &x, g_port, "atomic", NULL);
    wait_up(&th, &x);
    struct watcher wt = {.port = g_port};
    key_of(&x, "pos:A", wt.keys[0], sizeof wt.keys[0]);
    key_of(&x, "book:A:bid", wt.keys[1], sizeof wt.keys[1]);
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, watch, &wt), 0);
    struct qts_str f[2] = {{"qty", 3}, {"avg_price", 9}};
    struct qts_str v[2] = {{"1", 1}, {"2", 1}};
    double sc[2] = {1, 2};
    for (int i = 0; i < 3000; i++) {
        x.in.ops->hset(x.in.self, (struct qts_str){"pos:A", 5}, f, v, 2, 1000);
        x.in.ops->zset_replace(x.in.self, (struct qts_str){"book:A:bid", 10}, sc, v, 2, 1000);
        if (i % 100 == 0)
            uv_run(&th.loop, UV_RUN_NOWAIT);
    }
    drain(&th, &x);
    wt.stop = true;
    pthread_join(tid, NULL);
    assert_true(wt.checks > 0);
    assert_int_equal(wt.no_ttl, 0);
    /* and no key of this host is without a TTL */
    redisContext *c = redis_connect(g_port, NULL);
    char pat[256];
    snprintf(pat, sizeof pat, "%s*", x.prefix);
    redisReply *r = redisCommand(c, "KEYS %s", pat);
    assert_true(r->elements >= 2);
    for (size_t i = 0; i < r->elements; i++)
        assert_true(redis_cmd_int(c, "PTTL %s", r->element[i]->str) != -1);
    freeReplyObject(r);
    redisFree(c);
    qts_th_close(&th, &x.in);
}

struct scan {
    int n;
    char keys[8][128];
    char vals[8][256];
    int done;
    int status;
};

static void on_entry(void *arg, const char *key, const struct qts_str *fl, const struct qts_str *vl,
                     size_t n)
{
    struct scan *s = arg;
    if (s->n >= 8)
        return;
    snprintf(s->keys[s->n], sizeof s->keys[s->n], "%s", key);
    char q[64] = "";
    qts_cache_field_str(fl, vl, n, "qty", q, sizeof q);
    snprintf(s->vals[s->n], sizeof s->vals[s->n], "%s", q);
    s->n++;
}

static void on_done(void *arg, int status, size_t n)
{
    struct scan *s = arg;
    (void)n;
    s->done++;
    s->status = status;
}

static bool scan_done(void *arg) { return ((struct scan *)arg)->done > 0; }

static void test_prefix_isolation(void **state)
{
    (void)state;
    struct qts_th th;
    qts_th_init(&th);
    struct inst a, b;
    start_redis_plugin(&th, &a, g_port, "hostA", NULL);
    start_redis_plugin(&th, &b, g_port, "hostB", NULL);
    wait_up(&th, &a);
    wait_up(&th, &b);
    struct qts_str fa[1] = {{"qty", 3}};
    struct qts_str va[1] = {{"1", 1}}, vb[1] = {{"2", 1}};
    a.in.ops->hset(a.in.self, (struct qts_str){"pos:X", 5}, fa, va, 1, 5000);
    b.in.ops->hset(b.in.self, (struct qts_str){"pos:X", 5}, fa, vb, 1, 5000);
    drain(&th, &a);
    drain(&th, &b);
    struct scan sa = {0}, sb = {0};
    assert_int_equal(qts_cache_warm_start(a.in.ops, a.in.self, on_entry, on_done, &sa), 0);
    assert_int_equal(qts_cache_warm_start(b.in.ops, b.in.self, on_entry, on_done, &sb), 0);
    assert_true(qts_th_wait_for(&th, scan_done, &sa, 3000));
    assert_true(qts_th_wait_for(&th, scan_done, &sb, 3000));
    assert_int_equal(sa.n, 1);
    assert_int_equal(sb.n, 1);
    assert_string_equal(sa.keys[0], "pos:X");
    assert_string_equal(sa.vals[0], "1");
    assert_string_equal(sb.vals[0], "2");
    /* a delete by one host leaves the other's key */
    a.in.ops->del(a.in.self, (struct qts_str){"pos:X", 5});
    drain(&th, &a);
    redisContext *c = redis_connect(g_port, NULL);
    char k[256];
    key_of(&b, "pos:X", k, sizeof k);
    assert_int_equal(redis_cmd_int(c, "EXISTS %s", k), 1);
    key_of(&a, "pos:X", k, sizeof k);
    assert_int_equal(redis_cmd_int(c, "EXISTS %s", k), 0);
    redisFree(c);
    qts_th_unload(&a.in);
    qts_th_unload(&b.in);
    qts_th_cleanup(&th);
}

static void test_warm_start(void **state)
{
    (void)state;
    struct qts_th th;
    qts_th_init(&th);
    struct inst x;
    start_redis_plugin(&th, &x, g_port, "warm", NULL);
    wait_up(&th, &x);
    struct qts_cache_writer_cfg cfg = {.ttl_pos_ms = 10000};
    struct qts_cache_writer *w;
    assert_int_equal(qts_cache_writer_new(&th.loop, x.in.ops, x.in.self, &cfg, &w, NULL), 0);
    struct qts_cache_position p = {.qty = 150, .avg_px = 100, .qty_exp = 2};
    qts_cache_writer_position(w, "AAA", &p);
    p.qty = -7;
    qts_cache_writer_position(w, "BBB", &p);
    struct qts_cache_order o = {.symbol = "AAA", .status = "NEW", .qty = 5, .pending_qty = 5};
    qts_cache_writer_order(w, 17, &o);
    struct qts_cache_risk r = {.trade_count = 4};
    qts_cache_writer_risk(w, &r);
    drain(&th, &x);
    qts_cache_writer_free(w);
    qts_th_unload(&x.in); /* the host stops */

    struct inst y; /* and starts again with the same host id */
    struct qts_th_inst *in = &y.in;
    struct qts_err err;
    assert_int_equal(qts_th_load(&th, in, NULL, "cache_redis", &err), 0);
    qts_th_cfg(in, "port", redis_port_str(g_port));
    qts_th_cfg(in, "host", "127.0.0.1");
    qts_th_cfg(in, "prefix", x.prefix);
    assert_int_equal(qts_th_start(in, &err), 0);
    snprintf(y.prefix, sizeof y.prefix, "%s", x.prefix);
    wait_up(&th, &y);
    struct scan s = {0};
    assert_int_equal(qts_cache_warm_start(in->ops, in->self, on_entry, on_done, &s), 0);
    assert_true(qts_th_wait_for(&th, scan_done, &s, 3000));
    assert_int_equal(s.status, 0);
    assert_int_equal(s.n, 4);
    bool saw_a = false, saw_b = false, saw_o = false, saw_r = false;
    for (int i = 0; i < s.n; i++) {
        if (strcmp(s.keys[i], "pos:AAA") == 0 && strcmp(s.vals[i], "1.5") == 0)
            saw_a = true;
        if (strcmp(s.keys[i], "pos:BBB") == 0 && strcmp(s.vals[i], "-0.07") == 0)
            saw_b = true;
        if (strcmp(s.keys[i], "ord:17") == 0)
            saw_o = true;
        if (strcmp(s.keys[i], "risk:account") == 0)
            saw_r = true;
    }
    assert_true(saw_a && saw_b && saw_o && saw_r);
    qts_th_unload(in);
    qts_th_cleanup(&th);
}

/* The core's replay: a timer that "trades" (updates positions and prices
 * every millisecond) whatever the cache does. */
struct replay {
    struct qts_cache_writer *w;
    int64_t ticks;
    int64_t refused;
    int64_t max_call_ns;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void replay_tick(uv_timer_t *t)
{
    struct replay *rp = t->data;
    rp->ticks++;
    struct qts_cache_position p = {.qty = rp->ticks, .ts_ms = rp->ticks};
    struct qts_cache_price q = {.bid = rp->ticks, .ask = rp->ticks + 1};
    int64_t t0 = now_ns();
    if (qts_cache_writer_position(rp->w, "R", &p) < 0)
        rp->refused++;
    if (qts_cache_writer_price(rp->w, "R", &q) < 0)
        rp->refused++;
    int64_t dt = now_ns() - t0;
    if (dt > rp->max_call_ns)
        rp->max_call_ns = dt;
}

struct closed_state {
    struct inst *x;
    uint64_t want_opens;
};

static bool opened(void *arg)
{
    struct closed_state *cs = arg;
    struct qts_cache_health h = health(cs->x);
    return h.state == QTS_CACHE_OPEN && h.breaker_opens >= cs->want_opens;
}

static void test_redis_killed_during_replay(void **state)
{
    (void)state;
    int port = free_port();
    pid_t pid = spawn_redis(port, NULL);
    struct qts_th th;
    qts_th_init(&th);
    th.quiet = true;
    th.watch[0] = "half-open";
    th.watch[1] = "redis back";
    th.watch[2] = "circuit breaker open";
    struct inst x;
    const char *extra[] = {"connect_timeout_ms",
                           "200",
                           "reconnect_min_ms",
                           "10",
                           "reconnect_max_ms",
                           "40",
                           "breaker_failures",
                           "5",
                           "breaker_open_ms",
                           "300",
                           NULL};
    start_redis_plugin(&th, &x, port, "replay", extra);
    wait_up(&th, &x);
    struct qts_cache_writer_cfg cfg = {.ttl_pos_ms = 1000, .refresh_ms = 20};
    struct replay rp = {0};
    assert_int_equal(qts_cache_writer_new(&th.loop, x.in.ops, x.in.self, &cfg, &rp.w, NULL), 0);
    uv_timer_t tick;
    uv_timer_init(&th.loop, &tick);
    tick.data = &rp;
    uv_timer_start(&tick, replay_tick, 1, 1);

    qts_th_run_ms(&th, 100);
    int64_t before = rp.ticks;
    assert_true(before > 10);
    assert_int_equal(health(&x).breaker_opens, 0);

    kill_redis(pid); /* in the middle of the replay */
    struct closed_state cs = {&x, 1};
    assert_true(qts_th_wait_for(&th, opened, &cs, 5000));
    struct qts_cache_health h = health(&x);
    assert_int_equal(h.state, QTS_CACHE_OPEN);
    assert_true(h.failures >= 5);
    assert_int_equal(h.breaker_opens, 1);
    int64_t during = rp.ticks;
    qts_th_run_ms(&th, 100);
    assert_true(rp.ticks > during + 10); /* trading goes on while Redis is down */
    assert_int_equal(rp.refused, 0);
    assert_int_equal(th.log_count[QTS_LOG_WARN], 1);  /* "unavailable": once */
    assert_int_equal(th.log_count[QTS_LOG_ERROR], 1); /* "breaker open": once */

    /* a probe against a still-dead server opens the breaker again */
    cs.want_opens = 1;
    qts_th_run_ms(&th, 350);
    h = health(&x);
    assert_true(h.state == QTS_CACHE_OPEN || h.state == QTS_CACHE_HALF_OPEN);

    pid = spawn_redis(port, NULL); /* back */
    assert_true(qts_th_wait_for(&th, is_up, &x, 3000));
    h = health(&x);
    assert_int_equal(h.consecutive_failures, 0);
    assert_true(h.reconnects >= 1);
    /* writes resume: the position key reappears with the latest value */
    qts_th_run_ms(&th, 60);
    redisContext *c = redis_connect(port, NULL);
    char k[256], out[512];
    key_of(&x, "pos:R", k, sizeof k);
    assert_int_equal(redis_cmd_int(c, "EXISTS %s", k), 1);
    hgetall(c, k, out, sizeof out);
    long long qty = atoll(strstr(out, "qty=") + 4);
    assert_true(qty > during);
    assert_true(redis_cmd_int(c, "PTTL %s", k) > 0);
    redisFree(c);
    /* breaker transitions: closed -> open (once) -> half-open probes ->
     * closed, each logged */
    assert_int_equal(th.watch_hits[2], 1);
    assert_true(th.watch_hits[0] >= 1);
    assert_int_equal(th.watch_hits[1], 1);

    uv_timer_stop(&tick);
    uv_close((uv_handle_t *)&tick, NULL);
    qts_cache_writer_free(rp.w);
    qts_th_close(&th, &x.in);
    kill_redis(pid);
}

static void test_auth_password_and_acl_user(void **state)
{
    (void)state;
    int port = free_port();
    const char *args[] = {"--requirepass", "s3cret", "--user", "alice", "on",
                          ">alicepw",      "~*",     "&*",     "+@all", NULL};
    pid_t pid = spawn_redis(port, args);
    struct qts_th th;
    qts_th_init(&th);
    th.quiet = true;
    struct inst x, y, z;
    const char *pw[] = {"password", "s3cret", NULL};
    start_redis_plugin(&th, &x, port, "auth1", pw);
    setenv("QTS_TEST_REDIS_PW", "alicepw", 1);
    const char *acl[] = {"user", "alice", "password_secret", "QTS_TEST_REDIS_PW", NULL};
    start_redis_plugin(&th, &y, port, "auth2", acl);
    const char *bad[] = {"password", "wrong", "breaker_failures", "1", NULL};
    start_redis_plugin(&th, &z, port, "auth3", bad);
    wait_up(&th, &x);
    wait_up(&th, &y);
    struct closed_state cs = {&z, 1};
    assert_true(qts_th_wait_for(&th, opened, &cs, 3000));
    assert_int_equal(
        x.in.ops->set(x.in.self, (struct qts_str){"k", 1}, (struct qts_str){"v", 1}, 1000), 0);
    assert_int_equal(
        y.in.ops->set(y.in.self, (struct qts_str){"k", 1}, (struct qts_str){"v", 1}, 1000), 0);
    drain(&th, &x);
    drain(&th, &y);
    assert_int_equal(health(&x).writes_ok, 1);
    assert_int_equal(health(&y).writes_ok, 1);
    qts_th_unload(&x.in);
    qts_th_unload(&y.in);
    qts_th_unload(&z.in);
    qts_th_cleanup(&th);
    kill_redis(pid);
}

static bool writes_ok_2(void *arg) { return health(arg).writes_ok >= 2; }

static void test_script_flush_recovers(void **state)
{
    (void)state;
    struct qts_th th;
    qts_th_init(&th);
    th.quiet = true;
    struct inst x;
    start_redis_plugin(&th, &x, g_port, "flush", NULL);
    wait_up(&th, &x);
    redisContext *c = redis_connect(g_port, NULL);
    freeReplyObject(redisCommand(c, "SCRIPT FLUSH"));
    struct qts_str f[1] = {{"qty", 3}}, v[1] = {{"1", 1}};
    assert_int_equal(x.in.ops->hset(x.in.self, (struct qts_str){"pos:F", 5}, f, v, 1, 5000), 0);
    drain(&th, &x);
    assert_int_equal(health(&x).writes_failed, 1); /* NOSCRIPT */
    wait_up(&th, &x);                              /* reconnected, scripts loaded */
    assert_int_equal(health(&x).breaker_opens, 0);
    assert_int_equal(x.in.ops->hset(x.in.self, (struct qts_str){"pos:F", 5}, f, v, 1, 5000), 0);
    assert_int_equal(x.in.ops->hset(x.in.self, (struct qts_str){"pos:F", 5}, f, v, 1, 5000), 0);
    assert_true(qts_th_wait_for(&th, writes_ok_2, &x, 3000));
    char k[256];
    key_of(&x, "pos:F", k, sizeof k);
    assert_int_equal(redis_cmd_int(c, "EXISTS %s", k), 1);
    redisFree(c);
    qts_th_close(&th, &x.in);
}

struct race {
    int64_t granted_sum;
    int answers, rejected, errors;
};

static void on_reserve(void *arg, int status, int64_t used)
{
    struct race *r = arg;
    (void)used;
    r->answers++;
    if (status == 0)
        r->granted_sum += 0; /* amount added by the caller's record below */
    else if (status == QTS_EREJECT)
        r->rejected++;
    else
        r->errors++;
}

struct reserve_arg {
    struct race *r;
    int64_t amount;
};

static void on_reserve_amt(void *arg, int status, int64_t used)
{
    struct reserve_arg *ra = arg;
    on_reserve(ra->r, status, used);
    if (status == 0)
        ra->r->granted_sum += ra->amount;
}

static bool all_answered(void *arg) { return ((struct race *)arg)->answers >= 2000; }

static void test_budget_two_hosts_never_over_reserve(void **state)
{
    (void)state;
    struct qts_th th;
    qts_th_init(&th);
    struct inst a, b;
    start_redis_plugin(&th, &a, g_port, "budgetA", NULL);
    start_redis_plugin(&th, &b, g_port, "budgetB", NULL);
    wait_up(&th, &a);
    wait_up(&th, &b);
    const int64_t limit = 50000;
    struct race r = {0};
    static struct reserve_arg args[2000];
    srand(11);
    /* both connections pipeline their reserves at once: Redis interleaves */
    for (int i = 0; i < 2000; i++) {
        struct inst *x = (i & 1) ? &a : &b;
        args[i].r = &r;
        args[i].amount = 1 + rand() % 100;
        assert_int_equal(x->in.ops->budget(x->in.self, (struct qts_str){"acct:exp", 8},
                                           args[i].amount, limit, 0, on_reserve_amt, &args[i]),
                         0);
    }
    assert_true(qts_th_wait_for(&th, all_answered, &r, 5000));
    assert_int_equal(r.errors, 0);
    assert_true(r.rejected > 0); /* the budget was really contended */
    assert_true(r.granted_sum <= limit);
    assert_true(r.granted_sum > limit - 100);
    redisContext *c = redis_connect(g_port, NULL);
    char k[128], v[64];
    snprintf(k, sizeof k, "qts:%s-shared:acct:exp", g_tag);
    redis_cmd_str(c, v, sizeof v, "GET %s", k);
    assert_int_equal(atoll(v), r.granted_sum);

    /* leases on top: two hosts consuming and returning, never over */
    snprintf(k, sizeof k, "qts:%s-shared:lease", g_tag);
    struct qts_risk_budget_cfg cfg = {.key = "lease", .limit = 10000, .chunk = 500};
    struct qts_risk_budget *ba, *bb;
    assert_int_equal(qts_risk_budget_new(a.in.ops, a.in.self, &cfg, &ba, NULL), 0);
    assert_int_equal(qts_risk_budget_new(b.in.ops, b.in.self, &cfg, &bb, NULL), 0);
    int64_t used = 0;
    for (int i = 0; i < 3000; i++) {
        struct qts_risk_budget *x = (i & 1) ? ba : bb;
        if (qts_risk_budget_consume(x, 1 + rand() % 50, NULL) == 0)
            used += 0;
        if (i % 7 == 0)
            qts_risk_budget_return(x, 60);
        if (i % 10 == 0)
            uv_run(&th.loop, UV_RUN_NOWAIT);
        struct qts_risk_budget_stats sa, sb;
        qts_risk_budget_stats(ba, &sa);
        qts_risk_budget_stats(bb, &sb);
        assert_true(sa.used <= sa.leased || !sa.is_reachable);
        assert_true(sa.leased + sb.leased <= cfg.limit);
    }
    (void)used;
    drain(&th, &a);
    drain(&th, &b);
    struct qts_risk_budget_stats sa, sb;
    qts_risk_budget_stats(ba, &sa);
    qts_risk_budget_stats(bb, &sb);
    redis_cmd_str(c, v, sizeof v, "GET %s", k);
    assert_true(atoll(v) >= sa.leased + sb.leased); /* lost releases only leave it higher */
    assert_true(atoll(v) <= cfg.limit);
    qts_risk_budget_free(ba);
    qts_risk_budget_free(bb);
    drain(&th, &a);
    drain(&th, &b);
    redisFree(c);
    qts_th_unload(&a.in);
    qts_th_unload(&b.in);
    qts_th_cleanup(&th);
}

int main(void)
{
    g_port = qts_test_service_port("QTS_REDIS_PORT");
    if (!g_port)
        return QTS_TEST_SKIP;
    snprintf(g_tag, sizeof g_tag, "t%d", (int)getpid());
    unsetenv("QTS_REDIS_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_type_and_ttl),
        cmocka_unit_test(test_value_and_ttl_atomic),
        cmocka_unit_test(test_prefix_isolation),
        cmocka_unit_test(test_warm_start),
        cmocka_unit_test(test_redis_killed_during_replay),
        cmocka_unit_test(test_auth_password_and_acl_user),
        cmocka_unit_test(test_script_flush_recovers),
        cmocka_unit_test(test_budget_two_hosts_never_over_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
