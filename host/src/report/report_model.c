/* report_model.c — see report_model.h. */
#include "report_model.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* value of "name=" in a model line, NaN if absent */
static double field(const char *line, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strchr(line, ' '); p; p = strchr(p + 1, ' ')) {
        if (strncmp(p + 1, name, n) == 0 && p[1 + n] == '=')
            return strtod(p + 2 + n, NULL);
    }
    return NAN;
}

static void num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

void qts_report_model_json(FILE *f, const char *dir)
{
    char path[1100], line[4096];
    snprintf(path, sizeof path, "%s/impact_model.txt", dir);
    FILE *in = fopen(path, "r");
    if (!in)
        return;
    char restored[160] = "none";
    bool first = true;
    fputs(",\n  \"feedback_model\": {\"keys\": [", f);
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "# restored: ", 12) == 0) {
            qts_strlcpy(restored, line + 12, sizeof restored);
            continue;
        }
        if (line[0] == '#' || line[0] == '\0')
            continue;
        size_t kl = strcspn(line, " ");
        double n = field(line, "n"), conf = field(line, "conf");
        /* the file writes 0 for the parameters of a key not fitted yet */
        bool fitted = field(line, "k") > 0;
        fprintf(f, "%s\n    {\"key\": \"%.*s\", \"n\": ", first ? "" : ",", (int)kl, line);
        num(f, n);
        fprintf(f, ", \"fitted\": %s, \"k\": ", fitted ? "true" : "false");
        num(f, fitted ? field(line, "k") : NAN);
        fputs(", \"beta\": ", f);
        num(f, fitted ? field(line, "beta") : NAN);
        fputs(", \"resid_sd\": ", f);
        num(f, fitted ? field(line, "sd") : NAN);
        fputs(", \"confidence\": ", f);
        num(f, fitted ? conf : 0);
        fputc('}', f);
        first = false;
    }
    fclose(in);
    fputs(first ? "]" : "\n  ]", f);
    fputs(", \"restored\": \"", f);
    for (const char *p = restored; *p; p++) /* our own text: no quotes, no controls */
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            fputc(*p, f);
    fputs("\"}", f);
}
