/* bench_cache.c — the cache tier.
 *
 * 1. cache.writer_hot_path: ns per qts_cache_writer_price/_position call
 *    (what the core pays per change; the flush runs on the loop, untimed).
 * 2. cache.precheck_in_process vs cache.precheck_redis_reference: a
 *    PreCheck-shaped read of price, position and risk from in-process
 *    state, against the design's approach of reading the same three keys
 *    from Redis per check (three round trips, hiredis synchronous).
 * 3. cache.redis_set_throughput (SET PX through cache_redis, one pipelined
 *    connection) against redis-benchmark's pipelined SET on the same server
 *    (cache.redis_benchmark_set_reference), and their ratio; plus the
 *    writer's hash writes (EVALSHA, value + TTL atomic) per second.
 * 4. cache.redis_tls_set_throughput: the same SET PX stream through
 *    cache_redis over TLS (the in-process bridge, docs/adr/0003-redis-tls.md)
 *    next to plain TCP to the same private redis-server in the same run
 *    (cache.redis_plain_set_throughput_same_server) and their ratio.
 * Parts 2-3 need QTS_REDIS_PORT (scripts/with-services); part 4 needs
 * QTS_REDIS_SERVER with TLS and the openssl command. Without them they
 * print a JSON note instead.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "bench.h"
#include "cache_test_host.h"
#include "cache_writer.h"
#include "clock.h"
#include "risk_budget.h"
#include "util.h"

#define NSYM 64

static char g_sym[NSYM][16];

static void bench_hot_path(void)
{
    struct qts_th th;
    qts_th_init(&th);
    th.quiet = true;
    struct qts_th_inst in;
    struct qts_err err;
    if (qts_th_load(&th, &in, NULL, "cache_memory", &err) < 0 || qts_th_start(&in, &err) < 0) {
        fprintf(stderr, "bench_cache: %s\n", err.msg);
        exit(1);
    }
    struct qts_cache_writer *w;
    qts_cache_writer_new(&th.loop, in.ops, in.self, NULL, &w, NULL);
    enum { N = 400000 };
    struct qts_bench_samples s, sp;
    qts_bench_samples_init(&s, N);
    qts_bench_samples_init(&sp, N);
    struct qts_cache_price p = {.px_exp = 2, .qty_exp = 3};
    struct qts_cache_position pos = {.px_exp = 2, .qty_exp = 3};
    for (int i = 0; i < N; i++) {
        const char *sym = g_sym[i % NSYM];
        p.bid = 6000000 + i;
        p.ask = p.bid + 1;
        p.ts_ms = i;
        int64_t t0 = qts_mono_ns();
        qts_cache_writer_price(w, sym, &p);
        int64_t t1 = qts_mono_ns();
        pos.qty = i;
        qts_cache_writer_position(w, sym, &pos);
        int64_t t2 = qts_mono_ns();
        qts_bench_add(&s, t1 - t0);
        qts_bench_add(&sp, t2 - t1);
        if ((i & 255) == 255)
            uv_run(&th.loop, UV_RUN_NOWAIT); /* the loop flushes, untimed */
    }
    struct qts_cache_writer_stats st;
    qts_cache_writer_stats(w, &st);
    char extra[160];
    snprintf(extra, sizeof extra,
             "\"aim_p99\":200,\"coalesced\":%" PRIu64 ",\"writes\":%" PRIu64
             ",\"note\":\"includes two clock reads\"",
             st.coalesced, st.writes);
    qts_bench_report_latency("cache.writer_hot_path_price", &s, extra);
    qts_bench_report_latency("cache.writer_hot_path_position", &sp, "\"aim_p99\":200");
    qts_bench_samples_free(&s);
    qts_bench_samples_free(&sp);

    /* PreCheck's cross-host budget: a consume from the local lease */
    struct qts_risk_budget_cfg bc = {
        .key = "bench", .limit = INT64_C(1) << 50, .chunk = INT64_C(1) << 40};
    struct qts_risk_budget *b;
    qts_risk_budget_new(in.ops, in.self, &bc, &b, NULL);
    struct qts_bench_samples sb;
    qts_bench_samples_init(&sb, 200000);
    for (int i = 0; i < 200000; i++) {
        int64_t t0 = qts_mono_ns();
        int rc = qts_risk_budget_consume(b, 100, NULL);
        qts_bench_add(&sb, qts_mono_ns() - t0);
        qts_bench_keep(&rc);
        qts_risk_budget_return(b, 100);
    }
    qts_bench_report_latency("cache.risk_budget_consume", &sb, NULL);
    qts_bench_samples_free(&sb);
    qts_risk_budget_free(b);
    qts_cache_writer_free(w);
    qts_th_unload(&in);
    qts_th_cleanup(&th);
}

/* In-process state as the core keeps it: dense arrays by instrument. */
struct px_state {
    int64_t bid, ask, last, ts_ms;
};
struct pos_state {
    int64_t qty, avg_px;
};
struct risk_state {
    int64_t exposure_used, max_exposure, daily_pnl, daily_loss_limit;
};

static int precheck_local(const struct px_state *px, const struct pos_state *pos,
                          const struct risk_state *r, uint32_t inst, int64_t qty, int64_t now_ms)
{
    const struct px_state *p = &px[inst];
    if (now_ms - p->ts_ms > 100)
        return QTS_ERISK; /* stale price */
    int64_t notional = qty * p->ask;
    int64_t after = pos[inst].qty + qty;
    (void)after;
    if (r->exposure_used + notional > r->max_exposure)
        return QTS_ERISK;
    if (r->daily_pnl < -r->daily_loss_limit)
        return QTS_ERISK;
    return 0;
}

static long long hfield(redisReply *r, const char *name)
{
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (strcmp(r->element[i]->str, name) == 0)
            return atoll(r->element[i + 1]->str);
    return 0;
}

static void bench_precheck(int port)
{
    enum { N = 200000, NR = 3000 };
    static struct px_state px[NSYM];
    static struct pos_state pos[NSYM];
    struct risk_state r = {0, INT64_C(1) << 60, 0, 1000000};
    struct qts_bench_samples s;
    qts_bench_samples_init(&s, N);
    for (int i = 0; i < N; i++) {
        uint32_t inst = (uint32_t)(i % NSYM);
        px[inst].ts_ms = i;
        px[inst].ask = 100 + i;
        int64_t t0 = qts_mono_ns();
        int rc = precheck_local(px, pos, &r, inst, 1, i);
        qts_bench_add(&s, qts_mono_ns() - t0);
        qts_bench_keep(&rc);
    }
    qts_bench_report_latency("cache.precheck_in_process", &s, NULL);
    qts_bench_samples_free(&s);

    if (port <= 0)
        return;
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        printf("{\"bench\":\"cache.precheck_redis_reference\",\"note\":\"redis unreachable\"}\n");
        if (c)
            redisFree(c);
        return;
    }
    for (int i = 0; i < NSYM; i++) {
        redisReply *x =
            redisCommand(c, "HSET qts:bench:price:%s bid 1 ask 2 last 1 timestamp %d", g_sym[i], i);
        freeReplyObject(x);
        x = redisCommand(c, "HSET qts:bench:pos:%s qty 1 avg_price 1", g_sym[i]);
        freeReplyObject(x);
    }
    freeReplyObject(redisCommand(c, "HSET qts:bench:risk:account exposure_used 0 "
                                    "daily_pnl 0 daily_loss_limit 100"));
    qts_bench_samples_init(&s, NR);
    for (int i = 0; i < NR; i++) {
        const char *sym = g_sym[i % NSYM];
        int64_t t0 = qts_mono_ns();
        redisReply *a = redisCommand(c, "HGETALL qts:bench:price:%s", sym);
        redisReply *b = redisCommand(c, "HGETALL qts:bench:pos:%s", sym);
        redisReply *k = redisCommand(c, "HGETALL qts:bench:risk:account");
        long long v = hfield(a, "ask") + hfield(b, "qty") + hfield(k, "daily_pnl");
        qts_bench_add(&s, qts_mono_ns() - t0);
        qts_bench_keep(&v);
        freeReplyObject(a);
        freeReplyObject(b);
        freeReplyObject(k);
    }
    qts_bench_report_latency("cache.precheck_redis_reference", &s,
                             "\"note\":\"3 round trips per check, localhost\"");
    qts_bench_samples_free(&s);
    freeReplyObject(redisCommand(c, "EVAL \"for _,k in ipairs(redis.call('KEYS','qts:bench:*')) "
                                    "do redis.call('DEL',k) end\" 0"));
    redisFree(c);
}

static bool is_up(struct qts_th_inst *in, uint32_t *pending, uint64_t *ok)
{
    struct qts_cache_health h = {.struct_size = sizeof h};
    in->ops->health(in->self, &h);
    *pending = h.pending;
    *ok = h.writes_ok;
    return h.state == QTS_CACHE_UP;
}

static double redis_benchmark_set(int port, int n, int pipeline)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "redis-benchmark -h 127.0.0.1 -p %d -t set -n %d -P %d -c 1 "
             "--csv 2>/dev/null",
             port, n, pipeline);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    char line[512];
    double rps = 0;
    while (fgets(line, sizeof line, p))
        if (strncmp(line, "\"SET\"", 5) == 0)
            rps = atof(line + 7);
    pclose(p);
    return rps;
}

/* The same script text as cache_redis's hash write (SCRIPT LOAD gives the
 * same sha for the same text). */
static const char HSET_SCRIPT[] =
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 2))\n"
    "if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end\n"
    "return 1\n";

static double redis_benchmark_evalsha(int port, int n, int pipeline)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return 0;
    }
    redisReply *r = redisCommand(c, "SCRIPT LOAD %s", HSET_SCRIPT);
    char sha[64] = "";
    if (r && r->type == REDIS_REPLY_STRING)
        snprintf(sha, sizeof sha, "%s", r->str);
    freeReplyObject(r);
    redisFree(c);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "redis-benchmark -h 127.0.0.1 -p %d -n %d -P %d -c 1 -r 10000 "
             "--csv EVALSHA %s 1 qts:bench:rb:__rand_int__ 1000 qty 12345 avg_price 100.12 "
             "unrealized_pnl 0 exposure_value 0 exposure_pct 0 updated_at 1700000000000 "
             "2>/dev/null",
             port, n, pipeline, sha);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    char line[1024];
    double rps = 0;
    while (fgets(line, sizeof line, p)) {
        /* "<command>","<rps>",... : the second quoted field */
        char *q = strstr(line, "\",\"");
        if (q && strncmp(line, "\"test\"", 6) != 0)
            rps = atof(q + 3);
    }
    pclose(p);
    return rps;
}

static void bench_throughput(int port)
{
    struct qts_th th;
    qts_th_init(&th);
    th.quiet = true;
    struct qts_th_inst in;
    struct qts_err err;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (qts_th_load(&th, &in, NULL, "cache_redis", &err) < 0)
        exit(1);
    qts_th_cfg(&in, "host", "127.0.0.1");
    qts_th_cfg(&in, "port", ps);
    qts_th_cfg(&in, "prefix", "qts:bench:");
    qts_th_cfg(&in, "command_timeout_ms", "2000");
    if (qts_th_start(&in, &err) < 0) {
        fprintf(stderr, "bench_cache: %s\n", err.msg);
        exit(1);
    }
    uint32_t pending;
    uint64_t ok0, ok;
    for (int i = 0; i < 2000 && !is_up(&in, &pending, &ok0); i++)
        qts_th_run_ms(&th, 1);
    enum { N = 200000, PIPE = 64, ROUNDS = 5 };
    /* SET key value PX ttl through the plugin, as many in flight as the
     * plugin takes; best of ROUNDS, alternating with the reference since
     * the machine is shared */
    char key[32];
    double ours = 0, ref = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int64_t t0 = qts_mono_ns();
        int sent = 0;
        is_up(&in, &pending, &ok0);
        for (;;) {
            is_up(&in, &pending, &ok);
            if (ok - ok0 >= N)
                break;
            while (sent < N && pending < 4096) {
                int n = snprintf(key, sizeof key, "k%d", sent % 10000);
                if (in.ops->set(in.self, (struct qts_str){key, (size_t)n},
                                (struct qts_str){"xxx", 3}, 1000) < 0)
                    break;
                sent++;
                pending++;
            }
            uv_run(&th.loop, UV_RUN_ONCE);
        }
        double r = (double)N / ((double)(qts_mono_ns() - t0) / 1e9);
        ours = r > ours ? r : ours;
        r = redis_benchmark_set(port, N, PIPE);
        ref = r > ref ? r : ref;
    }
    char extra[160];
    snprintf(extra, sizeof extra, "\"ratio_to_reference\":%.3f,\"aim_ratio\":0.7",
             ref > 0 ? ours / ref : 0);
    qts_bench_report_value("cache.redis_set_throughput", "ops/s", ours, N, extra);
    snprintf(extra, sizeof extra, "\"note\":\"redis-benchmark -t set -P %d -c 1, best of %d\"",
             PIPE, ROUNDS);
    qts_bench_report_value("cache.redis_benchmark_set_reference", "ops/s", ref, N, extra);

    /* the writer: hash writes with TTL (EVALSHA) for 10 000 positions
     * updated faster than Redis can take them, for about a second */
    struct qts_cache_writer_cfg cfg = {
        .max_keys = 20000, .max_pending = 4096, .refresh_ms = 100000};
    struct qts_cache_writer *w;
    qts_cache_writer_new(&th.loop, in.ops, in.self, &cfg, &w, NULL);
    static char syms[10000][16];
    for (int i = 0; i < 10000; i++)
        snprintf(syms[i], sizeof syms[i], "S%05d", i);
    double wbest = 0, wref = 0;
    uint64_t nw = 0;
    for (int round = 0; round < 2; round++) {
        is_up(&in, &pending, &ok0);
        int64_t t0 = qts_mono_ns(), t1;
        struct qts_cache_position pos = {
            .avg_px = 10012, .px_exp = 2, .qty_exp = 0, .ts_ms = 1700000000000LL};
        int64_t i = 0;
        do {
            for (int j = 0; j < 2048; j++, i++) {
                pos.qty = i + 1;
                qts_cache_writer_position(w, syms[i % 10000], &pos);
            }
            uv_run(&th.loop, UV_RUN_NOWAIT);
            t1 = qts_mono_ns();
        } while (t1 - t0 < 1000000000);
        is_up(&in, &pending, &ok);
        double r = (double)(ok - ok0) / ((double)(t1 - t0) / 1e9);
        if (r > wbest) {
            wbest = r;
            nw = ok - ok0;
        }
        for (;;) { /* drain before the reference runs */
            is_up(&in, &pending, &ok);
            struct qts_cache_writer_stats st;
            qts_cache_writer_stats(w, &st);
            if (st.dirty == 0 && pending == 0)
                break;
            uv_run(&th.loop, UV_RUN_ONCE);
        }
        r = redis_benchmark_evalsha(port, 100000, PIPE);
        wref = r > wref ? r : wref;
    }
    snprintf(extra, sizeof extra,
             "\"ratio_to_reference\":%.3f,\"aim_ratio\":0.7,"
             "\"note\":\"EVALSHA DEL+HSET+PEXPIRE, 6 fields, 10000 keys\"",
             wref > 0 ? wbest / wref : 0);
    qts_bench_report_value("cache.writer_throughput", "writes/s", wbest, nw, extra);
    snprintf(extra, sizeof extra,
             "\"note\":\"redis-benchmark -P %d -c 1 EVALSHA of the same "
             "script and fields, best of 2\"",
             PIPE);
    qts_bench_report_value("cache.redis_benchmark_evalsha_reference", "ops/s", wref, 100000, extra);
    qts_cache_writer_free(w);
    uv_run(&th.loop, UV_RUN_NOWAIT);
    redisContext *c = redisConnect("127.0.0.1", port);
    if (c && !c->err)
        freeReplyObject(redisCommand(c, "EVAL \"for _,k in ipairs(redis.call('KEYS',"
                                        "'qts:bench:*')) do redis.call('DEL',k) end\" 0"));
    if (c)
        redisFree(c);
    qts_th_unload(&in);
    qts_th_cleanup(&th);
}

/* ------------------------------------------------------ 4. TLS vs plain */

/* SET PX through `in` until n more are acknowledged; ops/s. */
static double set_rate(struct qts_th *th, struct qts_th_inst *in, int n)
{
    uint32_t pending;
    uint64_t ok0, ok;
    char key[32];
    int64_t t0 = qts_mono_ns();
    int sent = 0;
    is_up(in, &pending, &ok0);
    for (;;) {
        is_up(in, &pending, &ok);
        if (ok - ok0 >= (uint64_t)n)
            break;
        while (sent < n && pending < 4096) {
            int k = snprintf(key, sizeof key, "k%d", sent % 10000);
            if (in->ops->set(in->self, (struct qts_str){key, (size_t)k}, (struct qts_str){"xxx", 3},
                             1000) < 0)
                break;
            sent++;
            pending++;
        }
        uv_run(&th->loop, UV_RUN_ONCE);
    }
    return (double)n / ((double)(qts_mono_ns() - t0) / 1e9);
}

static bool start_rate_plugin(struct qts_th *th, struct qts_th_inst *in, const char *url,
                              const char *ca)
{
    struct qts_err err;
    if (qts_th_load(th, in, NULL, "cache_redis", &err) < 0)
        return false;
    qts_th_cfg(in, "url", url);
    if (ca)
        qts_th_cfg(in, "tls_ca_file", ca);
    qts_th_cfg(in, "prefix", "qts:bench:");
    qts_th_cfg(in, "command_timeout_ms", "2000");
    if (qts_th_start(in, &err) < 0) {
        fprintf(stderr, "bench_cache: %s\n", err.msg);
        in->self = NULL;
        qts_th_unload(in);
        return false;
    }
    uint32_t pending;
    uint64_t ok;
    for (int i = 0; i < 3000 && !is_up(in, &pending, &ok); i++)
        qts_th_run_ms(th, 1);
    if (is_up(in, &pending, &ok))
        return true;
    qts_th_unload(in);
    return false;
}

static void bench_tls(void)
{
    const char *bin = getenv("QTS_REDIS_SERVER");
    char dir[] = "/tmp/qts-bench-tls-XXXXXX";
    if (!bin || !*bin || system("openssl version >/dev/null 2>&1") != 0 || !mkdtemp(dir)) {
        printf("{\"bench\":\"cache.redis_tls\",\"note\":\"skipped: needs QTS_REDIS_SERVER "
               "and the openssl command\"}\n");
        return;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout ca.key -out ca.crt -days 1 -subj /CN=bench-ca && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 && "
             "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out srv.crt -days 1 -extfile ext",
             dir);
    char full[2200];
    snprintf(full, sizeof full, "(%s) >/dev/null 2>&1", cmd);
    int plain = qts_th_free_port(), tls = qts_th_free_port();
    for (int i = 0; i < 10 && tls == plain; i++)
        tls = qts_th_free_port();
    pid_t pid = -1;
    if (system(full) == 0 && (pid = fork()) == 0) {
        char ps[16], ts[16], crt[128], key[128], ca[128];
        snprintf(ps, sizeof ps, "%d", plain);
        snprintf(ts, sizeof ts, "%d", tls);
        snprintf(crt, sizeof crt, "%s/srv.crt", dir);
        snprintf(key, sizeof key, "%s/srv.key", dir);
        snprintf(ca, sizeof ca, "%s/ca.crt", dir);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execl(bin, bin, "--port", ps, "--tls-port", ts, "--bind", "127.0.0.1", "--tls-cert-file",
              crt, "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no",
              "--save", "", "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    bool up = false;
    for (int i = 0; pid > 0 && i < 200 && !up; i++) {
        up = qts_th_port_open(plain) && qts_th_port_open(tls);
        struct timespec ts = {0, 20 * 1000000};
        if (!up)
            nanosleep(&ts, NULL);
    }
    struct qts_th th;
    qts_th_init(&th);
    th.quiet = true;
    struct qts_th_inst a, b;
    char url_a[64], url_b[64], ca[128];
    snprintf(url_a, sizeof url_a, "redis://127.0.0.1:%d", plain);
    snprintf(url_b, sizeof url_b, "rediss://127.0.0.1:%d", tls);
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);
    bool ok_a = up && start_rate_plugin(&th, &a, url_a, NULL);
    bool ok_b = ok_a && start_rate_plugin(&th, &b, url_b, ca);
    if (ok_a && ok_b) {
        enum { N = 100000, ROUNDS = 3 };
        double best_plain = 0, best_tls = 0;
        for (int round = 0; round < ROUNDS; round++) { /* alternating: shared machine */
            double r = set_rate(&th, &a, N);
            best_plain = r > best_plain ? r : best_plain;
            r = set_rate(&th, &b, N);
            best_tls = r > best_tls ? r : best_tls;
        }
        char extra[200];
        snprintf(extra, sizeof extra,
                 "\"ratio_to_plain\":%.3f,\"note\":\"SET PX over TLS "
                 "(bridge + OpenSSL) vs plain TCP, same server, best of %d\"",
                 best_plain > 0 ? best_tls / best_plain : 0, ROUNDS);
        qts_bench_report_value("cache.redis_tls_set_throughput", "ops/s", best_tls, N, extra);
        qts_bench_report_value("cache.redis_plain_set_throughput_same_server", "ops/s", best_plain,
                               N, "\"note\":\"reference for the TLS figure\"");
    } else {
        printf("{\"bench\":\"cache.redis_tls\",\"note\":\"skipped: the TLS redis-server "
               "did not start\"}\n");
    }
    if (ok_a)
        qts_th_unload(&a);
    if (ok_b)
        qts_th_unload(&b);
    qts_th_cleanup(&th);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_cache: could not remove %s\n", dir);
}

int main(void)
{
    for (int i = 0; i < NSYM; i++)
        snprintf(g_sym[i], sizeof g_sym[i], "SYM%02dUSDT", i);
    const char *ps = getenv("QTS_REDIS_PORT");
    int port = ps && *ps ? atoi(ps) : 0;
    bench_hot_path();
    bench_precheck(port);
    if (port > 0)
        bench_throughput(port);
    else
        printf("{\"bench\":\"cache.redis\",\"note\":\"skipped: QTS_REDIS_PORT not set; run "
               "under scripts/with-services\"}\n");
    bench_tls();
    return 0;
}
