/* sweep_grid.c — see sweep_grid.h. */
#include "sweep_grid.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void push(struct qts_sweep_axis *a, const char *v, size_t n)
{
    a->values = qts_xrealloc(a->values, (a->n_values + 1) * sizeof *a->values);
    char *s = qts_xmalloc(n + 1);
    memcpy(s, v, n);
    s[n] = '\0';
    a->values[a->n_values++] = s;
}

static int number(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*out) ? 0 : -1;
}

/* start:stop:step, written as integers when all three are. */
static int expand_range(struct qts_sweep_axis *a, const char *spec, const char *arg,
                        struct qts_err *err)
{
    char buf[3][64];
    const char *p = spec;
    for (int i = 0; i < 3; i++) {
        size_t k = strcspn(p, ":");
        if (k == 0 || k >= sizeof buf[i] || (i < 2 && p[k] != ':') || (i == 2 && p[k]))
            return qts_err_set(err, QTS_EINVAL,
                               "--param %s: a range is START:STOP:STEP (e.g. 5:30:5)", arg);
        memcpy(buf[i], p, k);
        buf[i][k] = '\0';
        p += k + 1;
    }
    double v[3];
    for (int i = 0; i < 3; i++)
        if (number(buf[i], &v[i]) != 0)
            return qts_err_set(err, QTS_EINVAL, "--param %s: '%s' is not a number", arg, buf[i]);
    if (!(v[2] > 0) || v[1] < v[0])
        return qts_err_set(err, QTS_EINVAL, "--param %s: a range needs STOP >= START and STEP > 0",
                           arg);
    bool ints = !strpbrk(buf[0], ".eE") && !strpbrk(buf[1], ".eE") && !strpbrk(buf[2], ".eE");
    double span = (v[1] - v[0]) / v[2];
    if (span >= QTS_SWEEP_MAX_SETS)
        return qts_err_set(err, QTS_EINVAL, "--param %s: more than %d values", arg,
                           QTS_SWEEP_MAX_SETS);
    /* the stop is included when a step lands on it (within rounding) */
    size_t n = (size_t)floor(span + 1e-9) + 1;
    for (size_t k = 0; k < n; k++) {
        char t[64];
        double x = v[0] + (double)k * v[2];
        if (ints)
            snprintf(t, sizeof t, "%lld", (long long)llround(x));
        else
            snprintf(t, sizeof t, "%.10g", x);
        push(a, t, strlen(t));
    }
    return 0;
}

int qts_sweep_grid_add(struct qts_sweep_grid *g, const char *arg, struct qts_err *err)
{
    const char *eq = strchr(arg, '=');
    const char *dot = strchr(arg, '.');
    if (!eq || !dot || dot > eq || dot == arg || eq == dot + 1 || !eq[1])
        return qts_err_set(err, QTS_EINVAL,
                           "--param %s: expected STRATEGY.KEY=VALUES (ema.fast=5:30:5, "
                           "ema.slow=20,40,80)",
                           arg);
    struct qts_sweep_axis a = {0};
    size_t name_len = (size_t)(eq - arg);
    a.name = qts_xmalloc(name_len + 1);
    memcpy(a.name, arg, name_len);
    a.name[name_len] = '\0';
    for (size_t i = 0; i < g->n_axes; i++)
        if (strcmp(g->axes[i].name, a.name) == 0) {
            free(a.name);
            return qts_err_set(err, QTS_EINVAL, "--param %s: %s is given twice", arg,
                               g->axes[i].name);
        }
    size_t path_len = strlen("strategies.list.") + name_len + strlen(".params") + 1;
    a.path = qts_xmalloc(path_len);
    snprintf(a.path, path_len, "strategies.list.%.*s.params%s", (int)(dot - arg), arg,
             a.name + (dot - arg));
    const char *vals = eq + 1;
    int rc = 0;
    if (strchr(vals, ':')) {
        rc = expand_range(&a, vals, arg, err);
    } else {
        for (const char *p = vals;;) {
            size_t k = strcspn(p, ",");
            if (k == 0) {
                rc = qts_err_set(err, QTS_EINVAL, "--param %s: an empty value in the list", arg);
                break;
            }
            push(&a, p, k);
            if (!p[k])
                break;
            p += k + 1;
        }
    }
    size_t sets = (g->n_axes ? g->n_sets : 1) * (a.n_values ? a.n_values : 1);
    if (rc == 0 && sets > QTS_SWEEP_MAX_SETS)
        rc = qts_err_set(err, QTS_EINVAL, "--param %s: the grid would have %zu sets (at most %d)",
                         arg, sets, QTS_SWEEP_MAX_SETS);
    if (rc != 0) {
        for (size_t i = 0; i < a.n_values; i++)
            free(a.values[i]);
        qts_free_all(a.values, a.name, a.path);
        return rc;
    }
    g->axes = qts_xrealloc(g->axes, (g->n_axes + 1) * sizeof *g->axes);
    g->axes[g->n_axes++] = a;
    g->n_sets = sets;
    return 0;
}

const char *qts_sweep_grid_value(const struct qts_sweep_grid *g, size_t k, size_t a)
{
    size_t stride = 1; /* the last axis varies fastest */
    for (size_t i = g->n_axes; i-- > a + 1;)
        stride *= g->axes[i].n_values;
    return g->axes[a].values[(k / stride) % g->axes[a].n_values];
}

void qts_sweep_grid_free(struct qts_sweep_grid *g)
{
    for (size_t a = 0; a < g->n_axes; a++) {
        for (size_t i = 0; i < g->axes[a].n_values; i++)
            free(g->axes[a].values[i]);
        qts_free_all(g->axes[a].values, g->axes[a].name, g->axes[a].path);
    }
    free(g->axes);
    g->axes = NULL;
    g->n_axes = g->n_sets = 0;
}
