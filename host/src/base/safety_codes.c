/* safety_codes.c — the code table (safety_codes.h). */
#include "safety_codes.h"

#include <string.h>

static const struct qts_safety_code_info codes[QTS_SC_COUNT] = {
#define QTS_SC_ROW_(id, fam, num, eff, meaning, action) \
    [QTS_SC_##id] = {#id, QTS_SF_##fam, QTS_SE_##eff, (num), (meaning), (action)},
    QTS_SAFETY_CODES(QTS_SC_ROW_)
#undef QTS_SC_ROW_
};

const struct qts_safety_code_info *qts_safety_code_info(int code)
{
    if (code < 0 || code >= QTS_SC_COUNT)
        return NULL;
    return &codes[code];
}

int qts_safety_code_find(const char *str)
{
    if (!str)
        return -1;
    for (int i = 0; i < QTS_SC_COUNT; i++)
        if (strcmp(codes[i].str, str) == 0)
            return i;
    return -1;
}

const char *qts_safety_family_name(int family)
{
    switch (family) {
    case QTS_SF_FS: return "FS";
    case QTS_SF_GR: return "GR";
    case QTS_SF_AN: return "AN";
    default: return "?";
    }
}

const char *qts_safety_effect_name(int effect)
{
    switch (effect) {
    case QTS_SE_NOTICE: return "notice";
    case QTS_SE_LIMIT: return "limit";
    case QTS_SE_WARN: return "warn";
    case QTS_SE_TRIP: return "trip";
    default: return "?";
    }
}
