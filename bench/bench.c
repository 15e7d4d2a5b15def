/* bench.c — see bench.h. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lua_runtime.h"
#include "qts/qts_plugin.h"
#include "qts/qts_types.h"
#include "util.h"

void qts_bench_samples_init(struct qts_bench_samples *s, size_t cap_hint)
{
    s->cap = cap_hint ? cap_hint : 1024;
    s->n = 0;
    s->v = qts_xmalloc(s->cap * sizeof *s->v);
}

void qts_bench_samples_free(struct qts_bench_samples *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

void qts_bench_add(struct qts_bench_samples *s, int64_t ns)
{
    if (s->n == s->cap) {
        s->cap *= 2;
        s->v = qts_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = ns;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t qts_bench_percentile(const struct qts_bench_samples *s, double pct)
{
    if (s->n == 0)
        return 0;
    size_t idx = (size_t)((pct / 100.0) * (double)(s->n - 1) + 0.5);
    if (idx >= s->n)
        idx = s->n - 1;
    return s->v[idx];
}

const char *qts_bench_machine(void)
{
    static char machine[160];
    if (machine[0])
        return machine;
    char model[120] = "unknown cpu";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    c += 2;
                    c[strcspn(c, "\n")] = '\0';
                    qts_strlcpy(model, c, sizeof model);
                }
                break;
            }
        }
        fclose(f);
    }
    for (char *p = model; *p; p++)
        if (*p == '"' || *p == '\\')
            *p = ' ';
    snprintf(machine, sizeof machine, "%s x%ld", model, sysconf(_SC_NPROCESSORS_ONLN));
    return machine;
}

void qts_bench_report_latency(const char *bench, struct qts_bench_samples *s, const char *extra)
{
    qsort(s->v, s->n, sizeof *s->v, cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += (double)s->v[i];
    printf("{\"bench\":\"%s\",\"unit\":\"ns\",\"p50\":%lld,\"p99\":%lld,\"p999\":%lld,"
           "\"max\":%lld,\"mean\":%.1f,\"n\":%zu,\"machine\":\"%s\"%s%s}\n",
           bench, (long long)qts_bench_percentile(s, 50), (long long)qts_bench_percentile(s, 99),
           (long long)qts_bench_percentile(s, 99.9), (long long)(s->n ? s->v[s->n - 1] : 0),
           s->n ? sum / (double)s->n : 0.0, s->n, qts_bench_machine(), extra ? "," : "",
           extra ? extra : "");
    fflush(stdout);
}

void qts_bench_report_value(const char *bench, const char *unit, double value, uint64_t n,
                            const char *extra)
{
    printf("{\"bench\":\"%s\",\"unit\":\"%s\",\"value\":%.3f,\"n\":%llu,\"machine\":\"%s\"%s%s}\n",
           bench, unit, value, (unsigned long long)n, qts_bench_machine(), extra ? "," : "",
           extra ? extra : "");
    fflush(stdout);
}

void qts_bench_child_rss(const char *bench, uint64_t (*fn)(void *arg), void *arg, const char *extra)
{
    int fd[2];
    if (pipe(fd) != 0)
        return;
    fflush(stdout); /* the child exits without flushing a copy */
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        uint64_t n = fn(arg);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        long v[2] = {ru.ru_maxrss, (long)n};
        if (write(fd[1], v, sizeof v) != sizeof v)
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    long v[2] = {0, 0};
    ssize_t r = read(fd[0], v, sizeof v);
    close(fd[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (r == sizeof v)
        qts_bench_report_value(bench, "KiB", (double)v[0], (uint64_t)v[1], extra);
}

void qts_bench_limit_buy(struct qts_order_intent *in, uint32_t strategy, uint32_t instrument,
                         int64_t px, int64_t qty)
{
    memset(in, 0, sizeof *in);
    in->struct_size = sizeof *in;
    in->strategy_id = strategy;
    in->instrument = instrument;
    in->side = QTS_SIDE_BUY;
    in->type = QTS_ORD_LIMIT;
    in->px = px;
    in->qty = qty;
}

const struct qts_instrument *qts_bench_instrument(void *ctx, uint32_t id)
{
    static const struct qts_instrument inst = {.struct_size = sizeof inst,
                                               .id = 1,
                                               .symbol = "005930",
                                               .venue = "krx",
                                               .flags = QTS_INST_TRADABLE,
                                               .tick_size = 100,
                                               .lot_size = 1,
                                               .min_qty = 1};
    (void)ctx;
    return id == 1 ? &inst : NULL;
}

void qts_bench_event_init(struct qts_ev_hdr *h, size_t size, uint16_t type, uint8_t px_exp,
                          uint8_t qty_exp)
{
    memset(h, 0, size);
    h->struct_size = (uint32_t)size;
    h->type = type;
    h->px_exp = px_exp;
    h->qty_exp = qty_exp;
}

static int sink_submit(void *c, const struct qts_order_intent *in)
{
    (void)c, (void)in;
    return 0;
}
static int sink_cancel(void *c, uint32_t s, uint64_t o)
{
    (void)c, (void)s, (void)o;
    return 0;
}
static int sink_cancel_all(void *c, uint32_t s)
{
    (void)c, (void)s;
    return 0;
}

struct qts_lua_runtime *qts_bench_lua_lockstep(struct qts_clock *clock, uint32_t max_instruments,
                                               const struct qts_instrument *inst)
{
    struct qts_lua_settings set;
    memset(&set, 0, sizeof set);
    set.lockstep = true;
    set.clock = clock;
    set.max_instruments = max_instruments;
    set.sink = (struct qts_lua_sink){sizeof set.sink, NULL, sink_submit, sink_cancel,
                                     sink_cancel_all, NULL, NULL,        NULL};
    struct qts_lua_runtime *rt;
    if (qts_lua_runtime_new(&set, &rt, NULL) != 0)
        abort();
    qts_lua_runtime_add_instrument(rt, inst);
    return rt;
}

int qts_bench_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int broker_env(void *self)
{
    (void)self;
    return QTS_BROKER_ENV_SIMULATED;
}

static int broker_submit(void *self, const struct qts_broker_order *o)
{
    struct qts_bench_broker *b = self;
    memcpy(b->last, o->client_order_id, sizeof b->last);
    if (b->submits < sizeof b->ids / sizeof b->ids[0])
        memcpy(b->ids[b->submits], o->client_order_id, sizeof b->ids[0]);
    b->submits++;
    return 0;
}

static int broker_cancel(void *self, const char *clordid, const char *venue_id)
{
    struct qts_bench_broker *b = self;
    (void)clordid;
    (void)venue_id;
    b->cancels++;
    return 0;
}

static int broker_modify(void *self, const struct qts_broker_modify *m)
{
    struct qts_bench_broker *b = self;
    (void)m;
    b->modifies++;
    return 0;
}

void qts_bench_broker_ops(struct qts_broker_ops *ops, bool with_modify)
{
    memset(ops, 0, sizeof *ops);
    ops->struct_size = sizeof *ops;
    ops->env = broker_env;
    ops->submit = broker_submit;
    ops->cancel = broker_cancel;
    if (with_modify)
        ops->modify = broker_modify;
}

double qts_bench_uniform(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*seed >> 33) / (double)(1u << 31);
}
