/* test_cache_memory.c — the embedded cache plugin, loaded with dlopen and
 * driven on a real loop with a virtual clock for TTLs. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_test_host.h"

struct fx {
    struct qts_th_pair cache; /* first: qts_th_pair_teardown frees the fixture */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    qts_th_init(&f->cache.th);
    f->cache.th.fake_now_ns = 1000000000000LL;
    static const char *const cfg[] = {"sweep_ms", "50", NULL};
    if (qts_th_open(&f->cache.th, &f->cache.in, "cache_memory", cfg) < 0)
        return -1;
    *state = f;
    return 0;
}

#define S(lit) ((struct qts_str){(lit), sizeof(lit) - 1})

struct got {
    int calls, status;
    char value[128];
};

static void on_get(void *arg, int status, struct qts_str v)
{
    struct got *g = arg;
    g->calls++;
    g->status = status;
    snprintf(g->value, sizeof g->value, "%.*s", (int)v.n, v.p);
}

static struct got get(struct fx *f, struct qts_str key)
{
    struct got g = {0};
    assert_int_equal(f->cache.in.ops->get(f->cache.in.self, key, on_get, &g), 0);
    assert_int_equal(g.calls, 1);
    return g;
}

static void test_set_get_expire_ms(void **state)
{
    struct fx *f = *state;
    const struct qts_cache_ops *ops = f->cache.in.ops;
    assert_int_equal(ops->set(f->cache.in.self, S("k"), S("v1"), 100), 0);
    struct got g = get(f, S("k"));
    assert_int_equal(g.status, 0);
    assert_string_equal(g.value, "v1");
    f->cache.th.fake_now_ns += 99 * 1000000LL; /* 99 ms: still there */
    assert_int_equal(get(f, S("k")).status, 0);
    f->cache.th.fake_now_ns += 1000000LL; /* 100 ms: gone */
    assert_int_equal(get(f, S("k")).status, QTS_ENOENT);
    /* ttl 0 = no expiry */
    assert_int_equal(ops->set(f->cache.in.self, S("p"), S("x"), 0), 0);
    f->cache.th.fake_now_ns += 3600 * 1000000000LL;
    assert_int_equal(get(f, S("p")).status, 0);
    assert_int_equal(ops->del(f->cache.in.self, S("p")), 0);
    assert_int_equal(get(f, S("p")).status, QTS_ENOENT);
    assert_int_equal(ops->set(f->cache.in.self, S("bad"), S("x"), -1), QTS_EINVAL);
}

static void test_overwrite_resets_value_and_ttl(void **state)
{
    struct fx *f = *state;
    const struct qts_cache_ops *ops = f->cache.in.ops;
    assert_int_equal(ops->set(f->cache.in.self, S("k"), S("old"), 1000), 0);
    f->cache.th.fake_now_ns += 900 * 1000000LL;
    assert_int_equal(ops->set(f->cache.in.self, S("k"), S("new"), 50), 0);
    assert_string_equal(get(f, S("k")).value, "new");
    f->cache.th.fake_now_ns += 50 * 1000000LL;
    assert_int_equal(get(f, S("k")).status, QTS_ENOENT);
}

struct scan {
    int n, done, status;
    char keys[16][64];
    char first_fields[256];
};

static void on_entry(void *arg, int status, struct qts_str key, const struct qts_str *fields,
                     const struct qts_str *values, size_t n, bool done)
{
    struct scan *s = arg;
    if (done) {
        s->done++;
        s->status = status;
        return;
    }
    snprintf(s->keys[s->n], sizeof s->keys[s->n], "%.*s", (int)key.n, key.p);
    if (s->n == 0) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++)
            o += (size_t)snprintf(s->first_fields + o, sizeof s->first_fields - o, "%.*s=%.*s;",
                                  (int)fields[i].n, fields[i].p, (int)values[i].n, values[i].p);
    }
    s->n++;
}

static void test_hash_replaced_whole_and_scanned(void **state)
{
    struct fx *f = *state;
    const struct qts_cache_ops *ops = f->cache.in.ops;
    struct qts_str fa[3] = {S("qty"), S("avg_price"), S("stale")};
    struct qts_str va[3] = {S("1.5"), S("100"), S("x")};
    assert_int_equal(ops->hset(f->cache.in.self, S("pos:BTC"), fa, va, 3, 1000), 0);
    /* a second write replaces the hash whole: "stale" disappears */
    assert_int_equal(ops->hset(f->cache.in.self, S("pos:BTC"), fa, va, 2, 1000), 0);
    assert_int_equal(ops->hset(f->cache.in.self, S("ord:7"), fa, va, 1, 60000), 0);
    assert_int_equal(ops->set(f->cache.in.self, S("pos:notahash"), S("x"), 1000), 0);

    struct scan s = {0};
    assert_int_equal(ops->scan_hashes(f->cache.in.self, S("pos:*"), on_entry, &s), 0);
    assert_int_equal(s.done, 1);
    assert_int_equal(s.status, 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.keys[0], "pos:BTC");
    assert_string_equal(s.first_fields, "qty=1.5;avg_price=100;");
    /* a get on a hash is a type error */
    assert_int_equal(get(f, S("pos:BTC")).status, QTS_EINVAL);
    /* expiry applies to hashes too */
    f->cache.th.fake_now_ns += 1000 * 1000000LL;
    memset(&s, 0, sizeof s);
    ops->scan_hashes(f->cache.in.self, S("*"), on_entry, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.keys[0], "ord:7");
}

static void test_zset_and_empty_deletes(void **state)
{
    struct fx *f = *state;
    const struct qts_cache_ops *ops = f->cache.in.ops;
    double sc[2] = {101.5, 100.0};
    struct qts_str m[2] = {S("101.5:2"), S("100:1")};
    assert_int_equal(ops->zset_replace(f->cache.in.self, S("book:X:bid"), sc, m, 2, 50), 0);
    struct qts_cache_health h = {.struct_size = sizeof h};
    assert_int_equal(ops->health(f->cache.in.self, &h), 0);
    assert_int_equal(h.state, QTS_CACHE_UP);
    assert_true(h.writes_ok >= 1);
    /* an empty set or hash means "no key" */
    assert_int_equal(ops->zset_replace(f->cache.in.self, S("book:X:bid"), NULL, NULL, 0, 50), 0);
    assert_int_equal(get(f, S("book:X:bid")).status, QTS_ENOENT);
}

struct bud {
    int calls, status;
    int64_t used;
};

static void on_budget(void *arg, int status, int64_t used)
{
    struct bud *b = arg;
    b->calls++;
    b->status = status;
    b->used = used;
}

static void test_budget_reserve_release(void **state)
{
    struct fx *f = *state;
    const struct qts_cache_ops *ops = f->cache.in.ops;
    struct bud b = {0};
    assert_int_equal(ops->budget(f->cache.in.self, S("acct"), 600, 1000, 0, on_budget, &b), 0);
    assert_int_equal(b.status, 0);
    assert_int_equal(b.used, 600);
    assert_int_equal(ops->budget(f->cache.in.self, S("acct"), 500, 1000, 0, on_budget, &b), 0);
    assert_int_equal(b.status, QTS_EREJECT);
    assert_int_equal(b.used, 600);
    assert_int_equal(ops->budget(f->cache.in.self, S("acct"), 400, 1000, 0, on_budget, &b), 0);
    assert_int_equal(b.status, 0);
    assert_int_equal(b.used, 1000);
    assert_int_equal(ops->budget(f->cache.in.self, S("acct"), -2000, 1000, 0, on_budget, &b), 0);
    assert_int_equal(b.used, 0); /* never below zero */
    /* budget keys do not collide with the host's own keys */
    assert_int_equal(get(f, S("acct")).status, QTS_ENOENT);
}

struct claimed {
    int calls, status;
    char owner[32];
};

static void on_claim(void *arg, int status, struct qts_str v)
{
    struct claimed *c = arg;
    c->calls++;
    c->status = status;
    snprintf(c->owner, sizeof c->owner, "%.*s", (int)v.n, v.p);
}

/* claim: free -> ours; ours -> renewed; another owner's -> refused with
 * the owner; released only by its owner; expired -> free again */
static void test_claim_owner_ttl_release(void **state)
{
    struct fx *f = *state;
    const struct qts_cache_ops *ops = f->cache.in.ops;
    void *self = f->cache.in.self;
    struct claimed c = {0};
    assert_int_equal(ops->claim(self, S("own:inst:X"), S("h1"), 100, false, on_claim, &c), 0);
    assert_int_equal(c.status, 0);
    assert_int_equal(ops->claim(self, S("own:inst:X"), S("h1"), 100, false, on_claim, &c), 0);
    assert_int_equal(c.status, 0);
    assert_int_equal(ops->claim(self, S("own:inst:X"), S("h2"), 100, false, on_claim, &c), 0);
    assert_int_equal(c.status, QTS_EREJECT);
    assert_string_equal(c.owner, "h1");
    assert_int_equal(ops->claim(self, S("own:inst:X"), S("h2"), 100, true, on_claim, &c), 0);
    assert_int_equal(ops->claim(self, S("own:inst:X"), S("h2"), 100, false, on_claim, &c), 0);
    assert_int_equal(c.status, QTS_EREJECT); /* h2's release did not free h1's claim */
    f->cache.th.fake_now_ns += 101 * 1000000LL;
    assert_int_equal(ops->claim(self, S("own:inst:X"), S("h2"), 100, false, on_claim, &c), 0);
    assert_int_equal(c.status, 0); /* h1's claim expired */
    assert_int_equal(ops->claim(self, S("own:inst:X"), S("h2"), 100, true, on_claim, &c), 0);
    assert_int_equal(ops->claim(self, S("own:inst:X"), S("h1"), 100, false, on_claim, &c), 0);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.calls, 8);
    /* claims live under the shared prefix, apart from the host's keys */
    assert_int_equal(get(f, S("own:inst:X")).status, QTS_ENOENT);
}

static void test_sweep_timer_runs(void **state)
{
    struct fx *f = *state;
    const struct qts_cache_ops *ops = f->cache.in.ops;
    for (int i = 0; i < 200; i++) {
        char k[16];
        int n = snprintf(k, sizeof k, "k%d", i);
        assert_int_equal(ops->set(f->cache.in.self, (struct qts_str){k, (size_t)n}, S("v"), 10), 0);
    }
    f->cache.th.fake_now_ns += 20 * 1000000LL;
    qts_th_run_ms(&f->cache.th, 150); /* sweep_ms 50 */
    struct scan s = {0};
    ops->scan_hashes(f->cache.in.self, S("*"), on_entry, &s);
    assert_int_equal(s.n, 0);
}

QTS_TEST_MAIN_FIXTURE(setup, qts_th_pair_teardown, test_set_get_expire_ms,
                      test_overwrite_resets_value_and_ttl, test_hash_replaced_whole_and_scanned,
                      test_zset_and_empty_deletes, test_budget_reserve_release,
                      test_claim_owner_ttl_release, test_sweep_timer_runs)
