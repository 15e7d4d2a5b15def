/* store_keys.h — configuration keys every store plugin reads the same way
 * (rows of its struct qts_cfg_key table, qts_plugin.h). The defaults are the
 * retention of docs/storage.md; each plugin starts from the same numbers. */
#ifndef QTS_STORE_KEYS_H
#define QTS_STORE_KEYS_H

#include "qts/qts_plugin.h"

#define STORE_KEYS_HOST_AND_RETENTION                                                     \
    QTS_CFG_STR("host_id", "qts", "host id stamped on every row"),                        \
        QTS_CFG_INT("retention.tick_days", "7", "days of ticks kept"),                    \
        QTS_CFG_INT("retention.bar_1m_days", "30", "days of 1-minute bars kept"),         \
        QTS_CFG_INT("retention.exec_log_days", "90", "days of execution logs kept"),      \
        QTS_CFG_INT("retention.feedback_days", "180", "days of execution feedback kept"), \
        QTS_CFG_INT("retention.decision_days", "365", "days of the decision log kept")

#endif /* QTS_STORE_KEYS_H */
