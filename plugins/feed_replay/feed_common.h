/* feed_common.h — helpers shared by the two feed plugins (compiled into
 * each): forwarding decoded events to the host and defining instruments. */
#ifndef QTS_FEED_COMMON_H
#define QTS_FEED_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_common.h"
#include "qts/qts_plugin.h"

/* Memory that aborts on exhaustion, like the host's allocator. */
static inline void *feed_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}
static inline void *feed_calloc(size_t k, size_t n)
{
    void *q = calloc(k ? k : 1, n ? n : 1);
    if (!q)
        abort();
    return q;
}
static inline char *feed_strdup(const char *s)
{
    char *q = strdup(s);
    if (!q)
        abort();
    return q;
}
/* Copies src into dst[cap], cut to fit and always terminated. */
static inline void feed_copy(char *dst, const char *src, size_t cap)
{
    snprintf(dst, cap, "%s", src);
}

struct feed_host {
    const struct qts_host_api *host; /* borrowed until destroy */
    void *owner;
    const char *plugin; /* "feed_replay" */
};

/* qts_md_define_fn: defines the instrument in the host (arg: struct feed_host). */
int feed_define(void *arg, struct qts_md_inst *inst, struct qts_err *err);
/* Forward one event through host->emit_*. */
int feed_emit(const struct feed_host *fh, const union qts_md_event *ev);

/* Pacing is the host's: it reads `speed` from the feed's config and refuses
 * an event that is not due with QTS_EAGAIN (the feed keeps it for its next
 * poll). The row in each feed's key table: */
#define FEED_KEY_SPEED                                                                  \
    QTS_CFG_DEC("speed", "0",                                                           \
                "0 = the host's pace (replay.speed; in paper and live real time while " \
                "replay.speed is max); k = k times real time")

/* Read "key" as a string, or "key.0", "key.1", ... joined with ','.
 * Returns an owned string (free) or NULL if absent. */
char *feed_cfg_list(const struct feed_host *fh, const char *key, struct qts_err *err);

#endif
