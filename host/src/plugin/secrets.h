/* secrets.h — where the host and its plugins find secrets (API keys, bot
 * tokens, database passwords): never in the configuration file.
 *
 * QTS_SECRET_<NAME> in the environment (upper case, every character outside
 * [A-Za-z0-9] as '_'), else <secrets_dir>/<name>, which must be a regular
 * file readable by its owner only (mode 0600 or stricter). One trailing
 * newline is stripped. Names: letters, digits, '_', '-', '.', not starting
 * with '.'.
 */
#ifndef QTS_SECRETS_H
#define QTS_SECRETS_H

#include <stddef.h>

#include "qts/qts_err.h"

/* The secret `name` into buf (NUL-terminated). secrets_dir may be NULL (the
 * environment only). 0, or QTS_ENOENT (not set), QTS_EPERM (a file others
 * can read), QTS_ERANGE (longer than cap), QTS_EINVAL, QTS_EIO; err says
 * which, never with the secret's value. */
int qts_secret_get(const char *secrets_dir, const char *name, char *buf, size_t cap,
                   struct qts_err *err);

#endif /* QTS_SECRETS_H */
