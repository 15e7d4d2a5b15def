/* kis_state.c — broker_kis helpers and the state that outlives a request:
 * the client order id -> order number map in memory and in the
 * append-only state file, and the access-token cache file. */
#include "kis_plugin.h"

/* ------------------------------------------------------------------ helpers */

int64_t kis_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t kis_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

char *kis_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void kis_trim_right(char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
}

/* Percent-encoding for query values (paging keys hold '^' and spaces). */
char *kis_curl_escape_min(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *w = out;
    if (!out)
        return kis_xstrdup("");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return out;
}

const char *kis_jstr(json_t *o, const char *key)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* order-rvsecncl documents its output keys both upper and lower case */
const char *kis_jstr2(json_t *o, const char *upper, const char *lower)
{
    const char *v = kis_jstr(o, upper);
    return v ? v : kis_jstr(o, lower);
}

int64_t kis_jnum(json_t *o, const char *key)
{
    int64_t v = 0;
    const char *s = kis_jstr(o, key);
    if (s && kis_atoi64(s, &v) == 0)
        return v;
    json_t *n = o ? json_object_get(o, key) : NULL;
    return json_is_integer(n) ? (int64_t)json_integer_value(n) : 0;
}

uint64_t kis_fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* KST "YYYYMMDD" of now, for the daily inquiry */
void kis_kst_today(char out[16])
{
    time_t t = (time_t)(kis_wall_ns() / NS_PER_S + 9 * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 16, "%04u%02u%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}

int64_t kis_pow10i(unsigned e) { return qts_pow10_i64[e <= QTS_MAX_EXP ? e : QTS_MAX_EXP]; }

/* -------------------------------------------------------------- orders map */

struct kord *kis_ord_by_clordid(struct kis *k, const char *id)
{
    if (!id || !id[0])
        return NULL;
    for (size_t i = 0; i < k->n_ord; i++)
        if (strcmp(k->ord[i]->clordid, id) == 0)
            return k->ord[i];
    return NULL;
}

/* Whether o holds the order number odno (current or first); the notice
 * pads order numbers differently from the REST reply. */
static bool holds_odno(const struct kord *o, const char *odno)
{
    if (strcmp(o->odno, odno) == 0 || strcmp(o->orig_odno, odno) == 0)
        return true;
    int64_t want = 0, a = -1, b = -1;
    if (kis_atoi64(odno, &want) != 0)
        return false;
    return (kis_atoi64(o->odno, &a) == 0 && a == want) ||
           (kis_atoi64(o->orig_odno, &b) == 0 && b == want);
}

/* The order holding odno. Should two hold it (a record of an earlier run
 * whose number the broker handed out again, as a reset paper server
 * does), the newest one still working wins, then the newest: the broker
 * speaks of the order it numbered last. */
struct kord *kis_ord_by_odno(struct kis *k, const char *odno)
{
    if (!odno || !odno[0])
        return NULL;
    struct kord *newest = NULL;
    for (size_t i = k->n_ord; i-- > 0;) {
        struct kord *o = k->ord[i];
        if (!holds_odno(o, odno))
            continue;
        if (!o->done)
            return o;
        if (!newest)
            newest = o;
    }
    return newest;
}

void kis_ord_release_odno(struct kis *k, const struct kord *keep, const char *odno)
{
    if (!odno || !odno[0])
        return;
    for (size_t i = 0; i < k->n_ord; i++) {
        struct kord *o = k->ord[i];
        if (o == keep || !holds_odno(o, odno))
            continue;
        KLOG(k, QTS_LOG_WARN,
             "broker_kis: order number %s handed out again by the broker: the earlier record "
             "clordid=%s (%s) is stale and dropped",
             odno, o->clordid[0] ? o->clordid : "-", o->prev_run ? "earlier run" : "this run");
        o->odno[0] = '\0';
        o->orig_odno[0] = '\0';
        o->done = true; /* no longer reachable by number: nothing to cancel or match */
    }
}

struct kord *kis_ord_new(struct kis *k)
{
    if (k->n_ord == k->cap_ord) {
        size_t cap = k->cap_ord ? k->cap_ord * 2 : 16;
        struct kord **p = realloc(k->ord, cap * sizeof *p);
        if (!p)
            return NULL;
        k->ord = p;
        k->cap_ord = cap;
    }
    struct kord *o = calloc(1, sizeof *o);
    if (o)
        k->ord[k->n_ord++] = o;
    return o;
}

/* Finished orders older than the newest 256 are forgotten. */
void kis_ord_gc(struct kis *k)
{
    if (k->n_ord < 512)
        return;
    size_t w = 0;
    for (size_t i = 0; i < k->n_ord; i++) {
        if (k->ord[i]->done && i + 256 < k->n_ord)
            free(k->ord[i]);
        else
            k->ord[w++] = k->ord[i];
    }
    k->n_ord = w;
}

/* -------------------------------------------------------------- state file
 *
 * The client order id -> KIS order number map (with the branch number and
 * order type a cancel or modify needs) survives a restart in `state_file`:
 * one JSON object per line, appended whenever an order's venue state
 * changes (accepted, modified, filled, finished), the last line of a client
 * id winning. On start and stop the file is rewritten with today's orders
 * only (KST; KIS cash orders are day orders). Owner-only (0600). A line that
 * does not parse is skipped with a warning, never fatal. */

void kis_state_fp(struct kis *k)
{
    unsigned char md[32];
    unsigned int n = 0;
    char in[64];
    snprintf(in, sizeof in, "%s|%s|%s", k->vts ? "vts" : "real", k->cano, k->prdt);
    EVP_Digest(in, strlen(in), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++)
        snprintf(k->acct_fp + 2 * i, 3, "%02x", md[i]);
}

/* One line (with '\n'), owned by the caller; NULL on allocation failure. */
static char *state_line(const struct kis *k, const struct kord *o)
{
    json_t *j = json_pack(
        "{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:b,s:I}", "v", 1, "a",
        k->acct_fp, "c", o->clordid, "o", o->odno, "oo", o->orig_odno, "g", o->orgno, "s",
        o->symbol, "d", o->dvsn, "sd", (int)o->side, "pe", (int)o->px_exp, "qe", (int)o->qty_exp,
        "q", (json_int_t)o->qty, "p", (json_int_t)o->px_krw, "cum", (json_int_t)o->cum, "amt",
        (json_int_t)o->cum_amt, "x", o->done, "t", (json_int_t)o->submit_ns);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return line;
}

/* Appends the order's current record (orders with an order number only). */
void kis_persist(struct kis *k, const struct kord *o)
{
    if (k->state_fd < 0 || !o->odno[0] || !o->clordid[0])
        return;
    char *line = state_line(k, o);
    if (!line)
        return;
    size_t n = strlen(line);
    /* O_APPEND: one write per line, so lines never interleave */
    if (write(k->state_fd, line, n) != (ssize_t)n) {
        KLOG(k, QTS_LOG_ERROR, "broker_kis: cannot append to the state file path=%s: %s",
             k->state_path, strerror(errno));
        k->host->metric_add(k->owner, "state_write_errors", 1);
    }
    free(line);
}

static bool kst_same_day(int64_t a_ns, int64_t b_ns)
{
    int64_t off = 9 * 3600 * NS_PER_S, day = 86400 * NS_PER_S;
    return (a_ns + off) / day == (b_ns + off) / day;
}

/* Parses one line into a new or existing order; 0, 1 (other account, or an
 * earlier day: dropped quietly) or QTS_EPARSE with `why`. */
static int state_apply(struct kis *k, const char *line, const char **why)
{
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        *why = "not a JSON object";
        return QTS_EPARSE;
    }
    int rc = QTS_EPARSE;
    const char *a = kis_jstr(j, "a"), *c = kis_jstr(j, "c"), *od = kis_jstr(j, "o"),
               *oo = kis_jstr(j, "oo"), *g = kis_jstr(j, "g"), *sym = kis_jstr(j, "s"),
               *d = kis_jstr(j, "d");
    json_t *sd = json_object_get(j, "sd"), *q = json_object_get(j, "q"),
           *t = json_object_get(j, "t");
    int64_t side = json_is_integer(sd) ? (int64_t)json_integer_value(sd) : 0;
    int64_t qty = json_is_integer(q) ? (int64_t)json_integer_value(q) : 0;
    if (!a || !c || !c[0] || strlen(c) >= QTS_CLORDID_MAX || !od || !od[0] || strlen(od) >= 16 ||
        !sym || strlen(sym) >= QTS_SYMBOL_MAX || !g || strlen(g) >= 8 || !d || strlen(d) >= 4 ||
        (side != QTS_SIDE_BUY && side != QTS_SIDE_SELL) || qty <= 0 || !json_is_integer(t)) {
        *why = "missing or invalid fields";
        goto out;
    }
    if (strcmp(a, k->acct_fp) != 0 ||
        !kst_same_day((int64_t)json_integer_value(t), kis_wall_ns())) {
        rc = 1;
        goto out;
    }
    struct kord *o = kis_ord_by_clordid(k, c);
    if (!o && !(o = kis_ord_new(k))) {
        *why = "out of memory";
        goto out;
    }
    snprintf(o->clordid, sizeof o->clordid, "%s", c);
    snprintf(o->odno, sizeof o->odno, "%s", od);
    snprintf(o->orig_odno, sizeof o->orig_odno, "%s", oo && oo[0] && strlen(oo) < 16 ? oo : od);
    snprintf(o->orgno, sizeof o->orgno, "%s", g);
    snprintf(o->symbol, sizeof o->symbol, "%s", sym);
    snprintf(o->dvsn, sizeof o->dvsn, "%s", d);
    o->side = (uint8_t)side;
    o->px_exp = (uint8_t)(kis_jnum(j, "pe") <= QTS_MAX_EXP ? kis_jnum(j, "pe") : 0);
    o->qty_exp = (uint8_t)(kis_jnum(j, "qe") <= QTS_MAX_EXP ? kis_jnum(j, "qe") : 0);
    o->qty = qty;
    o->px_krw = kis_jnum(j, "p");
    o->cum = kis_jnum(j, "cum");
    o->cum_amt = kis_jnum(j, "amt");
    o->done = json_is_true(json_object_get(j, "x"));
    o->submit_ns = (int64_t)json_integer_value(t);
    o->acked = true;
    o->prev_run = true;
    rc = 0;
out:
    json_decref(j);
    return rc;
}

/* Rewrites the file with today's orders (0600, temporary file + rename). */
static int state_compact(struct kis *k)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", k->state_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && fchmod(fd, 0600) == 0;
    int64_t now = kis_wall_ns();
    for (size_t i = 0; ok && i < k->n_ord; i++) {
        const struct kord *o = k->ord[i];
        if (!o->odno[0] || !o->clordid[0] || !kst_same_day(o->submit_ns, now))
            continue;
        char *line = state_line(k, o);
        size_t n = line ? strlen(line) : 0;
        ok = line && write(fd, line, n) == (ssize_t)n;
        free(line);
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, k->state_path) != 0)
        ok = false;
    if (!ok) {
        KLOG(k, QTS_LOG_ERROR, "broker_kis: cannot rewrite the state file path=%s: %s",
             k->state_path, strerror(errno));
        unlink(tmp);
        return QTS_EIO;
    }
    return 0;
}

/* Start: read the map back, compact, open for appending. Never fatal. */
void kis_state_open(struct kis *k)
{
    if (!k->state_path[0])
        return;
    /* the parent directories (0700), as for ~/.local/state on a new box */
    char dir[512];
    snprintf(dir, sizeof dir, "%s", k->state_path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1;; p++) {
            if (*p != '/' && *p != '\0')
                continue;
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                KLOG(k, QTS_LOG_WARN, "broker_kis: cannot create %s: %s", dir, strerror(errno));
                break;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(k->state_path, &st) == 0) {
        if (st.st_uid != getuid()) {
            KLOG(k, QTS_LOG_ERROR,
                 "broker_kis: state file not owned by this user, order map not kept path=%s",
                 k->state_path);
            return;
        }
        if ((st.st_mode & 077) != 0) {
            KLOG(k, QTS_LOG_WARN,
                 "broker_kis: state file was readable by others; set to 0600 path=%s",
                 k->state_path);
            if (chmod(k->state_path, 0600) != 0)
                return;
        }
        FILE *f = fopen(k->state_path, "re");
        if (f) {
            char *line = NULL;
            size_t cap = 0, lineno = 0, bad = 0;
            ssize_t n;
            while ((n = getline(&line, &cap, f)) >= 0) {
                lineno++;
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                    line[--n] = '\0';
                if (n == 0)
                    continue;
                const char *why = "";
                int rc = state_apply(k, line, &why);
                if (rc < 0) {
                    bad++;
                    KLOG(k, QTS_LOG_WARN, "broker_kis: state file line %zu skipped (%s) path=%s",
                         lineno, why, k->state_path);
                }
            }
            free(line);
            fclose(f);
            size_t open_n = 0;
            for (size_t i = 0; i < k->n_ord; i++)
                open_n += !k->ord[i]->done;
            KLOG(k, QTS_LOG_INFO,
                 "broker_kis: order map restored path=%s orders=%zu working=%zu skipped_lines=%zu",
                 k->state_path, k->n_ord, open_n, bad);
            if (bad)
                k->host->metric_add(k->owner, "state_bad_lines", (int64_t)bad);
            k->restored_working = open_n > 0;
        }
        for (size_t i = 0; i < k->n_ord; i++) {
            struct kord *o = k->ord[i];
            const struct qts_instrument *in = k->host->instrument_find(k->owner, o->symbol);
            if (in)
                o->instrument = in->id;
        }
    }
    if (state_compact(k) != 0)
        return;
    k->state_fd = open(k->state_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (k->state_fd < 0)
        KLOG(k, QTS_LOG_ERROR, "broker_kis: cannot open the state file path=%s: %s", k->state_path,
             strerror(errno));
}

void kis_state_close(struct kis *k)
{
    if (k->state_fd < 0)
        return;
    close(k->state_fd);
    k->state_fd = -1;
    state_compact(k);
}

void kis_report_init(struct qts_exec_report *r, const struct kord *o, int type)
{
    memset(r, 0, sizeof *r);
    r->struct_size = sizeof *r;
    r->exec_type = (uint8_t)type;
    r->side = o->side;
    r->instrument = o->instrument;
    r->px_exp = o->px_exp;
    r->qty_exp = o->qty_exp;
    snprintf(r->client_order_id, sizeof r->client_order_id, "%s", o->clordid);
    snprintf(r->venue_order_id, sizeof r->venue_order_id, "%s", o->odno);
    int64_t scale = kis_pow10i(o->qty_exp);
    r->cum_qty = o->cum * scale;
    r->leaves_qty = o->done ? 0 : (o->qty - o->cum) * scale;
}

void kis_report(struct kis *k, struct kord *o, int type, int code, const char *text)
{
    struct qts_exec_report r;
    kis_report_init(&r, o, type);
    r.ts_venue_ns = k->host->now_ns(k->owner);
    r.code = code;
    if (text)
        snprintf(r.text, sizeof r.text, "%s", text);
    kis_persist(k, o); /* on disk before the OMS hears of it */
    k->host->emit_exec_report(k->owner, &r);
}

/* ------------------------------------------------------------- token cache */

static void key_fingerprint(const struct kis *k, char out[17])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(k->app_key, strlen(k->app_key), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The cached token is reused across restarts until it expires: every real
 * issue sends the account holder a notification and KIS allows one a
 * minute. Written 0600 via a temporary file and rename. */
void kis_token_save(struct kis *k)
{
    if (!k->token_path[0])
        return;
    char fp[17];
    key_fingerprint(k, fp);
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:s}", "env", k->vts ? "vts" : "real", "key", fp,
                          "expires_ns", (json_int_t)k->token_exp_ns, "issued_ns",
                          (json_int_t)k->last_issue_ns, "access_token", k->token);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return;
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", k->token_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && fchmod(fd, 0600) == 0;
    size_t n = strlen(text);
    ok = ok && write(fd, text, n) == (ssize_t)n;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, k->token_path) != 0)
        ok = false;
    if (!ok) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: cannot write token cache path=%s: %s", k->token_path,
             strerror(errno));
        unlink(tmp);
    }
    free(text);
}

void kis_token_load(struct kis *k)
{
    if (!k->token_path[0])
        return;
    struct stat st;
    if (stat(k->token_path, &st) != 0)
        return;
    if ((st.st_mode & 077) != 0 || st.st_uid != getuid()) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: token cache ignored (not owner-only 0600) path=%s",
             k->token_path);
        return;
    }
    json_error_t je;
    json_t *o = json_load_file(k->token_path, 0, &je);
    if (!o)
        return;
    char fp[17];
    key_fingerprint(k, fp);
    const char *env = kis_jstr(o, "env"), *key = kis_jstr(o, "key"),
               *tok = kis_jstr(o, "access_token");
    json_t *exp = json_object_get(o, "expires_ns"), *iss = json_object_get(o, "issued_ns");
    if (env && key && tok && json_is_integer(exp) && strcmp(env, k->vts ? "vts" : "real") == 0 &&
        strcmp(key, fp) == 0 && strlen(tok) < sizeof k->token) {
        snprintf(k->token, sizeof k->token, "%s", tok);
        k->token_exp_ns = (int64_t)json_integer_value(exp);
        if (json_is_integer(iss))
            k->last_issue_ns = (int64_t)json_integer_value(iss);
        if (k->token_exp_ns <= kis_wall_ns())
            k->token[0] = '\0';
    }
    json_decref(o);
}

bool kis_token_valid(const struct kis *k)
{
    return k->token[0] && kis_wall_ns() < k->token_exp_ns - k->refresh_ahead_ns;
}
