/* fuzz_keylog.c - ktls/ssl.c's keylog callback on any line.
 *
 * OpenSSL hands the callback NSS key log lines ("LABEL <client_random hex> <secret hex>"); the
 * callback keeps the two application traffic secrets by parsing that text. The line's middle
 * field is the client random, which a peer chooses. The callback is reached as OpenSSL reaches
 * it: ktls_ssl_ctx_prepare() installs it, SSL_CTX_get_keylog_callback() returns it, and it runs
 * on an SSL that ktls_ssl_attach() prepared, with the input as a NUL-terminated line.
 *
 * What must hold: no crash or overread (the line is an exact-size heap copy), the keylog callback
 * that was set before ktls's (SSLKEYLOGFILE) is called exactly once with the very same line, and
 * ktls_ssl_export() afterwards refuses cleanly (no handshake happened).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "ktls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static SSL_CTX *server_ctx, *client_ctx;
static const char *prev_line;
static unsigned prev_calls;

static void prev_keylog(const SSL *ssl, const char *line)
{
	prev_line = line;
	prev_calls++;
}

static SSL_CTX *make_ctx(const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	char why[256];

	if (!ctx)
		abort();
	SSL_CTX_set_keylog_callback(ctx, prev_keylog);
	if (ktls_ssl_ctx_prepare(ctx, why, sizeof(why)) != 0)
		abort();
	return ctx;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	server_ctx = make_ctx(TLS_server_method());
	client_ctx = make_ctx(TLS_client_method());
	return 0;
}

/* One line on a fresh SSL of ctx: which secret is TX and which RX depends on the role. */
static void one_role(SSL_CTX *ctx, char *line)
{
	SSL_CTX_keylog_cb_func cb = SSL_CTX_get_keylog_callback(ctx);
	struct ktls_crypto tx, rx;
	char why[256];
	SSL *ssl = SSL_new(ctx);

	if (!ssl || !cb || ktls_ssl_attach(ssl, why, sizeof(why)) != 0)
		abort();
	prev_line = NULL;
	prev_calls = 0;
	cb(ssl, line);
	if (prev_calls != 1 || prev_line != line)
		abort();
	/* Twice: a second line for the same label replaces the first (a new secret). */
	cb(ssl, line);
	if (ktls_ssl_export(ssl, &tx, &rx, why, sizeof(why)) != -EAGAIN)
		abort();
	SSL_free(ssl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);

	if (!line)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	one_role(server_ctx, line);
	one_role(client_ctx, line);
	free(line);
	return 0;
}
