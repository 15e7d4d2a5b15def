/* cmd_status.c — `qts status`: the state of a running host.
 *
 * Two sources:
 * - default: ask the host itself over its admin socket (admin_socket.h): mode,
 *   safety state, kill switch, positions, working orders, risk usage,
 *   latencies;
 * - --from-redis: the live positions, open orders and risk a running host
 *   writes to the Redis tier, read from another process or machine through
 *   the hiredis synchronous API. The keys are the ones cache_redis writes
 *   (docs/cache.md); nothing in that mode talks to the host itself. */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cli.h"
#include "cmd_admin.h"
#include "clock.h"
#include "json.h"
#include "status_text.h"
#include "util.h"

struct conn_opts {
    char host[256];
    int port;
    int db;
    char user[128];
    char password[256];
};

/* redis://[user[:password]@]host[:port][/db] */
static int parse_url(const char *url, struct conn_opts *o)
{
    if (strncmp(url, "rediss://", 9) == 0) {
        fprintf(stderr, "qts status: TLS (rediss://) needs hiredis >= 1.0; this build has "
                        "hiredis 0.14\n");
        return -1;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        fprintf(stderr, "qts status: --redis must be redis://host[:port][/db]\n");
        return -1;
    }
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t un = (size_t)((colon ? colon : at) - p);
        snprintf(o->user, sizeof o->user, "%.*s", (int)un, p);
        if (colon)
            snprintf(o->password, sizeof o->password, "%.*s", (int)(at - colon - 1), colon + 1);
        p = at + 1;
    }
    size_t hn = strcspn(p, ":/");
    if (hn == 0 || hn >= sizeof o->host) {
        fprintf(stderr, "qts status: no host in %s\n", url);
        return -1;
    }
    snprintf(o->host, sizeof o->host, "%.*s", (int)hn, p);
    p += hn;
    if (*p == ':') {
        o->port = atoi(p + 1);
        p += 1 + strspn(p + 1, "0123456789");
    }
    if (*p == '/' && p[1])
        o->db = atoi(p + 1);
    if (o->port <= 0 || o->port > 65535) {
        fprintf(stderr, "qts status: bad port in %s\n", url);
        return -1;
    }
    return 0;
}

static redisReply *command(redisContext *c, int argc, const char **argv)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r)
        fprintf(stderr, "qts status: redis: %s\n", c->errstr);
    return r;
}

struct hash {
    char key[256];
    redisReply *r; /* HGETALL reply, owned */
};

static const char *field(const struct hash *h, const char *name)
{
    for (size_t i = 0; i + 1 < h->r->elements; i += 2)
        if (strcmp(h->r->element[i]->str, name) == 0)
            return h->r->element[i + 1]->str;
    return "-";
}

/* An order still working at the venue (ord:{id} of a finished order stays
 * until its TTL runs out, with its final status). */
static bool is_working(const struct hash *h)
{
    static const char *const live[] = {"ACCEPTED", "PARTIALLY_FILLED", "REPLACED", "NEW"};
    const char *st = field(h, "status");
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (strcmp(st, live[i]) == 0)
            return true;
    return false;
}

static int cmp_hash(const void *a, const void *b)
{
    return strcmp(((const struct hash *)a)->key, ((const struct hash *)b)->key);
}

static void free_hashes(struct hash *v, int n)
{
    for (int i = 0; i < n; i++)
        freeReplyObject(v[i].r);
    free(v);
}

/* The SCAN pattern: `prefix` taken literally (its glob characters escaped)
 * while `keep` bytes of match stay free, then `pattern`. */
static void scan_match(char *match, size_t cap, size_t keep, const char *prefix,
                       const char *pattern)
{
    size_t o = 0;
    for (const char *p = prefix; *p && o + keep < cap; p++) {
        if (strchr("*?[]\\", *p))
            match[o++] = '\\';
        match[o++] = *p;
    }
    snprintf(match + o, cap - o, "%s", pattern);
}

/* One SCAN page: the reply (owned by the caller: freeReplyObject), its next
 * cursor copied into `cursor`; NULL on a failed or malformed reply. */
static redisReply *scan_page(redisContext *c, char *cursor, size_t cursor_cap, const char *match)
{
    const char *argv[6] = {"SCAN", cursor, "MATCH", match, "COUNT", "1000"};
    redisReply *r = command(c, 6, argv);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        if (r)
            freeReplyObject(r);
        return NULL;
    }
    snprintf(cursor, cursor_cap, "%s", r->element[0]->str);
    return r;
}

/* Every hash under prefix+pattern, sorted by key. Returns count or -1. */
static int load_hashes(redisContext *c, const char *prefix, const char *pattern, struct hash **out)
{
    char match[512];
    scan_match(match, sizeof match, 2, prefix, pattern);
    struct hash *v = NULL;
    size_t n = 0, cap = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = scan_page(c, cursor, sizeof cursor, match);
        if (!r) {
            free_hashes(v, (int)n);
            return -1;
        }
        redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            const char *hargv[2] = {"HGETALL", keys->element[i]->str};
            redisReply *h = command(c, 2, hargv);
            if (!h || h->type != REDIS_REPLY_ARRAY || h->elements == 0) {
                if (h)
                    freeReplyObject(h);
                continue; /* expired meanwhile, or not a hash */
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                v = qts_xrealloc(v, cap * sizeof *v);
            }
            snprintf(v[n].key, sizeof v[n].key, "%s", keys->element[i]->str + strlen(prefix));
            v[n++].r = h;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_hash);
    *out = v;
    return (int)n;
}

/* Budget counters shared by all hosts (strings under the shared prefix). */
static void print_budgets(redisContext *c, const char *shared)
{
    char match[512];
    scan_match(match, sizeof match, 3, shared, "*");
    printf("\nshared budgets (%s)\n", shared);
    char cursor[32] = "0";
    int n = 0;
    do {
        redisReply *r = scan_page(c, cursor, sizeof cursor, match);
        if (!r)
            return;
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *key = r->element[1]->element[i]->str;
            if (strncmp(key + strlen(shared), "own:", 4) == 0)
                continue; /* ownership claims (--cluster lists them) */
            const char *gargv[2] = {"GET", key};
            redisReply *v = command(c, 2, gargv);
            if (v && v->type == REDIS_REPLY_STRING) {
                printf("  %-30s %s\n", key + strlen(shared), v->str);
                n++;
            }
            if (v)
                freeReplyObject(v);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    if (n == 0)
        printf("  (none)\n");
}

/* Every string under `shared` + "own:*": which host owns which instrument
 * and strategy. */
static void print_claims(redisContext *c, const char *shared)
{
    char match[512];
    scan_match(match, sizeof match, 8, shared, "own:*");
    printf("\nownership (%sown:*)\n", shared);
    char cursor[32] = "0";
    int n = 0;
    do {
        redisReply *r = scan_page(c, cursor, sizeof cursor, match);
        if (!r)
            return;
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *key = r->element[1]->element[i]->str;
            const char *gargv[2] = {"GET", key};
            redisReply *v = command(c, 2, gargv);
            if (v && v->type == REDIS_REPLY_STRING) {
                printf("  %-30s %s\n", key + strlen(shared) + 4, v->str);
                n++;
            }
            if (v)
                freeReplyObject(v);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    if (n == 0)
        printf("  (none)\n");
}

/* qts status --cluster: every live host under `root` (its heartbeat key
 * <root>...:hb), its positions, and the exposure of all of them. */
static int print_cluster(redisContext *c, const char *root, const char *shared)
{
    struct hash *hb = NULL;
    int n = load_hashes(c, root, "*hb", &hb);
    if (n < 0)
        return QTS_EXIT_FAILURE;
    int64_t now_ms = qts_wall_ns() / 1000000;
    int live = 0;
    double total = 0;
    for (int i = 0; i < n; i++) {
        size_t kl = strlen(hb[i].key);
        if (kl < 2 || strcmp(hb[i].key + kl - 2, "hb") != 0 ||
            strcmp(field(&hb[i], "host_id"), "-") == 0)
            continue;
        live++;
    }
    printf("cluster under %s: %d live host%s\n", root, live, live == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        size_t kl = strlen(hb[i].key);
        if (kl < 2 || strcmp(hb[i].key + kl - 2, "hb") != 0 ||
            strcmp(field(&hb[i], "host_id"), "-") == 0)
            continue;
        char pfx[512];
        snprintf(pfx, sizeof pfx, "%s%.*s", root, (int)(kl - 2), hb[i].key);
        long long upd = atoll(field(&hb[i], "updated_at"));
        printf("\nhost %s  prefix %s  pid %s  mode %s  heartbeat %lld ms ago (ttl %s ms)\n",
               field(&hb[i], "host_id"), pfx, field(&hb[i], "pid"), field(&hb[i], "mode"),
               (long long)now_ms - upd, field(&hb[i], "ttl_ms"));
        printf("  instruments %s\n  strategies  %s\n", field(&hb[i], "instruments"),
               field(&hb[i], "strategies"));
        struct hash *pos = NULL;
        int np = load_hashes(c, pfx, "pos:*", &pos);
        double host_exp = 0;
        for (int k = 0; k < np; k++) {
            printf("  position %-14s qty %s avg %s exposure %s\n", pos[k].key + 4,
                   field(&pos[k], "qty"), field(&pos[k], "avg_price"),
                   field(&pos[k], "exposure_value"));
            host_exp += atof(field(&pos[k], "exposure_value"));
        }
        if (np > 0)
            free_hashes(pos, np);
        printf("  exposure %.2f\n", host_exp);
        total += host_exp;
    }
    printf("\nglobal exposure %.2f\n", total);
    print_claims(c, shared);
    print_budgets(c, shared);
    if (hb)
        free_hashes(hb, n);
    return live > 0 ? QTS_EXIT_OK : QTS_EXIT_FAILURE;
}

static int run_from_redis(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"from-redis", no_argument, NULL, 'f'},    {"cluster", no_argument, NULL, 'C'},
        {"redis", required_argument, NULL, 'r'},   {"prefix", required_argument, NULL, 'p'},
        {"host-id", required_argument, NULL, 'i'}, {"shared-prefix", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    bool from_redis = false, is_cluster = false;
    const char *url = getenv("QTS_REDIS_URL");
    const char *prefix = NULL;
    const char *host_id = getenv("QTS_HOST_ID");
    const char *shared = "qts:shared:";
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f': from_redis = true; break;
        case 'C': is_cluster = true; break;
        case 'r': url = optarg; break;
        case 'p': prefix = optarg; break;
        case 'i': host_id = optarg; break;
        case 's': shared = optarg; break;
        case 'h': printf("%s", qts_cmd_status.usage); return QTS_EXIT_OK;
        default: fprintf(stderr, "%s", qts_cmd_status.usage); return QTS_EXIT_USAGE;
        }
    }
    if ((!from_redis && !is_cluster) || optind < argc) {
        fprintf(stderr, "%s", qts_cmd_status.usage);
        return QTS_EXIT_USAGE;
    }
    struct conn_opts co = {.host = "127.0.0.1", .port = 6379};
    if (url && *url && parse_url(url, &co) < 0)
        return QTS_EXIT_USAGE;
    if (!co.password[0] && getenv("QTS_REDIS_PASSWORD"))
        snprintf(co.password, sizeof co.password, "%s", getenv("QTS_REDIS_PASSWORD"));
    if (!co.user[0] && getenv("QTS_REDIS_USER"))
        snprintf(co.user, sizeof co.user, "%s", getenv("QTS_REDIS_USER"));
    char pfx[256];
    if (prefix) {
        snprintf(pfx, sizeof pfx, "%s", prefix);
    } else {
        char hn[64] = "host";
        if (host_id && *host_id)
            snprintf(hn, sizeof hn, "%s", host_id);
        else if (gethostname(hn, sizeof hn) != 0)
            snprintf(hn, sizeof hn, "host");
        hn[sizeof hn - 1] = '\0';
        snprintf(pfx, sizeof pfx, "qts:%s:", hn);
    }

    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout(co.host, co.port, tv);
    if (!c || c->err) {
        fprintf(stderr, "qts status: cannot reach redis at %s:%d: %s\n", co.host, co.port,
                c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return QTS_EXIT_FAILURE;
    }
    redisSetTimeout(c, tv);
    int rc = QTS_EXIT_FAILURE;
    struct hash *pos = NULL, *ord = NULL, *risk = NULL, *strat = NULL;
    int npos = -1, nord = -1, nrisk = -1, nstrat = -1;
    if (co.password[0]) {
        const char *a[3] = {"AUTH", co.user[0] ? co.user : co.password, co.password};
        redisReply *r = command(c, co.user[0] ? 3 : 2, a);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r && !ok)
            fprintf(stderr, "qts status: redis AUTH: %s\n", r->str);
        if (r)
            freeReplyObject(r);
        if (!ok)
            goto done;
    }
    if (co.db) {
        char db[16];
        snprintf(db, sizeof db, "%d", co.db);
        const char *a[2] = {"SELECT", db};
        redisReply *r = command(c, 2, a);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject(r);
        if (!ok)
            goto done;
    }
    if (is_cluster) {
        rc = print_cluster(c, prefix ? prefix : "qts:", shared);
        goto done;
    }
    npos = load_hashes(c, pfx, "pos:*", &pos);
    nord = load_hashes(c, pfx, "ord:*", &ord);
    nrisk = load_hashes(c, pfx, "risk:account", &risk);
    nstrat = load_hashes(c, pfx, "strat:*", &strat);
    if (npos < 0 || nord < 0 || nrisk < 0 || nstrat < 0)
        goto done;
    printf("host prefix %s at %s:%d\n", pfx, co.host, co.port);
    if (npos + nord + nrisk + nstrat == 0) {
        printf("no live keys under %s: the host is not running, not writing to this Redis, "
               "or uses another prefix (--prefix / --host-id)\n",
               pfx);
        rc = QTS_EXIT_FAILURE;
        goto done;
    }
    printf("\npositions (%d)\n", npos);
    if (npos)
        printf("  %-14s %16s %16s %16s %16s %8s\n", "symbol", "qty", "avg_price", "unrealized_pnl",
               "exposure", "exp_pct");
    for (int i = 0; i < npos; i++)
        printf("  %-14s %16s %16s %16s %16s %8s\n", pos[i].key + 4, field(&pos[i], "qty"),
               field(&pos[i], "avg_price"), field(&pos[i], "unrealized_pnl"),
               field(&pos[i], "exposure_value"), field(&pos[i], "exposure_pct"));
    /* ord:{id} keys of finished orders stay until their TTL: only working
     * orders are shown */
    int nwork = 0;
    for (int i = 0; i < nord; i++)
        nwork += is_working(&ord[i]);
    printf("\nworking orders (%d)\n", nwork);
    if (nwork)
        printf("  %-12s %-14s %-5s %-17s %12s %12s %12s %14s %14s\n", "id", "symbol", "side",
               "status", "qty", "filled", "pending", "avg_fill", "limit");
    for (int i = 0; i < nord; i++)
        if (is_working(&ord[i]))
            printf("  %-12s %-14s %-5s %-17s %12s %12s %12s %14s %14s\n", ord[i].key + 4,
                   field(&ord[i], "symbol"), field(&ord[i], "side"), field(&ord[i], "status"),
                   field(&ord[i], "qty"), field(&ord[i], "filled_qty"),
                   field(&ord[i], "pending_qty"), field(&ord[i], "avg_fill_price"),
                   field(&ord[i], "limit_price"));
    printf("\nrisk\n");
    if (nrisk == 0) {
        printf("  (no risk:account key: a running host re-publishes it every second)\n");
    } else {
        for (size_t i = 0; i + 1 < risk[0].r->elements; i += 2)
            printf("  %-18s %s\n", risk[0].r->element[i]->str, risk[0].r->element[i + 1]->str);
    }
    printf("\nstrategies (%d)\n", nstrat);
    for (int i = 0; i < nstrat; i++) {
        printf("  %-20s active=%s", strat[i].key + 6, field(&strat[i], "active"));
        for (size_t k = 0; k + 1 < strat[i].r->elements; k += 2) {
            const char *f = strat[i].r->element[k]->str;
            if (strcmp(f, "active") != 0 && strcmp(f, "updated_at") != 0)
                printf(" %s=%s", f, strat[i].r->element[k + 1]->str);
        }
        printf("\n");
    }
    print_budgets(c, shared);
    rc = QTS_EXIT_OK;
done:
    if (pos)
        free_hashes(pos, npos);
    if (ord)
        free_hashes(ord, nord);
    if (risk)
        free_hashes(risk, nrisk);
    if (strat)
        free_hashes(strat, nstrat);
    redisFree(c);
    return rc;
}

static const char status_usage[] =
    "usage: qts status [-c FILE | -s SOCKET] [--json]\n"
    "       qts status --from-redis [--redis URL] [--prefix P | --host-id ID]\n"
    "                  [--shared-prefix S]\n"
    "       qts status --cluster [--redis URL] [--prefix ROOT] [--shared-prefix S]\n"
    "\n"
    "Without --from-redis: asks the running host over its admin socket and prints a\n"
    "short summary: mode, safety state and codes, PnL, positions, working orders,\n"
    "strategies and feeds.\n"
    "  -c, --config FILE   configuration whose paths.var_dir holds qts.sock\n"
    "  -s, --socket PATH   the admin socket (default $QTS_ADMIN_SOCKET, else\n"
    "                      <var_dir>/qts.sock)\n"
    "      --json          print the whole answer as one JSON line (adds risk usage,\n"
    "                      latencies, the risk loop; for scripts)\n"
    "\n"
    "With --from-redis: reads the positions (pos:*), open orders (ord:*) and risk\n"
    "(risk:account) that a running host writes to Redis, from another process or\n"
    "machine, and the budget counters all hosts share (under S, default qts:shared:).\n"
    "  --redis URL     redis://[user[:password]@]host[:port][/db]\n"
    "                  (default $QTS_REDIS_URL, else redis://127.0.0.1:6379)\n"
    "  --prefix P      the host's key prefix (default qts:<host id>:)\n"
    "  --host-id ID    host id for the default prefix (default $QTS_HOST_ID, else\n"
    "                  the machine's host name)\n"
    "Password: in the URL or $QTS_REDIS_PASSWORD (user: $QTS_REDIS_USER).\n"
    "\n"
    "With --cluster: every live host (a heartbeat key <ROOT>...hb, default ROOT\n"
    "qts:), its instruments, strategies and positions, the exposure of all hosts,\n"
    "who owns which instrument and strategy, and the shared budget counters.\n"
    "\n"
    "exit codes: 0 shown, 1 no host answers / Redis unreachable or no live keys,\n"
    "2 usage or configuration error\n";

static int run_status(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--from-redis") == 0 || strcmp(argv[i], "--cluster") == 0)
            return run_from_redis(argc, argv);
    /* admin-socket options beyond -c/-s/--json go here (one row each) */
    const struct qts__opt opts[] = {
        {0},
    };
    struct qts__admin_opts o;
    int rc = qts__admin_parse(argc, argv, opts, false, status_usage, &o);
    if (rc != 0)
        return rc;
    if (o.json)
        return qts__admin_run(&o, "{\"cmd\":\"status\"}");
    char *reply;
    if ((rc = qts__admin_call(&o, "{\"cmd\":\"status\"}", &reply)) != 0)
        return rc;
    const char *result = qts_json_value(reply, "result");
    char msg[512] = "no answer";
    if (result) {
        qts__status_print(stdout, result);
    } else {
        qts_json_get_str(reply, "error", msg, sizeof msg);
        fprintf(stderr, "qts: host refused: %s\n", msg);
    }
    free(reply);
    return result ? QTS_EXIT_OK : QTS_EXIT_FAILURE;
}

QTS_COMMAND(qts_cmd_status, "status", "state of the running host (admin socket, or --from-redis)",
            status_usage, run_status);
