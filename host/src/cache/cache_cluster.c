/* cache_cluster.c — see cache_cluster.h. */
#include "cache_cluster.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "util.h"

#define CLAIM_KEY_MAX 160

struct claim {
    char key[CLAIM_KEY_MAX]; /* under the shared prefix */
    int status;              /* last answer: 0 held, QTS_EREJECT, ...; 1 = waiting */
    char owner[96];          /* QTS_EREJECT: who holds it */
    bool is_lost_logged;     /* a renewal refused: logged once */
};

struct qts_cache_cluster {
    uv_loop_t *loop;
    const struct qts_cache_ops *ops; /* borrowed */
    void *self;
    char host_id[96];
    char mode[16];
    char *instruments; /* owned: comma-separated */
    char *strategies;  /* owned: comma-separated */
    int64_t ttl_ms;
    bool claim;
    int64_t started_ms;
    struct claim *claims; /* owned */
    size_t n_claims;
    uv_timer_t timer;
    int inflight; /* claim answers still to come: the memory waits for them */
    bool is_closing, is_timer_closed, is_joined;
};

static void maybe_release_memory(struct qts_cache_cluster *c)
{
    if (!c->is_closing || !c->is_timer_closed || c->inflight > 0)
        return;
    free(c->instruments);
    free(c->strategies);
    free(c->claims);
    free(c);
}

static char *join_names(const char *const *v, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    char *s = qts_xmalloc(len);
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, v[i]);
    }
    return s;
}

static void write_heartbeat(struct qts_cache_cluster *c)
{
    if (!c->ops || !c->ops->hset)
        return;
    char pid[24], started[24], updated[24], ttl[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    snprintf(started, sizeof started, "%" PRId64, c->started_ms);
    snprintf(updated, sizeof updated, "%" PRId64, qts_wall_ns() / 1000000);
    snprintf(ttl, sizeof ttl, "%" PRId64, c->ttl_ms);
    const char *f[] = {"host_id",    "pid",        "mode",       "instruments",
                       "strategies", "started_at", "updated_at", "ttl_ms"};
    const char *v[] = {c->host_id,    pid,     c->mode, c->instruments,
                       c->strategies, started, updated, ttl};
    struct qts_str fs[QTS_ARRAY_LEN(f)], vs[QTS_ARRAY_LEN(f)];
    for (size_t i = 0; i < QTS_ARRAY_LEN(f); i++) {
        fs[i] = (struct qts_str){f[i], strlen(f[i])};
        vs[i] = (struct qts_str){v[i], strlen(v[i])};
    }
    /* a refused write (Redis away) is retried by the next beat */
    c->ops->hset(c->self, (struct qts_str){"hb", 2}, fs, vs, QTS_ARRAY_LEN(f), c->ttl_ms);
}

struct claim_req {
    struct qts_cache_cluster *c;
    size_t i;
};

static void on_claim(void *arg, int status, struct qts_str value)
{
    struct claim_req *r = arg;
    struct qts_cache_cluster *c = r->c;
    struct claim *cl = &c->claims[r->i];
    free(r);
    c->inflight--;
    if (!c->is_closing) {
        cl->status = status;
        if (status == QTS_EREJECT)
            snprintf(cl->owner, sizeof cl->owner, "%.*s", (int)value.n, value.p);
        if (status == 0)
            cl->is_lost_logged = false;
        else if (c->is_joined && status == QTS_EREJECT && !cl->is_lost_logged) {
            /* our claim ran out (Redis away longer than the TTL) and another
             * host took it: both may now trade it */
            cl->is_lost_logged = true;
            QTS_ERROR("cluster: %s is now held by host %s (this host's claim expired); "
                      "stop one of them",
                      cl->key, cl->owner);
        }
    }
    maybe_release_memory(c);
}

static void send_claims(struct qts_cache_cluster *c, bool release)
{
    if (!c->claim || !c->ops || !QTS_HAS(c->ops, claim))
        return;
    struct qts_str owner = {c->host_id, strlen(c->host_id)};
    for (size_t i = 0; i < c->n_claims; i++) {
        struct claim_req *r = qts_xmalloc(sizeof *r);
        *r = (struct claim_req){c, i};
        struct claim *cl = &c->claims[i];
        int rc = c->ops->claim(c->self, (struct qts_str){cl->key, strlen(cl->key)}, owner,
                               c->ttl_ms, release, on_claim, r);
        if (rc != 0) {
            free(r);
            if (!release)
                cl->status = rc;
        } else {
            c->inflight++;
        }
    }
}

static void on_beat(uv_timer_t *t)
{
    struct qts_cache_cluster *c = t->data;
    write_heartbeat(c);
    if (c->is_joined)
        send_claims(c, false);
}

static void add_claim(struct qts_cache_cluster *c, const char *kind, const char *name)
{
    struct claim *cl = &c->claims[c->n_claims++];
    memset(cl, 0, sizeof *cl);
    snprintf(cl->key, sizeof cl->key, "own:%s:%s", kind, name);
    cl->status = 1;
}

int qts_cache_cluster_new(uv_loop_t *loop, const struct qts_cache_ops *ops, void *self,
                          const struct qts_cache_cluster_cfg *cfg, struct qts_cache_cluster **out,
                          struct qts_err *err)
{
    if (!cfg || !cfg->host_id || !*cfg->host_id || cfg->ttl_ms <= 0)
        return qts_err_set(err, QTS_EINVAL, "cluster: a host id and a TTL are needed");
    struct qts_cache_cluster *c = qts_xcalloc(1, sizeof *c);
    c->loop = loop;
    c->ops = ops;
    c->self = self;
    snprintf(c->host_id, sizeof c->host_id, "%s", cfg->host_id);
    snprintf(c->mode, sizeof c->mode, "%s", cfg->mode ? cfg->mode : "");
    c->instruments = join_names(cfg->instruments, cfg->n_instruments);
    c->strategies = join_names(cfg->strategies, cfg->n_strategies);
    c->ttl_ms = cfg->ttl_ms;
    c->claim = cfg->claim;
    c->started_ms = qts_wall_ns() / 1000000;
    c->claims = qts_xcalloc(cfg->n_instruments + cfg->n_strategies + 1, sizeof *c->claims);
    for (size_t i = 0; i < cfg->n_instruments; i++)
        add_claim(c, "inst", cfg->instruments[i]);
    for (size_t i = 0; i < cfg->n_strategies; i++)
        add_claim(c, "strat", cfg->strategies[i]);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    uint64_t every = (uint64_t)(c->ttl_ms / 3 > 0 ? c->ttl_ms / 3 : 1);
    uv_timer_start(&c->timer, on_beat, every, every);
    uv_unref((uv_handle_t *)&c->timer); /* never keeps a run alive */
    *out = c;
    return 0;
}

static void on_wait_timer(uv_timer_t *t) { (void)t; /* wakes uv_run */ }

/* 1 while an answer is missing; else 0 or the first failure. */
static int claims_outcome(struct qts_cache_cluster *c, size_t *which)
{
    int worst = 0;
    for (size_t i = 0; i < c->n_claims; i++) {
        int st = c->claims[i].status;
        if (st == 1)
            return 1;
        if (st == QTS_EREJECT) {
            *which = i;
            return QTS_EREJECT;
        }
        if (st != 0 && worst == 0) {
            worst = st;
            *which = i;
        }
    }
    return worst;
}

int qts_cache_cluster_join(struct qts_cache_cluster *c, int64_t timeout_ms, struct qts_err *err)
{
    write_heartbeat(c);
    if (!c->claim || c->n_claims == 0) {
        c->is_joined = true;
        return 0;
    }
    if (!c->ops || !QTS_HAS(c->ops, claim))
        return qts_err_set(err, QTS_EUNSUPPORTED,
                           "cluster.claim: the cache plugin cannot claim keys (ABI 1.5 claim)");
    /* the cache connects asynchronously: ask until it answers or time runs out */
    uv_timer_t wake;
    uv_timer_init(c->loop, &wake);
    uv_timer_start(&wake, on_wait_timer, 20, 20);
    int64_t deadline = qts_mono_ns() + timeout_ms * 1000000;
    size_t which = 0;
    int rc = 1;
    while (qts_mono_ns() < deadline) {
        if (c->inflight == 0) {
            rc = claims_outcome(c, &which);
            if (rc == 0 || rc == QTS_EREJECT)
                break;
            /* not connected yet, or no answer: ask again for what is not held */
            for (size_t i = 0; i < c->n_claims; i++)
                if (c->claims[i].status != 0)
                    c->claims[i].status = 1;
            send_claims(c, false);
        }
        uv_run(c->loop, UV_RUN_ONCE); /* the wake timer ends a wait within 20 ms */
    }
    uv_timer_stop(&wake);
    uv_close((uv_handle_t *)&wake, NULL);
    uv_run(c->loop, UV_RUN_NOWAIT); /* runs the close: `wake` lives on this stack */
    rc = claims_outcome(c, &which);
    if (rc == QTS_EREJECT) {
        send_claims(c, true); /* give back what this host did get */
        return qts_err_set(err, QTS_EBUSY,
                           "cluster: %s is held by host %s (overlapping ownership: each "
                           "instrument and strategy belongs to one host)",
                           c->claims[which].key, c->claims[which].owner);
    }
    if (rc != 0) {
        send_claims(c, true);
        return qts_err_set(err, rc == 1 ? QTS_ETIMEDOUT : rc,
                           "cluster: could not claim %s within %" PRId64 " ms (%s): the cache "
                           "is unreachable",
                           c->claims[which].key, timeout_ms,
                           rc == 1 ? "no answer" : qts_strerror(rc));
    }
    c->is_joined = true;
    QTS_INFO("cluster: host %s owns %zu instruments and strategies (ttl_ms=%" PRId64 ")",
             c->host_id, c->n_claims, c->ttl_ms);
    return 0;
}

void qts_cache_cluster_set_target(struct qts_cache_cluster *c, const struct qts_cache_ops *ops,
                                  void *self)
{
    c->ops = ops;
    c->self = self;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct qts_cache_cluster *c = h->data;
    c->is_timer_closed = true;
    maybe_release_memory(c);
}

void qts_cache_cluster_free(struct qts_cache_cluster *c)
{
    if (!c)
        return;
    if (c->is_joined)
        send_claims(c, true);
    if (c->ops)
        c->ops->del(c->self, (struct qts_str){"hb", 2});
    c->is_closing = true;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}
