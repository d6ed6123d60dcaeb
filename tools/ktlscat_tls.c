/* ktlscat_tls.c - TLS 1.3 contexts with the relay's certificate options and stunnel's meaning:
 * --verify 0 requests a peer certificate, 1 verifies it if present, 2 requires and verifies the
 * chain, 3 the chain and the peer (the certificate itself in --CAfile), 4 only the peer;
 * --check-host accepts only a certificate for that name and needs a verifying level (tlspeer/,
 * shared with the relay, applies them). */
#include "ktlscat.h"
#include "tlspeer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

static int ex_index = -1;

static int ssl_error(const char *what, char *why, size_t whylen)
{
	tlspeer_error_text(what, why, whylen);
	return -EINVAL;
}

static int setup_cert(const struct ktlscat_opts *o, SSL_CTX *ctx, char *why, size_t whylen)
{
	const char *key = o->key ? o->key : o->cert;
	char what[512];

	if (!o->cert)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
		snprintf(what, sizeof(what), "cannot load certificate %s", o->cert);
		return ssl_error(what, why, whylen);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(what, sizeof(what), "cannot load private key %s", key);
		return ssl_error(what, why, whylen);
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(what, sizeof(what), "key %s does not match certificate %s", key, o->cert);
		return ssl_error(what, why, whylen);
	}
	return 0;
}

/* The levels and their checks are stunnel's, applied by tlspeer/ as in the relay. */
static int setup_verify(const struct ktlscat_opts *o, SSL_CTX *ctx, char *why, size_t whylen)
{
	char *hosts[] = {o->check_host, NULL};
	struct tlspeer_policy policy = {.ca_file = o->ca_file, .check_host = hosts};

	if (o->check_host && (o->verify < 2)) {
		snprintf(why, whylen,
			 "--check-host needs --verify 2, 3 or 4: a name is worth "
			 "checking only on a verified certificate");
		return -EINVAL;
	}
	tlspeer_policy_level(&policy, o->verify);
	if (o->send && o->verify < 1)
		fprintf(stderr, "ktlscat: note: no peer verification (--verify 2 and --CAfile): "
				"the server's identity is not checked\n");
	return tlspeer_ctx_setup(ctx, !o->send, &policy, why, whylen);
}

int ktlscat_ctx_new(const struct ktlscat_opts *o, SSL_CTX **out, char *why, size_t whylen)
{
	SSL_CTX *ctx;
	int ret;

	if (ex_index < 0)
		ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ctx = SSL_CTX_new(o->send ? TLS_client_method() : TLS_server_method());
	if (!ctx)
		return ssl_error("SSL_CTX_new", why, whylen);
	SSL_CTX_set_ex_data(ctx, ex_index, (void *)o);
	/* The kernel takes TLS 1.3 keys both ways; one transfer per process: no tickets. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		ret = ssl_error("TLS 1.3", why, whylen);
		goto out;
	}
	SSL_CTX_set_num_tickets(ctx, 0);
	if (o->ciphersuites && SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) != 1) {
		ret = ssl_error("--ciphersuites", why, whylen);
		goto out;
	}
	ret = setup_cert(o, ctx, why, whylen);
	if (ret < 0)
		goto out;
	ret = setup_verify(o, ctx, why, whylen);
	if (ret < 0)
		goto out;
	if (o->ktls != KTLSCAT_OFF)
		ret = ktls_ssl_ctx_prepare(ctx, why, whylen);
out:
	if (ret < 0) {
		SSL_CTX_free(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

int ktlscat_handshake(SSL_CTX *ctx, int fd, bool server, const char *sni, SSL **out, char *why,
		      size_t whylen)
{
	const struct ktlscat_opts *o = SSL_CTX_get_ex_data(ctx, ex_index);
	enum tlspeer_failure kind;
	char reason[384];
	int ret = 0, r, sys;
	SSL *ssl;

	ERR_clear_error();
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		ret = ssl_error("SSL_new", why, whylen);
		goto out;
	}
	if (o->ktls != KTLSCAT_OFF) {
		ret = ktls_ssl_attach(ssl, why, whylen);
		if (ret < 0)
			goto out;
	}
	if (sni && SSL_set_tlsext_host_name(ssl, sni) != 1) {
		ret = ssl_error("server name", why, whylen);
		goto out;
	}
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(ssl);
	if (r != 1) {
		kind = tlspeer_ssl_failure(ssl, r, &sys, reason, sizeof(reason));
		ret = sys ? -sys : -EPROTO;
		if (kind == TLSPEER_WANT) { /* SO_RCVTIMEO ran out: EAGAIN, to OpenSSL WANT_READ */
			snprintf(reason, sizeof(reason), "nothing moved within the timeout");
			ret = -ETIMEDOUT;
		}
		/* A rejected certificate says so itself; anything else is a failed handshake. */
		if (kind == TLSPEER_VERIFY) {
			snprintf(why, whylen, "%s", reason);
			ret = -EPERM;
		} else {
			snprintf(why, whylen, "handshake failed: %s", reason);
		}
		goto out;
	}
out:
	if (ret < 0) {
		SSL_free(ssl);
		return ret;
	}
	*out = ssl;
	return 0;
}
