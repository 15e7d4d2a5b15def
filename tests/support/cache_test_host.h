/* cache_test_host.h — a small host-services table for the cache tests and
 * benchmark: a real uv_loop_t, timers on libuv, configuration from a
 * key=value list, a settable clock, log lines counted by level. It loads a
 * real plugin (cache_memory.so, cache_redis.so) with dlopen from
 * $QTS_PLUGIN_DIR (set by ctest), the build's plugin directory, or an
 * explicit directory. Used by the tests and bench_cache. */
#ifndef QTS_CACHE_TEST_HOST_H
#define QTS_CACHE_TEST_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "qts/qts_plugin.h"

struct qts_th_timer;

struct qts_th {
    uv_loop_t loop;
    struct qts_host_api api;
    int64_t fake_now_ns; /* != 0: now_ns returns this (virtual clock) */
    int log_count[6];    /* lines per level */
    char last_log[512];
    bool quiet;           /* do not print log lines */
    const char *watch[4]; /* substrings counted in log lines (borrowed) */
    int watch_hits[4];
};

/* One plugin instance: `owner` for the host calls. */
struct qts_th_inst {
    struct qts_th *th;
    void *dl;
    const struct qts_plugin_desc *desc;
    const struct qts_cache_ops *ops;
    void *self;
    bool started;
    char *cfg_keys[32]; /* owned */
    char *cfg_vals[32]; /* owned */
    int n_cfg;
    struct qts_th_timer *timers;
    uint64_t next_timer_id;
    int64_t metric_last[4];
};

/* A host with one instance: what the cache tests' fixtures begin with. */
struct qts_th_pair {
    struct qts_th th;
    struct qts_th_inst in;
};

/* A cmocka teardown for a fixture (allocated with malloc, *state) whose
 * first member is a struct qts_th_pair: qts_th_close, then free. Returns 0. */
int qts_th_pair_teardown(void **state);

void qts_th_init(struct qts_th *th);
/* Runs the loop until every handle is closed, then closes it. */
void qts_th_cleanup(struct qts_th *th);

/* Prepare an instance of plugin `name` ("cache_redis") from `dir` (NULL =
 * $QTS_PLUGIN_DIR, else the build's plugin directory). Configuration is added with qts_th_cfg before
 * qts_th_start. Returns 0 or a negative code with err filled. */
int qts_th_load(struct qts_th *th, struct qts_th_inst *in, const char *dir, const char *name,
                struct qts_err *err);
void qts_th_cfg(struct qts_th_inst *in, const char *key, const char *value); /* copied */
int qts_th_start(struct qts_th_inst *in, struct qts_err *err);               /* init + start */
/* qts_th_cfg of each pair of `extra` (borrowed {key, value, ..., NULL}, or
 * NULL), then qts_th_start; a failure is also printed to stderr. */
int qts_th_start_with(struct qts_th_inst *in, const char *const *extra, struct qts_err *err);
/* stop (asking again while it returns QTS_EAGAIN, running the loop),
 * destroy, cancel leftover timers, dlclose (unless QTS_NO_DLCLOSE). */
void qts_th_unload(struct qts_th_inst *in);

/* qts_th_load of `name` from the default directory, the configuration
 * pairs of `cfg` (borrowed {key, value, ..., NULL}, or NULL), qts_th_start.
 * Returns 0 or a negative code, with the error printed to stderr. */
int qts_th_open(struct qts_th *th, struct qts_th_inst *in, const char *name,
                const char *const *cfg);
/* qts_th_unload, then qts_th_cleanup. */
void qts_th_close(struct qts_th *th, struct qts_th_inst *in);

/* The plugin's health into *h (zeroed, struct_size set first); returns
 * the plugin's code (0 = filled). */
int qts_th_health(struct qts_th_inst *in, struct qts_cache_health *h);

/* Run the loop until pred(arg) is true (checked every millisecond) or
 * `max_ms` passed; returns whether it was true at a check or is at the
 * end. `arg` is borrowed. */
bool qts_th_wait_for(struct qts_th *th, bool (*pred)(void *arg), void *arg, int max_ms);

/* A TCP port on 127.0.0.1 nothing uses now: the kernel picks it for a
 * bound socket, which is then closed (ports guessed in the ephemeral range
 * collide with other processes' outgoing connections). 0 on failure. */
int qts_th_free_port(void);

/* Whether something accepts TCP connections on 127.0.0.1:port now. */
bool qts_th_port_open(int port);

/* Run the loop for about `ms` wall milliseconds (a timer ends it). */
void qts_th_run_ms(struct qts_th *th, int ms);
/* Run until *flag is true or `max_ms` passed; returns *flag. */
bool qts_th_run_until(struct qts_th *th, const volatile bool *flag, int max_ms);

#endif
