/* safety_persist.c — the safety latches in <var_dir>/safety.json
 * (safety_persist.h). */
#include "safety_persist.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define FORMAT_VERSION "1"

/* ------------------------------------------------------------- format */

/* One flat object, every value a string or a boolean (the host's JSON
 * scanner reads flat objects); the *_at members are for people, the *_ns
 * members are what is read back. */
static int format_latch(const struct qts_safety_latch *l, char *buf, size_t cap)
{
    char msg[400], who[160], why[400], awho[160], awhy[400], now[32], since[32], kat[32];
    qts_json_escape(msg, sizeof msg, l->state_msg);
    qts_json_escape(who, sizeof who, l->kill_who);
    qts_json_escape(why, sizeof why, l->kill_reason);
    qts_json_escape(awho, sizeof awho, l->have_approval ? l->approval.who : "");
    qts_json_escape(awhy, sizeof awhy, l->have_approval ? l->approval.reason : "");
    int64_t saved_ns = qts_wall_ns();
    qts_safety_utc(saved_ns, now, sizeof now);
    qts_safety_utc(l->state_ts_ns, since, sizeof since);
    qts_safety_utc(l->kill_ts_ns, kat, sizeof kat);
    return snprintf(buf, cap,
                    "{\"version\":\"" FORMAT_VERSION
                    "\",\"saved_at\":\"%s\",\"saved_ns\":\"%" PRId64 "\","
                    "\"state\":\"%s\",\"code\":\"%s\",\"consecutive\":\"%d\",\"state_at\":\"%s\","
                    "\"state_ns\":\"%" PRId64 "\",\"state_msg\":\"%s\","
                    "\"kill\":%s,\"kill_at\":\"%s\",\"kill_ns\":\"%" PRId64 "\",\"kill_by\":\"%s\","
                    "\"kill_reason\":\"%s\","
                    "\"approval\":%s,\"approval_ns\":\"%" PRId64 "\",\"approval_from\":\"%s\","
                    "\"approval_by\":\"%s\",\"approval_reason\":\"%s\"}\n",
                    now, saved_ns, qts_safety_state_name(l->state),
                    l->code >= 0 ? qts_safety_code_str(l->code) : "", l->consecutive, since,
                    l->state_ts_ns, msg, l->kill ? "true" : "false", kat, l->kill_ts_ns, who, why,
                    l->have_approval ? "true" : "false", l->have_approval ? l->approval.ts_ns : 0,
                    l->have_approval ? qts_safety_state_name(l->approval.from) : "", awho, awhy);
}

static bool get_i64(const char *json, const char *key, int64_t *out)
{
    char text[32];
    if (!qts_json_get_str(json, key, text, sizeof text) || !text[0])
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int state_by_name(const char *name)
{
    for (int st = QTS_SAFETY_NORMAL; st <= QTS_SAFETY_LOCKDOWN; st++)
        if (strcmp(name, qts_safety_state_name(st)) == 0)
            return st;
    return -1;
}

static int parse_latch(const char *json, struct qts_safety_latch *l, struct qts_err *err)
{
    memset(l, 0, sizeof *l);
    char text[200];
    int64_t v = 0;
    if (!qts_json_get_str(json, "version", text, sizeof text))
        return qts_err_set(err, QTS_EPARSE, "not a safety state (no \"version\")");
    if (strcmp(text, FORMAT_VERSION) != 0)
        return qts_err_set(err, QTS_EPARSE, "format version %s, this host reads %s", text,
                           FORMAT_VERSION);
    if (!qts_json_get_str(json, "state", text, sizeof text) ||
        (l->state = state_by_name(text)) < 0 || l->state == QTS_SAFETY_WARNING)
        return qts_err_set(err, QTS_EPARSE, "\"state\" missing or not NORMAL, FAIL or LOCKDOWN");
    l->code = -1;
    if (!qts_json_get_str(json, "code", text, sizeof text))
        return qts_err_set(err, QTS_EPARSE, "\"code\" missing");
    if (text[0] && (l->code = qts_safety_code_find(text)) < 0)
        return qts_err_set(err, QTS_EPARSE, "unknown safety code \"%s\"", text);
    if (!get_i64(json, "consecutive", &v) || v < 0 || v > 1000000)
        return qts_err_set(err, QTS_EPARSE, "\"consecutive\" missing or not a count");
    l->consecutive = (int)v;
    if (!get_i64(json, "state_ns", &l->state_ts_ns) || !get_i64(json, "kill_ns", &l->kill_ts_ns))
        return qts_err_set(err, QTS_EPARSE, "\"state_ns\" or \"kill_ns\" missing");
    qts_json_get_str(json, "state_msg", l->state_msg, sizeof l->state_msg);
    if (!qts_json_get_bool(json, "kill", &l->kill))
        return qts_err_set(err, QTS_EPARSE, "\"kill\" missing or not true/false");
    qts_json_get_str(json, "kill_by", l->kill_who, sizeof l->kill_who);
    qts_json_get_str(json, "kill_reason", l->kill_reason, sizeof l->kill_reason);
    if (!qts_json_get_bool(json, "approval", &l->have_approval))
        return qts_err_set(err, QTS_EPARSE, "\"approval\" missing or not true/false");
    if (l->have_approval) {
        struct qts_safety_approval *a = &l->approval;
        if (!get_i64(json, "approval_ns", &a->ts_ns) ||
            !qts_json_get_str(json, "approval_from", text, sizeof text) || state_by_name(text) < 0)
            return qts_err_set(err, QTS_EPARSE, "approval without its time or state");
        a->from = (uint8_t)state_by_name(text);
        qts_json_get_str(json, "approval_by", a->who, sizeof a->who);
        qts_json_get_str(json, "approval_reason", a->reason, sizeof a->reason);
    }
    return 0;
}

/* ---------------------------------------------------------- file I/O */

int qts_safety_latch_write(const char *path, const struct qts_safety_latch *l, struct qts_err *err)
{
    char text[4096];
    int n = format_latch(l, text, sizeof text);
    if (n < 0 || (size_t)n >= sizeof text)
        return qts_err_set(err, QTS_EIO, "safety state does not fit its buffer");
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return qts_err_set(err, QTS_EIO, "cannot create %s: %s", tmp, strerror(errno));
    ssize_t w = write(fd, text, (size_t)n);
    /* the data must be on disk before the rename makes it the state */
    bool ok = w == n && fsync(fd) == 0;
    int saved_errno = errno;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved_errno = errno;
        unlink(tmp);
        return qts_err_set(err, QTS_EIO, "cannot write %s: %s", path, strerror(saved_errno));
    }
    /* the rename itself is durable once the directory is */
    char dir[1100];
    qts_strlcpy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        qts_strlcpy(dir, ".", sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int qts_safety_latch_read(const char *path, struct qts_safety_latch *l, struct qts_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return QTS_ENOENT;
        return qts_err_set(err, QTS_EIO, "cannot open: %s", strerror(errno));
    }
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    bool bad = ferror(f) != 0;
    bool big = !bad && n == sizeof text - 1 && fgetc(f) != EOF;
    fclose(f);
    if (bad)
        return qts_err_set(err, QTS_EIO, "cannot read: %s", strerror(errno ? errno : EIO));
    if (big)
        return qts_err_set(err, QTS_EPARSE, "larger than any safety state");
    text[n] = '\0';
    if (n == 0 || strlen(text) != n)
        return qts_err_set(err, QTS_EPARSE, n ? "holds NUL bytes" : "empty");
    /* a complete file is one object and a newline: a cut one is refused */
    size_t end = n;
    while (end && (text[end - 1] == '\n' || text[end - 1] == ' ' || text[end - 1] == '\r'))
        end--;
    if (text[0] != '{' || end == 0 || text[end - 1] != '}')
        return qts_err_set(err, QTS_EPARSE, "not one JSON object");
    return parse_latch(text, l, err);
}

/* ---------------------------------------------------------- persister */

struct qts_safety_persist {
    struct qts_safety *safety; /* borrowed */
    char path[1024];
    qts_safety_saved_fn on_saved;
    void *ctx; /* borrowed */
    uv_async_t async;
    bool has_async;
    pthread_mutex_t mu; /* guards pending */
    bool pending;
    struct qts_safety_latch pending_latch;
};

static void deliver(struct qts_safety_persist *p)
{
    pthread_mutex_lock(&p->mu);
    bool have = p->pending;
    struct qts_safety_latch l = p->pending_latch;
    p->pending = false;
    pthread_mutex_unlock(&p->mu);
    if (have && p->on_saved)
        p->on_saved(p->ctx, &l);
}

static void on_async(uv_async_t *a) { deliver(a->data); }

/* The saver: any thread, serialised by the safety. */
static void save(void *ctx, const struct qts_safety_latch *l)
{
    struct qts_safety_persist *p = ctx;
    struct qts_err err;
    qts_err_clear(&err);
    char line[200], note[1400];
    qts_safety_latch_summary(l, line, sizeof line);
    if (qts_safety_latch_write(p->path, l, &err) != 0) {
        /* the state still holds in memory; only a restart would lose it */
        QTS_ERROR("safety state NOT saved (%s): %s", line, err.msg);
        snprintf(note, sizeof note, "FAILED: %s", err.msg);
        qts_safety_set_notes(p->safety, NULL, note);
    } else {
        char at[32];
        qts_safety_utc(qts_wall_ns(), at, sizeof at);
        QTS_INFO("safety state saved path=%s %s", p->path, line);
        snprintf(note, sizeof note, "%s at %s", p->path, at);
        qts_safety_set_notes(p->safety, NULL, note);
    }
    if (!p->on_saved)
        return;
    pthread_mutex_lock(&p->mu);
    p->pending = true;
    p->pending_latch = *l;
    pthread_mutex_unlock(&p->mu);
    if (p->has_async)
        uv_async_send(&p->async); /* the store is written from the loop thread */
    else
        deliver(p);
}

/* Start killed and locked after an unusable state file. */
static void fail_safe(struct qts_safety_persist *p, const char *why)
{
    char aside[1100], note[1400];
    snprintf(aside, sizeof aside, "%s.bad-%lld", p->path, (long long)(qts_wall_ns() / 1000000000));
    bool moved = rename(p->path, aside) == 0;
    QTS_ERROR("safety state %s unreadable (%s)%s%s: starting in LOCKDOWN with the kill switch "
              "on; `qts resume --approve REASON` releases it",
              p->path, why, moved ? "; kept as " : "", moved ? aside : "");
    struct qts_safety_latch l = {.state = QTS_SAFETY_LOCKDOWN, .code = -1, .kill = true};
    l.state_ts_ns = l.kill_ts_ns = qts_wall_ns();
    snprintf(l.state_msg, sizeof l.state_msg, "safety state file unreadable: %.120s", why);
    qts_strlcpy(l.kill_who, "host", sizeof l.kill_who);
    qts_strlcpy(l.kill_reason, "fail-safe start: safety state file unreadable",
                sizeof l.kill_reason);
    qts_safety_latch_apply(p->safety, &l);
    snprintf(note, sizeof note, "fail-safe LOCKDOWN: %.100s unreadable (%.80s)%s%.100s", p->path,
             why, moved ? "; kept as " : "", moved ? aside : "");
    qts_safety_set_notes(p->safety, note, NULL);
}

struct qts_safety_persist *qts_safety_persist_open(struct qts_safety *s, const char *var_dir,
                                                   struct uv_loop_s *loop,
                                                   qts_safety_saved_fn on_saved, void *ctx)
{
    struct qts_safety_persist *p = qts_xcalloc(1, sizeof *p);
    p->safety = s;
    p->on_saved = on_saved;
    p->ctx = ctx;
    pthread_mutex_init(&p->mu, NULL);
    snprintf(p->path, sizeof p->path, "%s/%s", var_dir ? var_dir : ".", QTS_SAFETY_FILE_NAME);
    if (loop && uv_async_init(loop, &p->async, on_async) == 0) {
        p->async.data = p;
        p->has_async = true;
        uv_unref((uv_handle_t *)&p->async); /* never keeps a run alive */
    }

    struct qts_safety_latch l;
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_safety_latch_read(p->path, &l, &err);
    bool save_now = false;
    char note[1400], line[200];
    if (rc == QTS_ENOENT) {
        snprintf(note, sizeof note, "fresh start (no %.280s)", p->path);
        qts_safety_set_notes(s, note, NULL);
    } else if (rc != 0) {
        fail_safe(p, err.msg);
        save_now = true; /* the locked state replaces the bad file */
    } else {
        char at[32], saved_at[32] = "?";
        qts_safety_utc(qts_wall_ns(), at, sizeof at);
        qts_safety_latch_apply(s, &l);
        qts_safety_latch_summary(&l, line, sizeof line);
        char json[8192];
        FILE *f = fopen(p->path, "rb"); /* only for the saved_at shown to people */
        if (f) {
            size_t n = fread(json, 1, sizeof json - 1, f);
            json[n] = '\0';
            fclose(f);
            qts_json_get_str(json, "saved_at", saved_at, sizeof saved_at);
        }
        snprintf(note, sizeof note, "restored from %.200s at %s (saved %s)", p->path, at, saved_at);
        qts_safety_set_notes(s, note, NULL);
        if (l.state != QTS_SAFETY_NORMAL || l.kill)
            QTS_WARN("safety state restored from %s: %s; trading stays blocked until "
                     "`qts resume --approve REASON`",
                     p->path, line);
        else
            QTS_INFO("safety state restored from %s: %s", p->path, line);
    }
    qts_safety_set_saver(s, save, p);
    if (save_now) {
        qts_safety_latch_get(s, &l);
        save(p, &l);
    } else if (rc == 0 && p->on_saved) {
        /* the store's copy can be older than the file (a crash after the
         * file was written, before the writer thread wrote the row): the
         * restored latches are mirrored to it again */
        qts_safety_latch_get(s, &l);
        p->on_saved(p->ctx, &l);
    }
    return p;
}

static void closed(uv_handle_t *h)
{
    struct qts_safety_persist *p = h->data;
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void qts_safety_persist_close(struct qts_safety_persist *p)
{
    if (!p)
        return;
    qts_safety_set_saver(p->safety, NULL, NULL); /* waits for a save in progress */
    deliver(p);
    if (p->has_async) {
        uv_close((uv_handle_t *)&p->async, closed);
        return;
    }
    pthread_mutex_destroy(&p->mu);
    free(p);
}
