/* config_reload.c — see config_reload.h. The mutex is held only for a
 * pointer load plus a refcount increment (readers) or a pointer swap
 * (reload); loading and freeing snapshots happen outside it. */
#include "config_reload.h"

#include <signal.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"

void qts_config_holder_init(struct qts_config_holder *h, struct qts_config *initial)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    h->cur = initial;
    h->path = qts_xstrdup(qts_config_path(initial));
}

void qts_config_holder_cleanup(struct qts_config_holder *h)
{
    QTS_ASSERT(!h->has_signal);
    qts_config_unref(h->cur);
    h->cur = NULL;
    free(h->path);
    h->path = NULL;
    pthread_mutex_destroy(&h->mu);
}

struct qts_config *qts_config_holder_get(struct qts_config_holder *h)
{
    pthread_mutex_lock(&h->mu);
    struct qts_config *c = qts_config_ref(h->cur);
    pthread_mutex_unlock(&h->mu);
    return c;
}

int qts_config_reload(struct qts_config_holder *h, struct qts_diags *diags)
{
    struct qts_diags local;
    struct qts_diags *d = diags;
    if (!d) {
        qts_diags_init(&local);
        d = &local;
    }
    struct qts_config *next = NULL;
    int rc = qts_config_load(h->path, &next, d);
    if (rc == 0 && h->check) {
        size_t before = d->n;
        h->check(h->check_ud, next, d);
        if (d->n > before) {
            qts_config_unref(next);
            rc = QTS_ECONFIG;
        }
    }
    if (d == &local)
        qts_diags_cleanup(&local);
    if (rc != 0) {
        pthread_mutex_lock(&h->mu);
        h->reloads_failed++;
        pthread_mutex_unlock(&h->mu);
        return rc;
    }
    pthread_mutex_lock(&h->mu);
    struct qts_config *old = h->cur;
    h->cur = next;
    h->reloads_ok++;
    pthread_mutex_unlock(&h->mu);
    qts_config_unref(old); /* readers holding references keep it alive */
    if (h->on_reload)
        h->on_reload(h->on_reload_ud, next);
    return 0;
}

static void on_sighup(uv_signal_t *sig, int signum)
{
    (void)signum;
    struct qts_config_holder *h = sig->data;
    struct qts_diags d;
    qts_diags_init(&d);
    QTS_INFO("config reload requested path=%s", h->path);
    if (qts_config_reload(h, &d) == 0) {
        QTS_INFO("config reloaded path=%s", h->path);
    } else {
        for (size_t i = 0; i < d.n; i++) {
            char line[768];
            qts_diag_format(&d.v[i], line, sizeof line);
            QTS_ERROR("config reload: %s", line);
        }
        QTS_ERROR("config reload rejected path=%s errors=%zu; the running configuration stays",
                  h->path, d.n);
    }
    qts_diags_cleanup(&d);
}

int qts_config_watch_sighup(struct qts_config_holder *h, uv_loop_t *loop)
{
    QTS_ASSERT(!h->has_signal);
    int rc = uv_signal_init(loop, &h->sighup);
    if (rc != 0)
        return QTS_ESYS;
    h->sighup.data = h;
    rc = uv_signal_start(&h->sighup, on_sighup, SIGHUP);
    if (rc != 0) {
        uv_close((uv_handle_t *)&h->sighup, NULL);
        return QTS_ESYS;
    }
    h->has_signal = 1;
    return 0;
}

static void on_closed(uv_handle_t *handle)
{
    struct qts_config_holder *h = handle->data;
    h->has_signal = 0;
}

void qts_config_unwatch_sighup(struct qts_config_holder *h)
{
    if (h->has_signal && !uv_is_closing((uv_handle_t *)&h->sighup))
        uv_close((uv_handle_t *)&h->sighup, on_closed);
}
