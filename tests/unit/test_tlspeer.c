/* test_tlspeer.c - tlspeer/: the error queue in words, the classification of an SSL call's
 * failure, and stunnel's verification semantics, on real handshakes over a socketpair with a
 * certificate made here (no files). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tlspeer.h"

/* ---- the error queue --------------------------------------------------------------------- */

static void empty_queue_says_no_further_detail(void **state)
{
	char why[256];

	ERR_clear_error();
	tlspeer_error_text("loading", why, sizeof(why));
	assert_string_equal(why, "loading: no further detail");
}

/* The root cause (the file that would not open) is the first entry, not the last. */
static void whole_queue_with_its_data(void **state)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[512];

	ERR_clear_error();
	assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, "/nonexistent/cert.pem"), 0);
	tlspeer_error_text("cannot load certificate", why, sizeof(why));
	assert_non_null(strstr(why, "cannot load certificate: No such file or directory"));
	assert_non_null(strstr(why, "/nonexistent/cert.pem"));
	assert_non_null(strstr(why, "; ")); /* more than one entry */
	assert_int_equal(ERR_peek_error(), 0);
	SSL_CTX_free(ctx);
}

static void repeated_entries_once(void **state)
{
	char why[256];

	ERR_clear_error();
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
	ERR_raise_data(ERR_LIB_SSL, SSL_R_BAD_LENGTH, "x");
	tlspeer_error_text("w", why, sizeof(why));
	assert_string_equal(why, "w: bad length; bad length (x)");
}

/* A message longer than the buffer is cut, never overrun. */
static void long_queue_is_cut(void **state)
{
	char why[40];

	ERR_clear_error();
	for (int i = 0; i < 50; i++)
		ERR_raise_data(ERR_LIB_SSL, SSL_R_BAD_LENGTH, "entry %d", i);
	tlspeer_error_text("w", why, sizeof(why));
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- handshakes over a socketpair ------------------------------------------------------- */

/* A self-signed certificate for localhost and 127.0.0.1, made once. */
static EVP_PKEY *key;
static X509 *cert;

static int make_cert(void **state)
{
	X509_EXTENSION *san;
	X509_NAME *name;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	cert = X509_new();
	if (!key || !cert)
		return -1;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
				   -1, 0);
	X509_set_issuer_name(cert, name);
	san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	X509_add_ext(cert, san, -1);
	X509_EXTENSION_free(san);
	X509_set_pubkey(cert, key);
	return X509_sign(cert, key, EVP_sha256()) > 0 ? 0 : -1;
}

static int free_cert(void **state)
{
	X509_free(cert);
	EVP_PKEY_free(key);
	return 0;
}

struct pair {
	SSL_CTX *sctx, *cctx;
	SSL *server, *client;
	int fd[2];
	int sret, cret; /* the last SSL_do_handshake results */
};

/* A server with the certificate, a client with policy p (the certificate is its only trusted
 * one when trust is set), over a non-blocking socketpair. */
static void pair_open(struct pair *pp, const struct tlspeer_policy *p, bool trust)
{
	char why[256];

	memset(pp, 0, sizeof(*pp));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pp->fd), 0);
	pp->sctx = SSL_CTX_new(TLS_server_method());
	pp->cctx = SSL_CTX_new(TLS_client_method());
	assert_int_equal(SSL_CTX_use_certificate(pp->sctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(pp->sctx, key), 1);
	if (trust)
		assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(pp->cctx), cert), 1);
	assert_int_equal(tlspeer_ctx_setup(pp->cctx, false, p, why, sizeof(why)), 0);
	pp->server = SSL_new(pp->sctx);
	pp->client = SSL_new(pp->cctx);
	SSL_set_fd(pp->server, pp->fd[0]);
	SSL_set_fd(pp->client, pp->fd[1]);
	SSL_set_accept_state(pp->server);
	SSL_set_connect_state(pp->client);
}

/* Both sides in turn until both are done or one fails for good. True when both completed. */
static bool pair_handshake(struct pair *pp)
{
	bool sdone = false, cdone = false;

	for (int i = 0; i < 50 && !(sdone && cdone); i++) {
		if (!cdone) {
			ERR_clear_error();
			pp->cret = SSL_do_handshake(pp->client);
			cdone = pp->cret == 1;
			if (!cdone && SSL_get_error(pp->client, pp->cret) != SSL_ERROR_WANT_READ)
				return false;
		}
		if (!sdone) {
			ERR_clear_error();
			pp->sret = SSL_do_handshake(pp->server);
			sdone = pp->sret == 1;
			if (!sdone && SSL_get_error(pp->server, pp->sret) != SSL_ERROR_WANT_READ)
				return false;
		}
	}
	return sdone && cdone;
}

static void pair_close(struct pair *pp)
{
	SSL_free(pp->server);
	SSL_free(pp->client);
	SSL_CTX_free(pp->sctx);
	SSL_CTX_free(pp->cctx);
	close(pp->fd[0]);
	close(pp->fd[1]);
}

/* One handshake with policy p on the client; rejected: the reason it must give, NULL when the
 * handshake must succeed. trust: the server's certificate is in the client's store. */
static void handshake_with(const struct tlspeer_policy *p, bool trust, const char *rejected)
{
	struct pair pp;
	char why[256];

	pair_open(&pp, p, trust);
	if (!rejected) {
		assert_true(pair_handshake(&pp));
	} else {
		assert_false(pair_handshake(&pp));
		assert_int_equal(tlspeer_ssl_failure(pp.client, pp.cret, NULL, why, sizeof(why)),
				 TLSPEER_VERIFY);
		assert_string_equal(why, rejected);
	}
	pair_close(&pp);
}

/* verifyChain on a certificate nobody trusts: refused, and the log says why. */
static void untrusted_chain_is_rejected(void **state)
{
	const struct tlspeer_policy p = {.chain = true};

	handshake_with(&p, false, "peer certificate rejected: self-signed certificate");
}

/* Without verifyChain a chain error is ignored (stunnel's meaning). */
static void chain_errors_ignored_without_verify_chain(void **state)
{
	const struct tlspeer_policy p = {.request = true};

	handshake_with(&p, false, NULL);
}

static void check_host_mismatch_is_rejected(void **state)
{
	char *hosts[] = {"wrong.example", NULL};
	const struct tlspeer_policy p = {.chain = true, .check_host = hosts};

	handshake_with(&p, true, "peer certificate rejected: hostname mismatch");
}

/* checkHost and checkIP: any one matching name is enough. */
static void any_check_matching_accepts(void **state)
{
	char *hosts[] = {"wrong.example", NULL}, *ips[] = {"127.0.0.1", NULL};
	const struct tlspeer_policy p = {.chain = true, .check_host = hosts, .check_ip = ips};

	handshake_with(&p, true, NULL);
}

/* verifyPeer accepts the certificate itself in the store, whatever its chain... */
static void verify_peer_accepts_the_stored_certificate(void **state)
{
	const struct tlspeer_policy p = {.peer = true};

	handshake_with(&p, true, NULL);
}

/* ... and only it: a certificate not in the store is refused. The test's certificate is
 * self-signed: OpenSSL's own verdict is kept (stunnel 5.68 does, and so sends unknown_ca). */
static void verify_peer_rejects_a_certificate_not_stored(void **state)
{
	const struct tlspeer_policy p = {.peer = true};

	handshake_with(&p, false, "peer certificate rejected: self-signed certificate");
}

/* The policy is the context's own copy: the caller's may go. */
static void policy_copied(void **state)
{
	char host[] = "localhost", *hosts[] = {host, NULL};
	struct tlspeer_policy p = {.chain = true, .check_host = hosts};
	struct pair pp;

	pair_open(&pp, &p, true);
	strcpy(host, "elsewhere"); /* the caller's list now names another host */
	assert_true(pair_handshake(&pp));
	pair_close(&pp);
}

/* A pair past its handshake, no verification. */
static void pair_connected(struct pair *pp)
{
	const struct tlspeer_policy p = {0};

	pair_open(pp, &p, false);
	assert_true(pair_handshake(pp));
}

/* One SSL_read on the client, as the relay makes it, and what its failure means. */
static enum tlspeer_failure client_read(struct pair *pp, char *why, size_t whylen)
{
	char buf[16];
	int n;

	ERR_clear_error();
	errno = 0;
	n = SSL_read(pp->client, buf, sizeof(buf));
	assert_true(n <= 0);
	return tlspeer_ssl_failure(pp->client, n, NULL, why, whylen);
}

/* An EOF in the middle of the stream, without close_notify, is a truncation. */
static void eof_without_close_notify_is_truncated(void **state)
{
	struct pair pp;
	char why[256];

	pair_connected(&pp);
	shutdown(pp.fd[0], SHUT_WR);
	assert_int_equal(client_read(&pp, why, sizeof(why)), TLSPEER_TRUNCATED);
	assert_string_equal(why, "TLS peer closed without close_notify (truncated)");
	pair_close(&pp);
}

static void close_notify_and_want_read(void **state)
{
	struct pair pp;
	char why[256];

	pair_connected(&pp);
	assert_int_equal(client_read(&pp, why, sizeof(why)), TLSPEER_WANT);
	SSL_shutdown(pp.server);
	assert_int_equal(client_read(&pp, why, sizeof(why)), TLSPEER_CLOSE_NOTIFY);
	assert_string_equal(why, "peer sent close_notify");
	pair_close(&pp);
}

/* A socket error is reported with its errno. */
static void socket_error_gives_errno(void **state)
{
	struct pair pp;
	char why[256];
	int n, sys;

	pair_connected(&pp);
	SSL_set_fd(pp.client, -1); /* a closed descriptor: EBADF */
	ERR_clear_error();
	errno = 0;
	n = SSL_write(pp.client, "x", 1);
	assert_int_equal(tlspeer_ssl_failure(pp.client, n, &sys, why, sizeof(why)),
			 TLSPEER_SYSCALL);
	assert_int_equal(sys, EBADF);
	assert_string_equal(why, strerror(EBADF));
	pair_close(&pp);
}

static void levels_follow_stunnel(void **state)
{
	static const struct {
		int level;
		bool request, require, chain, peer;
	} rows[] = {
	    {-1, false, false, false, false}, {0, true, false, false, false},
	    {1, true, false, true, false},    {2, true, true, true, false},
	    {3, true, true, true, true},      {4, true, true, false, true},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tlspeer_policy p = {0};

		tlspeer_policy_level(&p, rows[i].level);
		assert_int_equal(p.request, rows[i].request);
		assert_int_equal(p.require, rows[i].require);
		assert_int_equal(p.chain, rows[i].chain);
		assert_int_equal(p.peer, rows[i].peer);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_queue_says_no_further_detail),
	    cmocka_unit_test(whole_queue_with_its_data),
	    cmocka_unit_test(repeated_entries_once),
	    cmocka_unit_test(long_queue_is_cut),
	    cmocka_unit_test(untrusted_chain_is_rejected),
	    cmocka_unit_test(chain_errors_ignored_without_verify_chain),
	    cmocka_unit_test(check_host_mismatch_is_rejected),
	    cmocka_unit_test(any_check_matching_accepts),
	    cmocka_unit_test(verify_peer_accepts_the_stored_certificate),
	    cmocka_unit_test(verify_peer_rejects_a_certificate_not_stored),
	    cmocka_unit_test(policy_copied),
	    cmocka_unit_test(eof_without_close_notify_is_truncated),
	    cmocka_unit_test(close_notify_and_want_read),
	    cmocka_unit_test(socket_error_gives_errno),
	    cmocka_unit_test(levels_follow_stunnel),
	};

	return cmocka_run_group_tests(tests, make_cert, free_cert);
}
