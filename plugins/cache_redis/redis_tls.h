/* redis_tls.h — TLS for cache_redis without a TLS-capable hiredis: an
 * in-process bridge (docs/adr/0003-redis-tls.md).
 *
 * One bridge carries one Redis connection: it resolves the server, connects
 * over TCP and runs the TLS handshake (OpenSSL with memory BIOs, all on the
 * libuv loop, never blocking). When TLS is up it listens on a Unix socket in
 * a fresh 0700 directory and reports the path; hiredis connects there in
 * plain text. The first connection from this process is accepted, the
 * socket file and directory are removed at once, and from then on bytes are
 * piped both ways (encrypted towards Redis). */
#ifndef QTS_REDIS_TLS_H
#define QTS_REDIS_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <uv.h>

struct qts_redis_tls_cfg {
    bool verify;           /* check the chain and the name (default on) */
    const char *ca_file;   /* borrowed; NULL/"" = none */
    const char *ca_dir;    /* borrowed; NULL/"" = none; both empty = system store */
    const char *cert_file; /* borrowed; client certificate chain (mutual TLS) */
    const char *key_file;  /* borrowed; its key: mode 0600 or stricter */
};

/* A client SSL_CTX for `cfg` (*out owned: qts_redis_tls_ctx_free). Reads
 * the CA, certificate and key files now, so a bad path or key is a
 * configuration error at load. Returns 0 or -1 with `msg` filled. */
int qts_redis_tls_ctx_new(const struct qts_redis_tls_cfg *cfg, SSL_CTX **out, char *msg,
                          size_t cap);
void qts_redis_tls_ctx_free(SSL_CTX *ctx);

enum qts_redis_tls_event {
    QTS_REDIS_TLS_READY = 1, /* TLS is up: connect hiredis to `text` (a unix socket path) */
    QTS_REDIS_TLS_FAILED,    /* `text` says why; no further I/O, the owner closes the bridge */
};

/* `text` is borrowed for the call. The callback may call qts_redis_tls_close. */
typedef void (*qts_redis_tls_fn)(void *arg, enum qts_redis_tls_event ev, const char *text);

struct qts_redis_tls;

/* Start a bridge to host:port. `server_name` is the name (or IP address)
 * the certificate must carry and, for a name, the SNI sent. `ctx` is
 * up-referenced (the caller may free its own reference at any time).
 * `*open_handles` is incremented now and decremented once the bridge's
 * memory and every uv handle are gone (borrowed; must outlive the bridge).
 * Returns 0 with *out set (owned: qts_redis_tls_close) or -1 with `msg`
 * filled; events are only delivered after this returns. */
int qts_redis_tls_open(uv_loop_t *loop, SSL_CTX *ctx, const char *host, int port,
                       const char *server_name, bool verify, qts_redis_tls_fn cb, void *arg,
                       int *open_handles, struct qts_redis_tls **out, char *msg, size_t cap);

/* What the bridge is waiting for ("resolve", "tcp connect", "tls handshake",
 * "local accept", "up"): for timeout messages. */
const char *qts_redis_tls_stage(const struct qts_redis_tls *b);

/* Stop all I/O, no more callbacks; memory goes when every handle closed. */
void qts_redis_tls_close(struct qts_redis_tls *b);

#endif
