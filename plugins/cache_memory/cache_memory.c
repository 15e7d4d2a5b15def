/* cache_memory.c — the embedded cache: the same operations as cache_redis,
 * in process, with millisecond TTLs on the host clock (host->now_ns, so a
 * replay expires keys in data time).
 *
 * Every entry is one allocation holding its key and value (string, hash or
 * sorted set), replaced whole on each write, so value and TTL are always set
 * together. Expired entries are dropped when read and by a periodic sweep.
 * Answers (get, budget, scan_hashes) are given synchronously, inside the
 * call. Budget counters live in the same table under the shared prefix; an
 * instance is one host, so a memory budget is not shared across processes.
 */
#include <fnmatch.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qts/qts_plugin.h"

enum entry_type { ENTRY_STR = 1, ENTRY_HASH = 2, ENTRY_ZSET = 3, ENTRY_COUNTER = 4 };

struct entry {
    struct entry *next; /* bucket chain */
    uint64_t hash;
    int64_t expire_ns; /* 0 = never */
    enum entry_type type;
    size_t key_n;
    char *key;         /* points into this allocation */
    size_t n;          /* fields / members; bytes for a string */
    struct qts_str *a; /* hash fields or zset members (into this allocation) */
    struct qts_str *b; /* hash values */
    double *scores;    /* zset, ascending */
    int64_t counter;
    struct qts_str str;
};

struct mem_cache {
    const struct qts_host_api *host;
    void *owner;
    struct entry **buckets;
    size_t n_buckets, n_entries;
    uint64_t sweep_timer;
    bool sweeping;
    int64_t sweep_ms;
    struct qts_cache_health stats;
};

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void *mem_alloc(struct mem_cache *c, size_t n) { return c->host->alloc(c->owner, n); }

static void entry_free(struct mem_cache *c, struct entry *e) { c->host->free(c->owner, e); }

static bool expired(struct mem_cache *c, const struct entry *e, int64_t now)
{
    (void)c;
    return e->expire_ns != 0 && now >= e->expire_ns;
}

static int64_t deadline(struct mem_cache *c, int64_t ttl_ms)
{
    return ttl_ms > 0 ? c->host->now_ns(c->owner) + ttl_ms * 1000000 : 0;
}

static int grow(struct mem_cache *c)
{
    size_t nb = c->n_buckets ? c->n_buckets * 2 : 64;
    struct entry **b = mem_alloc(c, nb * sizeof *b);
    if (!b)
        return QTS_ENOMEM;
    memset(b, 0, nb * sizeof *b);
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct entry *e = c->buckets[i];
        while (e) {
            struct entry *next = e->next;
            size_t j = e->hash & (nb - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    if (c->buckets)
        c->host->free(c->owner, c->buckets);
    c->buckets = b;
    c->n_buckets = nb;
    return 0;
}

/* The slot pointing at the entry for key, or at the chain's end. */
static struct entry **find_slot(struct mem_cache *c, const char *key, size_t n, uint64_t h)
{
    struct entry **pp = &c->buckets[h & (c->n_buckets - 1)];
    while (*pp && !((*pp)->hash == h && (*pp)->key_n == n && memcmp((*pp)->key, key, n) == 0))
        pp = &(*pp)->next;
    return pp;
}

/* Live entry for key, dropping it if expired. */
static struct entry *lookup(struct mem_cache *c, struct qts_str key)
{
    if (!c->n_buckets)
        return NULL;
    uint64_t h = hash_bytes(key.p, key.n);
    struct entry **pp = find_slot(c, key.p, key.n, h);
    struct entry *e = *pp;
    if (e && expired(c, e, c->host->now_ns(c->owner))) {
        *pp = e->next;
        entry_free(c, e);
        c->n_entries--;
        return NULL;
    }
    return e;
}

static void remove_key(struct mem_cache *c, struct qts_str key)
{
    if (!c->n_buckets)
        return;
    struct entry **pp = find_slot(c, key.p, key.n, hash_bytes(key.p, key.n));
    if (*pp) {
        struct entry *e = *pp;
        *pp = e->next;
        entry_free(c, e);
        c->n_entries--;
    }
}

/* Insert `e` (fully built) in place of any entry with the same key. */
static int put(struct mem_cache *c, struct entry *e)
{
    if (c->n_entries + 1 > c->n_buckets * 3 / 4) {
        int rc = grow(c);
        if (rc < 0) {
            entry_free(c, e);
            return rc;
        }
    }
    e->hash = hash_bytes(e->key, e->key_n);
    struct entry **pp = find_slot(c, e->key, e->key_n, e->hash);
    if (*pp) {
        struct entry *old = *pp;
        e->next = old->next;
        entry_free(c, old);
    } else {
        e->next = NULL;
        c->n_entries++;
    }
    *pp = e;
    c->stats.writes_ok++;
    return 0;
}

/* One allocation: entry, key, arrays, then the bytes of every string. */
static struct entry *entry_new(struct mem_cache *c, struct qts_str key, size_t n_arr,
                               bool two_arrays, bool scores, size_t bytes)
{
    size_t sz = sizeof(struct entry);
    size_t arr = n_arr * sizeof(struct qts_str) * (two_arrays ? 2 : 1);
    size_t sc = scores ? n_arr * sizeof(double) : 0;
    struct entry *e = mem_alloc(c, sz + arr + sc + key.n + 1 + bytes);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    char *p = (char *)(e + 1);
    if (n_arr) {
        e->a = (struct qts_str *)p;
        p += n_arr * sizeof(struct qts_str);
        if (two_arrays) {
            e->b = (struct qts_str *)p;
            p += n_arr * sizeof(struct qts_str);
        }
    }
    if (sc) {
        e->scores = (double *)p;
        p += sc;
    }
    e->key = p;
    memcpy(e->key, key.p, key.n);
    e->key[key.n] = '\0';
    e->key_n = key.n;
    e->n = n_arr;
    return e;
}

static char *copy_str(char *dst, struct qts_str *out, struct qts_str src)
{
    if (src.n)
        memcpy(dst, src.p, src.n);
    out->p = dst;
    out->n = src.n;
    return dst + src.n;
}

static int op_set(void *self, struct qts_str key, struct qts_str value, int64_t ttl_ms)
{
    struct mem_cache *c = self;
    if (!key.n || ttl_ms < 0)
        return QTS_EINVAL;
    struct entry *e = entry_new(c, key, 0, false, false, value.n);
    if (!e)
        return QTS_ENOMEM;
    e->type = ENTRY_STR;
    copy_str(e->key + key.n + 1, &e->str, value);
    e->expire_ns = deadline(c, ttl_ms);
    return put(c, e);
}

static int op_get(void *self, struct qts_str key, qts_cache_get_fn cb, void *arg)
{
    struct mem_cache *c = self;
    if (!key.n || !cb)
        return QTS_EINVAL;
    struct entry *e = lookup(c, key);
    struct qts_str none = {"", 0};
    if (!e)
        cb(arg, QTS_ENOENT, none);
    else if (e->type == ENTRY_STR)
        cb(arg, 0, e->str);
    else if (e->type == ENTRY_COUNTER) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%lld", (long long)e->counter);
        cb(arg, 0, (struct qts_str){buf, (size_t)n});
    } else
        cb(arg, QTS_EINVAL, none);
    return 0;
}

static int op_del(void *self, struct qts_str key)
{
    struct mem_cache *c = self;
    if (!key.n)
        return QTS_EINVAL;
    remove_key(c, key);
    return 0;
}

static int op_hset(void *self, struct qts_str key, const struct qts_str *fields,
                   const struct qts_str *values, size_t n, int64_t ttl_ms)
{
    struct mem_cache *c = self;
    if (!key.n || ttl_ms < 0 || (n && (!fields || !values)))
        return QTS_EINVAL;
    if (n == 0) { /* an empty hash does not exist */
        remove_key(c, key);
        return 0;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += fields[i].n + values[i].n;
    struct entry *e = entry_new(c, key, n, true, false, bytes);
    if (!e)
        return QTS_ENOMEM;
    e->type = ENTRY_HASH;
    char *p = e->key + key.n + 1;
    for (size_t i = 0; i < n; i++) {
        p = copy_str(p, &e->a[i], fields[i]);
        p = copy_str(p, &e->b[i], values[i]);
    }
    e->expire_ns = deadline(c, ttl_ms);
    return put(c, e);
}

static int op_zset_replace(void *self, struct qts_str key, const double *scores,
                           const struct qts_str *members, size_t n, int64_t ttl_ms)
{
    struct mem_cache *c = self;
    if (!key.n || ttl_ms < 0 || (n && (!scores || !members)))
        return QTS_EINVAL;
    if (n == 0) {
        remove_key(c, key);
        return 0;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += members[i].n;
    struct entry *e = entry_new(c, key, n, false, true, bytes);
    if (!e)
        return QTS_ENOMEM;
    e->type = ENTRY_ZSET;
    char *p = e->key + key.n + 1;
    /* insertion sort by score: books are a few dozen levels */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && e->scores[j - 1] > scores[i]) {
            e->scores[j] = e->scores[j - 1];
            e->a[j] = e->a[j - 1];
            j--;
        }
        e->scores[j] = scores[i];
        p = copy_str(p, &e->a[j], members[i]);
    }
    e->expire_ns = deadline(c, ttl_ms);
    return put(c, e);
}

static int op_health(void *self, struct qts_cache_health *out)
{
    struct mem_cache *c = self;
    if (!out || out->struct_size < sizeof(uint32_t))
        return QTS_EINVAL;
    struct qts_cache_health h = c->stats;
    h.state = QTS_CACHE_UP;
    qts_cache_health_put(out, h);
    return 0;
}

static int op_budget(void *self, struct qts_str key, int64_t delta, int64_t limit, int64_t ttl_ms,
                     qts_cache_budget_fn cb, void *arg)
{
    struct mem_cache *c = self;
    if (!key.n || !cb || ttl_ms < 0 || limit < 0)
        return QTS_EINVAL;
    /* budget keys are shared, kept apart from the host's own keys */
    char buf[512];
    int kn = snprintf(buf, sizeof buf, "\x01shared:%.*s", (int)key.n, key.p);
    if (kn < 0 || (size_t)kn >= sizeof buf)
        return QTS_ERANGE;
    struct qts_str k = {buf, (size_t)kn};
    struct entry *e = lookup(c, k);
    int64_t used = e && e->type == ENTRY_COUNTER ? e->counter : 0;
    if (delta > 0 && used + delta > limit) {
        cb(arg, QTS_EREJECT, used);
        return 0;
    }
    used += delta;
    if (used < 0)
        used = 0;
    struct entry *ne = entry_new(c, k, 0, false, false, 0);
    if (!ne)
        return QTS_ENOMEM;
    ne->type = ENTRY_COUNTER;
    ne->counter = used;
    ne->expire_ns = deadline(c, ttl_ms);
    int rc = put(c, ne);
    if (rc < 0)
        return rc;
    cb(arg, 0, used);
    return 0;
}

/* One process is one host: a claim is held by whoever asked first. */
static int op_claim(void *self, struct qts_str key, struct qts_str owner, int64_t ttl_ms,
                    bool release, qts_cache_get_fn cb, void *arg)
{
    struct mem_cache *c = self;
    if (!key.n || !owner.n || !cb || ttl_ms <= 0)
        return QTS_EINVAL;
    char buf[512];
    int kn = snprintf(buf, sizeof buf, "\x01shared:%.*s", (int)key.n, key.p);
    if (kn < 0 || (size_t)kn >= sizeof buf)
        return QTS_ERANGE;
    struct qts_str k = {buf, (size_t)kn};
    struct entry *e = lookup(c, k);
    bool is_mine =
        e && e->type == ENTRY_STR && e->str.n == owner.n && memcmp(e->str.p, owner.p, owner.n) == 0;
    if (release) {
        if (is_mine)
            remove_key(c, k);
        cb(arg, 0, owner);
        return 0;
    }
    if (e && !is_mine) {
        cb(arg, QTS_EREJECT, e->type == ENTRY_STR ? e->str : (struct qts_str){"", 0});
        return 0;
    }
    int rc = op_set(c, k, owner, ttl_ms);
    if (rc < 0)
        return rc;
    cb(arg, 0, owner);
    return 0;
}

static int op_scan_hashes(void *self, struct qts_str pattern, qts_cache_entry_fn cb, void *arg)
{
    struct mem_cache *c = self;
    if (!cb || pattern.n >= 256)
        return QTS_EINVAL;
    char pat[256];
    memcpy(pat, pattern.p, pattern.n);
    pat[pattern.n] = '\0';
    int64_t now = c->host->now_ns(c->owner);
    for (size_t i = 0; i < c->n_buckets; i++)
        for (struct entry *e = c->buckets[i]; e; e = e->next)
            if (e->type == ENTRY_HASH && !expired(c, e, now) && fnmatch(pat, e->key, 0) == 0)
                cb(arg, 0, (struct qts_str){e->key, e->key_n}, e->a, e->b, e->n, false);
    cb(arg, 0, (struct qts_str){"", 0}, NULL, NULL, 0, true);
    return 0;
}

static void sweep(void *arg)
{
    struct mem_cache *c = arg;
    int64_t now = c->host->now_ns(c->owner);
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct entry **pp = &c->buckets[i];
        while (*pp) {
            struct entry *e = *pp;
            if (expired(c, e, now)) {
                *pp = e->next;
                entry_free(c, e);
                c->n_entries--;
            } else {
                pp = &e->next;
            }
        }
    }
    c->host->metric_set(c->owner, "keys", (int64_t)c->n_entries);
}

static int mem_init(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err)
{
    struct mem_cache *c = host->alloc(owner, sizeof *c);
    if (!c)
        return qts_err_set(err, QTS_ENOMEM, "cache_memory: out of memory");
    memset(c, 0, sizeof *c);
    c->host = host;
    c->owner = owner;
    c->stats.struct_size = sizeof c->stats;
    c->sweep_ms = 1000;
    int64_t v;
    int rc = host->cfg_int(owner, "sweep_ms", &v, err);
    if (rc == 0) {
        if (v < 1) {
            host->free(owner, c);
            return qts_err_set(err, QTS_ECONFIG, "cache_memory: sweep_ms must be >= 1");
        }
        c->sweep_ms = v;
    } else if (rc != QTS_ENOENT) {
        host->free(owner, c);
        return rc;
    }
    qts_err_clear(err);
    rc = grow(c);
    if (rc < 0) {
        host->free(owner, c);
        return qts_err_set(err, rc, "cache_memory: out of memory");
    }
    *self = c;
    return 0;
}

static int mem_start(void *self, struct qts_err *err)
{
    struct mem_cache *c = self;
    int rc = c->host->timer_start(c->owner, (uint64_t)c->sweep_ms, (uint64_t)c->sweep_ms, sweep, c,
                                  &c->sweep_timer);
    if (rc < 0)
        return qts_err_set(err, rc, "cache_memory: sweep timer: %s", qts_strerror(rc));
    c->sweeping = true;
    return 0;
}

static int mem_stop(void *self)
{
    struct mem_cache *c = self;
    if (c->sweeping) {
        c->host->timer_stop(c->owner, c->sweep_timer);
        c->sweeping = false;
    }
    return 0;
}

static void mem_destroy(void *self)
{
    struct mem_cache *c = self;
    if (!c)
        return;
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct entry *e = c->buckets[i];
        while (e) {
            struct entry *next = e->next;
            entry_free(c, e);
            e = next;
        }
    }
    if (c->buckets)
        c->host->free(c->owner, c->buckets);
    c->host->free(c->owner, c);
}

static const struct qts_cache_ops mem_ops = {.struct_size = sizeof(struct qts_cache_ops),
                                             .set = op_set,
                                             .get = op_get,
                                             .del = op_del,
                                             .hset = op_hset,
                                             .zset_replace = op_zset_replace,
                                             .health = op_health,
                                             .budget = op_budget,
                                             .claim = op_claim,
                                             .scan_hashes = op_scan_hashes};

static const struct qts_cfg_key mem_keys[] = {
    QTS_CFG_DURATION("sweep_ms", "1000", "how often expired entries are freed"), QTS_CFG_END};

QTS_PLUGIN_DEFINE("cache_memory", QTS_KIND_CACHE, "1.0.0", &mem_ops, mem_keys, 0, .init = mem_init,
                  .start = mem_start, .stop = mem_stop, .destroy = mem_destroy);
