/* redis_cmds.c — the cache operations of the Redis tier and the warm-start
 * scan. While not connected every operation returns at once (QTS_ENET, or
 * QTS_EFULL with too many commands in flight) and writes are counted as
 * dropped: nothing waits for Redis.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_cache.h"

/* ------------------------------------------------------------------ ops */

static bool writable(struct redis_cache *c)
{
    if (c->state != ST_UP || !c->ac) {
        c->st.writes_dropped++;
        return false;
    }
    if (c->count >= c->max_pending) {
        c->st.writes_dropped++;
        return false;
    }
    return true;
}

static int make_key(const char *prefix, size_t pn, struct qts_str key, char *buf, size_t *n)
{
    if (!key.n || pn + key.n >= KEY_MAX)
        return QTS_EINVAL;
    memcpy(buf, prefix, pn);
    memcpy(buf + pn, key.p, key.n);
    *n = pn + key.n;
    buf[*n] = '\0';
    return 0;
}

static int unavailable(struct redis_cache *c)
{
    return c->count >= c->max_pending && c->state == ST_UP ? QTS_EFULL : QTS_ENET;
}

static int op_set(void *self, struct qts_str key, struct qts_str value, int64_t ttl_ms)
{
    struct redis_cache *c = self;
    char k[KEY_MAX];
    size_t kn;
    if (ttl_ms < 0 || make_key(c->prefix, c->prefix_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (!writable(c))
        return unavailable(c);
    char ttl[24];
    size_t tn = redis_u64_str(ttl, (uint64_t)ttl_ms);
    const char *argv[5] = {"SET", k, value.p ? value.p : "", "PX", ttl};
    size_t len[5] = {3, kn, value.n, 2, tn};
    if (!redis_send_argv(c, ttl_ms > 0 ? 5 : 3, argv, len, CMD_WRITE)) {
        c->st.writes_dropped++;
        return QTS_ENET;
    }
    return 0;
}

/* A command whose reply goes to `cb` with `arg` (both borrowed until the
 * reply, kept in its ring entry). */
static int send_with_reply(struct redis_cache *c, int argc, const char **argv,
                           const size_t *argvlen, uint8_t kind, void *cb, void *arg)
{
    struct pending *p = redis_send_argv(c, argc, argv, argvlen, kind);
    if (!p)
        return QTS_ENET;
    p->cb = cb;
    p->arg = arg;
    return 0;
}

static int op_get(void *self, struct qts_str key, qts_cache_get_fn cb, void *arg)
{
    struct redis_cache *c = self;
    char k[KEY_MAX];
    size_t kn;
    if (!cb || make_key(c->prefix, c->prefix_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (c->state != ST_UP || c->count >= c->max_pending)
        return unavailable(c);
    const char *argv[2] = {"GET", k};
    size_t len[2] = {3, kn};
    return send_with_reply(c, 2, argv, len, CMD_GET, (void *)cb, arg);
}

static int op_del(void *self, struct qts_str key)
{
    struct redis_cache *c = self;
    char k[KEY_MAX];
    size_t kn;
    if (make_key(c->prefix, c->prefix_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (!writable(c))
        return unavailable(c);
    const char *argv[2] = {"UNLINK", k};
    size_t len[2] = {6, kn};
    if (!redis_send_argv(c, 2, argv, len, CMD_WRITE)) {
        c->st.writes_dropped++;
        return QTS_ENET;
    }
    return 0;
}

/* EVALSHA <sha> 1 key ttl a0 b0 a1 b1 ... (pairs). `num` non-NULL: the
 * first element of each pair is a number (zset score). */
static int eval_pairs(struct redis_cache *c, int script, struct qts_str key, const double *num,
                      const struct qts_str *a, const struct qts_str *b, size_t n, int64_t ttl_ms)
{
    char k[KEY_MAX];
    size_t kn;
    if (ttl_ms < 0 || 5 + 2 * n > ARGS_MAX || make_key(c->prefix, c->prefix_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (!writable(c))
        return unavailable(c);
    const char *argv[ARGS_MAX];
    size_t len[ARGS_MAX];
    char ttl[24];
    char(*scores)[32] = NULL;
    int argc = 0;
    if (n == 0) { /* an empty hash or set does not exist in Redis */
        argv[argc] = "UNLINK";
        len[argc++] = 6;
        argv[argc] = k;
        len[argc++] = kn;
    } else {
        int tn = snprintf(ttl, sizeof ttl, "%" PRId64, ttl_ms);
        argv[argc] = "EVALSHA";
        len[argc++] = 7;
        argv[argc] = c->sha[script];
        len[argc++] = 40;
        argv[argc] = "1";
        len[argc++] = 1;
        argv[argc] = k;
        len[argc++] = kn;
        argv[argc] = ttl;
        len[argc++] = (size_t)tn;
        if (num) {
            scores = c->host->alloc(c->owner, n * sizeof *scores);
            if (!scores)
                return QTS_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            if (num) {
                int sn = snprintf(scores[i], sizeof scores[i], "%.17g", num[i]);
                argv[argc] = scores[i];
                len[argc++] = (size_t)sn;
                argv[argc] = a[i].p ? a[i].p : "";
                len[argc++] = a[i].n;
            } else {
                argv[argc] = a[i].p ? a[i].p : "";
                len[argc++] = a[i].n;
                argv[argc] = b[i].p ? b[i].p : "";
                len[argc++] = b[i].n;
            }
        }
    }
    struct pending *p = redis_send_argv(c, argc, argv, len, CMD_WRITE);
    if (scores)
        c->host->free(c->owner, scores);
    if (!p) {
        c->st.writes_dropped++;
        return QTS_ENET;
    }
    return 0;
}

static int op_hset(void *self, struct qts_str key, const struct qts_str *fields,
                   const struct qts_str *values, size_t n, int64_t ttl_ms)
{
    if (n && (!fields || !values))
        return QTS_EINVAL;
    return eval_pairs(self, SCRIPT_HSET, key, NULL, fields, values, n, ttl_ms);
}

static int op_zset_replace(void *self, struct qts_str key, const double *scores,
                           const struct qts_str *members, size_t n, int64_t ttl_ms)
{
    if (n && (!scores || !members))
        return QTS_EINVAL;
    return eval_pairs(self, SCRIPT_ZSET, key, scores, members, NULL, n, ttl_ms);
}

static int op_health(void *self, struct qts_cache_health *out)
{
    struct redis_cache *c = self;
    if (!out || out->struct_size < sizeof(uint32_t))
        return QTS_EINVAL;
    struct qts_cache_health h = c->st;
    if (c->breaker == QTS_CACHE_OPEN)
        h.state = QTS_CACHE_OPEN;
    else if (c->breaker == QTS_CACHE_HALF_OPEN)
        h.state = QTS_CACHE_HALF_OPEN;
    else
        h.state = c->state == ST_UP ? QTS_CACHE_UP : QTS_CACHE_CONNECTING;
    h.pending = c->count;
    qts_cache_health_put(out, h);
    return 0;
}

/* The slot of budget counter `k` (full key), made on first use; -1 when
 * BUDGET_KEYS_MAX counters are in use already. */
static int budget_slot(struct redis_cache *c, const char *k)
{
    for (int i = 0; i < c->n_budget_keys; i++)
        if (strcmp(c->budget_keys[i].key, k) == 0)
            return i;
    if (c->n_budget_keys == BUDGET_KEYS_MAX)
        return -1;
    int i = c->n_budget_keys++;
    snprintf(c->budget_keys[i].key, sizeof c->budget_keys[i].key, "%s", k);
    c->budget_keys[i].held = 0;
    return i;
}

void redis_budget_held(struct redis_cache *c, uint8_t slot, int64_t held)
{
    if (slot < c->n_budget_keys)
        c->budget_keys[slot].held = held;
}

/* EVALSHA of the budget script on the full key `k` (slot `slot`). */
static int send_budget(struct redis_cache *c, int slot, int64_t delta, int64_t limit,
                       int64_t ttl_ms, bool restate, qts_cache_budget_fn cb, void *arg)
{
    const char *k = c->budget_keys[slot].key;
    char hosts[KEY_MAX + 8], alive[KEY_MAX + 8];
    int hn = snprintf(hosts, sizeof hosts, "%s:hosts", k);
    int an = snprintf(alive, sizeof alive, "%s:alive", k);
    char d[24], l[24], t[24], lm[24], h[24];
    int dn = snprintf(d, sizeof d, "%" PRId64, delta);
    int ln = snprintf(l, sizeof l, "%" PRId64, limit);
    int tn = snprintf(t, sizeof t, "%" PRId64, ttl_ms);
    int lmn = snprintf(lm, sizeof lm, "%" PRId64, c->lease_ms);
    int hdn = snprintf(h, sizeof h, "%" PRId64, c->budget_keys[slot].held);
    /* the host prefix names this host in the counter's companions */
    const char *argv[13] = {
        "EVALSHA", c->sha[SCRIPT_BUDGET], "3", k, hosts, alive, d, l, t, c->prefix, lm,
        h,         restate ? "1" : "0"};
    size_t len[13] = {7,           40,          1,          strlen(k),  (size_t)hn,
                      (size_t)an,  (size_t)dn,  (size_t)ln, (size_t)tn, c->prefix_n,
                      (size_t)lmn, (size_t)hdn, 1};
    struct pending *p = redis_send_argv(c, 13, argv, len, CMD_BUDGET);
    if (!p)
        return QTS_ENET;
    p->delta = delta;
    p->cb = (void *)cb;
    p->arg = arg;
    p->bkey = (uint8_t)slot;
    return 0;
}

static int op_budget(void *self, struct qts_str key, int64_t delta, int64_t limit, int64_t ttl_ms,
                     qts_cache_budget_fn cb, void *arg)
{
    struct redis_cache *c = self;
    char k[KEY_MAX];
    size_t kn;
    if (!cb || ttl_ms < 0 || limit < 0 || make_key(c->shared_prefix, c->shared_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (c->state != ST_UP || c->count >= c->max_pending)
        return unavailable(c);
    int slot = budget_slot(c, k);
    if (slot < 0)
        return QTS_EFULL;
    c->budget_keys[slot].ttl_ms = ttl_ms;
    return send_budget(c, slot, delta, limit, ttl_ms, false, cb, arg);
}

void redis_budget_renew(struct redis_cache *c)
{
    if (c->lease_ms <= 0 || c->state != ST_UP)
        return;
    int64_t now = mono_ns();
    if (now < c->next_renew_ns)
        return;
    c->next_renew_ns = now + c->lease_ms * 1000000 / 3;
    for (int i = 0; i < c->n_budget_keys; i++)
        if (c->count < c->max_pending) /* delta 0: renews the lease, changes nothing */
            send_budget(c, i, 0, 0, c->budget_keys[i].ttl_ms, false, NULL, NULL);
}

void redis_budget_restate(struct redis_cache *c)
{
    /* called as the connection comes up, before any operation could send
     * a budget command: `held` is then exactly what this host holds */
    for (int i = 0; i < c->n_budget_keys; i++)
        send_budget(c, i, 0, 0, c->budget_keys[i].ttl_ms, true, NULL, NULL);
}

static int op_claim(void *self, struct qts_str key, struct qts_str owner, int64_t ttl_ms,
                    bool release, qts_cache_get_fn cb, void *arg)
{
    struct redis_cache *c = self;
    char k[KEY_MAX];
    size_t kn;
    if (!cb || ttl_ms <= 0 || !owner.n || make_key(c->shared_prefix, c->shared_n, key, k, &kn) < 0)
        return QTS_EINVAL;
    if (c->state != ST_UP || c->count >= c->max_pending)
        return unavailable(c);
    char t[24];
    int tn = snprintf(t, sizeof t, "%" PRId64, ttl_ms);
    const char *argv[7] = {"EVALSHA", c->sha[SCRIPT_CLAIM], "1", k, owner.p,
                           t,         release ? "1" : "0"};
    size_t len[7] = {7, 40, 1, kn, owner.n, (size_t)tn, 1};
    return send_with_reply(c, 7, argv, len, CMD_CLAIM, (void *)cb, arg);
}

/* ----------------------------------------------------------- warm start */

void redis_scan_unref(struct scan_op *s)
{
    if (--s->refs > 0)
        return;
    struct redis_cache *c = s->c;
    if (!s->is_done && s->status == 0)
        s->status = QTS_ENET;
    s->cb(s->arg, s->status, (struct qts_str){"", 0}, NULL, NULL, 0, true);
    c->host->free(c->owner, s);
}

static bool scan_send(struct redis_cache *c, struct scan_op *s, const char *cursor, size_t cn)
{
    const char *argv[6] = {"SCAN", cursor, "MATCH", s->match, "COUNT", "1000"};
    size_t len[6] = {4, cn, 5, strlen(s->match), 5, 4};
    struct pending *p = redis_send_argv(c, 6, argv, len, CMD_SCAN);
    if (!p)
        return false;
    p->scan = s;
    s->refs++;
    return true;
}

void redis_scan_reply(struct redis_cache *c, struct scan_op *s, redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
        if (!s->status)
            s->status = r ? QTS_EIO : c->is_stopping ? QTS_ECANCELED : QTS_ENET;
        return;
    }
    redisReply *keys = r->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING)
            continue;
        const char *argv[2] = {"HGETALL", k->str};
        size_t len[2] = {7, k->len};
        struct pending *p = redis_send_argv(c, 2, argv, len, CMD_HGETALL);
        if (!p) {
            s->status = QTS_ENET;
            return;
        }
        /* the key travels in the reply order: keep it in arg */
        char *copy = c->host->alloc(c->owner, k->len + 1);
        if (!copy) {
            s->status = QTS_ENOMEM;
            p->arg = NULL;
        } else {
            memcpy(copy, k->str, k->len);
            copy[k->len] = '\0';
            p->arg = copy;
        }
        p->scan = s;
        s->refs++;
    }
    const char *cursor = r->element[0]->str;
    if (strcmp(cursor, "0") == 0)
        s->is_done = true;
    else if (!scan_send(c, s, cursor, r->element[0]->len))
        s->status = QTS_ENET;
}

/* `key` is the copy made when the HGETALL was queued (owned, freed here). */
void redis_hgetall_reply(struct redis_cache *c, struct scan_op *s, redisReply *r, char *key)
{
    if (key && r && r->type == REDIS_REPLY_ARRAY && r->elements >= 2 && s->status == 0) {
        size_t n = r->elements / 2;
        struct qts_str *f = c->host->alloc(c->owner, 2 * n * sizeof *f);
        if (f) {
            struct qts_str *v = f + n;
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                redisReply *a = r->element[2 * i], *b = r->element[2 * i + 1];
                if (a->type != REDIS_REPLY_STRING || b->type != REDIS_REPLY_STRING)
                    continue;
                f[m] = (struct qts_str){a->str, a->len};
                v[m++] = (struct qts_str){b->str, b->len};
            }
            size_t kl = strlen(key);
            struct qts_str k = {key + c->prefix_n, kl > c->prefix_n ? kl - c->prefix_n : 0};
            s->cb(s->arg, 0, k, f, v, m, false);
            c->host->free(c->owner, f);
        } else {
            s->status = QTS_ENOMEM;
        }
    } else if (!r && s->status == 0) {
        s->status = c->is_stopping ? QTS_ECANCELED : QTS_ENET;
    }
    if (key)
        c->host->free(c->owner, key);
}

static int op_scan_hashes(void *self, struct qts_str pattern, qts_cache_entry_fn cb, void *arg)
{
    struct redis_cache *c = self;
    if (!cb || !pattern.n || c->prefix_n + pattern.n >= KEY_MAX)
        return QTS_EINVAL;
    if (c->state != ST_UP)
        return QTS_ENET;
    struct scan_op *s = c->host->alloc(c->owner, sizeof *s);
    if (!s)
        return QTS_ENOMEM;
    memset(s, 0, sizeof *s);
    s->c = c;
    s->cb = cb;
    s->arg = arg;
    /* the prefix is matched literally: escape glob characters in it */
    size_t o = 0;
    for (size_t i = 0; i < c->prefix_n; i++) {
        char ch = c->prefix[i];
        if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\')
            s->match[o++] = '\\';
        s->match[o++] = ch;
        if (o + pattern.n + 2 >= KEY_MAX) {
            c->host->free(c->owner, s);
            return QTS_EINVAL;
        }
    }
    memcpy(s->match + o, pattern.p, pattern.n);
    s->match[o + pattern.n] = '\0';
    s->refs = 1; /* ours until the first SCAN is queued */
    if (!scan_send(c, s, "0", 1)) {
        c->host->free(c->owner, s);
        return QTS_ENET;
    }
    s->refs--;
    return 0;
}

const struct qts_cache_ops redis_ops = {.struct_size = sizeof(struct qts_cache_ops),
                                        .set = op_set,
                                        .get = op_get,
                                        .del = op_del,
                                        .hset = op_hset,
                                        .zset_replace = op_zset_replace,
                                        .health = op_health,
                                        .budget = op_budget,
                                        .claim = op_claim,
                                        .scan_hashes = op_scan_hashes};
